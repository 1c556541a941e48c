from arena.management.commands._reports import ReportCommand, add_format, run_report
from reports.selectors.evaluations import GradesParams


class Command(ReportCommand):
    help = (
        "Self-Instruct A-D grades per model and HHH preference shares per criterion for one source, beside the "
        "human ones, with the judge-vs-human grade agreement (exact, within one, weighted kappa) in --format json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", default="human", help="human, judge:NAME or panel:NAME.")
        parser.add_argument("--prompt-set")
        add_format(parser)

    def handle(self, *args, fmt, **o):
        run_report(self, GradesParams, {k: o.get(k) for k in ("source", "prompt_set")}, fmt)
