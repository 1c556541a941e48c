"""The security helpers that are pure logic (key rules and redaction, CSV cells, the identity
filter) import no Django, so any layer (the client, parsers, commands) can use them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_pure_security_modules_load_no_django() -> None:
    # arena/__init__.py starts Celery (which loads Django): stand in an empty ``arena`` package.
    script = f"""
import sys, types
stub = types.ModuleType("arena")
stub.__path__ = [{str(ROOT / "arena")!r}]
sys.modules["arena"] = stub
import arena.keys, arena.csvcells, arena.identity
assert arena.identity.identity_mentions("As Chat&#71;PT", ["chatgpt"]) == ["chatgpt"]
assert arena.keys.redact("Bearer sk-abcdef123456") == "Bearer [redacted]"
print(",".join(sorted(m for m in sys.modules if m == "django" or m.startswith("django."))))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""
