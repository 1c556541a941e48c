"""An operator's judge run finishes and the open leaderboard for that judge shows its verdicts."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_a_finished_judge_run_refreshes_the_judges_leaderboard(
    client, judge, battle_set, start_run, settings, django_capture_on_commit_callbacks
):
    client.force_login(
        get_user_model().objects.create_user("olga", is_staff=True)
    )  # 10 rounds: not a default view
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0  # refresh at once instead of at the end of a window
    empty = client.get("/api/leaderboard/", {"source": f"judge:{judge.name}", "bootstrap": 10}).json()
    assert empty["battle_total"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise")
    assert run.status == "done"

    board = client.get("/api/leaderboard/", {"source": f"judge:{judge.name}", "bootstrap": 10}).json()
    # 2 prompts × 3 pairs, both orders agreeing on the quality markers: one battle per comparison.
    assert board["battle_total"] == 6
    assert [row["model"] for row in board["rows"]] == ["strong", "middle", "weak"]
