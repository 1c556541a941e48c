"""The evaluation reports follow the leaderboard's rules: one parameter layer (a 400 page naming
every bad parameter, API error codes per parameter, commands that exit with the same sentences),
the canonical set for visitors who are not staff, and snapshots that new verdicts mark stale (a
panel's with its judges', a judge's grades with people's votes)."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arena.models import Answer, Comparison, Contender, RatingSnapshot, VerdictSource, Vote
from judge.models import Judge, JudgePanel, JudgeRun, Judgment
from reports.selectors.evaluations import GradesParams, JudgesParams, ScoresParams, WinRateParams

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_bootstrap(settings):
    settings.ARENA_BOOTSTRAP_ROUNDS = 20  # the default of the canonical views: each computed quickly


@pytest.fixture
def reported(graded_set, human_votes):
    """Two judges with finished judgments written as a run stores them: scores of every answer
    (single mode), both orders of every voted comparison (pairwise against 'middle'); a panel of
    the two; an imported source of people's verdicts (an alternative reference)."""
    middle = Contender.objects.get(name="middle")
    judges = [Judge.objects.create(name=name, model=name) for name in ("j1", "j2")]
    for judge in judges:
        single = JudgeRun.objects.create(judge=judge, prompt_set=graded_set, mode="single", status="done")
        Judgment.objects.bulk_create(
            Judgment(run=single, answer=answer, status="done", score=float(len(answer.contender.name)))
            for answer in Answer.objects.filter(prompt__prompt_set=graded_set)
        )
        pairwise = JudgeRun.objects.create(
            judge=judge, prompt_set=graded_set, mode="pairwise", baseline=middle, status="done"
        )
        Judgment.objects.bulk_create(
            Judgment(
                run=pairwise,
                comparison=comparison,
                order=order,
                status="done",
                winner="model_a" if comparison.answer_a.contender.name != "weak" else "model_b",
            )
            for comparison in Comparison.objects.filter(prompt__prompt_set=graded_set)
            for order in (1, 2)
        )
    JudgePanel.objects.create(name="duo").judges.set(judges)
    VerdictSource.objects.create(name="crowd", is_human=True)
    return judges


def _problems(page) -> set[str]:
    return set(re.findall(r'data-param="([^"]+)"', page.content.decode()))


BAD = [
    # page, API, command, bad query, the code each bad parameter gets
    (
        "/scores/",
        "/api/scores/",
        "scores_report",
        {"source": "human", "prompt_set": "nope", "bootstrap": "-1", "seed": "x"},
        {
            "source": "not_choice",
            "prompt_set": "not_found",
            "bootstrap": "out_of_range",
            "seed": "not_integer",
        },
    ),
    (
        "/winrate/",
        "/api/winrate/",
        "winrate_report",
        {"source": "judge:nobody", "baseline": "nobody", "strong_weight": "0", "bootstrap": "many"},
        {
            "source": "not_found",
            "baseline": "not_found",
            "strong_weight": "out_of_range",
            "bootstrap": "not_integer",
        },
    ),
    (
        "/grades/",
        "/api/grades/",
        "grades_report",
        {"source": "import:crowd", "prompt_set": "x" * 500},
        {"source": "not_choice", "prompt_set": "too_long"},
    ),
    (
        "/judges/",
        "/api/judges/",
        "judges_report",
        {"source": "human", "human": "judge:j1", "prompt_set": "a\x00b"},
        {"source": "not_choice", "human": "not_choice", "prompt_set": "invalid_text"},
    ),
]


