"""Make a panel of judges: ``panel_add NAME --judges a,b,c``; its verdicts are source panel:NAME."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from judge.models import Judge
from judge.services import RunError, judge_panel_create


class Command(BaseCommand):
    help = "Add a panel of judges whose majority verdict (mean score) is the source panel:NAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--judges", required=True, help="Comma-separated judge names (three avoid ties).")
        parser.add_argument("--description", default="")
        parser.add_argument("--update", action="store_true", help="Replace the judges of an existing panel.")

    def handle(self, *args: object, **o: object) -> None:
        names = [n.strip() for n in str(o["judges"]).split(",") if n.strip()]
        judges = list(Judge.objects.filter(name__in=names))
        if missing := sorted(set(names) - {j.name for j in judges}):
            raise CommandError(f"Unknown judges: {', '.join(missing)}")
        try:
            panel = judge_panel_create(
                name=str(o["name"]),
                judges=judges,
                description=str(o["description"]),
                update=bool(o["update"]),
            )
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Panel {panel.name}: {', '.join(sorted(names))}; its verdicts are source panel:{panel.name}"
        )
