import json

from django.core.management.base import BaseCommand, CommandError

from arena.params import ParamError
from arena.selectors.reports import AgreementParams, agreement_compute


class Command(BaseCommand):
    help = "Agreement between two verdict sources on the comparisons both judged (S1, S2, Cohen's κ, per turn)."
    # Django's system checks load the URL conf and with it every view (a quarter of a second at
    # start); this command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--a", required=True, help="First source: human, judge:NAME, import:NAME.")
        parser.add_argument("--b", required=True, help="Second source.")
        parser.add_argument("--prompt-set")
        parser.add_argument("--format", choices=["table", "json"], default="table", dest="fmt")

    def handle(self, *args, a, b, prompt_set, fmt, **options):
        try:
            params = AgreementParams.from_query({"a": a, "b": b, "prompt_set": prompt_set})
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        report = agreement_compute(params=params)
        if fmt == "json":
            self.stdout.write(json.dumps(report, indent=2))  # one write: the wrapper ends each write with a newline
            return
        self.stdout.write(f"{params.a} ({report['battles_a']} verdicts) vs {params.b} ({report['battles_b']} verdicts)")
        self.stdout.write(f"{'turn':>5}  {'pairs':>6}  {'S1':>6}  {'S2':>6}  {'kappa':>6}")
        for label, row in [("all", report["overall"]), *((str(t["turn"]), t) for t in report["per_turn"])]:
            self.stdout.write(f"{label:>5}  {_n(row.get('pairs')):>6}  {_f(row.get('agreement_with_ties')):>6}  {_f(row.get('agreement_without_ties')):>6}  "
                              f"{_f(row.get('kappa')):>6}")


def _f(value):
    return "-" if value is None else f"{value:.3f}"


def _n(value):
    return "-" if value is None else str(value)
