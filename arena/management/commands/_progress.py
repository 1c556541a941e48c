"""A progress bar for long imports, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(desc: str, *, enabled: bool | None = None) -> Iterator[Callable[[int], None]]:
    show = sys.stderr.isatty() if enabled is None else enabled
    bar = tqdm(desc=desc, unit=" rows", disable=not show, file=sys.stderr, mininterval=0.2)
    try:
        yield bar.update
    finally:
        bar.close()
