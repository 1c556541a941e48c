"""requirements.lock, which `make venv` installs, pins every package of requirements.txt and
requirements-dev.txt at the version they name: a pin changed or added without `make lock` fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        if match := PIN.match(line.strip()):
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def test_the_lock_pins_every_requirement_at_its_version():
    locked = pins("requirements.lock")
    wanted = {**pins("requirements.txt"), **pins("requirements-dev.txt")}
    assert wanted and len(locked) > len(wanted)
    assert {name: version for name, version in wanted.items() if locked.get(name) != version} == {}, (
        "requirements.lock is out of date: run `make lock`"
    )
