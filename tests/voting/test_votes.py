"""A rater's vote is stored once, in the comparison's terms, and only on what they were given."""

from datetime import timedelta

import pytest
from django.utils import timezone

from arena.models import Assignment, Comparison, Vote
from arena.services.votes import VoteRejected, assignment_lease, assignment_skip, vote_rate_allow, vote_submit
from reports.selectors.battle_records import battles_list
from tests import factories

pytestmark = pytest.mark.django_db


def lease_with_sides(rater, *, a_shown_first: bool) -> Assignment:
    assignment = assignment_lease(rater=rater)
    assignment.a_shown_first = a_shown_first
    assignment.save()
    return assignment


@pytest.mark.parametrize(
    ("a_first", "choice", "stored"),
    [
        (True, "A", "model_a"),
        (True, "B", "model_b"),
        (False, "A", "model_b"),
        (False, "B", "model_a"),
        (False, "tie", "tie"),
        (True, "both_bad", "both_bad"),
    ],
)
def test_the_left_answer_is_stored_as_the_answer_it_really_was(rater, a_first, choice, stored):
    factories.blind_comparisons(1)
    assignment = lease_with_sides(rater, a_shown_first=a_first)
    vote = vote_submit(rater=rater, assignment_id=assignment.pk, choice=choice).vote
    assert vote.winner == stored
    assert vote.a_shown_first is a_first


def test_grades_and_hhh_follow_the_screen_sides(rater):
    factories.blind_comparisons(1)
    assignment = lease_with_sides(rater, a_shown_first=False)  # screen A is the comparison's answer B
    vote = vote_submit(
        rater=rater,
        assignment_id=assignment.pk,
        choice="A",
        grade_a="A",
        grade_b="D",
        helpful="A",
        honest="same",
        harmless="B",
        comment="  clear  ",
    ).vote
    assert (vote.grade_a, vote.grade_b) == ("D", "A")
    assert (vote.helpful, vote.honest, vote.harmless) == ("model_b", "same", "model_a")
    assert vote.comment == "clear"
    assert vote.seconds_spent is not None and vote.seconds_spent >= 0


def test_a_double_submit_stores_one_vote_and_answers_both_with_it(rater):
    comparison = factories.blind_comparisons(1)[0]
    assignment = assignment_lease(rater=rater)
    first = vote_submit(rater=rater, assignment_id=assignment.pk, choice="A")
    second = vote_submit(rater=rater, assignment_id=assignment.pk, choice="B")
    assert first.created and not second.created
    assert second.vote.pk == first.vote.pk and second.vote.winner == first.vote.winner
    assert Vote.objects.count() == 1
    comparison.refresh_from_db()
    assert comparison.vote_count == 1
    assert Assignment.objects.get().status == Assignment.Status.VOTED


