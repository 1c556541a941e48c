"""Evaluations started from the web page: the same ``evaluation_plan`` / ``evaluation_run`` as the
``evaluate`` command, run in the background (a Celery task; a thread of the web process in the
embedded mode, as judge runs are), with their progress sent to the page over Channels.

``evaluation_start`` is idempotent: the form carries a one-time token, and an evaluation of the
same options still queued or running is returned instead of a second one.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from arena.celery import task_named
from judge.models import Evaluation
from judge.services.evaluate import (
    EvaluationError,
    EvaluationOptions,
    EvaluationPlan,
    evaluation_plan,
    evaluation_run,
)

logger = logging.getLogger(__name__)

PROGRESS_EVENT = "run.progress"  # handled by the judge-run consumer (judge.consumers)


def evaluation_group(evaluation_id: int) -> str:
    return f"judge-evaluation-{evaluation_id}"


def options_to_json(options: EvaluationOptions) -> dict[str, Any]:
    data = asdict(options)
    data["against"] = list(options.against)
    data["max_cost"] = None if options.max_cost is None else str(options.max_cost)
    return data


def options_from_json(data: dict[str, Any]) -> EvaluationOptions:
    values = dict(data)
    values["against"] = tuple(values.get("against") or ())
    values["max_cost"] = None if values.get("max_cost") is None else Decimal(values["max_cost"])
    return EvaluationOptions(**values)


def evaluation_report(options: EvaluationOptions, plan: EvaluationPlan, stdout: Any) -> None:
    """The standard result: MT-Bench score table (single), win rate against the baseline, or the
    leaderboard (--against); the command prints it, the page shows it."""
    common = ["--source", f"judge:{plan.judge.name}", "--prompt-set", plan.prompt_set.slug]
    if options.mode == "single":
        call_command("scores_report", *common, stdout=stdout)
    elif options.baseline:
        call_command("winrate_report", *common, "--baseline", options.baseline, stdout=stdout)
    else:
        call_command("leaderboard", *common, stdout=stdout)


def evaluation_links(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The report pages for the evaluation's judge and prompt set."""
    o = evaluation.options
    query = {"source": f"judge:{o['judge']}", "prompt_set": o["prompt_set"]}
    links = [("Scores", f"/scores/?{urlencode(query)}")] if o["mode"] == "single" else []
    if o.get("baseline"):
        links.append(
            (
                f"Win rate against {o['baseline']}",
                f"/winrate/?{urlencode({**query, 'baseline': o['baseline']})}",
            )
        )
    if o["mode"] == "pairwise":
        links.append(("Leaderboard", f"/leaderboard/?{urlencode(query)}"))
    links.append((f"Prompt set {o['prompt_set']}", f"/prompt-sets/{o['prompt_set']}/"))
    return links


def evaluation_start(
    *, options: EvaluationOptions, plan: EvaluationPlan, token: uuid.UUID, user: Any = None
) -> tuple[Evaluation, bool]:
    """Record the evaluation and start it after commit; ``(evaluation, False)`` when this token or
    these same options already have one queued or running (nothing new starts)."""
    data = options_to_json(options)
    same = (
        Evaluation.objects.filter(token=token).first()
        or Evaluation.objects.filter(
            options=data, status__in=[Evaluation.Status.QUEUED, Evaluation.Status.RUNNING]
        ).first()
    )
    if same is not None:
        return same, False
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                token=token,
                options=data,
                plan=plan.lines(),
                estimated_cost=plan.judge_cost,
                answers_total=plan.answers_missing,
                judgments_total=plan.judgments,
                created_by=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError:  # the same form submitted twice at once: the other request made it
        return Evaluation.objects.get(token=token), False
    transaction.on_commit(lambda: evaluation_dispatch(evaluation.pk))
    return evaluation, True


_threads: dict[int, threading.Thread] = {}


def evaluation_dispatch(evaluation_id: int) -> None:
    """A Celery task with a broker; embedded mode: a thread of this process (so the page that
    started it is answered at once), or the caller's thread when JUDGE_EAGER_THREADS is 0 (tests)."""
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.JUDGE_EAGER_THREADS > 0:

        def work() -> None:
            try:
                evaluation_execute(evaluation_id)
            finally:
                close_old_connections()
                connection.close()

        thread = threading.Thread(target=work, name=f"evaluation-{evaluation_id}", daemon=True)
        _threads[evaluation_id] = thread
        thread.start()
        return
    task_named("judge.tasks.evaluation_evaluate").delay(evaluation_id)


def evaluation_wait(evaluation_id: int, timeout: float | None = None) -> None:
    thread = _threads.get(evaluation_id)
    if thread is not None:
        thread.join(timeout)


def progress_html(evaluation: Evaluation) -> str:
    return render_to_string(
        "judge/evaluation_detail.html#progress",
        {"evaluation": evaluation, "links": evaluation_links(evaluation), "oob": True},
    )


class _Reporter:
    """Sends the page's progress fragment at most every JUDGE_PROGRESS_INTERVAL seconds."""

    def __init__(self, evaluation_id: int) -> None:
        self.evaluation_id = evaluation_id
        self.last = 0.0
        self.lock = threading.Lock()

    def __call__(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            if not force and now - self.last < settings.JUDGE_PROGRESS_INTERVAL:
                return
            self.last = now
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            evaluation = Evaluation.objects.get(pk=self.evaluation_id)
            async_to_sync(layer.group_send)(
                evaluation_group(self.evaluation_id),
                {"type": PROGRESS_EVENT, "html": progress_html(evaluation)},
            )
        except Exception:  # a lost channel layer must never fail the evaluation
            logger.warning("progress for evaluation %s not sent", self.evaluation_id, exc_info=True)


def evaluation_execute(evaluation_id: int) -> Evaluation | None:
    """Run a queued evaluation to its end; a second delivery of the same task does nothing."""
    claimed = Evaluation.objects.filter(pk=evaluation_id, status=Evaluation.Status.QUEUED).update(
        status=Evaluation.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    rows = Evaluation.objects.filter(pk=evaluation_id)
    report = _Reporter(evaluation_id)
    evaluation = rows.get()
    options = options_from_json(evaluation.options)
    try:
        plan = evaluation_plan(options)
        rows.update(
            answers_total=plan.answers_missing,
            judgments_total=plan.judgments,
            phase="generating" if plan.answers_missing else "judging",
        )
        report(force=True)

        def generated(n: int) -> None:
            rows.update(answers_done=F("answers_done") + n)
            report()

        def judged(done: int, total: int, cost: Decimal) -> None:
            rows.update(phase="judging", judgments_done=done, judgments_total=total, cost=cost)
            report()

        result = evaluation_run(options, plan=plan, on_generation=generated, on_judgment=judged)
        out = io.StringIO()
        if not result.stopped:
            evaluation_report(options, plan, out)
        evaluation.runs.set(result.runs)
        rows.update(
            status=Evaluation.Status.STOPPED if result.stopped else Evaluation.Status.DONE,
            error=result.stopped,
            notes=result.notes,
            report=out.getvalue(),
            cost=result.cost,
            judgments_done=result.judged,
            phase="",
            finished_at=timezone.now(),
        )
    except EvaluationError as exc:
        rows.update(status=Evaluation.Status.FAILED, error=str(exc), phase="", finished_at=timezone.now())
    except Exception as exc:
        logger.exception("evaluation %s failed", evaluation_id)
        rows.update(
            status=Evaluation.Status.FAILED,
            error=f"Unexpected error: {type(exc).__name__}: {exc}",
            phase="",
            finished_at=timezone.now(),
        )
    report(force=True)
    return rows.get()
