"""Writing CSV that a spreadsheet opens safely: the one CSV writer of every export.

Pure: no Django. Model names, sources and categories come from imported files and the admin, so
a cell such as ``=HYPERLINK("http://evil.example", "click")`` or ``+cmd|' /C calc'!A0`` would be
run as a formula by Excel or LibreOffice (CSV injection). As OWASP advises, a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading
single quote, which spreadsheets show as text and never evaluate.

Numbers stay numbers: int and float values are written as they are, and so is a text cell that
is a plain decimal number (``-0.5``, ``+3``, ``1e-3``); a spreadsheet reads those as the number they
are, never as a formula. Only other text is neutralised, so a rating of ``-12.5`` can still be
summed while ``-1+1`` or ``-cmd`` cannot run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def csv_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: text that a spreadsheet would run is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_write(stream: _Writable, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write ``header`` and ``rows`` to ``stream`` as CSV (``\\n`` line ends), every cell through
    :func:`csv_cell`."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
