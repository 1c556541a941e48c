"""Create the comparisons people rate for a prompt set (see arena.services.comparisons)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arena.services.comparisons import ComparisonsError, comparisons_create


class Command(BaseCommand):
    help = (
        "Create comparisons (pairs of answers to the same prompt) for human rating. A comparison on "
        "turn T shows the conversation up to turn T; the default is each prompt's last turn."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prompt-set", required=True, help="Slug of the prompt set.")
        parser.add_argument("--contenders", default="", help="Comma-separated model names (default: all).")
        parser.add_argument(
            "--pairs-per-prompt", type=int, default=None, help="Random sample of pairs per prompt."
        )
        parser.add_argument(
            "--turn", type=int, default=None, help="Judged turn (default: each prompt's last)."
        )
        parser.add_argument(
            "--gold-rate",
            type=float,
            default=0.0,
            help="Share of new comparisons made gold from unanimous imported human verdicts.",
        )
        parser.add_argument(
            "--include-identity",
            action="store_true",
            help="Also use answers flagged as revealing their model.",
        )
        parser.add_argument("--seed", type=int, default=None, help="Seed for sampling and order.")

    def handle(self, *args: Any, **options: Any) -> None:
        contenders = [c.strip() for c in str(options["contenders"]).split(",") if c.strip()]
        try:
            result = comparisons_create(
                prompt_set=str(options["prompt_set"]),
                contenders=contenders or None,
                pairs_per_prompt=options["pairs_per_prompt"],
                turn=options["turn"],
                gold_rate=float(options["gold_rate"]),
                include_identity=bool(options["include_identity"]),
                seed=options["seed"],
            )
        except ComparisonsError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(result.summary())
