from pathlib import Path

from django.core.management.base import BaseCommand

from arena.imports.parsers import ANSWER_FORMATS
from arena.management.commands._progress import import_file
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
        self.stdout.write(
            import_file(
                file,
                progress=progress,
                run=lambda tick: answers_import(
                    path=file,
                    fmt=fmt,
                    prompt_set=prompt_set,
                    contender=contender,
                    replace=replace,
                    progress=tick,
                ),
            )
        )
