"""Checks of an LLM endpoint's configuration (judges and contenders), with this deployment's
settings: the rules are in ``arena.keys``.

The same checks run on every way in (model ``full_clean``: the admin and ``judge_add``; starting a
run; ``generate_answers``) and again in the worker right before a request is sent, so a row
written straight into the database cannot send a secret either.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model

from arena.env import SETTINGS_VARIABLES
from arena.keys import host_allowed, is_variable_name, key_variable_problem


def validate_api_key_env(value: str) -> None:
    """Model-field validator: ``value`` may name the variable holding an endpoint's key."""
    problem = key_variable_problem(value or "", prefix=settings.ARENA_KEY_PREFIX, refused=SETTINGS_VARIABLES)
    if problem:
        raise ValidationError(problem, code="api_key_env")


def validate_endpoint_host(value: str) -> None:
    """Model-field validator: requests may go to ``value``'s host (ARENA_JUDGE_HOSTS)."""
    if value and not host_allowed(value, settings.ARENA_JUDGE_HOSTS):
        raise ValidationError(
            f"The host of {value} is not in ARENA_JUDGE_HOSTS ({', '.join(settings.ARENA_JUDGE_HOSTS)}).",
            code="endpoint_host",
        )


def endpoint_problems(*, url: str, api_key_env: str) -> list[str]:
    """Why requests with this key variable may not go to ``url`` (the endpoint actually used,
    defaults applied); empty when they may."""
    problems = []
    for validate, value in ((validate_api_key_env, api_key_env), (validate_endpoint_host, url)):
        try:
            validate(value)
        except ValidationError as exc:
            problems.extend(exc.messages)
    return problems


def pasted_keys_remove(model: type[Model]) -> int:
    """Empty every ``api_key_env`` of ``model`` (a migration's historical Judge or Contender)
    that is not a variable name: a key pasted where the name belongs. Such a row never named a
    variable, so its endpoint got OPENAI_API_KEY or no key; empty means exactly that. Returns how
    many rows held one."""
    rows = model._default_manager.exclude(api_key_env="").values_list("pk", "api_key_env")
    pasted = [pk for pk, value in rows if not is_variable_name(value)]
    model._default_manager.filter(pk__in=pasted).update(api_key_env="")
    if pasted:
        print(
            f"\n  {len(pasted)} {model.__name__.lower()}(s) held an API key in api_key_env: removed. Rotate those keys."
        )
    return len(pasted)
