"""Export a prompt set's answers and judgments in FastChat's llm_judge folder layout."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arena.models import PromptSet
from reports.services.exports import llm_judge_export


class Command(BaseCommand):
    help = (
        "Write DIR/question.jsonl, DIR/model_answer/<model>.jsonl and DIR/model_judgment/<judge>_pair.jsonl / "
        "<judge>_single.jsonl as FastChat's llm_judge does, so its show_result.py reads them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--prompt-set", required=True)
        parser.add_argument("--judge", help="Only this judge's judgments (default: every judge).")

    def handle(self, *args: object, folder: Path, prompt_set: str, judge: str | None, **o: object) -> None:
        if not PromptSet.objects.filter(slug=prompt_set).exists():
            raise CommandError(f"No prompt set {prompt_set!r}.")
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        written = llm_judge_export(folder=folder, prompt_set=prompt_set, judge=judge)
        for name, lines in sorted(written.items()):
            self.stdout.write(f"{folder / name}: {lines} lines")
