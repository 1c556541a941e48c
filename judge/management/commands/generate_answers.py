from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from arena.models import Contender, Prompt, PromptSet
from judge.client import LLMError
from judge.services.generation import answers_generate


class Command(BaseCommand):
    help = (
        "Ask a contender's endpoint (Contender.base_url / api_model / api_key_env) for its answers to a prompt "
        "set; prompts it has answered are skipped, so running it again resumes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contender", required=True)
        parser.add_argument("--prompt-set", required=True)
        parser.add_argument("--limit", type=int)
        parser.add_argument("--max-tokens", type=int, default=1024)
        parser.add_argument("--temperature", type=float, default=0.7)
        parser.add_argument(
            "--concurrency", type=int, help="Requests in flight (default JUDGE_GENERATION_CONCURRENCY)."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            contender = Contender.objects.get(name=o["contender"])
        except Contender.DoesNotExist:
            raise CommandError(f"No contender {o['contender']!r}.") from None
        try:
            pset = PromptSet.objects.get(slug=o["prompt_set"])
        except PromptSet.DoesNotExist:
            raise CommandError(f"No prompt set {o['prompt_set']!r}.") from None
        total = Prompt.objects.filter(prompt_set=pset).count()
        if o["limit"]:
            total = min(total, int(o["limit"]))
        with tqdm(
            total=total, desc=contender.name, unit=" prompts", file=sys.stderr, disable=bool(o["no_progress"])
        ) as bar:
            try:
                result = answers_generate(
                    contender=contender,
                    prompt_set=pset,
                    limit=o["limit"],
                    max_tokens=int(o["max_tokens"]),
                    temperature=float(o["temperature"]),
                    concurrency=o["concurrency"],
                    on_progress=bar.update,
                )
            except LLMError as exc:
                raise CommandError(exc.message) from exc
            bar.update(result.skipped)
        self.stdout.write(
            f"{contender.name} on {pset.slug}: {result.generated} generated, {result.skipped} already present, "
            f"{result.failed} failed; {result.requests} requests, {result.input_tokens} input / "
            f"{result.output_tokens} output tokens"
        )
        for error in (result.errors or [])[:10]:
            self.stderr.write(error)
        if result.failed:
            raise CommandError(f"{result.failed} prompts failed; run the command again to retry them.")
