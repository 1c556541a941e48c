"""A rater changes their vote within ARENA_VOTE_EDIT_SECONDS: the vote keeps one row (one vote per
rater and comparison, enforced by the database), every earlier version is kept, the ratings read
the latest, and nothing is lost or doubled when two changes race."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from arena.models import Vote, VoteRevision
from arena.selectors.raters import rater_votes_list
from arena.services.votes import VoteRejected, assignment_lease, vote_change, vote_submit
from reports.selectors.battle_records import battles_list
from tests import factories
from tests.voting.test_concurrency import run_at_once

pytestmark = pytest.mark.django_db


def cast(rater, *, a_shown_first: bool, choice: str = "A", **fields) -> Vote:
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    assignment.a_shown_first = a_shown_first
    assignment.save()
    return vote_submit(rater=rater, assignment_id=assignment.pk, choice=choice, **fields).vote


def human_winner(rater) -> str:
    [battle] = [b for b in battles_list(source="human") if b.rater == f"user:{rater.pk}"]
    return battle.winner


@pytest.mark.parametrize("a_first", [True, False])
def test_a_change_stores_a_new_version_and_keeps_the_old_one(rater, a_first):
    vote = cast(rater, a_shown_first=a_first, choice="A", grade_a="B", helpful="A", comment="first look")
    left = "model_a" if a_first else "model_b"
    right = "model_b" if a_first else "model_a"
    assert human_winner(rater) == left

    changed = vote_change(
        rater=rater,
        vote_id=vote.pk,
        version=1,
        choice="B",
        grade_a="C",
        grade_b="A",
        helpful="B",
        comment="second look",
    )

    assert Vote.objects.count() == 1
    assert (changed.pk, changed.version, changed.winner) == (vote.pk, 2, right)
    assert changed.changed_at is not None and changed.created_at == vote.created_at
    [old] = VoteRevision.objects.filter(vote=vote)
    assert (old.version, old.winner, old.comment) == (1, left, "first look")
    assert old.recorded_at == vote.created_at
    assert human_winner(rater) == right  # the ratings read the latest version

    [mine] = rater_votes_list(rater=rater)
    assert (mine.latest.choice, mine.latest.grade_left, mine.latest.grade_right, mine.latest.helpful) == (
        "B",
        "C",
        "A",
        "B",
    )
    assert [(r.version, r.choice, r.grade_left, r.comment) for _, r in mine.earlier] == [
        (1, "A", "B", "first look")
    ]


def test_every_version_is_kept_in_order(rater):
    vote = cast(rater, a_shown_first=True)
    for version, choice in enumerate(["B", "tie", "both_bad"], start=1):
        vote_change(rater=rater, vote_id=vote.pk, version=version, choice=choice)
    assert Vote.objects.get().version == 4
    assert list(VoteRevision.objects.values_list("version", "winner")) == [
        (1, "model_a"),
        (2, "model_b"),
        (3, "tie"),
    ]
    [mine] = rater_votes_list(rater=rater)
    assert [r.version for _, r in mine.earlier] == [3, 2, 1]


def test_submitting_what_is_stored_makes_no_version(rater):
    vote = cast(rater, a_shown_first=False, choice="tie", grade_a="A")
    same = vote_change(rater=rater, vote_id=vote.pk, version=1, choice="tie", grade_a="A")
    assert same.version == 1 and not VoteRevision.objects.exists()


def test_a_change_after_the_window_is_refused_and_stores_nothing(rater, settings):
    settings.ARENA_VOTE_EDIT_SECONDS = 600
    vote = cast(rater, a_shown_first=True)
    with pytest.raises(VoteRejected) as refused:
        vote_change(
            rater=rater, vote_id=vote.pk, version=1, choice="B", now=vote.created_at + timedelta(seconds=601)
        )
    assert refused.value.status == 409 and "10 minutes" in refused.value.message
    assert Vote.objects.get().winner == "model_a" and not VoteRevision.objects.exists()
    [mine] = rater_votes_list(rater=rater, now=vote.created_at + timedelta(seconds=601))
    assert mine.editable_until is None


def test_a_change_made_from_a_stale_page_is_refused(rater):
    vote = cast(rater, a_shown_first=True)
    vote_change(rater=rater, vote_id=vote.pk, version=1, choice="B")
    with pytest.raises(VoteRejected) as refused:
        vote_change(rater=rater, vote_id=vote.pk, version=1, choice="tie")  # the page still showed version 1
    assert refused.value.status == 409 and "another tab" in refused.value.message
    assert Vote.objects.get().winner == "model_b"


def test_nobody_changes_another_raters_vote(rater, other_rater):
    vote = cast(rater, a_shown_first=True)
    with pytest.raises(VoteRejected) as refused:
        vote_change(rater=other_rater, vote_id=vote.pk, version=1, choice="B")
    assert refused.value.status == 404
    assert Vote.objects.get().winner == "model_a"


@pytest.mark.parametrize(
    "fields", [{"choice": "left"}, {"choice": "A", "grade_a": "F"}, {"choice": "A", "honest": "x"}]
)
def test_a_malformed_change_is_refused(rater, fields):
    vote = cast(rater, a_shown_first=True)
    with pytest.raises(VoteRejected) as refused:
        vote_change(rater=rater, vote_id=vote.pk, version=1, **fields)
    assert refused.value.status == 400


def test_the_database_keeps_one_row_per_version(rater):
    vote = cast(rater, a_shown_first=True)
    vote_change(rater=rater, vote_id=vote.pk, version=1, choice="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        VoteRevision.objects.create(
            vote=vote, version=1, winner="tie", recorded_at=timezone.now(), replaced_at=timezone.now()
        )


@pytest.mark.django_db(transaction=True)
def test_changes_racing_from_two_tabs_keep_exactly_one_of_them(rater):
    """Ten changes of version 1 at once (ten tabs): one wins, the rest are told the vote moved on;
    one revision holds version 1 and the vote is at version 2 — nothing lost, nothing doubled."""
    vote = cast(rater, a_shown_first=True)
    choices = ["B", "tie", "both_bad", "B", "tie", "both_bad", "B", "tie", "both_bad", "B"]
    results = run_at_once(
        [lambda c=c: vote_change(rater=rater, vote_id=vote.pk, version=1, choice=c) for c in choices]
    )
    stored = [r for r in results if isinstance(r, Vote)]
    refused = [r for r in results if isinstance(r, VoteRejected)]
    assert len(stored) == 1 and len(refused) == 9, results
    assert all(r.status == 409 for r in refused)
    current = Vote.objects.get()
    assert current.version == 2 and current.winner == stored[0].winner
    assert list(VoteRevision.objects.values_list("version", "winner")) == [(1, "model_a")]
