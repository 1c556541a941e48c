from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from arena.models import Contender
from live.models import LiveContender


class Command(BaseCommand):
    help = (
        "Add (or update) a contender with its OpenAI-compatible endpoint and enter it in live battles. "
        "The key is never given: only the name of the environment variable holding it."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The contender's name, shown after the vote.")
        parser.add_argument(
            "--base-url",
            default="",
            help="Endpoint, e.g. http://127.0.0.1:8001/v1 (default: OPENAI_BASE_URL).",
        )
        parser.add_argument("--model", required=True, help="Model name sent to the endpoint.")
        parser.add_argument(
            "--api-key-env", default="", help="Name of the variable holding the key (ARENA_KEY_…)."
        )
        parser.add_argument(
            "--weight", type=float, default=1.0, help="Relative chance to be drawn (0: never)."
        )
        parser.add_argument("--price-input", type=float, default=0.0, help="US$ per million input tokens.")
        parser.add_argument("--price-output", type=float, default=0.0, help="US$ per million output tokens.")
        parser.add_argument("--max-tokens", type=int, default=1024)
        parser.add_argument("--temperature", type=float, default=0.7)
        parser.add_argument("--disable", action="store_true", help="Keep it out of live battles.")

    def handle(
        self,
        *args,
        name,
        base_url,
        model,
        api_key_env,
        weight,
        price_input,
        price_output,
        max_tokens,
        temperature,
        disable,
        **options,
    ):
        try:
            with transaction.atomic():
                contender = Contender.objects.filter(name=name).first() or Contender(name=name)
                contender.base_url, contender.api_model, contender.api_key_env = base_url, model, api_key_env
                contender.full_clean()
                contender.save()
                live = LiveContender.objects.filter(contender=contender).first() or LiveContender(
                    contender=contender
                )
                live.weight, live.price_input, live.price_output = weight, price_input, price_output
                live.max_tokens, live.temperature, live.enabled = max_tokens, temperature, not disable
                live.full_clean()
                live.save()
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(f"{name}: {problems} - nothing was saved.") from None
        state = "disabled" if disable else f"weight {weight:g}"
        self.stdout.write(
            f"{name}: {model} at {contender.base_url or 'OPENAI_BASE_URL'} in live battles ({state})."
        )
