import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arena.imports.parsers import write_fastchat_battles
from reports.selectors.battle_records import battles_iter
from reports.selectors.battles import BattleFilter, UnknownSource
from reports.services.exports import battle_to_fastchat, verdict_records


class Command(BaseCommand):
    help = (
        "Write battles in FastChat's battle format (JSON list or JSONL), e.g. to feed FastChat's Elo notebook; "
        "--format full writes JSONL with everything: texts, grades, HHH, comments, turn and order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", default="fastchat", choices=["fastchat", "full"], dest="fmt")
        parser.add_argument("--source", default="all")
        parser.add_argument("--prompt-set")
        parser.add_argument("--category")
        parser.add_argument(
            "--per-order", action="store_true", help="Judges: one battle per presentation order."
        )
        parser.add_argument(
            "--jsonl", action="store_true", help="One JSON object per line instead of a JSON list."
        )
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, fmt, source, prompt_set, category, per_order, jsonl, output, **options):
        if fmt == "full":
            self._full(source, prompt_set, category, output)
            return
        try:
            battles = battles_iter(BattleFilter(source, prompt_set, category, None, per_order))
            records = (battle_to_fastchat(b) for b in battles)
            if output:
                with output.open("w", encoding="utf-8") as fh:
                    write_fastchat_battles(records, fh, jsonl=jsonl)
            else:
                write_fastchat_battles(records, sys.stdout, jsonl=jsonl)
        except UnknownSource as exc:
            raise CommandError(str(exc)) from exc

    def _full(self, source, prompt_set, category, output):
        try:
            records = verdict_records(source=source, prompt_set=prompt_set, category=category)
            first = next(records, None)  # an unknown source is refused before anything is written
        except UnknownSource as exc:
            raise CommandError(str(exc)) from exc
        fh = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for record in [first] if first is not None else []:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        finally:
            if output:
                fh.close()
