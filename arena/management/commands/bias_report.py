import json

from django.core.management.base import BaseCommand, CommandError

from arena.params import ParamError
from arena.selectors.reports import BiasParams, bias_compute


class Command(BaseCommand):
    help = "Position bias, length bias, agreement among raters, A-D grades and HHH tables for one source."
    # Django's system checks load the URL conf and with it every view (a quarter of a second at
    # start); this command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, help="human, judge:NAME, import:NAME or all.")
        parser.add_argument("--prompt-set")
        parser.add_argument("--rater-quality", help="Human votes: clean (default) or all.")
        parser.add_argument("--format", choices=["table", "json"], default="table", dest="fmt")

    def handle(self, *args, source, prompt_set, fmt, rater_quality=None, **options):
        try:
            params = BiasParams.from_query({k: v for k, v in {
                "source": source, "prompt_set": prompt_set, "rater_quality": rater_quality}.items() if v is not None})
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        report = bias_compute(params=params)
        if fmt == "json":
            self.stdout.write(json.dumps(report, indent=2))  # one write: the wrapper ends each write with a newline
            return
        self.stdout.write(f"Bias report for {params.source}: {report['battle_total']} verdicts")
        for section in ("position", "length", "inter_rater"):
            self.stdout.write(f"\n== {section.replace('_', ' ')}")
            _write_flat(self.stdout, report.get(section))
        if report.get("grades"):
            self.stdout.write("\n== grades A-D")
            for g in report["grades"]:
                self.stdout.write(f"  {g['model']:<32} A {g['A']:>5}  B {g['B']:>5}  C {g['C']:>5}  D {g['D']:>5}")
        for criterion, board in (report.get("hhh") or {}).items():
            if board:
                self.stdout.write(f"\n== {criterion}")
                for r in board:
                    self.stdout.write(f"  {r['rank']:>3}. {r['model']:<32} win rate {r['win_rate']:.3f} over {r['votes']} votes")


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
