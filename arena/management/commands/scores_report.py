from arena.management.commands._reports import ReportCommand, add_format, run_report
from reports.selectors.evaluations import ScoresParams


class Command(ReportCommand):
    help = (
        "MT-Bench single-answer scores: mean 1-10 score per model for turn 1, turn 2 and overall (FastChat's "
        "show_result.py rules) and per category, with bootstrap intervals over prompts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, help="judge:NAME, panel:NAME or import:NAME.")
        parser.add_argument("--prompt-set")
        parser.add_argument("--bootstrap", help="Bootstrap rounds (0: none).")
        parser.add_argument("--seed")
        add_format(parser)

    def handle(self, *args, fmt, **o):
        run_report(
            self, ScoresParams, {k: o.get(k) for k in ("source", "prompt_set", "bootstrap", "seed")}, fmt
        )
