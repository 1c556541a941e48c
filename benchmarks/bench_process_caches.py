"""Arena's process caches (cachetools.TTLCache) against the hand-written tables they replaced.

Three places keep something in a process-local table with a time limit:

* ``arena.selectors.queue._displays`` — the rendered comparisons of the rating page, the 1,024
  used last, 600 s at most each;
* ``judge.services.execution._run_status`` — a run's status, read again when older than 0.5 s;
* ``judge.services.rendering._scanned`` — a template set's newest file time, its directory looked
  at again once a second (in front of an ``lru_cache`` of the parsed set).

Each was written by hand (an OrderedDict LRU, a dict of timestamps) and is now a
``cachetools.TTLCache`` behind a ``threading.Lock`` (cachetools' caches are not thread-safe). This
times the app's calls (hits, misses, puts that evict) through both: the hand-written versions are
kept below as the reference. Figures are the median of ``--rounds`` rounds of ``--calls`` calls,
in microseconds of wall time per call (single-threaded; nothing here waits on I/O). A miss costs a
query or a directory scan (hundreds of microseconds to milliseconds), which is what the caches are
for; the question here is only whether writing them by hand buys anything that matters.

Run: ``.venv/bin/python benchmarks/bench_process_caches.py [--calls 100000] [--rounds 3]`` (about 10 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(call: Callable[[int], Any], calls: int, rounds: int) -> float:
    """Median microseconds per call of ``call(i)`` over ``rounds`` rounds of ``calls`` calls."""
    per_call = []
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(calls):
            call(i)
        per_call.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(per_call)


class HandWrittenLRU:
    """The rating page's display cache as it was written by hand: an OrderedDict LRU with a time limit."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[int, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: int) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: int, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class HandWrittenStamps:
    """The run status and template scan tables as written by hand: a dict of (time stored, value)."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._items.get(key)
        if item is not None and time.monotonic() - item[0] < self.max_age:
            return item[1]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._items) > 1000:
                self._items.clear()
            self._items[key] = (time.monotonic(), value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    import cachetools
    import django

    django.setup()
    from arena.selectors import queue
    from judge.services import rendering

    calls, rounds = args.calls, args.rounds
    rows: list[tuple[str, float, float]] = []

    # The rating page's rendered comparisons: 1,024 kept, 600 s.
    display = object()
    hand = HandWrittenLRU(size=1024, ttl=600.0)
    library, lock = queue._displays, queue._displays_lock

    def library_get(key: int) -> Any:
        with lock:
            return library.get(key)

    def library_put(key: int) -> None:
        with lock:
            library[key] = display

    for key in range(1024):
        hand.put(key, display)
        library_put(key)
    rows.append(
        (
            "displays: get (hit)",
            measure(lambda i: hand.get(i & 1023), calls, rounds),
            measure(lambda i: library_get(i & 1023), calls, rounds),
        )
    )
    rows.append(
        (
            "displays: get (miss)",
            measure(lambda i: hand.get(-1), calls, rounds),
            measure(lambda i: library_get(-1), calls, rounds),
        )
    )
    rows.append(
        (
            "displays: put (full, evicts)",
            measure(lambda i: hand.put(2048 + i, display), calls, rounds),
            measure(lambda i: library_put(2048 + i), calls, rounds),
        )
    )
    library.clear()

    # A run's status before each judge request (0.5 s old at most; an hour here, so that every
    # call of a round is a hit rather than a query): the same lookup as execution._run_status_get.
    statuses = HandWrittenStamps(3600.0)
    statuses.put(1, "running")
    fresh: Any = cachetools.TTLCache(maxsize=1000, ttl=3600.0)
    fresh_lock = threading.Lock()
    fresh[1] = "running"
    unknown = object()

    def library_status(_: int) -> Any:
        with fresh_lock:
            return fresh.get(1, unknown)

    rows.append(
        (
            "run status: get (fresh)",
            measure(lambda i: statuses.get(1), calls, rounds),
            measure(library_status, calls, rounds),
        )
    )

    # The template set of each judgment: the directory looked at once a second at most.
    name = "arena-v1"
    scans = HandWrittenStamps(rendering.TEMPLATE_SCAN_SECONDS)

    def hand_template_set(_: int) -> Any:
        mtime = scans.get(name)
        if mtime is None:
            directory = rendering.prompts.TEMPLATES_DIR / name
            mtime = max((p.stat().st_mtime for p in directory.glob("*.txt")), default=0.0)
            scans.put(name, mtime)
        return rendering._template_set_cached(name, mtime)

    hand_template_set(0)
    rendering.template_set_get(name)
    rows.append(
        (
            "template set: get (scanned)",
            measure(hand_template_set, calls, rounds),
            measure(lambda i: rendering.template_set_get(name), calls, rounds),
        )
    )

    print(
        f"median of {rounds} rounds x {calls} calls; microseconds per call (cachetools {cachetools.__version__})"
    )
    print(f"  {'operation':<32}{'by hand':>12}{'cachetools':>12}")
    for label, home, lib in rows:
        print(f"  {label:<32}{home:>12.2f}{lib:>12.2f}")


if __name__ == "__main__":
    main()
