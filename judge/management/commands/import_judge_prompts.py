from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from judge import prompts
from judge.services.rendering import template_set_forget


class Command(BaseCommand):
    help = "Import MT-Bench's judge_prompts.jsonl as a template set (judge/templates/<name>/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", type=Path, help="e.g. arena/data/prompt_sets/mt_bench/judge_prompts.jsonl"
        )
        parser.add_argument("--name", default="mt-bench")
        parser.add_argument(
            "--dir", type=Path, default=None, help="Where to write it (default: judge/templates/NAME)."
        )

    def handle(self, *args: object, path: Path, name: str, dir: Path | None, **options: object) -> None:
        try:
            template_set = prompts.import_mt_bench_judge_prompts(path.read_text(encoding="utf-8"), name=name)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        target = dir or prompts.TEMPLATES_DIR / name
        prompts.write_template_set(
            template_set, target, comment=f"Imported from {path.name} by import_judge_prompts."
        )
        template_set_forget(name)
        self.stdout.write(
            f"Template set {name}: {len(template_set.modes)} modes written to {target} "
            f"(fingerprint {template_set.fingerprint[:12]}). Use it with judge_add --template-set {name}."
        )
