from arena.management.commands._reports import ReportCommand, add_format, run_report
from reports.selectors.evaluations import JudgesParams


class Command(ReportCommand):
    help = (
        "The table comparing judges and panels: agreement with people (S1, S2, kappa, n), position consistency, "
        "longer-answer share, unparsed and failed shares, tokens and cost per 1,000 judgments, median latency, "
        "rank correlation with the people's leaderboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", default="all", help="all, judge:NAME or panel:NAME.")
        parser.add_argument(
            "--human",
            help="The people's verdicts: human or import:NAME (default: human when there "
            "are votes, else an imported human source).",
        )
        parser.add_argument("--prompt-set")
        add_format(parser)

    def handle(self, *args, fmt, **o):
        run_report(self, JudgesParams, {k: o.get(k) for k in ("source", "human", "prompt_set")}, fmt)
