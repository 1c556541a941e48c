"""The next comparison: fair, never repeated, never double-leased, abandoned leases come back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from arena.models import Assignment, Comparison, RaterPool
from arena.services.votes import assignment_lease, assignment_skip, vote_submit
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_reload_shows_the_same_comparison_with_the_same_sides(rater):
    factories.blind_comparisons(3)
    first = assignment_lease(rater=rater)
    again = assignment_lease(rater=rater)
    assert again.pk == first.pk and again.a_shown_first == first.a_shown_first


def test_a_rater_never_gets_a_comparison_they_voted_on_or_skipped(rater, settings):
    settings.ARENA_TARGET_VOTES = 5
    factories.blind_comparisons(3)
    seen = []
    for i in range(3):
        assignment = assignment_lease(rater=rater)
        seen.append(assignment.comparison_id)
        if i == 1:
            assignment_skip(rater=rater, assignment_id=assignment.pk, reason="unsure")
        else:
            vote_submit(rater=rater, assignment_id=assignment.pk, choice="tie")
    assert len(set(seen)) == 3
    assert assignment_lease(rater=rater) is None


def test_fewest_votes_first(rater, other_rater, staff, settings):
    settings.ARENA_TARGET_VOTES = 3
    c1, c2 = factories.blind_comparisons(2)
    Comparison.objects.filter(pk=c1.pk).update(vote_count=2)
    assert assignment_lease(rater=rater).comparison_id == c2.pk
    # c2 now has one live lease but no votes; c1 has 2 votes: c2 still comes first for the next rater.
    assert assignment_lease(rater=other_rater).comparison_id == c2.pk


def test_with_a_target_of_one_a_leased_comparison_is_not_given_to_another_rater(rater, other_rater):
    factories.blind_comparisons(1)
    assert assignment_lease(rater=rater) is not None
    assert assignment_lease(rater=other_rater) is None


def test_an_abandoned_lease_returns_the_comparison_to_the_pool(rater, other_rater, settings):
    factories.blind_comparisons(1)
    mine = assignment_lease(rater=rater)
    later = timezone.now() + timedelta(seconds=settings.ARENA_LEASE_SECONDS + 1)
    theirs = assignment_lease(rater=other_rater, now=later)
    assert theirs is not None and theirs.comparison_id == mine.comparison_id


def test_the_lapsed_rater_gets_their_comparison_back_with_the_same_sides(rater, settings):
    factories.blind_comparisons(1)
    first = assignment_lease(rater=rater)
    later = timezone.now() + timedelta(seconds=settings.ARENA_LEASE_SECONDS + 1)
    again = assignment_lease(rater=rater, now=later)
    assert again.pk == first.pk and again.a_shown_first == first.a_shown_first
    assert again.expires_at > later


def test_a_comparison_with_its_votes_is_done(rater, other_rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    vote_submit(rater=rater, assignment_id=assignment.pk, choice="A")
    assert assignment_lease(rater=other_rater) is None


def test_a_per_comparison_target_overrides_the_default(rater, other_rater):
    factories.blind_comparisons(1, target_votes=2)
    assert assignment_lease(rater=rater) is not None
    assert assignment_lease(rater=other_rater) is not None


def test_leases_are_limited_to_the_requested_prompt_set(rater):
    factories.blind_comparisons(1, slug="set-one")
    [other] = factories.blind_comparisons(1, slug="set-two")
    assert assignment_lease(rater=rater, prompt_set="set-two").comparison_id == other.pk


def test_a_pool_limits_its_members_to_its_prompt_sets(rater):
    factories.blind_comparisons(2, slug="secret-study")
    [allowed] = factories.blind_comparisons(1, slug="open-study")
    pool = RaterPool.objects.create(name="vendor")
    pool.members.add(rater)
    pool.prompt_sets.add(allowed.prompt.prompt_set)
    assert assignment_lease(rater=rater).comparison_id == allowed.pk


def test_gold_is_mixed_in_for_every_rater_regardless_of_the_target(rater, other_rater, settings):
    settings.ARENA_GOLD_RATE = 1.0
    factories.blind_comparisons(3)
    [gold] = factories.blind_comparisons(1, is_gold=True, gold_winner="model_a")
    first = assignment_lease(rater=rater)
    vote_submit(rater=rater, assignment_id=first.pk, choice="A")
    assert first.comparison_id == gold.pk
    assert assignment_lease(rater=other_rater).comparison_id == gold.pk
    assert assignment_lease(rater=rater).comparison_id != gold.pk  # seen: back to ordinary ones


def test_gold_is_not_served_when_the_rate_is_zero(rater):
    factories.blind_comparisons(1, is_gold=True, gold_winner="model_a")
    assert assignment_lease(rater=rater) is None


def test_informative_strategy_prefers_the_pair_with_fewest_battles(rater, other_rater, staff, settings):
    settings.ARENA_QUEUE_STRATEGY = "informative"
    settings.ARENA_TARGET_VOTES = 5
    crowded = factories.blind_comparisons(2, models=("m-alpha", "m-beta"))
    [thin] = factories.blind_comparisons(1, models=("m-alpha", "m-gamma"))
    for someone in (other_rater, staff):
        a = Assignment.objects.create(
            rater=someone,
            comparison=crowded[0],
            a_shown_first=True,
            expires_at=timezone.now() + timedelta(minutes=5),
        )
        vote_submit(rater=someone, assignment_id=a.pk, choice="A")
    assert assignment_lease(rater=rater).comparison_id == thin.pk
