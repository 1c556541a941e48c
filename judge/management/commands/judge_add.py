"""Add (or with --update change) a judge: ``judge_add NAME --base-url URL --model M``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from judge.services import judge_create


class Command(BaseCommand):
    help = "Add an LLM judge. The API key is read at run time from the environment variable named by --api-key-env."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--model", required=True, help="Model name sent to the endpoint.")
        parser.add_argument(
            "--base-url", default="", help="OpenAI-compatible base URL (…/v1). Empty: OPENAI_BASE_URL."
        )
        parser.add_argument(
            "--api-key-env",
            default="OPENAI_API_KEY",
            help="NAME of the variable holding the key: ARENA_KEY_… or OPENAI_API_KEY; '' for none.",
        )
        parser.add_argument("--temperature", type=float, default=0.0)
        parser.add_argument("--max-tokens", type=int, default=1024)
        parser.add_argument(
            "--max-concurrent", type=int, default=8, help="Requests in flight across all workers."
        )
        parser.add_argument("--rpm", type=int, default=600, help="Requests per minute across all workers.")
        parser.add_argument("--price-input", default="0", help="USD per million input tokens.")
        parser.add_argument("--price-output", default="0", help="USD per million output tokens.")
        parser.add_argument("--template-set", default="arena-v1")
        parser.add_argument("--update", action="store_true", help="Change the judge if it exists.")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            judge = judge_create(
                name=str(o["name"]),
                model=str(o["model"]),
                base_url=str(o["base_url"]),
                api_key_env=str(o["api_key_env"]),
                temperature=float(o["temperature"]),
                max_tokens=int(o["max_tokens"]),
                max_concurrent=int(o["max_concurrent"]),
                requests_per_minute=int(o["rpm"]),
                price_input_per_million=str(o["price_input"]),
                price_output_per_million=str(o["price_output"]),
                template_set=str(o["template_set"]),
                update=bool(o["update"]),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"Judge {judge.name}: {judge.model} at {judge.base_url or 'OPENAI_BASE_URL'}, key from ${judge.key_variable}"
        )
