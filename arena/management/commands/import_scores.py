from pathlib import Path

from django.core.management.base import BaseCommand

from arena.imports.parsers import SCORE_FORMATS
from arena.management.commands._progress import import_file
from arena.services.imports import scores_import


class Command(BaseCommand):
    help = (
        "Import single-answer grades (FastChat's model_judgment/<judge>_single.jsonl) as source import:NAME, "
        "read by the MT-Bench scores report. All or nothing; re-importing a file is a no-op."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=sorted(SCORE_FORMATS), default="fastchat_single", dest="fmt")
        parser.add_argument(
            "--source", required=True, help="Name of the score source, e.g. mtbench-gpt4-single."
        )
        parser.add_argument(
            "--prompt-set", help="Link the scores to this prompt set's questions (e.g. mt_bench)."
        )
        parser.add_argument("--progress", action="store_true", default=None, help="Force the progress bar.")

    def handle(self, *args, file, fmt, source, prompt_set, progress, **options):
        self.stdout.write(
            import_file(
                file,
                progress=progress,
                run=lambda tick: scores_import(
                    path=file,
                    fmt=fmt,
                    source=source,
                    prompt_set=prompt_set,
                    progress=tick,
                ),
            )
        )