@pytest.mark.parametrize(("page_url", "api_url", "command", "query", "codes"), BAD, ids=[b[2] for b in BAD])
def test_every_bad_parameter_is_named_alike_by_page_api_and_command(
    client, reported, page_url, api_url, command, query, codes
):
    response = client.get(api_url, {**query, "colour": "red"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {name: error["code"] for name, error in errors.items()} == {**codes, "colour": "unknown_parameter"}

    page = client.get(page_url, query)
    assert page.status_code == 400
    assert _problems(page) == set(codes)
    text = html.unescape(page.content.decode())
    assert all(errors[name]["message"] in text for name in codes)
    assert "data-snapshot-key" not in text and not RatingSnapshot.objects.exists()

    with pytest.raises(CommandError) as failed:
        call_command(
            command,
            *[f"--{name.replace('_', '-')}={value}" for name, value in query.items()],
            stdout=io.StringIO(),
        )
    for name in codes:
        error = errors[name]
        assert f"--{name.replace('_', '-')}: {error['message']} Allowed: {error['allowed']}." in str(
            failed.value
        )


def test_the_comparisons_page_names_every_bad_filter(client, reported):
    page = client.get(
        "/comparisons/", {"disagreement": "sideways", "turn": "0", "a": "nobody", "source": "panel:x"}
    )
    assert page.status_code == 400
    assert _problems(page) == {"disagreement", "turn", "a", "source"}
    page = client.get("/comparisons/", {"disagreement": "orders", "source": "import:crowd"})
    assert page.status_code == 400 and _problems(page) == {"disagreement"}


def test_a_panel_source_that_does_not_exist_is_not_found_everywhere(client, reported):
    for url in (
        "/api/leaderboard/",
        "/api/bias/",
        "/api/scores/",
        "/api/winrate/",
        "/api/grades/",
        "/api/judges/",
    ):
        error = client.get(url, {"source": "panel:nobody"}).json()["errors"]["source"]
        assert error["code"] == "not_found" and error["message"] == "No judge panel named 'nobody'.", url
    with pytest.raises(CommandError, match=r"--source: No judge panel named 'nobody'\."):
        call_command("leaderboard", "--source", "panel:nobody", stdout=io.StringIO())
    assert client.get("/api/scores/", {"source": "panel:duo", "bootstrap": 0}).status_code == 403  # exists


CANONICAL = [
    ("/scores/", "/api/scores/", {"source": "judge:j1"}, {"source": "judge:j1", "bootstrap": "7"}),
    (
        "/scores/",
        "/api/scores/",
        {"source": "panel:duo", "prompt_set": "eval-test"},
        {"source": "panel:duo", "prompt_set": "eval-test", "seed": "3"},
    ),
    ("/winrate/", "/api/winrate/", {"source": "judge:j2"}, {"source": "judge:j2", "baseline": "strong"}),
    (
        "/winrate/",
        "/api/winrate/",
        {"source": "all", "prompt_set": "eval-test"},
        {"source": "all", "prompt_set": "eval-test", "strong_weight": "2"},
    ),
    ("/grades/", "/api/grades/", {"source": "panel:duo"}, None),
    ("/judges/", "/api/judges/", {"source": "all"}, {"source": "all", "human": "import:crowd"}),
    (
        "/judges/",
        "/api/judges/",
        {"source": "judge:j1", "human": "human"},
        {"source": "judge:j1", "human": "import:crowd"},
    ),
]


@pytest.mark.parametrize(("page_url", "api_url", "canonical", "other"), CANONICAL)
def test_visitors_compute_only_the_canonical_evaluation_reports(
    client, staff_client, reported, page_url, api_url, canonical, other
):
    from django.test import Client

    visitor = Client()
    if other is not None:
        for url in (api_url, page_url):
            response = visitor.get(url, other)
            assert response.status_code == 403, url
        body = visitor.get(api_url, other).json()
        assert body["code"] == "snapshot_not_available"
        suggested = body["canonical"]
        page = visitor.get(page_url, other).content.decode()
        assert (
            'data-error="not-computed"' in page and "data-snapshot-key" not in page and "Export:" not in page
        )
        assert not RatingSnapshot.objects.exists()
        assert visitor.get(suggested).status_code == 200  # the suggestion is canonical itself
        RatingSnapshot.objects.all().delete()

    assert visitor.get(api_url, canonical).status_code == 200
    assert visitor.get(page_url, canonical).status_code == 200
    assert RatingSnapshot.objects.count() == 1  # the page read the snapshot the API had computed
    if other is not None:
        assert staff_client.get(api_url, other).status_code == 200  # staff may have any valid one
        assert RatingSnapshot.objects.count() == 2
        assert visitor.get(api_url, other).status_code == 200  # and then everyone reads it


def test_the_canonical_set_of_each_report(reported, settings):
    settings.ARENA_BOOTSTRAP_ROUNDS = 100
    assert ScoresParams.from_query({"source": "judge:j1", "prompt_set": "eval-test"}).is_canonical()
    assert ScoresParams.from_query({"source": "judge:j1", "bootstrap": 100}).is_canonical()
    assert not ScoresParams.from_query({"source": "judge:j1", "bootstrap": 1000}).is_canonical()
    assert WinRateParams.from_query({"source": "import:crowd"}).is_canonical()
    assert not WinRateParams.from_query({"baseline": "middle"}).is_canonical()
    assert GradesParams.from_query({"source": "judge:j2", "prompt_set": "eval-test"}).is_canonical()
    assert JudgesParams.from_query(
        {"source": "panel:duo"}
    ).is_canonical()  # people voted: human is the default
    assert not JudgesParams.from_query({"human": "import:crowd"}).is_canonical()
    assert (
        JudgesParams.from_query({"human": "import:crowd", "prompt_set": "eval-test"}).canonical_query()
        == "source=all&prompt_set=eval-test"
    )


@pytest.mark.parametrize(
    ("kind", "page_marker", "most"), [("scores", b"scores-table", 20), ("grades", b'id="grades"', 50)]
)
def test_a_large_canonical_report_is_not_computed_inside_a_visitors_request(
    client, reported, settings, monkeypatch, django_capture_on_commit_callbacks, kind, page_marker, most
):
    """Scores and grades are not battles: a report's size counts what it reads (j1's 24 scores;
    its 24 grades beside the people's 36 votes), so a source with more than
    ARENA_SNAPSHOT_SYNC_MAX_BATTLES of them goes to a worker like a large leaderboard does."""
    settings.ARENA_SNAPSHOT_SYNC_MAX_BATTLES = most
    Judgment.objects.filter(run__judge__name="j1", comparison__isnull=False).delete()  # no pairwise verdicts
    if kind == "grades":
        run = JudgeRun.objects.create(
            judge=Judge.objects.get(name="j1"),
            prompt_set=Answer.objects.first().prompt.prompt_set,
            mode="grade",
            status="done",
        )
        Judgment.objects.bulk_create(
            Judgment(run=run, answer=a, status="done", grade="B") for a in Answer.objects.all()
        )
    queued = []
    monkeypatch.setattr(
        "reports.tasks.snapshot_refresh.apply_async", lambda args, countdown=0, **kw: queued.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/api/{kind}/", {"source": "judge:j1"})
    assert response.status_code == 202 and response.json()["status"] == "computing"
    assert [args[1] for args in queued] == [True] and queued[0][0].startswith(f"{kind}?")
    assert not RatingSnapshot.objects.exists()
    page = client.get(f"/{kind}/", {"source": "judge:j1"})
    assert page.status_code == 200 and b"Computing" in page.content and page_marker not in page.content


def test_new_verdicts_mark_the_evaluation_snapshots_that_read_them_stale(
    staff_client, reported, human_votes, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0
    keys = {}
    for name, (url, query) in {
        "panel-scores": ("/api/scores/", {"source": "panel:duo"}),
        "j2-scores": ("/api/scores/", {"source": "judge:j2"}),
        "j1-grades": ("/api/grades/", {"source": "judge:j1"}),
        "crowd-winrate": ("/api/winrate/", {"source": "import:crowd"}),
        "judges": ("/api/judges/", {"source": "all"}),
    }.items():
        keys[name] = staff_client.get(url, query).json()["key"]
    refreshed: list[str] = []
    monkeypatch.setattr(
        "reports.tasks.snapshot_refresh.apply_async",
        lambda args, countdown=0, **kw: refreshed.append(args[0]),
    )
    graded_set = Answer.objects.first().prompt.prompt_set
    run = JudgeRun.objects.create(judge=Judge.objects.get(name="j1"), prompt_set=graded_set, mode="single")
    with django_capture_on_commit_callbacks(execute=True):
        Judgment.objects.create(run=run, answer=Answer.objects.first(), status="done", score=7.0)
    # A member's new score is the panel's too; j2's snapshots do not read it.
    assert sorted(refreshed) == sorted([keys["panel-scores"], keys["j1-grades"], keys["judges"]])

    refreshed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Vote.objects.first().save()
    # A judge's grades are shown beside the people's; the judges table compares with them.
    assert sorted(refreshed) == sorted([keys["j1-grades"], keys["judges"]])
