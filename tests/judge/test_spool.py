"""A judge reply spooled to disk through a database outage is stored later, once, by whoever flushes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from judge.models import Judgment
from judge.services import judge_run_create
from judge.services.execution import spool_flush
from judge.services.spool import spool_pending, spool_write

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return settings


def reply(text: str) -> dict[str, object]:
    return {
        "status": "done",
        "winner": "model_a",
        "raw_output": text,
        "parse_error": "",
        "error": "",
        "input_tokens": 120,
        "output_tokens": 30,
        "cost": Decimal("0.000600"),
        "latency_s": 0.4,
        "completed_at": timezone.now(),
    }


def test_a_spooled_reply_is_stored_into_its_pending_row_and_the_file_removed(
    spool_settings, judge, battle_set
):
    run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise", start=False)
    first, second = Judgment.objects.filter(run=run).order_by("id")[:2]
    Judgment.objects.filter(pk=first.pk).update(claim_token="host:1:dead", claimed_until=timezone.now())
    spool_write(judgment_id=first.pk, fields=reply("[[A]] kept through the outage"))
    Judgment.objects.filter(pk=second.pk).update(status="done", raw_output="stored by another worker")
    spool_write(judgment_id=second.pk, fields=reply("[[A]] late"))

    assert len(spool_pending()) == 2
    assert spool_flush() == 1
    assert spool_pending() == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.raw_output, first.cost, first.claim_token) == (
        "done",
        "[[A]] kept through the outage",
        Decimal("0.000600"),
        "",
    )
    assert second.raw_output == "stored by another worker"  # never overwritten
