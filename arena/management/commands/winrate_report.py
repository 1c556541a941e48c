from arena.management.commands._reports import ReportCommand, add_format, run_report
from reports.selectors.evaluations import WinRateParams


class Command(ReportCommand):
    help = (
        "Win rate of each model against a baseline (AlpacaEval and Arena-Hard): weighted and discrete win rate, "
        "standard error, bootstrap interval, length-controlled win rate, Bradley-Terry anchored on the baseline."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", default="all", help="human, judge:NAME, panel:NAME, import:NAME or all."
        )
        parser.add_argument(
            "--baseline",
            help="The baseline contender (default: the runs' baseline, or the model in every verdict).",
        )
        parser.add_argument("--prompt-set")
        parser.add_argument(
            "--strong-weight", help="How many verdicts a strong five-level verdict counts as (Arena-Hard: 3)."
        )
        parser.add_argument("--bootstrap", help="Bootstrap rounds (0: none).")
        parser.add_argument("--seed")
        add_format(parser)

    def handle(self, *args, fmt, **o):
        keys = ("source", "baseline", "prompt_set", "strong_weight", "bootstrap", "seed")
        run_report(self, WinRateParams, {k: o.get(k) for k in keys}, fmt)
