from pathlib import Path

from django.core.management.base import BaseCommand

from arena.imports.parsers import VERDICT_FORMATS
from arena.management.commands._progress import import_file
from arena.services.imports import verdicts_import


class Command(BaseCommand):
    help = (
        "Import pairwise verdicts (human votes or LLM judgments recorded elsewhere) as source import:NAME. "
        "All or nothing; re-importing a file is a no-op."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", required=True, choices=sorted(VERDICT_FORMATS), dest="fmt")
        parser.add_argument("--source", required=True, help="Name of the verdict source, e.g. mtbench-human.")
        parser.add_argument(
            "--prompt-set", help="Link verdicts to this prompt set (then prompts and models must exist)."
        )
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument(
            "--human", dest="is_human", action="store_true", default=None, help="The verdicts are people's."
        )
        kind.add_argument(
            "--llm", dest="is_human", action="store_false", help="The verdicts are an LLM judge's."
        )
        parser.add_argument("--progress", action="store_true", default=None, help="Force the progress bar.")

    def handle(self, *args, file, fmt, source, prompt_set, is_human, progress, **options):
        self.stdout.write(
            import_file(
                file,
                progress=progress,
                run=lambda tick: verdicts_import(
                    path=file,
                    fmt=fmt,
                    source=source,
                    prompt_set=prompt_set,
                    is_human=is_human,
                    progress=tick,
                ),
            )
        )
