"""The benchmark-only views (benchmarks/urls.py) are routed with ARENA_BENCH_VIEWS=1 and only then."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

RESOLVE = """
import django
django.setup()
from django.urls import Resolver404, resolve
for url in ("/bench/bare/", "/bench/signed-in/"):
    try:
        print(url, resolve(url).url_name)
    except Resolver404:
        print(url, "404")
"""


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("1", ["/bench/bare/ bench_bare", "/bench/signed-in/ bench_signed_in"]),
        ("0", ["/bench/bare/ 404", "/bench/signed-in/ 404"]),
    ],
)
def test_bench_views_are_routed_only_when_asked_for(flag: str, expected: list[str]) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "arena.settings", "ARENA_BENCH_VIEWS": flag}
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split("\n")[:2] == expected
