from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arena.imports.parsers import ANSWER_FORMATS
from arena.imports.rows import ImportFormatError
from arena.management.commands._progress import progress_bar
from arena.services.imports import answers_import


class Command(BaseCommand):
    help = "Import contenders' answers from a file into a prompt set. All or nothing; re-importing a file is a no-op."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", required=True, choices=sorted(ANSWER_FORMATS), dest="fmt")
        parser.add_argument("--prompt-set", required=True)
        parser.add_argument("--contender", help="Model name for every answer (default: from the file).")
        parser.add_argument("--replace", action="store_true", help="Overwrite existing different answers.")
        parser.add_argument("--progress", action="store_true", default=None, help="Force the progress bar.")

    def handle(self, *args, file, fmt, prompt_set, contender, replace, progress, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            with progress_bar(f"importing {file.name}", enabled=progress) as tick:
                result = answers_import(
                    path=file, fmt=fmt, prompt_set=prompt_set, contender=contender, replace=replace, progress=tick
                )
        except ImportFormatError as exc:
            raise CommandError(f"{exc} — nothing was imported.") from exc
        self.stdout.write(result.summary())
