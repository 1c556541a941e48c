"""The rating package stays pure: no Django anywhere in it, now or later."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "arena" / "ratings"


def test_no_module_in_the_rating_package_imports_django() -> None:
    offenders = []
    for module in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{module.name}: {name}" for name in names if name.split(".")[0] == "django"]
    assert offenders == []
    assert len(list(PACKAGE.glob("*.py"))) >= 8  # the walk really saw the package


def test_importing_the_rating_package_loads_no_django() -> None:
    # arena/__init__.py starts Celery (which loads Django), so stand in an empty ``arena``
    # package and import only arena.ratings and everything it imports.
    script = f"""
import sys, types
stub = types.ModuleType("arena")
stub.__path__ = [{str(PACKAGE.parent)!r}]
sys.modules["arena"] = stub
import arena.ratings, arena.ratings.bias, arena.ratings.agreement, arena.ratings.style
arena.ratings.compute_leaderboard([arena.ratings.Battle("human", "x", "y", "model_a")], bootstrap_rounds=5)
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(",".join(loaded))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
