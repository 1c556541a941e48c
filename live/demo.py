"""The demo's stand-ins for live battles: contenders answered by the tests' LLM server.

``make demo`` starts ``tests/llm_server.py`` (streaming canned markdown at 20 chunks a second) and
``load_demo --stand-in-url`` makes three contenders that point at it, marked ``stand_in`` so the
battle page says plainly that these are not real models.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from arena.models import Contender
from arena.validators import validate_endpoint_host
from live.models import LiveContender

STAND_INS = (
    ("stand-in-alpha", "Stand-in model A: canned text from the tests' LLM server, not a real model."),
    (
        "stand-in-beta-quality-7",
        "Stand-in model B: canned text from the tests' LLM server, not a real model.",
    ),
    (
        "stand-in-gamma-names-itself",
        "Stand-in model C: names a vendor in its answers, so its battles are void.",
    ),
)


def stand_ins_ensure(base_url: str) -> list[str]:
    """Create (or point at ``base_url``) the stand-in contenders; their names. Idempotent."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"{base_url!r} is not an http(s) URL.")
    try:
        validate_endpoint_host(base_url)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from None
    names = []
    for name, description in STAND_INS:
        contender, _ = Contender.objects.update_or_create(
            name=name,
            defaults={"description": description, "base_url": base_url, "api_model": name, "api_key_env": ""},
        )
        LiveContender.objects.update_or_create(
            contender=contender, defaults={"stand_in": True, "enabled": True}
        )
        names.append(name)
    return names


def stand_ins_enabled() -> bool:
    return LiveContender.objects.filter(enabled=True, stand_in=True).exists()
