"""Retry timing for judge requests. PURE: no I/O, randomness passed in.

Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter",
2015): the delay is uniform in [0, min(cap, base * 2**(attempt-1))], which spreads many workers'
retries out instead of synchronising them. A server's Retry-After is a floor, not a suggestion.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

# Beyond this a server's Retry-After is treated as "give up for now" by the caller rather than a
# reason to park a worker for hours; we still wait this long at most.
MAX_RETRY_AFTER = 300.0


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    base: float = 1.0,
    cap: float = 60.0,
    rng: random.Random | None = None,
    max_retry_after: float = MAX_RETRY_AFTER,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    Full jitter over ``[0, min(cap, base * 2**(attempt-1))]``, but never less than ``retry_after``
    (itself capped at ``max_retry_after``). When Retry-After decides, a little jitter (up to 10 % of
    it, at most ``base``) is added so workers told the same Retry-After do not all return at once.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts retries from 1, got {attempt}")
    rng = rng or random.Random()
    # min() before the power so a large attempt number cannot overflow.
    ceiling = min(cap, base * 2 ** min(attempt - 1, 62))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None and retry_after > 0:
        floor = min(retry_after, max_retry_after)
        if delay < floor:
            delay = floor + rng.uniform(0, min(base, 0.1 * floor))
    return delay


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP date).

    ``headers`` must be case-insensitive for real responses (httpx headers are); ``now`` is the
    current Unix time, used for the HTTP-date form. Returns None when absent or unreadable.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            value = float(milliseconds) / 1000
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    header = lowered.get("retry-after")
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
