from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arena.imports.parsers import CUSTOM_PROMPT_FORMATS
from arena.imports.rows import ImportFormatError
from arena.management.commands._progress import progress_bar
from arena.services.prompt_sets import prompt_set_import


class Command(BaseCommand):
    help = (
        "Import a custom prompt set. All or nothing; the same prompts again are a no-op; a changed file makes "
        "the next version of the set (votes and judgments keep the version they were made on)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--slug", required=True, help="The set's short name (letters, digits, - and _).")
        parser.add_argument("--name", help="Display name (default: the slug).")
        parser.add_argument("--format", required=True, choices=sorted(CUSTOM_PROMPT_FORMATS), dest="fmt")
        parser.add_argument(
            "--references",
            type=Path,
            help="A FastChat reference-answer file (reference_answer/<judge>.jsonl).",
        )
        parser.add_argument("--progress", action="store_true", default=None, help="Force the progress bar.")

    def handle(self, *args, file, slug, name, fmt, references, progress, **options):
        for path in (file, references):
            if path is not None and not path.is_file():
                raise CommandError(f"{path}: no such file")
        try:
            with progress_bar(f"importing {file.name}", enabled=progress) as tick:
                result = prompt_set_import(
                    path=file, fmt=fmt, slug=slug, name=name, references=references, progress=tick
                )
        except ImportFormatError as exc:
            raise CommandError(f"{exc} — nothing was imported.") from exc
        self.stdout.write(result.summary())
