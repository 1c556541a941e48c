"""Reading and field validation shared by every parser.

Every problem becomes an ``ImportFormatError`` naming the file as the caller gave it, the
1-based line and, whenever one can be named, the field. The readers never build a list of
rows: they yield one record at a time so a 100,000-line battle file streams through.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterator
from typing import Any, cast

from arena.imports.rows import ImportFormatError

PathLike = str | os.PathLike[str]

_decoder = json.JSONDecoder()
_JSON_WS = " \t\n\r"
# Limits of what a record may hold, so that every file is either imported or refused with its
# line and field (never a traceback from the JSON decoder, the csv module or the database):
# JSON nested deeper than this is no record any format writes; a turn number is a small integer.
MAX_NESTING = 64
MAX_TURN = 32767
# Only used on the error path, to say which field a cut-off line was in the middle of.
_KEY_BEFORE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


# --------------------------------------------------------------------------- errors


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def wrong_type(file: str, line: int, field: str, expected: str, value: Any) -> ImportFormatError:
    return ImportFormatError(
        file, line, f"expected {expected}, got {_type_name(value)} {_short(value)}", field
    )


def missing(file: str, line: int, field: str, hint: str = "") -> ImportFormatError:
    return ImportFormatError(file, line, "required field is missing" + (f" ({hint})" if hint else ""), field)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad_json(file: str, line: int, text: str, err: json.JSONDecodeError) -> ImportFormatError:
    keys = _KEY_BEFORE.findall(text, 0, err.pos)
    cut = err.pos >= len(text.rstrip("\r\n")) or err.msg.startswith("Unterminated")
    message = f"invalid JSON: {err.msg} (column {err.colno})"
    if cut:
        message += "; the line looks cut off (truncated file?)"
    return ImportFormatError(file, line, message, keys[-1] if keys else None)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\udc80" <= ch <= "\udcff" for ch in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _bad_utf8(file: str, line: int, raw: bytes, err: UnicodeDecodeError) -> ImportFormatError:
    # Decode again with the bad bytes smuggled through as surrogates, so we can say which
    # field holds them: "field 'text'" is what a person needs to find the spot.
    text = raw.decode("utf-8", "surrogateescape")
    field = None
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        field = next((k for k, v in obj.items() if _has_surrogate(k) or _has_surrogate(v)), None)
    if field is None:
        # Not a whole object on this line (a pretty-printed array): the key written before
        # the bad byte is the field.
        keys = _KEY_BEFORE.findall(text, 0, len(raw[: err.start].decode("utf-8", "surrogateescape")))
        field = keys[-1] if keys else None
    return ImportFormatError(
        file,
        line,
        f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at byte {err.start + 1} of the line)",
        field,
    )


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where (``a.b[2]``) a NUL character sits in a decoded JSON value, or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key in item:
                if "\x00" in key:
                    return where or key
            # Reversed onto the stack, so the first field holding one is the one named.
            stack.extend((f"{where}.{key}" if where else key, child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))
    return None


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            c
            for item in level
            if isinstance(item, dict | list)
            for c in (item.values() if isinstance(item, dict) else item)
        ]
    return depth - 1


def _check_record(file: str, line: int, text: str, obj: Any) -> None:
    """Refuse a decoded record holding a NUL character or nested too deeply (both are cheap to
    rule out from the text first: almost no line holds a NUL escape or 64 brackets)."""
    if "\\u0000" in text:
        where = _nul_path(obj)
        if where is not None:
            field = where.split(".", 1)[0].split("[", 1)[0] or None
            raise ImportFormatError(
                file, line, "contains a NUL character (\\u0000), which text cannot hold", field
            )
    if text.count("[") + text.count("{") > MAX_NESTING and _depth(obj) > MAX_NESTING:
        raise _too_deep(file, line)


def _too_deep(file: str, line: int) -> ImportFormatError:
    return ImportFormatError(file, line, f"JSON nested more than {MAX_NESTING} levels deep")


def empty_file(file: str) -> ImportFormatError:
    return ImportFormatError(file, 1, "the file is empty: expected at least one record")


# --------------------------------------------------------------------------- readers


def iter_jsonl(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each non-blank line of a JSON Lines file.

    Each line is decoded as strict UTF-8 on its own so a bad byte is reported on its line.
    """
    file = os.fspath(path)
    loads = json.loads
    seen = False
    with open(path, "rb") as fp:
        for line, raw in enumerate(fp, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _bad_utf8(file, line, raw, err) from None
            if line == 1 and text.startswith("\ufeff"):
                text = text[1:]  # a BOM from Windows editors is not an error worth failing on
            if text.isspace() or not text:
                continue
            try:
                obj = loads(text)
            except json.JSONDecodeError as err:
                raise _bad_json(file, line, text, err) from None
            except RecursionError:
                raise _too_deep(file, line) from None
            if type(obj) is not dict:
                raise ImportFormatError(file, line, f"expected a JSON object, got {_type_name(obj)}")
            _check_record(file, line, text, obj)
            seen = True
            yield line, obj
    if not seen:
        raise empty_file(file)


def _read_text(path: PathLike) -> str:
    file = os.fspath(path)
    with open(path, "rb") as fp:
        data = fp.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        start = data.rfind(b"\n", 0, err.start) + 1
        end = data.find(b"\n", err.start)
        raw = data[start : end if end != -1 else len(data)]
        raise _bad_utf8(
            file, line, raw, UnicodeDecodeError("utf-8", raw, err.start - start, err.end - start, err.reason)
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def iter_json_array(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each element of a file holding one JSON array.

    The array is scanned element by element with ``raw_decode`` (never ``json.load`` of the
    whole array), and ``line`` is the line on which the element starts, counted as we go.
    """
    file = os.fspath(path)
    text = _read_text(path)
    n = len(text)
    pos = _skip_ws(text, 0)
    if pos == n:
        raise empty_file(file)
    line = 1 + text.count("\n", 0, pos)
    if text[pos] != "[":
        raise ImportFormatError(file, line, "expected a JSON array starting with '['")
    counted_to = pos
    pos = _skip_ws(text, pos + 1)
    if pos < n and text[pos] == "]":
        raise ImportFormatError(file, line, "the JSON array is empty: expected at least one record")
    while True:
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        if pos >= n:
            raise ImportFormatError(file, line, "the JSON array is not closed with ']' (file cut off?)")
        try:
            obj, end = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            err_line = line + text.count("\n", pos, err.pos)
            line_start = text.rfind("\n", 0, err.pos) + 1
            keys = _KEY_BEFORE.findall(text, pos, err.pos)
            cut = err.msg.startswith("Unterminated") or _skip_ws(text, err.pos) >= n
            message = f"invalid JSON: {err.msg} (column {err.pos - line_start + 1})"
            if cut:
                message += "; the file looks cut off (truncated?)"
            raise ImportFormatError(file, err_line, message, keys[-1] if keys else None) from None
        except RecursionError:
            raise _too_deep(file, line) from None
        if type(obj) is not dict:
            raise ImportFormatError(file, line, f"expected a JSON object, got {_type_name(obj)}")
        _check_record(file, line, text[pos:end], obj)
        yield line, obj
        pos = _skip_ws(text, end)
        if pos >= n:
            line += text.count("\n", counted_to, pos)
            raise ImportFormatError(file, line, "the JSON array is not closed with ']' (file cut off?)")
        if text[pos] == "]":
            rest = _skip_ws(text, pos + 1)
            if rest < n:
                raise ImportFormatError(
                    file, line + text.count("\n", counted_to, rest), "unexpected content after the JSON array"
                )
            return
        if text[pos] != ",":
            raise ImportFormatError(
                file,
                line + text.count("\n", counted_to, pos),
                f"expected ',' or ']' between records, got {text[pos]!r}",
            )
        pos = _skip_ws(text, pos + 1)


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _JSON_WS:
        pos += 1
    return pos


def iter_json_records(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """JSON array or JSON Lines, decided by the first non-blank character of the file."""
    with open(path, "rb") as fp:
        head = fp.read(4096)
        while head and not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
            more = fp.read(4096)
            if not more:
                break
            head += more
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return iter_json_array(path) if first == b"[" else iter_jsonl(path)


def iter_csv(path: PathLike) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each CSV record; the header is line 1.

    ``line`` is the physical line on which the record starts (a quoted answer may span
    lines). Each physical line is decoded as strict UTF-8 on its own; errors name the column.
    """
    file = os.fspath(path)
    record_text: list[str] = []  # physical lines of the record being read, for error reports
    bad_utf8: list[tuple[int, str]] = []
    nul_lines: list[int] = []  # the first physical line holding a NUL character

    def lines() -> Iterator[str]:
        with open(path, "rb") as fp:
            for number, raw in enumerate(fp, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    # Keep going with the bad bytes as surrogates so the record can be split
                    # into cells and the error can name the column.
                    text = raw.decode("utf-8", "surrogateescape")
                    bad_utf8.append(
                        (
                            number,
                            f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at byte {err.start + 1} of the line)",
                        )
                    )
                if number == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                if "\x00" in text and not nul_lines:
                    nul_lines.append(number)
                record_text.append(text)
                yield text

    reader = csv.reader(lines(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise ImportFormatError(file, 1, f"invalid CSV header ({_csv_error(err)})") from None
    if bad_utf8:
        raise ImportFormatError(file, bad_utf8[0][0], bad_utf8[0][1])
    if nul_lines:
        raise ImportFormatError(file, 1, "the header contains a NUL character, which text cannot hold")
    if not header or not any(h.strip() for h in header):
        raise empty_file(file)
    names = [h.strip() for h in header]
    dupes = sorted({h for h in names if names.count(h) > 1 and h})
    if dupes:
        raise ImportFormatError(file, 1, "column appears more than once in the header", dupes[0])
    width = len(names)
    seen = False
    start = reader.line_num + 1
    while True:
        record_text.clear()
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise ImportFormatError(
                file, start, *_csv_record_error(err, "".join(record_text), names)
            ) from None
        line, start = start, reader.line_num + 1
        if bad_utf8:
            number, message = bad_utf8[0]
            column = next((n for n, c in zip(names, cells, strict=False) if _has_surrogate(c)), None)
            raise ImportFormatError(file, number, message, column)
        if nul_lines:
            column = next((n for n, c in zip(names, cells, strict=False) if "\x00" in c), None)
            raise ImportFormatError(
                file, nul_lines[0], "contains a NUL character, which text cannot hold", column
            )
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != width:
            message = f"expected {width} cells as in the header, got {len(cells)}"
            column = names[len(cells)] if len(cells) < width else None
            if len(cells) < width and not record_text[-1].endswith(("\n", "\r")):
                # The last line has no line end: the file stops inside this cell.
                column = names[len(cells) - 1]
                message += "; the file looks cut off (truncated?)"
            raise ImportFormatError(file, line, message, column)
        seen = True
        yield line, dict(zip(names, cells, strict=True))
    if not seen:
        raise ImportFormatError(file, 1, "the CSV file has a header but no records")


def _csv_error(err: csv.Error) -> str:
    text = str(err)
    if "field larger than field limit" in text:
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    return text


def _csv_record_error(err: csv.Error, text: str, names: list[str]) -> tuple[str, str | None]:
    """The message and, when it can be told, the column of a record the csv module refused."""
    message = _csv_error(err)
    try:
        # Close the open quote and split what was read to say which cell broke.
        partial = next(csv.reader(io.StringIO(text + '"')), [])
    except csv.Error:  # the same oversized cell again: no column to name
        return f"invalid CSV ({message})", None
    column = names[len(partial) - 1] if 0 < len(partial) <= len(names) else None
    cut = " (file cut off inside a quoted cell?)" if "end of data" in message else ""
    return f"invalid CSV ({message}){cut}", column


def csv_header(path: PathLike) -> list[str]:
    """The stripped column names of a CSV file, for checks that must happen before line 2."""
    file = os.fspath(path)
    with open(path, "rb") as fp:
        raw = fp.readline()
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as err:
        raise ImportFormatError(file, 1, f"not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
    if not text.strip():
        raise empty_file(file)
    try:
        return [h.strip() for h in next(csv.reader([text]))]
    except csv.Error as err:
        raise ImportFormatError(file, 1, f"invalid CSV header ({_csv_error(err)})") from None


# --------------------------------------------------------------------------- fields
# Small, fast checks: called several times per row, so no regexes and no isinstance chains.


def req_str(
    obj: dict[str, Any], key: str, file: str, line: int, *, empty: bool = True, hint: str = ""
) -> str:
    try:
        value = obj[key]
    except KeyError:
        raise missing(file, line, key, hint) from None
    if type(value) is not str:
        raise wrong_type(file, line, key, "a string", value)
    if not empty and not value.strip():
        raise ImportFormatError(file, line, "must not be empty", key)
    return value


def opt_str(obj: dict[str, Any], key: str, file: str, line: int) -> str | None:
    value = obj.get(key)
    if value is None or type(value) is str:
        return value
    raise wrong_type(file, line, key, "a string", value)


def req_id(obj: dict[str, Any], key: str, file: str, line: int, *, hint: str = "") -> str:
    """An identifier that sources write as an int (FastChat question ids) or a string."""
    try:
        value = obj[key]
    except KeyError:
        raise missing(file, line, key, hint) from None
    return as_id(value, key, file, line)


def as_id(value: Any, key: str, file: str, line: int) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        if not value.strip():
            raise ImportFormatError(file, line, "must not be empty", key)
        return cast(str, value)
    raise wrong_type(file, line, key, "an integer or string id", value)


def opt_turn(obj: dict[str, Any], key: str, file: str, line: int) -> int:
    value = obj.get(key)
    if value is None:
        return 1
    if type(value) is not int:
        raise wrong_type(file, line, key, "a positive integer", value)
    if not 1 <= value <= MAX_TURN:
        raise ImportFormatError(file, line, f"must be between 1 and {MAX_TURN}, got {value}", key)
    return value


def opt_number(obj: dict[str, Any], key: str, file: str, line: int) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return cast(float, value)
        raise ImportFormatError(file, line, f"must be a finite number, got {value}", key)
    if kind is int:
        return float(value)
    raise wrong_type(file, line, key, "a number", value)


def req_str_list(value: Any, key: str, file: str, line: int) -> tuple[str, ...]:
    """A non-empty list of strings (answer or question turns)."""
    if type(value) is not list:
        raise wrong_type(file, line, key, "an array of strings", value)
    if not value:
        raise ImportFormatError(file, line, "must hold at least one string", key)
    for i, item in enumerate(value):
        if type(item) is not str:
            raise wrong_type(file, line, f"{key}[{i}]", "a string", item)
    return tuple(value)


def opt_dict(obj: dict[str, Any], key: str, file: str, line: int) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        raise wrong_type(file, line, key, "an object", value)
    return value
