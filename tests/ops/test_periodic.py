"""Beat's periodic work: every scheduled task exists, and the lease sweep marks only lapsed leases."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from arena.celery import app
from arena.models import Assignment
from arena.tasks import leases_expire
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert names == {
        "judge.tasks.judge_runs_resume_stale_task",
        "arena.tasks.leases_expire",
        "arena.tasks.snapshots_refresh_all",
        "live.tasks.battles_abandon_stale",
    }
    assert names <= set(app.tasks)


def test_lapsed_leases_are_marked_expired_and_live_ones_kept():
    prompt = factories.prompt(factories.prompt_set("custom"))
    lapsed = factories.comparison(prompt, "alpha", "beta")
    live = factories.comparison(prompt, "alpha", "gamma")
    rita = get_user_model().objects.create_user("rita")
    now = timezone.now()
    old = Assignment.objects.create(
        rater=rita, comparison=lapsed, a_shown_first=True, expires_at=now - timedelta(seconds=1)
    )
    new = Assignment.objects.create(
        rater=rita, comparison=live, a_shown_first=False, expires_at=now + timedelta(minutes=5)
    )
    assert leases_expire() == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("expired", "leased")
