"""The judgment cache: a judge is never asked the same question twice.

A request is identified by everything that can change the judge's answer: the model, the
endpoint, the template set's fingerprint, the rendered messages and the sampling parameters.
The cache is the Judgment table itself: a DONE judgment with the same ``cache_key`` (from any
run) answers the request, so re-running or extending a run sends only what was never asked.
Unparsed and failed outputs are not reused: retrying them must reach the judge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from judge.models import Judgment


def judgment_cache_key(
    *,
    model: str,
    base_url: str,
    template_fingerprint: str,
    messages: Sequence[Any],
    temperature: float,
    max_tokens: int,
) -> str:
    """sha256 over the canonical JSON of the request; messages may be dicts or dataclasses."""
    payload = {
        "model": model,
        "base_url": base_url.rstrip("/"),
        "template": template_fingerprint,
        "messages": [_message_dict(m) for m in messages],
        "temperature": round(float(temperature), 6),
        "max_tokens": int(max_tokens),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _message_dict(message: Any) -> dict[str, str]:
    if isinstance(message, dict):
        return {"role": str(message["role"]), "content": str(message["content"])}
    return {"role": str(message.role), "content": str(message.content)}


def cached_judgments_get(
    *, cache_keys: Iterable[str], exclude_ids: Iterable[int] = ()
) -> dict[str, Judgment]:
    """The oldest DONE judgment answering each of ``cache_keys`` (one query for a whole batch)."""
    keys = sorted(set(cache_keys))
    if not keys:
        return {}
    qs = Judgment.objects.filter(cache_key__in=keys, status=Judgment.Status.DONE)
    excluded = list(exclude_ids)
    if excluded:
        qs = qs.exclude(pk__in=excluded)
    qs = qs.only("id", "cache_key", "raw_output", "input_tokens", "output_tokens")
    if connection.vendor == "postgresql":
        qs = qs.order_by("cache_key", "id").distinct("cache_key")  # one row per key, however often answered
    else:
        qs = qs.order_by("id")
    found: dict[str, Judgment] = {}
    for judgment in qs:
        found.setdefault(judgment.cache_key, judgment)
    return found
