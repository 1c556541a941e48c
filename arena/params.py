"""Reading the parameters of pages, API endpoints and management commands: one way, one set of errors.

The leaderboard page, ``/api/leaderboard/`` and ``manage.py leaderboard`` (and likewise bias,
agreement and sources) read their parameters through ``QueryReader``, so they accept and refuse
exactly the same values. The reader collects every problem instead of stopping at the first: a
400 page lists each bad parameter with what it allows, the API answers one error code per
parameter, and a command exits non-zero with the same sentences.

No Django import: checks that need the database (does this source exist?) are made by the
selectors through ``QueryReader.fail``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

# Codes of the API's per-parameter errors (documented in the README).
UNKNOWN = "unknown_parameter"
REPEATED = "repeated"
REQUIRED = "required"
INVALID_TEXT = "invalid_text"
TOO_LONG = "too_long"
NOT_INTEGER = "not_integer"
NOT_NUMBER = "not_number"
OUT_OF_RANGE = "out_of_range"
NOT_BOOLEAN = "not_boolean"
NOT_CHOICE = "not_choice"
NOT_FOUND = "not_found"
CONFLICT = "conflict"

BOOLEAN_WORDS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}
# The longest value an error message repeats back; the rest is cut (a 10 KB value is not echoed).
_SHOWN = 40

_Choice = TypeVar("_Choice", bound=str)


def shown(value: Any) -> str:
    """A value as an error message quotes it: repr, control characters escaped, cut short."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…'"


@dataclass(frozen=True)
class BadParam:
    """One parameter that cannot be used: ``message`` says what is wrong with the value given,
    ``allowed`` what the parameter accepts."""

    field: str
    code: str
    message: str
    allowed: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} Allowed: {self.allowed}."

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "allowed": self.allowed}


class ParamError(ValueError):
    """Every bad parameter of one request or command line (at least one)."""

    def __init__(self, problems: Sequence[BadParam]):
        if not problems:
            raise ValueError("ParamError needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, field: str, code: str, message: str, allowed: str) -> ParamError:
        return cls([BadParam(field, code, message, allowed)])

    @property
    def field(self) -> str:
        """The first bad parameter (the API's ``field``)."""
        return self.problems[0].field

    @property
    def message(self) -> str:
        return str(self)

    def as_json(self) -> dict[str, Any]:
        """The API's 400 body: a summary plus one entry per bad parameter."""
        return {
            "error": str(self),
            "field": self.field,
            "errors": {p.field: p.as_dict() for p in self.problems},
        }

    def command_message(self) -> str:
        """The same sentences for a management command, naming its ``--options``."""
        return "\n".join(
            f"--{p.field.replace('_', '-')}: {p.message} Allowed: {p.allowed}." for p in self.problems
        )


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs")


def _raw_values(data: Mapping[str, Any], name: str) -> list[Any]:
    getlist = getattr(data, "getlist", None)
    return list(getlist(name)) if getlist is not None else [data[name]]


class QueryReader:
    """Reads named parameters from ``request.GET`` (or a command's options as a dict).

    Each read returns the parsed value, or the default after recording a ``BadParam``; call
    ``finish()`` when done to raise ``ParamError`` with every problem found. Parameters not in
    ``allowed`` and parameters given more than once are problems too.
    """

    def __init__(self, data: Mapping[str, Any], *, allowed: Iterable[str]):
        allowed = list(allowed)
        self.problems: list[BadParam] = []
        self._values: dict[str, Any] = {}
        for name in data:
            values = [v for v in _raw_values(data, name) if v is not None]
            if name not in allowed:
                self.fail(
                    str(name),
                    UNKNOWN,
                    f"Unknown parameter {shown(name)}.",
                    "the parameters " + ", ".join(allowed),
                )
            elif len(values) > 1:
                self.fail(name, REPEATED, f"Given {len(values)} times.", "one value")
            elif values:
                self._values[name] = values[0]

    # --- recording ---------------------------------------------------------------------------

    def fail(self, field: str, code: str, message: str, allowed: str) -> None:
        if not self.failed(field):  # one problem per parameter: the first says what to fix
            self.problems.append(BadParam(field, code, message, allowed))

    def failed(self, field: str) -> bool:
        return any(p.field == field for p in self.problems)

    def given(self, name: str) -> bool:
        value = self._values.get(name)
        return value is not None and value != ""

    def finish(self) -> None:
        if self.problems:
            raise ParamError(self.problems)

    # --- typed reads ---------------------------------------------------------------------------

    def text(
        self, name: str, default: str | None = None, *, max_length: int, allowed: str = ""
    ) -> str | None:
        """Trimmed text without control characters (a NUL byte cannot even be stored)."""
        raw = self._values.get(name)
        if raw is None:
            return default
        value = str(raw).strip()
        if not value:
            return default
        allowed = allowed or f"text of at most {max_length} characters"
        if any(_is_control(c) for c in value):
            self.fail(name, INVALID_TEXT, f"{shown(value)} contains control characters.", allowed)
            return default
        if len(value) > max_length:
            self.fail(name, TOO_LONG, f"{len(value)} characters is too long.", allowed)
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.optional_integer(name, minimum=minimum, maximum=maximum)
        return default if value is None else value

    def optional_integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return None
        allowed = f"a whole number from {minimum} to {maximum}"
        if isinstance(raw, bool):
            self.fail(name, NOT_INTEGER, f"{shown(raw)} is not a whole number.", allowed)
            return None
        try:
            value = int(raw) if isinstance(raw, int) else int(str(raw).strip())
        except ValueError:
            self.fail(name, NOT_INTEGER, f"{shown(raw)} is not a whole number.", allowed)
            return None
        if not minimum <= value <= maximum:
            self.fail(name, OUT_OF_RANGE, f"{shown(raw)} is out of range.", allowed)
            return None
        return value

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        allowed = f"a number from {minimum:g} to {maximum:g}"
        try:
            value = (
                float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else float(str(raw))
            )
        except ValueError:
            self.fail(name, NOT_NUMBER, f"{shown(raw)} is not a number.", allowed)
            return default
        if not math.isfinite(value) or not minimum <= value <= maximum:
            self.fail(name, OUT_OF_RANGE, f"{shown(raw)} is out of range.", allowed)
            return default
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            return raw
        value = BOOLEAN_WORDS.get(str(raw).strip().lower())
        if value is None:
            self.fail(
                name, NOT_BOOLEAN, f"{shown(raw)} is not yes or no.", "1/0, true/false, yes/no or on/off"
            )
            return default
        return value

    def choice(self, name: str, default: _Choice, choices: Sequence[_Choice]) -> _Choice:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        value = str(raw).strip()
        for choice in choices:  # the choice itself, typed as the choices are (a Literal, say)
            if choice == value:
                return choice
        self.fail(
            name, NOT_CHOICE, f"{shown(raw)} is not one of the choices.", "one of " + ", ".join(choices)
        )
        return default
