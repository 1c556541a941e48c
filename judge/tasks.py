"""Celery tasks of the judge app: thin, take ids, routed to the "judge" queue (settings)."""

from __future__ import annotations

from celery import shared_task

from judge.services.execution import judgment_execute
from judge.services.runs import judge_runs_resume_stale


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=50, ignore_result=True)
def judgment_judge(self, judgment_id: int) -> str:  # type: ignore[no-untyped-def]
    """Judge one Judgment row; idempotent (see judge.services.execution)."""
    outcome = judgment_execute(judgment_id=judgment_id)
    if outcome.result == "busy" and not self.request.is_eager:
        # Another live worker holds the row; look again when its claim would have expired, in
        # case it dies before storing the result.
        raise self.retry(countdown=min(outcome.retry_in + 1, 600))
    return outcome.result


@shared_task(acks_late=True, ignore_result=True)
def judge_runs_resume_stale_task() -> list[int]:
    """Periodic (celery beat): re-enqueue pending judgments of running runs left behind."""
    return judge_runs_resume_stale()
