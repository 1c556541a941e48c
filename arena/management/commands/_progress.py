"""What both import commands do around the import service: a progress bar on a terminal, and
bad input turned into a command error that says nothing was written."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from arena.imports.rows import ImportFormatError
from arena.services.imports import ImportResult


@contextmanager
def progress_bar(desc: str, *, enabled: bool | None = None) -> Iterator[Callable[[int], object]]:
    show = sys.stderr.isatty() if enabled is None else enabled
    bar = tqdm(desc=desc, unit=" rows", disable=not show, file=sys.stderr, mininterval=0.2)
    try:
        yield bar.update
    finally:
        bar.close()


def import_file(
    file: Path, *, progress: bool | None, run: Callable[[Callable[[int], object]], ImportResult]
) -> str:
    """Run one import of ``file`` (``run`` gets the progress callback); return its summary."""
    if not file.exists():
        raise CommandError(f"{file}: no such file")
    try:
        with progress_bar(f"importing {file.name}", enabled=progress) as tick:
            result = run(tick)
    except ImportFormatError as exc:
        raise CommandError(f"{exc} — nothing was imported.") from exc
    return result.summary()
