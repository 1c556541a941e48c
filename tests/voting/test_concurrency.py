"""Many raters at once, on real PostgreSQL transactions: one vote per double-submit storm, and
never the same comparison leased twice when its target is one."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from arena.models import Assignment, Comparison, Vote
from arena.services.votes import assignment_lease, vote_submit
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_at_once(workers: list[Callable[[], object]]) -> list[object]:
    """Start every worker on its own thread (own DB connection) at the same moment."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = workers[i]()
        except Exception as error:  # reported by the assertions below
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_identical_submits_store_exactly_one_vote(rater):
    factories.blind_comparisons(1)
    assignment = assignment_lease(rater=rater)
    results = run_at_once(
        [
            lambda: vote_submit(rater=rater, assignment_id=assignment.pk, choice="A", grade_a="A")
            for _ in range(20)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.created for r in results) == 1
    assert len({r.vote.pk for r in results}) == 1
    assert Vote.objects.count() == 1
    assert Comparison.objects.get().vote_count == 1


def test_raters_asking_at_once_never_share_a_leased_comparison(django_user_model):
    raters = [django_user_model.objects.create_user(f"r{i}") for i in range(8)]
    factories.blind_comparisons(5)
    for _round in range(3):
        Assignment.objects.all().delete()
        results = run_at_once([lambda r=r: assignment_lease(rater=r) for r in raters])
        assert not [r for r in results if isinstance(r, Exception)], results
        leased = [r.comparison_id for r in results if r is not None]
        assert len(leased) == 5  # every comparison went out, once
        assert len(set(leased)) == len(leased)


def test_two_raters_at_once_with_one_comparison_only_one_gets_it(rater, other_rater):
    factories.blind_comparisons(1)
    for _round in range(5):
        Assignment.objects.all().delete()
        results = run_at_once(
            [lambda: assignment_lease(rater=rater), lambda: assignment_lease(rater=other_rater)]
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(r is not None for r in results) == 1