def test_a_rater_cannot_vote_on_someone_elses_assignment(rater, other_rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    with pytest.raises(VoteRejected) as refused:
        vote_submit(rater=other_rater, assignment_id=assignment.pk, choice="A")
    assert refused.value.status == 403
    assert "not given to you" in refused.value.message
    assert not Vote.objects.exists()


def test_an_unknown_assignment_is_refused_like_someone_elses(rater):
    with pytest.raises(VoteRejected) as refused:
        vote_submit(rater=rater, assignment_id=999999, choice="A")
    assert refused.value.status == 403


def test_an_invalid_choice_is_refused(rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    for bad in ({"choice": "left"}, {"choice": "A", "grade_a": "E"}, {"choice": "A", "helpful": "model_a"}):
        with pytest.raises(VoteRejected) as refused:
            vote_submit(rater=rater, assignment_id=assignment.pk, **bad)
        assert refused.value.status == 400
    assert not Vote.objects.exists()


def test_a_skipped_comparison_cannot_be_voted_on_and_keeps_the_reason(rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    assignment_skip(rater=rater, assignment_id=assignment.pk, reason="I cannot read Finnish")
    with pytest.raises(VoteRejected) as refused:
        vote_submit(rater=rater, assignment_id=assignment.pk, choice="A")
    assert refused.value.status == 409
    assignment.refresh_from_db()
    assert (assignment.status, assignment.skip_reason) == ("skipped", "I cannot read Finnish")


def test_a_skip_needs_a_reason(rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    with pytest.raises(VoteRejected):
        assignment_skip(rater=rater, assignment_id=assignment.pk, reason="  ")


def test_a_late_vote_counts_if_nobody_took_the_comparison(rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    later = timezone.now() + timedelta(hours=1)
    assert vote_submit(rater=rater, assignment_id=assignment.pk, choice="tie", now=later).created


def test_a_late_vote_is_refused_when_the_comparison_went_to_another_rater(rater, other_rater):
    factories.blind_comparisons(1)
    mine = assignment_lease(rater=rater)
    later = timezone.now() + timedelta(hours=1)
    theirs = assignment_lease(rater=other_rater, now=later)
    assert theirs.comparison_id == mine.comparison_id  # the lapsed lease returned it to the pool
    with pytest.raises(VoteRejected) as refused:
        vote_submit(rater=rater, assignment_id=mine.pk, choice="A", now=later)
    assert refused.value.status == 409
    assert "went to another rater" in refused.value.message


def test_votes_become_human_battles_with_the_side_shown_first(rater):
    factories.blind_comparisons(1)
    assignment = lease_with_sides(rater, a_shown_first=False)
    vote_submit(rater=rater, assignment_id=assignment.pk, choice="A")
    [battle] = battles_list(source="human")
    comparison = Comparison.objects.select_related("answer_b__contender").get()
    assert battle.winner == "model_b"
    assert battle.model_b == comparison.answer_b.contender.name
    assert battle.first_shown == "model_b"
    assert battle.rater == f"user:{rater.pk}"


def test_the_rate_limit_stops_a_rater_after_n_votes_a_minute(rater, other_rater, settings):
    settings.ARENA_VOTE_RATE_LIMIT = 3
    assert [vote_rate_allow(rater=rater) for _ in range(4)] == [True, True, True, False]
    assert vote_rate_allow(rater=other_rater)


def test_the_rate_limit_is_a_sliding_window_that_holds_across_a_minute_boundary(rater, settings, monkeypatch):
    """A fixed per-minute counter let 53 votes through in 3.4 s across a minute boundary (limit 30)."""
    settings.ARENA_VOTE_RATE_LIMIT = 30
    clock = {"now": timezone.now().replace(second=58, microsecond=0)}
    monkeypatch.setattr("arena.services.votes.timezone.now", lambda: clock["now"])
    allowed = 0
    for _ in range(60):  # 60 attempts in 3 s, straddling the minute boundary
        allowed += vote_rate_allow(rater=rater)
        clock["now"] += timedelta(seconds=0.05)
    assert allowed == 30
    clock["now"] += timedelta(seconds=55)  # 58 s after the first: still in its window
    assert not vote_rate_allow(rater=rater)
    clock["now"] += timedelta(seconds=2.1)  # the first votes have left the window
    assert vote_rate_allow(rater=rater)


class TestRateLimitInRedis:
    """With REDIS_URL the window lives in Redis, across processes; without Redis it fails closed."""

    @pytest.fixture
    def redis_settings(self, settings, redis_url):
        settings.REDIS_URL = redis_url
        return settings

    def test_a_sliding_window_in_redis(self, rater, redis_settings, monkeypatch):
        import time

        import redis

        redis.Redis.from_url(redis_settings.REDIS_URL).delete(f"arena:vote-rate:{rater.pk}")
        monkeypatch.setattr("arena.services.votes.VOTE_RATE_WINDOW_SECONDS", 1.0)
        redis_settings.ARENA_VOTE_RATE_LIMIT = 3
        assert [vote_rate_allow(rater=rater) for _ in range(4)] == [True, True, True, False]
        time.sleep(1.1)
        assert vote_rate_allow(rater=rater)

    def test_refuses_votes_with_a_503_when_redis_is_down(self, rater, settings):
        from arena.redis_clients import breaker

        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        try:
            with pytest.raises(VoteRejected) as refused:
                vote_rate_allow(rater=rater)
            assert refused.value.status == 503 and "not stored" in refused.value.message
            with pytest.raises(VoteRejected):  # the breaker answers at once now
                vote_rate_allow(rater=rater)
        finally:
            breaker.reset()
