import json

from django.core.management.base import BaseCommand, CommandError

from arena.params import ParamError
from reports.selectors.reports import AgreementParams, agreement_compute


class Command(BaseCommand):
    help = (
        "Agreement between two verdict sources on the comparisons both judged (S1, S2, Cohen's κ, per turn)."
    )
    # Django's system checks load the URL conf and with it every view (slow at start;
    # PERFORMANCE.md); this command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--a",
            help="First source: human, judge:NAME, import:NAME (default with --b: the pair "
            "of sources with the most shared comparisons).",
        )
        parser.add_argument("--b", help="Second source (the same as --a: agreement among its raters).")
        parser.add_argument("--prompt-set")
        parser.add_argument(
            "--raters", help="Within one source: only raters whose name starts with this (expert)."
        )
        parser.add_argument("--bootstrap", help="Bootstrap rounds for the intervals of S1, S2 and kappa.")
        parser.add_argument("--seed")
        parser.add_argument(
            "--rater-quality",
            help="Human votes: clean (default: without gold comparisons, raters who "
            "failed the gold checks or anomalous raters) or all.",
        )
        parser.add_argument("--format", choices=["table", "json"], default="table", dest="fmt")

    def handle(self, *args, fmt, a=None, b=None, prompt_set=None, **options):
        query = {
            "a": a,
            "b": b,
            "prompt_set": prompt_set,
            **{k: options[k] for k in ("raters", "bootstrap", "seed", "rater_quality")},
        }
        try:
            params = AgreementParams.from_query({k: v for k, v in query.items() if v is not None})
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        report = agreement_compute(params=params)
        if report.get("error"):
            raise CommandError(report["error"])
        if fmt == "json":
            self.stdout.write(
                json.dumps(report, indent=2)
            )  # one write: the wrapper ends each write with a newline
            return
        self.stdout.write(
            f"{params.a} ({report['battles_a']} verdicts) vs {params.b} ({report['battles_b']} verdicts)"
        )
        self.stdout.write(
            f"{'turn':>5}  {'compared':>8}  {'S1 (with ties)':<32}  {'S2 (without ties)':<32}  kappa"
        )
        for label, row in [("all", report["overall"]), *((str(t["turn"]), t) for t in report["per_turn"])]:
            intervals = row.get("intervals") or {}
            s1 = _share(row.get("agreeing"), row.get("pairs"), intervals.get("agreement_with_ties"))
            s2 = _share(
                row.get("agreeing_without_ties"),
                row.get("pairs_without_ties"),
                intervals.get("agreement_without_ties"),
            )
            kappa = _f(row.get("kappa")) + _interval(intervals.get("kappa"))
            self.stdout.write(f"{label:>5}  {_n(row.get('comparisons')):>8}  {s1:<32}  {s2:<32}  {kappa}")


def _interval(pair):
    return "" if not pair else f" [{pair[0]:.3f}, {pair[1]:.3f}]"


def _share(agreeing, pairs, interval):
    if not pairs:
        return "-"
    return f"{agreeing}/{pairs} = {agreeing / pairs:.3f}{_interval(interval)}"


def _f(value):
    return "-" if value is None else f"{value:.3f}"


def _n(value):
    return "-" if value is None else str(value)
