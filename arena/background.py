"""Work that must not hold up a request when there is no broker: one thread per process.

``DelayedKeys`` runs ``job(key)`` on a single background thread, ``delay`` seconds after the key
was first scheduled. A key scheduled again while it waits is coalesced into the waiting run (a
burst of votes costs one refresh per window); a key scheduled while its job is running waits
for the next run, so what arrived during a computation is never missed. At interpreter exit the
waiting keys are run at once (a management command must not lose them by exiting first).

No Django import: the caller's job manages its own database connections.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class DelayedKeys:
    def __init__(self, job: Callable[[str], None], *, name: str) -> None:
        self._job = job
        self._name = name
        self._due: dict[str, float] = {}  # key -> monotonic time it runs at
        self._running: str | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, key: str, delay: float = 0.0) -> bool:
        """Run ``job(key)`` in ``delay`` seconds; False when the key was already waiting."""
        with self._changed:
            if key in self._due:
                return False
            self._due[key] = time.monotonic() + max(0.0, delay)
            self._start()
            self._changed.notify_all()
            return True

    def pending(self) -> list[str]:
        with self._changed:
            return sorted(self._due)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing waits or runs; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._due or self._running is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def flush(self, timeout: float = 300.0) -> bool:
        """Run every waiting key now and wait for them (process exit)."""
        with self._changed:
            now = time.monotonic()
            self._due = dict.fromkeys(self._due, now)
            self._changed.notify_all()
        return self.wait_idle(timeout)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self._thread is None:
            atexit.register(self.flush)
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def _next(self) -> str:
        with self._changed:
            while True:
                now = time.monotonic()
                ready = [k for k, at in self._due.items() if at <= now]
                if ready:
                    key = min(ready, key=self._due.__getitem__)
                    del self._due[key]
                    self._running = key
                    return key
                wait = min(self._due.values()) - now if self._due else None
                self._changed.wait(wait)

    def _loop(self) -> None:
        while True:
            key = self._next()
            try:
                self._job(key)
            except Exception:  # one failed job must not stop the thread that runs all of them
                logger.exception("%s: job for %s failed", self._name, key)
            finally:
                with self._changed:
                    self._running = None
                    self._changed.notify_all()
