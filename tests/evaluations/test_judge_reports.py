"""A judge run against the test LLM server in single, grade, hhh, five-level pairwise and logprob
modes shows up in every report: MT-Bench scores, win rate against the baseline (weighted, strong
verdicts, length-controlled, anchored Bradley–Terry), grades and HHH beside people's, the judges
table and the comparisons page. A panel of three judges gives its own leaderboard and row."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from judge.models import JudgePanel, Judgment
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_mode_stores_its_verdict(judged):
    _judge, runs = judged
    single = Judgment.objects.filter(run=runs["single"], status="done")
    assert single.count() == 24 and set(single.values_list("score", flat=True)) == {9.0, 5.0, 2.0, 4.0}
    assert set(Judgment.objects.filter(run=runs["grade"], status="done").values_list("grade", flat=True)) == {
        "A",
        "B",
        "C",
        "D",
    }
    five = Judgment.objects.filter(run=runs["five_level"], status="done")
    assert five.count() == 36 and five.filter(strong=True).exists() and five.filter(strong=False).exists()
    # Strong exactly where the quality gap is 3 or more: strong (9) and weak (2) against middle (5).
    assert not five.filter(strong=True, comparison__answer_a__contender__name="verbose").exists()
    logprob = Judgment.objects.filter(run=runs["logprob"], status="done")
    assert logprob.count() == 36
    preferences = list(logprob.values_list("preference", flat=True))
    assert all(0 < p < 1 for p in preferences) and len({round(p, 6) for p in preferences}) > 2
    assert '"top_logprobs"' in logprob.first().raw_output
    hhh = Judgment.objects.filter(run=runs["hhh"], status="done").first()
    assert set(hhh.hhh) == {"helpful", "honest", "harmless"}


def test_scores_report(staff_client, judged):
    client = staff_client  # a bootstrap count of its own: staff may have it computed
    data = client.get("/api/scores/", {"source": "judge:fake-judge", "bootstrap": 100}).json()
    rows = {r["model"]: r for r in data["rows"]}
    assert [r["model"] for r in data["rows"]][:2] == ["strong", "middle"]
    assert rows["strong"]["overall"]["mean"] == 9.0 and rows["strong"]["overall"]["n"] == 6
    assert rows["weak"]["turns"]["1"]["mean"] == 2.0
    assert set(rows["strong"]["categories"]) == {"writing", "math", "coding"}
    assert data["categories"] == ["coding", "math", "writing"]
    page = client.get("/scores/", {"source": "judge:fake-judge"})
    assert page.status_code == 200 and b'data-model="strong"' in page.content and b"<svg" in page.content


def test_win_rate_report_reads_five_level_and_logprob_verdicts(staff_client, judged):
    client = staff_client
    data = client.get("/api/winrate/", {"source": "judge:fake-judge", "bootstrap": 100}).json()
    assert data["baseline"] == "middle"
    rows = {r["model"]: r for r in data["rows"]}
    assert set(rows) == {"strong", "weak", "verbose"}
    # Pairwise and five-level verdicts are 1/0 for strong and weak; logprob ones are sigmoid(±4)
    # and sigmoid(±3) of the quality gap: strong wins almost everything, weak almost nothing.
    assert rows["strong"]["win_rate"] > 90 and rows["weak"]["win_rate"] < 10
    assert rows["strong"]["strong"] == 6  # the six five-level [[A>>B]]-type verdicts
    assert rows["strong"]["weighted_n"] == rows["strong"]["n"] + 2 * 6
    assert 0 < rows["verbose"]["win_rate"] < 50 and rows["verbose"]["discrete_win_rate"] == 0
    assert rows["strong"]["length_controlled"]["length_controlled_win_rate"] is not None
    bt = {r["model"]: r for r in data["bradley_terry"]}
    assert (
        bt["middle"]["rating"] == pytest.approx(1000.0)
        and bt["strong"]["rating"] > 1000 > bt["weak"]["rating"]
    )
    # The strong weight is a setting: at 1 the strong verdicts count once.
    once = client.get(
        "/api/winrate/", {"source": "judge:fake-judge", "bootstrap": 0, "strong_weight": 1}
    ).json()
    assert next(r for r in once["rows"] if r["model"] == "strong")["weighted_n"] == rows["strong"]["n"]
    page = client.get("/winrate/", {"source": "judge:fake-judge"})
    assert page.status_code == 200 and b'id="lc-formula"' in page.content
    assert b"/comparisons/?source=judge%3Afake-judge&amp;a=strong&amp;b=middle" in page.content


def test_grades_and_hhh_beside_people(client, judged):
    data = client.get("/api/grades/", {"source": "judge:fake-judge"}).json()
    grades = {g["model"]: g for g in data["grades"]}
    assert grades["strong"]["A"] == 6 and grades["weak"]["D"] == 6
    human = {g["model"]: g for g in data["human"]["grades"]}
    assert human["strong"]["A"] == 12  # two raters, six prompts
    # The fake judge grades 9 → A, 5 → B, 4 → C, 2 → D, as the people do: exact agreement.
    assert data["grade_agreement"]["exact"] == 1.0 and data["grade_agreement"][
        "weighted_kappa"
    ] == pytest.approx(1.0)
    assert data["grade_agreement"]["n"] == 72
    helpful = {r["model"]: r for r in data["hhh"]["helpful"]}
    assert helpful["strong"]["share_wins"] == 1.0 and helpful["weak"]["share_losses"] == 1.0
    assert data["human"]["hhh"]["helpful"]
    page = client.get("/grades/", {"source": "judge:fake-judge"})
    assert (
        page.status_code == 200
        and b'id="grade-agreement"' in page.content
        and b'data-who="human"' in page.content
    )


def test_the_judges_table_and_a_panel_of_three(staff_client, judged, llm, start_run, graded_set):
    client = staff_client
    from arena.models import Contender

    others = [factories.judge(llm.base_url, f"juror-{i}", model=f"fake-judge-{i}") for i in (2, 3)]
    llm.configure(first_position_bias=0.0)
    for juror in others:
        start_run(
            judge=juror, prompt_set=graded_set, mode="pairwise", baseline=Contender.objects.get(name="middle")
        )
    out = io.StringIO()
    call_command("panel_add", "trio", "--judges", "fake-judge,juror-2,juror-3", stdout=out)
    assert "panel:trio" in out.getvalue()

    board = client.get("/api/leaderboard/", {"source": "panel:trio", "bootstrap": 0}).json()
    assert board["rows"][0]["model"] == "strong" and board["battle_total"] > 0
    assert "panel:trio" in client.get("/api/sources/").json()["sources"]
    # The same bias and agreement reports as any source.
    bias = client.get("/api/bias/", {"source": "panel:trio"}).json()
    [consistency] = bias["consistency"]["rows"]  # consistency across orders is its own table
    assert consistency["source"] == "panel:trio" and consistency["pairs"] > 0
    # Not the default pair (the judges share the most comparisons): staff compute it.
    client.force_login(get_user_model().objects.create_user("staff-trio", password="x", is_staff=True))
    # Every vote of these raters shows answer A on the left and most pick it: the anomaly check
    # flags them as always-left, so the panel is compared with every human vote.
    agreement = client.get(
        "/api/agreement/", {"a": "panel:trio", "b": "human", "rater_quality": "all"}
    ).json()
    assert agreement["overall"]["pairs"] > 0

    panel_rate = client.get("/api/winrate/", {"source": "panel:trio", "bootstrap": 0}).json()
    panel_rows = {r["model"]: r for r in panel_rate["rows"]}
    # Every member prefers middle over weak: the panel's majority is a loss for weak, never a tie.
    assert panel_rows["weak"]["win_rate"] == 0.0 and panel_rows["strong"]["win_rate"] == 100.0

    table = client.get("/api/judges/", {"human": "human"}).json()
    rows = {r["source"]: r for r in table["rows"]}
    assert set(rows) == {"judge:fake-judge", "judge:juror-2", "judge:juror-3", "panel:trio"}
    me = rows["judge:fake-judge"]
    assert me["agreement"]["pairs"] > 0 and me["agreement"]["agreement_without_ties"] == 1.0
    assert me["consistency"]["consistency"] == 1.0 and me["consistency"]["pairs"] > 0
    assert me["unparsed_share"] == 0 and me["failed_share"] == 0 and me["judgments"] > 0
    assert me["tokens_per_1000"] > 0 and me["cost_per_1000"] > 0 and me["median_latency_s"] > 0
    assert me["rank_correlation"] == pytest.approx(1.0) and me["rank_correlation_n"] == 4
    assert rows["panel:trio"]["members"] == ["fake-judge", "juror-2", "juror-3"]
    assert rows["panel:trio"]["agreement"]["pairs"] > 0
    # A panel verdict costs every member's judgment.
    assert rows["panel:trio"]["cost_per_1000"] > me["cost_per_1000"]

    csv_text = client.get("/api/judges/", {"human": "human", "format": "csv"}).content.decode()
    assert csv_text.splitlines()[0].startswith("source,template_set,verdicts,s1,s2,kappa")
    assert me["template_set"] == "arena-v1" and rows["panel:trio"]["template_set"] is None
    page = client.get("/judges/")
    assert page.status_code == 200 and b'data-source="panel:trio"' in page.content


def test_a_panel_run_starts_every_judge(judged, llm, graded_set, django_capture_on_commit_callbacks):
    from judge.services import judge_panel_create, judge_panel_run_create

    jurors = [factories.judge(llm.base_url, f"juror-{i}") for i in (2, 3)]
    panel = judge_panel_create(name="trio", judges=[judged[0], *jurors])
    with django_capture_on_commit_callbacks(execute=True):
        runs = judge_panel_run_create(panel=panel, prompt_set=graded_set, mode="single")
    assert {r.judge.name for r in runs} == {"fake-judge", "juror-2", "juror-3"}
    assert all(r.panel_id == panel.pk for r in runs)
    for run in runs:
        run.refresh_from_db()
        assert run.status == "done"
    scores = json.loads(
        _command("scores_report", "--source", "panel:trio", "--bootstrap", "0", "--format", "json")
    )
    assert {r["model"]: r["overall"]["mean"] for r in scores["rows"]}["strong"] == 9.0
    assert JudgePanel.objects.get(name="trio").runs.count() == 3


def test_comparisons_page_shows_what_a_figure_counts(client, judged):
    page = client.get("/comparisons/", {"source": "judge:fake-judge", "a": "strong", "b": "middle"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="comparison-count"><strong>6</strong>' in html
    assert (
        'data-judge="fake-judge" data-order="1"' in html and 'data-judge="fake-judge" data-order="2"' in html
    )
    assert "Reference answer" in html  # the math prompts carry one
    assert "rater " in html  # the people's votes
    # Disagreement with people: on q1 the second rater called every comparison a tie, so the
    # people's majority is a tie there; the judge picked a winner each time.
    disagree = client.get(
        "/comparisons/", {"source": "judge:fake-judge", "disagreement": "human"}
    ).content.decode()
    assert 'id="comparison-count"><strong>3</strong>' in disagree
    assert disagree.count('data-prompt="eval-test/q1"') == 3
    orders = client.get(
        "/comparisons/", {"source": "judge:fake-judge", "disagreement": "orders"}
    ).content.decode()
    assert 'id="comparison-count"><strong>0</strong>' in orders  # the fake judge has no position bias
    bad = client.get("/comparisons/", {"disagreement": "sideways"})
    assert bad.status_code == 400 and b"disagreement" in bad.content


def test_bad_parameters_are_400_naming_the_field(client, judged):
    for url, params, field in (
        ("/api/scores/", {"source": "human"}, "source"),
        ("/api/winrate/", {"source": "judge:fake-judge", "baseline": "nobody"}, "baseline"),
        ("/api/winrate/", {"source": "judge:fake-judge", "strong_weight": "0"}, "strong_weight"),
        ("/api/grades/", {"source": "import:nothing"}, "source"),
        ("/api/judges/", {"human": "judge:fake-judge"}, "human"),
        ("/api/judges/", {"colour": "red"}, "colour"),
    ):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
        assert response.json()["field"] == field
    assert client.get("/winrate/", {"source": "panel:none"}).status_code == 400
    with pytest.raises(Exception, match="--strong-weight"):
        _command("winrate_report", "--source", "judge:fake-judge", "--strong-weight", "0")


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
