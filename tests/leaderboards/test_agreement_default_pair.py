"""The agreement page, API and command start with the pair of sources that share the most
comparisons (issue 18, point 5), not with people against whichever judge comes first."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

from arena.models import Vote
from reports.selectors.reports import agreement_default_pair, shared_comparisons

from .conftest import human_votes, imported_verdicts


def _arena(arena):
    human_votes(arena)
    Vote.objects.exclude(
        comparison__prompt__in=arena.prompts[:2]
    ).delete()  # people judged 2 prompts: 6 comparisons
    imported_verdicts(arena, "a-judge")
    imported_verdicts(arena, "b-judge", seed=5)  # both judges: all 18 comparisons
    return arena


def test_the_default_pair_is_the_one_with_most_shared_comparisons(client, arena, settings):
    settings.ARENA_AGREEMENT_MIN_PAIRS = 10
    _arena(arena)
    shared = shared_comparisons(["human", "import:a-judge", "import:b-judge"])
    assert shared == {
        ("human", "import:a-judge"): 6,
        ("human", "import:b-judge"): 6,
        ("import:a-judge", "import:b-judge"): 18,
    }
    assert agreement_default_pair() == ("import:a-judge", "import:b-judge")

    api = client.get("/api/agreement/").json()
    assert (api["params"]["a"], api["params"]["b"]) == ("import:a-judge", "import:b-judge")
    assert api["overall"]["comparisons"] == 18
    page = client.get("/agreement/").content.decode()
    assert (
        '<option value="import:a-judge" selected>' in page
        and '<option value="import:b-judge" selected>' in page
    )
    out = io.StringIO()
    call_command("agreement", "--bootstrap", "0", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["params"]["a"], report["params"]["b"]) == ("import:a-judge", "import:b-judge")


def test_a_given_pair_is_kept_and_new_verdicts_change_the_default(client, arena):
    _arena(arena)
    api = client.get("/api/agreement/", {"a": "human", "b": "import:a-judge"})
    assert api.status_code in (200, 403)  # outside the canonical set: only staff may compute it
    assert agreement_default_pair() == ("import:a-judge", "import:b-judge")
    Vote.objects.all().delete()
    from reports.services.snapshots import snapshots_mark_stale

    snapshots_mark_stale(source="human")  # what a vote (or its removal) does: the cached pair is dropped
    imported_verdicts(arena, "c-judge", seed=7)
    snapshots_mark_stale(source="import:c-judge")
    assert agreement_default_pair() == (
        "import:a-judge",
        "import:b-judge",
    )  # three judges tie: the first pair


def test_without_shared_comparisons_people_come_first(client, arena):
    human_votes(arena)
    assert agreement_default_pair() == ("human", None)
