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

from judge.models import Judgment


def judgment_cache_key(
    *, model: str, base_url: str, template_fingerprint: str, messages: Sequence[Any],
    temperature: float, max_tokens: int,
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


def cached_judgment_get(*, cache_key: str, exclude_id: int | None = None) -> Judgment | None:
    """The oldest DONE judgment answering this request, or None."""
    qs = Judgment.objects.filter(cache_key=cache_key, status=Judgment.Status.DONE)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("id").only("id", "raw_output", "input_tokens", "output_tokens").first()


def cached_keys(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the cache already answers (for the cost estimate)."""
    keys = list(set(keys))
    found: set[str] = set()
    for start in range(0, len(keys), 2000):
        chunk = keys[start:start + 2000]
        found.update(
            Judgment.objects.filter(cache_key__in=chunk, status=Judgment.Status.DONE)
            .values_list("cache_key", flat=True).distinct()
        )
    return found
