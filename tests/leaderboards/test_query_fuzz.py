"""Hypothesis sends query strings to every page and API endpoint of the site (every route in
the URL configuration except Django's admin), as a visitor and as staff: no answer is a 500 or
shows a traceback. The routes of the views that read query parameters (reports, their API, the
account forms) are found in the URL configuration and each is fuzzed on its own, so a report
routed tomorrow is covered without a change here. Bounded: a fixed number of examples per run."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from arena.models import Assignment
from judge.models import Judge, JudgePanel, JudgeRun
from tests.factories import Arena

pytestmark = pytest.mark.django_db

# Every parameter name some page, endpoint or command reads, plus ones nothing reads.
NAMES = [
    "source",
    "prompt_set",
    "category",
    "turn",
    "method",
    "bootstrap",
    "seed",
    "style_control",
    "k",
    "init",
    "permutations",
    "format",
    "a",
    "b",
    "next",
    "invite",
    "page",
    "q",
    "set",
    "baseline",
    "strong_weight",
    "human",
    "disagreement",
]
GOOD = [
    "all",
    "human",
    "import:paper-gpt4",
    "judge:fuzz-judge",
    "panel:fuzz-panel",
    "demo-set",
    "writing",
    "coding",
    "bt",
    "elo",
    "alpha",
    "beta",
    "orders",
    "1",
    "2",
    "0",
    "csv",
    "json",
    "true",
    "on",
]
NASTY = [
    "",
    " ",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "999999999999999999999999",
    "9" * 5000,
    "0x10",
    "\u0661",
    "\x00",
    "a\x00b",
    "c" * 300,
    "import:",
    "judge:",
    "import:" + "x" * 300,
    "%",
    "%00",
    "<script>",
    "'\"",
    "../../etc/passwd",
    "\ud7ff",
    "\u202e",
    "\r\n",
    "\t",
]

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
values = st.one_of(
    st.sampled_from(GOOD),
    st.sampled_from(NASTY),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    _text,
    _text.map(lambda t: t + "\x00" + t),
)
names = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NAMES), _text)
pairs = st.lists(st.tuples(names, values), max_size=6)
# Raw query strings, percent-escapes that are not UTF-8 and broken escapes included.
raw = st.text(alphabet="=&%;+0123456789ABCDEFabcdefx_", max_size=40)


def _patterns(patterns=None, prefix: str = "") -> list[tuple[str, object]]:
    """Every route of the URL configuration (admin excepted) with its view."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.rstrip("/") != settings.ADMIN_PATH.rstrip("/"):
                found += _patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append(("/" + route, entry.callback))
    return found


def _filled(route: str, fill: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: fill[m.group(1)], route)


def routes(arena: Arena, run_id: int, assignment_id: int) -> list[str]:
    """A URL for every route (admin excepted), path arguments filled with objects that exist."""
    fill = {
        "run_id": str(run_id),
        "assignment_id": str(assignment_id),
        "prompt_set": arena.prompt_set.slug,
        "uidb64": "MQ",
        "token": "set-password",
        "vote_id": "1",
        "invite_id": "1",
        "evaluation_id": "1",
    }
    return sorted({_filled(route, fill) for route, _view in _patterns()})


# The views that read query parameters: the reports' pages and API, the account forms.
READING_VIEWS = (
    "arena.views.leaderboard",
    "arena.views.reports",
    "arena.views.evaluations",
    "arena.views.api",
    "arena.views.evaluation_api",
    "arena.views.accounts",
)
# The routes of those views, read from the URL configuration (none takes a path argument).
READING = sorted({"/" + route.lstrip("/") for route, view in _patterns() if view.__module__ in READING_VIEWS})


def test_the_fuzzed_routes_are_found_in_the_url_configuration():
    assert {
        "/leaderboard/",
        "/api/leaderboard/",
        "/bias/",
        "/api/bias/",
        "/agreement/",
        "/api/agreement/",
        "/api/sources/",
        "/scores/",
        "/api/scores/",
        "/winrate/",
        "/api/winrate/",
        "/grades/",
        "/api/grades/",
        "/judges/",
        "/api/judges/",
        "/comparisons/",
        "/accounts/signup/",
        "/accounts/login/",
    } <= set(READING)
    assert not any("<" in route for route in READING)


@pytest.fixture
def site(voted_arena, settings):
    settings.ARENA_BOOTSTRAP_ROUNDS = 20
    settings.ARENA_MAX_BOOTSTRAP_ROUNDS = 30  # staff may compute anything valid: keep each one quick
    judge = Judge.objects.create(name="fuzz-judge", model="fuzz", base_url="http://127.0.0.1:9/v1")
    run = JudgeRun.objects.create(judge=judge, prompt_set=voted_arena.prompt_set)
    JudgePanel.objects.create(name="fuzz-panel").judges.add(judge)
    rater = voted_arena.raters[0]
    comparison = voted_arena.comparison(voted_arena.prompts[0], "alpha", "beta")
    assignment = Assignment.objects.get_or_create(
        rater=rater,
        comparison=comparison,
        defaults={"a_shown_first": True, "expires_at": timezone.now() + timedelta(minutes=10)},
    )[0]
    urls = routes(voted_arena, run.pk, assignment.pk)
    assert {*READING, "/judge/runs/", f"/judge/runs/{run.pk}/", "/rate/"} <= set(urls)
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("fuzz-staff", is_staff=True))
    rater_client = Client()
    rater_client.force_login(rater)
    return {"urls": urls, "anonymous": Client(), "staff": staff, "rater": rater_client}


def check(response, url: str) -> None:
    body = response.content.decode(errors="replace") if not response.streaming else ""
    assert response.status_code < 500, f"{url}: {response.status_code}"
    assert "Traceback" not in body, url


FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("who", ["anonymous", "staff"])
@pytest.mark.parametrize("url", READING)
@FUZZ
@given(query=st.one_of(pairs.map(urlencode), raw))
def test_no_query_string_makes_a_page_with_parameters_fail(site, who, url, query):
    check(site[who].get(f"{url}?{query}"), f"{url}?{query}")


@pytest.mark.parametrize("who", ["anonymous", "rater", "staff"])
@FUZZ
@given(data=st.data())
def test_no_query_string_makes_any_page_fail(site, who, data):
    url = data.draw(st.sampled_from(site["urls"]), label="url")
    query = data.draw(st.one_of(pairs.map(urlencode), raw), label="query")
    check(site[who].get(f"{url}?{query}"), f"{url}?{query}")
