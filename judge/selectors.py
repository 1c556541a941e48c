"""Reads for the judge pages, the CLI and the progress reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from judge.models import Judge, JudgeRun, Judgment

RATE_WINDOW_SECONDS = 30


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    status: str
    total: int
    done: int
    failed: int
    unparsed: int
    pending: int
    from_cache: int
    resent: int  # judgments whose request reached the endpoint more than once
    input_tokens: int
    output_tokens: int
    cost: Decimal
    rate: float  # judgments per second over the last RATE_WINDOW_SECONDS
    eta_seconds: float | None

    @property
    def finished(self) -> int:
        """Judgments answered one way or another (judged, unparsed or failed)."""
        return self.done + self.failed + self.unparsed

    @property
    def percent(self) -> int:
        return int(100 * self.finished / self.total) if self.total else 100

    @property
    def problems(self) -> int:
        return self.unparsed + self.failed

    @property
    def active(self) -> bool:
        return self.status in ("pending", "running")

    @property
    def status_text(self) -> str:
        """What the run page says about the run: never "done" for a run that judged nothing."""
        problems = ", ".join(
            f"{n:,} {label}" for n, label in ((self.unparsed, "unparsed"), (self.failed, "failed")) if n
        )
        if self.active:
            started = "Waiting to start" if self.status == "pending" else "Running"
            text = f"{started} · {self.finished:,} of {self.total:,} answered ({self.percent} %)"
            return f"{text}; {problems}" if problems else text
        if self.status == "cancelled":
            return f"Cancelled · {self.done:,} of {self.total:,} judged, {self.pending:,} not sent" + (
                f"; {problems}" if problems else ""
            )
        if self.done == 0 and self.problems:
            return f"Failed · none of the {self.total:,} judgments succeeded ({problems})"
        if self.status == "failed":
            return f"Failed · {self.done:,} of {self.total:,} judged" + (f"; {problems}" if problems else "")
        if problems:
            return f"Finished with problems · {self.done:,} of {self.total:,} judged; {problems}"
        return f"Done · all {self.total:,} judged"

    # What the page offers, as the state allows (the buttons follow the live progress).
    @property
    def can_cancel(self) -> bool:
        return self.active

    @property
    def can_resume(self) -> bool:
        return not self.active and self.pending > 0

    @property
    def can_retry_unparsed(self) -> bool:
        return not self.active and self.unparsed > 0

    @property
    def can_retry_failed(self) -> bool:
        return not self.active and self.failed > 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["cost"] = str(self.cost)
        data["finished"] = self.finished
        data["percent"] = self.percent
        return data


def judge_run_progress_get(*, run_id: int) -> RunProgress:
    run = JudgeRun.objects.only("id", "status", "started_at").get(pk=run_id)
    now = timezone.now()
    window_start = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    S = Judgment.Status
    agg = Judgment.objects.filter(run_id=run_id).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=S.DONE)),
        failed=Count("id", filter=Q(status=S.FAILED)),
        unparsed=Count("id", filter=Q(status=S.UNPARSED)),
        pending=Count("id", filter=Q(status=S.PENDING)),
        from_cache=Count("id", filter=Q(from_cache=True)),
        resent=Count("id", filter=Q(sends__gt=1)),
        recent=Count("id", filter=Q(completed_at__gte=window_start)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("cost"),
    )
    window: float = RATE_WINDOW_SECONDS
    if run.started_at and run.started_at > window_start:
        window = max((now - run.started_at).total_seconds(), 1e-3)
    rate = agg["recent"] / window
    pending = agg["pending"]
    eta = pending / rate if rate > 0 and pending else (0.0 if not pending else None)
    return RunProgress(
        run_id=run_id,
        status=run.status,
        total=agg["total"],
        done=agg["done"],
        failed=agg["failed"],
        unparsed=agg["unparsed"],
        pending=pending,
        from_cache=agg["from_cache"],
        resent=agg["resent"],
        input_tokens=agg["input_tokens"] or 0,
        output_tokens=agg["output_tokens"] or 0,
        cost=agg["cost"] or Decimal(0),
        rate=round(rate, 2),
        eta_seconds=None if eta is None else round(eta, 1),
    )


def judge_runs_list() -> QuerySet[JudgeRun]:
    S = Judgment.Status
    return (
        JudgeRun.objects.select_related("judge", "prompt_set", "baseline")
        .annotate(
            total=Count("judgments"),
            done=Count("judgments", filter=Q(judgments__status=S.DONE)),
            failed=Count("judgments", filter=Q(judgments__status=S.FAILED)),
            unparsed=Count("judgments", filter=Q(judgments__status=S.UNPARSED)),
            cost=Sum("judgments__cost"),
        )
        .order_by("-created_at", "-id")
    )


def judges_with_totals() -> QuerySet[Judge]:
    """Every judge with the tokens and money its runs have spent."""
    return Judge.objects.annotate(
        run_count=Count("runs", distinct=True),
        judgment_count=Count("runs__judgments", filter=Q(runs__judgments__status=Judgment.Status.DONE)),
        input_tokens=Sum("runs__judgments__input_tokens"),
        output_tokens=Sum("runs__judgments__output_tokens"),
        cost=Sum("runs__judgments__cost"),
    ).order_by("name")


PROBLEMS_SHOWN = 500


def judge_run_problems(*, run_id: int, limit: int = PROBLEMS_SHOWN) -> QuerySet[Judgment]:
    """Unparsed and failed judgments, newest first, with their raw output and error."""
    return (
        Judgment.objects.filter(run_id=run_id, status__in=[Judgment.Status.UNPARSED, Judgment.Status.FAILED])
        .select_related("comparison__prompt", "answer__prompt")
        .order_by("-completed_at", "-id")[:limit]
    )
