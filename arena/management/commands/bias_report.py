import json

from django.core.management.base import BaseCommand, CommandError

from arena.params import ParamError
from reports.selectors.reports import BiasParams, bias_compute


class Command(BaseCommand):
    help = "Position bias, length bias, agreement among raters, A-D grades and HHH tables for one source."
    # Django's system checks load the URL conf and with it every view (slow at start;
    # PERFORMANCE.md); this command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, help="human, judge:NAME, import:NAME or all.")
        parser.add_argument("--prompt-set")
        parser.add_argument("--rater-quality", help="Human votes: clean (default) or all.")
        parser.add_argument("--format", choices=["table", "json"], default="table", dest="fmt")

    def handle(self, *args, source, prompt_set, fmt, rater_quality=None, **options):
        try:
            params = BiasParams.from_query(
                {
                    k: v
                    for k, v in {
                        "source": source,
                        "prompt_set": prompt_set,
                        "rater_quality": rater_quality,
                    }.items()
                    if v is not None
                }
            )
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        from arena.ratings.bias import ORDER_NOT_RECORDED

        report = bias_compute(params=params)
        if report.get("error"):
            raise CommandError(report["error"])
        if fmt == "json":
            self.stdout.write(
                json.dumps(report, indent=2)
            )  # one write: the wrapper ends each write with a newline
            return
        self.stdout.write(f"Bias report for {params.source}: {report['battle_total']} verdicts")
        for caveat in report["caveats"]:
            self.stdout.write(f"  caveat: {caveat}")
        self.stdout.write("\n== position: share of decisive verdicts won by the answer shown first")
        position = report["position"]
        for row in position["rows"]:
            self.stdout.write(
                f"  {row['source']:<36} "
                + (_share(row["first_shown_wins"]) if row["order_recorded"] else ORDER_NOT_RECORDED)
            )
        if position["overall"]:
            self.stdout.write(f"  {'all with the order recorded':<36} {_share(position['overall'])}")
        self.stdout.write("\n== length: share of decisive verdicts won by the longer answer")
        length = report["length"]
        if not length:
            self.stdout.write("  no verdicts with answer lengths")
        elif length.get("error"):
            self.stdout.write(f"  {length['error']}")
        else:
            self.stdout.write(f"  {'all gaps':<36} {_share(length['overall'])}")
            for row in length["rows"]:
                gap = f"gap {row['low']:.0%}-{row['high']:.0%}"
                self.stdout.write(f"  {gap:<36} {_share(row['longer_wins'])}")
        self.stdout.write("\n== consistency: both presentation orders give the same verdict")
        for row in report["consistency"]["rows"] or []:
            favour = (
                f"; of {row['inconsistent']} inconsistent, favour first {_share(row['favour_first'])}"
                if row["favour_first"]
                else ""
            )
            self.stdout.write(
                f"  {row['source']:<36} {_share(row['consistent'])} ({row['counted_from']}){favour}"
            )
        if not report["consistency"]["rows"]:
            self.stdout.write("  no judge saw a comparison in both orders")
        self.stdout.write("\n== inter rater")
        _write_flat(self.stdout, report.get("inter_rater"))
        if report.get("grades"):
            self.stdout.write("\n== grades A-D")
            for g in report["grades"]:
                self.stdout.write(
                    f"  {g['model']:<32} A {g['A']:>5}  B {g['B']:>5}  C {g['C']:>5}  D {g['D']:>5}"
                )
        for criterion, board in (report.get("hhh") or {}).items():
            if board:
                self.stdout.write(f"\n== {criterion}")
                for r in board:
                    self.stdout.write(
                        f"  {r['rank']:>3}. {r['model']:<32} win rate {r['win_rate']:.3f} over {r['votes']} votes"
                    )


def _share(share):
    """A share as printed: successes/n, the share, its 95 % interval and the p-value."""
    from arena.ratings.bias import format_p_value

    if not share or share.get("share") is None:
        return "n = 0"
    text = (
        f"{share['successes']}/{share['trials']} = {share['share']:.3f} "
        f"[{share['ci_low']:.3f}, {share['ci_high']:.3f}]"
    )
    return text + (f" p {format_p_value(share['p_value'])}" if share.get("p_value") is not None else "")


def _write_flat(out, value, indent="  "):
    if value is None:
        out.write(f"{indent}not enough data")
        return
    for key, item in value.items():
        if isinstance(item, dict):
            out.write(f"{indent}{key}:")
            _write_flat(out, item, indent + "  ")
        elif isinstance(item, list):
            out.write(f"{indent}{key}: {len(item)} entries (see --format json)")
        else:
            out.write(f"{indent}{key}: {item:.4f}" if isinstance(item, float) else f"{indent}{key}: {item}")
