"""Every command starts quickly: start-up loads nothing heavy that the command does not use.

``scipy.stats`` (half a second) used to come in through the signals -> snapshots -> selectors ->
``arena.ratings`` chain, and daphne's Twisted server (0.17 s) through its AppConfig, in every
command. ``benchmarks/bench_startup_ratings.py`` measures the time; these tests keep the imports
out, each in a fresh interpreter (this test process has long since imported everything).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# Heavy modules no command needs merely to start: SciPy and NumPy come with the first rating
# computation, daphne's server and Twisted with the processes that serve.
HEAVY = (
    "numpy",
    "scipy",
    "scipy.stats",
    "daphne.server",
    "twisted",
    "autobahn",
    "arena.ratings.bias",
    "arena.ratings.leaderboard",
    "numba",
    "confusable_homoglyphs.confusables",
    "redis",
    "markdown_it",
    "openai",
)


def modules_after(code: str) -> dict[str, bool]:
    script = f"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
{code}
print(json.dumps({{name: name in sys.modules for name in {list(HEAVY)!r}}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_django_setup_imports_no_scipy_numpy_or_daphne_server():
    loaded = modules_after("import django; django.setup()")
    assert [name for name, present in loaded.items() if present] == []


def test_manage_py_check_with_urls_and_views_imports_nothing_heavy():
    loaded = modules_after(
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('check', verbosity=0)\n"
        "from django.urls import get_resolver; get_resolver().url_patterns"
    )
    assert [name for name, present in loaded.items() if present] == []


def test_runserver_is_still_daphnes_and_the_celery_app_is_still_made_current():
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'arena.settings'); django.setup()\n"
        "from django.core.management import get_commands\n"
        "from celery import current_app\n"
        "print(get_commands()['runserver'], current_app.main)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["daphne", "arena"]


def test_the_rating_package_loads_a_module_only_when_one_of_its_names_is_used():
    loaded = modules_after(
        "import arena.ratings.types, arena.ratings\n"
        "assert 'arena.ratings.bias' not in sys.modules and 'scipy' not in sys.modules\n"
        "arena.ratings.Battle, arena.ratings.StyleFeatures"
    )
    assert not loaded["arena.ratings.bias"] and not loaded["scipy"]
    loaded = modules_after("import arena.ratings; arena.ratings.position_bias")
    assert loaded["arena.ratings.bias"] and loaded["scipy.stats"]


def test_a_name_shared_by_a_function_and_its_module_is_the_function_whichever_loads_first():
    script = (
        "import arena.ratings.agreement, arena.ratings\n"
        "from arena.ratings import agreement\n"
        "print(callable(agreement), callable(arena.ratings.agreement))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["True", "True"]


def test_the_report_commands_load_no_views():
    # Run as from the command line (call_command skips system checks): the checks would load the
    # URL conf and every view, which these commands do not use.
    script = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'arena.settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "for argv in (['leaderboard', '--source=nope'], ['bias_report', '--source=nope'], ['agreement', '--a=nope', '--b=x']):\n"
        "    try:\n"
        "        execute_from_command_line(['manage.py', *argv])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('arena.views', 'judge.views', 'arena.urls'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "--source: 'nope' is not a source." in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
