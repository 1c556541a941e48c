from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from judge.models import JudgeRun
from judge.services import judge_run_cancel


class Command(BaseCommand):
    help = "Cancel a judge run: nothing more is sent; pending judgments stay pending (judge_run --resume)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int)

    def handle(self, *args: object, run_id: int, **options: object) -> None:
        try:
            run = JudgeRun.objects.get(pk=run_id)
        except JudgeRun.DoesNotExist:
            raise CommandError(f"No run {run_id}.") from None
        run = judge_run_cancel(run=run)
        self.stdout.write(f"Run {run.pk}: {run.status}")
