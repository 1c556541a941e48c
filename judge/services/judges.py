"""Judges as configuration. The API key's *environment variable name* is stored, never the key."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from judge.models import Judge
from judge.services import rendering


@transaction.atomic
def judge_create(
    *,
    name: str,
    model: str,
    base_url: str = "",
    api_key_env: str = "OPENAI_API_KEY",
    temperature: float = 0.0,
    max_tokens: int = 1024,
    max_concurrent: int = 8,
    requests_per_minute: int = 600,
    price_input_per_million: Decimal | float | str = 0,
    price_output_per_million: Decimal | float | str = 0,
    template_set: str = "arena-v1",
    update: bool = False,
) -> Judge:
    """Create (or with ``update`` change) a judge; the template set must load, and the key variable
    and host must pass ``arena.validators`` (through ``full_clean``)."""
    try:
        rendering.template_set_get(template_set)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    fields = {
        "model": model,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "max_concurrent": max_concurrent,
        "requests_per_minute": requests_per_minute,
        "price_input_per_million": Decimal(str(price_input_per_million)),
        "price_output_per_million": Decimal(str(price_output_per_million)),
        "template_set": template_set,
    }
    if update:
        judge, _ = Judge.objects.update_or_create(name=name, defaults=fields)
    else:
        judge = Judge(name=name, **fields)
    judge.full_clean()
    judge.save()
    return judge
