"""The import contracts (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``) hold, cover
every module, and really fail when a layer is broken."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from tests.conftest import ROOT

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def contract(contract_id: str) -> dict:
    [found] = [c for c in CONFIG["contracts"] if c["id"] == contract_id]
    return found


def lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(where)},
    )


def test_the_project_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in result.stdout


def test_every_module_is_in_exactly_one_layer():
    """A layers contract says nothing of the modules it does not list: a new module must be placed."""
    listed = [m.strip() for layer in contract("layers")["layers"] for m in layer.replace("|", ":").split(":")]
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*CONFIG["root_packages"])
    unplaced, twice = [], []
    for module in sorted(graph.modules):
        homes = [m for m in listed if module == m or module.startswith(m + ".")]
        if len(homes) > 1:
            twice.append(module)
        # A package that only holds layered modules (``arena``, ``arena.imports``) imports nothing itself.
        elif not homes and graph.find_modules_directly_imported_by(module):
            unplaced.append(module)
    assert (unplaced, twice) == ([], [])
    assert len(graph.modules) > 200  # the walk saw the project


def test_an_upward_import_a_django_import_in_pure_code_and_a_circle_each_fail_lint(tmp_path):
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: [
                n
                for n in names
                if not (n.endswith(".py") or (Path(folder) / n).is_dir()) or n == "__pycache__"
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert lint(tmp_path).returncode == 0  # the copy passes as it is

    def append(module: str, line: str) -> None:
        path = tmp_path / (module.replace(".", "/") + ".py")
        path.write_text(path.read_text() + f"\n{line}\n")

    append("arena.ratings.types", "import django")  # pure maths importing Django
    append("arena.services.votes", "from reports.services import snapshots")  # the core importing reports
    append("judge.services.execution", "from judge.services import runs")  # runs already imports execution
    result = lint(tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())  # the names are wrapped at 80 columns
    for contract_id in ("django-free", "layers", "acyclic"):
        assert f"{' '.join(contract(contract_id)['name'].split())} BROKEN" in out, result.stdout
    assert "arena.ratings.types -> django" in out
    assert "arena.services.votes -> reports.services.snapshots" in out
    assert f"Contracts: {len(CONFIG['contracts']) - 3} kept, 3 broken." in out
