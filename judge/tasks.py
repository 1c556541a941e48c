"""Celery tasks of the judge app: thin, take ids, routed to the "judge" queue (settings).

Services queue them by their explicit names (``arena.celery.task_named``), never by importing
this module, which imports the services."""

from __future__ import annotations

from collections import Counter
from typing import Any

from celery import Task, shared_task

from judge.services.evaluations import evaluation_execute
from judge.services.execution import judgments_execute
from judge.services.runs import judge_runs_resume_stale


@shared_task(
    name="judge.tasks.judgments_judge",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=50,
    ignore_result=True,
)
def judgments_judge(self: Task[Any, Any], judgment_ids: list[int]) -> dict[str, int]:
    """Judge a small batch of Judgment rows at once; idempotent (see judge.services.execution)."""
    outcomes = judgments_execute(judgment_ids=judgment_ids, parallel=not self.request.is_eager)
    busy = {jid: o for jid, o in outcomes.items() if o.result == "busy"}
    if busy and not self.request.is_eager:
        # Other live workers hold these rows; look again when their claims would have expired, in
        # case they die before storing the results.
        raise self.retry(args=(sorted(busy),), countdown=min(max(o.retry_in for o in busy.values()) + 1, 600))
    return dict(Counter(o.result for o in outcomes.values()))


@shared_task(name="judge.tasks.judge_runs_resume_stale_task", acks_late=True, ignore_result=True)
def judge_runs_resume_stale_task() -> list[int]:
    """Periodic (celery beat): re-enqueue pending judgments of running runs left behind."""
    return judge_runs_resume_stale()


@shared_task(name="judge.tasks.evaluation_evaluate", acks_late=True, ignore_result=True)
def evaluation_evaluate(evaluation_id: int) -> None:
    """Run one evaluation started from the web page (judge.services.evaluations); idempotent."""
    evaluation_execute(evaluation_id)
