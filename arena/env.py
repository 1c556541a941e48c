"""Reading settings from the environment, failing loudly on a bad value.

Modelled on healthchecks' ``envbool``/``envint``: every variable has a default, is listed in
the README, and a value that cannot be parsed stops the process with a message naming the
variable instead of silently falling back.
"""

from __future__ import annotations

import os


class SettingsError(Exception):
    """An environment variable holds a value Arena cannot use."""


# Every variable the settings read (SECRET_KEY, DATABASE_URL, REDIS_URL, ...): none of them may
# ever be named as an endpoint's API-key variable (see arena.keys).
SETTINGS_VARIABLES: set[str] = set()


def _read(name: str, default: str | None = None) -> str | None:
    SETTINGS_VARIABLES.add(name)
    return os.environ.get(name, default)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    value = _read(name, default)
    assert value is not None
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = _read(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _read(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = _read(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number.") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _read(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    # Empty is unset (``DATABASE_URL= make demo``, an empty line in an env file): the default, not
    # a URL with no scheme that fails deep inside a library.
    raw = _read(name, default) or default
    if raw and not raw.startswith(tuple(f"{s}://" for s in schemes)):
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name}={raw!r} must start with one of: {allowed}")
    return raw
