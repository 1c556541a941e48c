import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arena.csvcells import csv_write
from arena.params import ParamError
from reports.selectors.leaderboards import ROW_FIELDS, LeaderboardParams, leaderboard_compute


class Command(BaseCommand):
    help = "Compute a leaderboard from the stored verdicts and print it (table, JSON or CSV)."
    # Django's system checks load the URL conf and with it every view (slow at start;
    # PERFORMANCE.md); this command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        # Values are read by the same parameter layer as the page and the API (same checks, same
        # messages), so argparse takes them as text.
        parser.add_argument(
            "--source",
            help="human, judge:NAME, panel:NAME, import:NAME or all (default: human votes "
            "where there are any, else the judge with the most verdicts).",
        )
        parser.add_argument("--prompt-set")
        parser.add_argument(
            "--prompt-set-version", dest="version", help="Version of the prompt set (default: its latest)."
        )
        parser.add_argument("--category")
        parser.add_argument("--turn")
        parser.add_argument("--method", default="bt", help="bt (Bradley-Terry) or elo.")
        parser.add_argument("--bootstrap", help="Bootstrap rounds for the intervals (0: none).")
        parser.add_argument("--seed", help="Random seed (default 0).")
        parser.add_argument(
            "--style-control", action="store_true", help="Bradley-Terry with style covariates."
        )
        parser.add_argument("--k", help="Elo K factor (default 4).")
        parser.add_argument("--init", help="Initial / anchor rating (default 1000).")
        parser.add_argument(
            "--permutations",
            help="Elo: average over this many shuffled orders (up to "
            "ARENA_COMMAND_MAX_PERMUTATIONS, 100,000 by default).",
        )
        parser.add_argument(
            "--rater-quality",
            help="Human votes: clean (default: without gold comparisons and raters "
            "who failed the gold checks) or all.",
        )
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table", dest="fmt")

    def handle(self, *args, fmt, **options):
        query = {
            name: options[name]
            for name in (
                "source",
                "prompt_set",
                "version",
                "category",
                "turn",
                "method",
                "bootstrap",
                "seed",
                "style_control",
                "k",
                "init",
                "permutations",
                "rater_quality",
            )
        }
        try:
            params = LeaderboardParams.from_query(
                {k: v for k, v in query.items() if v is not None},
                max_permutations=settings.ARENA_COMMAND_MAX_PERMUTATIONS,
            )
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        result = leaderboard_compute(params=params)
        rows = result["rows"]
        if result.get("error"):
            raise CommandError(result["error"])
        if fmt == "json":
            # One write: the output wrapper ends every write with a newline (json.dump writes token by token).
            self.stdout.write(json.dumps(rows, indent=2))
        elif fmt == "csv":
            csv_write(self.stdout, ROW_FIELDS, ([row.get(f) for f in ROW_FIELDS] for row in rows))
        else:
            self._table(rows, result["battle_total"], params)

    def _table(self, rows, total, params):
        out = self.stdout
        out.write(
            f"{total} battles from {params.source}; method {params.method}, {params.bootstrap} bootstrap rounds"
        )
        if not rows:
            out.write("No battles match these filters.")
            return
        width = max(len(r["model"]) for r in rows)
        out.write(
            f"{'rank':>4}  {'model':<{width}}  {'rating':>8}  {'95% interval':>19}  {'battles':>7}  {'W':>6} {'L':>6} {'T':>6}"
        )
        for r in rows:
            interval = f"{_f(r['ci_low'])} - {_f(r['ci_high'])}"
            out.write(
                f"{r['rank']:>4}  {r['model']:<{width}}  {_f(r['rating']):>8}  {interval:>19}  "
                f"{r['battles']:>7}  {r['wins']:>6} {r['losses']:>6} {r['ties']:>6}"
            )


def _f(value):
    return "-" if value is None else f"{value:.1f}"
