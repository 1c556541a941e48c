"""Judge runs: plan, create with every judgment row up front, dispatch, cancel, resume, retry.

Creating a run writes the comparisons it needs (canonical answer order) and one PENDING
Judgment per request, so a run's state is entirely in the database: resuming after a crash is
"enqueue what is pending", and a re-delivered task finds its row already judged.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from arena.celery import task_named
from arena.models import Answer, Comparison, Contender, Prompt, PromptSet
from arena.validators import endpoint_problems
from judge import cache
from judge.models import Judge, JudgeRun, Judgment
from judge.prompts import JudgeKind
from judge.services import rendering
from judge.services.run_parts import Target, cost_of, judge_run_finish_if_complete

logger = logging.getLogger(__name__)


class RunError(ValueError):
    """A run cannot be created or changed as asked (shown to the operator as is)."""


def _answers_by_prompt(
    *,
    prompt_set: PromptSet,
    contenders: Sequence[Contender] | None,
    baseline: Contender | None,
    limit: int | None,
) -> tuple[list[Prompt], dict[int, dict[int, Answer]]]:
    """The run's prompts in a stable order and, per prompt, its answers by contender id."""
    # The stored HTML and style features are not needed to judge: not loaded (most of the bytes).
    prompt_qs = (
        Prompt.objects.current().filter(prompt_set=prompt_set).defer("rendered").order_by("position", "id")
    )
    prompt_list = list(prompt_qs[:limit] if limit else prompt_qs)
    answers = (
        Answer.objects.filter(prompt__in=prompt_list)
        .select_related("contender")
        .defer("rendered", "token_counts", "style", "metadata")
        .order_by()
    )
    if contenders:
        wanted = {c.pk for c in contenders} | ({baseline.pk} if baseline else set())
        answers = answers.filter(contender_id__in=wanted)
    by_prompt: dict[int, dict[int, Answer]] = {}
    for answer in answers:
        by_prompt.setdefault(answer.prompt_id, {})[answer.contender_id] = answer
    return prompt_list, by_prompt


def _turns(prompt: Prompt, *, kind: JudgeKind, turn: int | None) -> list[int]:
    turns = [turn] if turn else list(range(1, len(prompt.turns) + 1))
    if kind == "grade":
        turns = [t for t in turns if t == 1]  # Self-Instruct grades one instruction and its reply
    return [t for t in turns if len(prompt.turns) >= t]


def _pairs(present: dict[int, Answer], baseline: Contender | None, turn: int) -> list[tuple[Answer, Answer]]:
    """The answer pairs judged on ``turn``, each (first, second) in canonical order (by id)."""
    if baseline is not None:
        base = present.get(baseline.pk)
        pairs = [(base, a) for cid, a in sorted(present.items()) if base and cid != baseline.pk]
    else:
        pairs = list(itertools.combinations([present[c] for c in sorted(present)], 2))
    return [
        (left, right) if left.pk <= right.pk else (right, left)
        for left, right in pairs
        if len(left.turns) >= turn and len(right.turns) >= turn
    ]


def judge_run_plan(
    *,
    prompt_set: PromptSet,
    mode: str,
    contenders: Sequence[Contender] | None = None,
    baseline: Contender | None = None,
    limit: int | None = None,
    turn: int | None = None,
) -> list[Target]:
    """Every request a run with these options makes, in a stable order."""
    kind = rendering.KIND_BY_RUN_MODE[mode]
    prompt_list, by_prompt = _answers_by_prompt(
        prompt_set=prompt_set, contenders=contenders, baseline=baseline, limit=limit
    )
    targets: list[Target] = []
    for prompt in prompt_list:
        present = by_prompt.get(prompt.pk, {})
        for t in _turns(prompt, kind=kind, turn=turn):
            if kind in rendering.PAIRWISE_KINDS:
                for first, second in _pairs(present, baseline, t):
                    targets += [Target(prompt, t, first, second, 1), Target(prompt, t, first, second, 2)]
            else:
                targets += [
                    Target(prompt, t, answer, None, 1)
                    for _cid, answer in sorted(present.items())
                    if len(answer.turns) >= t
                ]
    return targets


@dataclass(frozen=True)
class CostEstimate:
    judgments: int
    cached: int
    input_tokens: int
    output_tokens: int
    cost: Decimal

    @property
    def needs_confirmation(self) -> bool:
        """Large or costly runs are started only when the operator confirms (the run page)."""
        return self.judgments > settings.JUDGE_CONFIRM_JUDGMENTS or self.cost > Decimal(
            str(settings.JUDGE_CONFIRM_COST)
        )


@dataclass(frozen=True)
class _Shape:
    """How long one (prompt, turn)'s rendered request is: ``base`` characters of template,
    question and reference, plus each answer turn's length times how often the template quotes
    it in position A (``slot_a``) and B (``slot_b``). Rendering is linear in the answers' text."""

    base: int
    messages: int
    slot_a: tuple[int, ...]
    slot_b: tuple[int, ...]

    def quoted(self, answer: Answer) -> tuple[int, int]:
        """Characters ``answer`` adds to the request in position A, and in position B."""
        lengths = [len(str(text)) for text in answer.turns]
        return (
            sum(n * size for n, size in zip(self.slot_a, lengths, strict=False)),
            sum(n * size for n, size in zip(self.slot_b, lengths, strict=False)),
        )


def _shape(*, template_set: str, kind: JudgeKind, prompt: Prompt, turn: int) -> _Shape:
    """Render the request once with marker answers and measure where the answers go."""
    marks_a = [f"\x00a{i}\x00" for i in range(turn)]
    marks_b = [f"\x00b{i}\x00" for i in range(turn)]
    second = Answer(turns=marks_b) if kind in rendering.PAIRWISE_KINDS else None
    rendered = rendering.render_request(
        template_set=template_set,
        kind=kind,
        prompt=prompt,
        turn=turn,
        first=Answer(turns=marks_a),
        second=second,
    )
    text = "".join(m["content"] for m in rendered.messages)
    slot_a = tuple(text.count(m) for m in marks_a)
    slot_b = tuple(text.count(m) for m in marks_b)
    markers = sum(n * len(m) for n, m in zip(slot_a, marks_a, strict=True)) + sum(
        n * len(m) for n, m in zip(slot_b, marks_b, strict=True)
    )
    return _Shape(base=len(text) - markers, messages=len(rendered.messages), slot_a=slot_a, slot_b=slot_b)


def _request_key(judge: Judge, rendered: rendering.Rendered) -> str:
    return cache.judgment_cache_key(
        model=judge.model,
        base_url=rendering.judge_base_url(judge),
        template_fingerprint=rendered.fingerprint,
        messages=rendered.messages,
        temperature=judge.temperature,
        max_tokens=judge.max_tokens,
    )


def _judged_before(judge: Judge, *, pairwise: bool) -> dict[tuple[int, int], set[tuple[int, ...]]]:
    """Requests that may be in the judgment cache, per (prompt, turn): the same answers (and
    order) judged before with the same templates, by any judge; ``_cache_hit_share`` checks."""
    done = Judgment.objects.filter(
        status=Judgment.Status.DONE,
        run__template_fingerprint=rendering.template_set_get(judge.template_set).fingerprint,
    )
    rows = (
        done.filter(comparison__isnull=False).values_list(
            "comparison__prompt_id", "turn", "comparison__answer_a_id", "comparison__answer_b_id", "order"
        )
        if pairwise
        else done.filter(answer__isnull=False).values_list("answer__prompt_id", "turn", "answer_id")
    )
    found: dict[tuple[int, int], set[tuple[int, ...]]] = {}
    for prompt_id, turn, *request in rows.iterator(5000):
        found.setdefault((prompt_id, turn), set()).add(tuple(request))
    return found


# Candidates for the cache are checked by their real cache key; beyond this many, a sample is.
CACHE_CHECK_SAMPLE = 400


def _cache_hit_share(judge: Judge, kind: JudgeKind, candidates: Sequence[Target]) -> float:
    """The share of ``candidates`` the judgment cache answers for this judge (same model,
    endpoint, sampling parameters, templates and text), from their keys: all of them, or an even
    sample of ``CACHE_CHECK_SAMPLE`` (a judge's cache is all or nothing in practice)."""
    if not candidates:
        return 0.0
    step = max(1, len(candidates) // CACHE_CHECK_SAMPLE)
    checked = candidates[::step]
    keys = [_request_key(judge, t.rendered(template_set=judge.template_set, kind=kind)) for t in checked]
    hits: set[str] = set()
    for start in range(0, len(keys), 1000):
        hits.update(
            Judgment.objects.filter(
                cache_key__in=keys[start : start + 1000], status=Judgment.Status.DONE
            ).values_list("cache_key", flat=True)
        )
    return sum(key in hits for key in keys) / len(keys)


def judge_run_estimate(
    *,
    judge: Judge,
    prompt_set: PromptSet,
    mode: str,
    contenders: Sequence[Contender] | None = None,
    baseline: Contender | None = None,
    limit: int | None = None,
    turn: int | None = None,
) -> CostEstimate:
    """What a run with these options would send and cost, without building it: the requests of
    ``judge_run_plan``, measured from one rendering per prompt and turn (``_Shape``) and summed
    per answer rather than per request, at about four characters per token, times the judge's
    prices. Requests the cache answers cost nothing. Timed by benchmarks/bench_run_estimate.py
    (PERFORMANCE.md)."""
    kind = rendering.KIND_BY_RUN_MODE[mode]
    pairwise = kind in rendering.PAIRWISE_KINDS
    prompt_list, by_prompt = _answers_by_prompt(
        prompt_set=prompt_set, contenders=contenders, baseline=baseline, limit=limit
    )
    judged_before = _judged_before(judge, pairwise=pairwise)
    judgments = chars = tokens_per_message = 0
    candidates: list[Target] = []  # requests the cache may answer, with their size
    candidate_chars: list[int] = []
    for prompt in prompt_list:
        present = by_prompt.get(prompt.pk, {})
        for t in _turns(prompt, kind=kind, turn=turn):
            shape = _shape(template_set=judge.template_set, kind=kind, prompt=prompt, turn=t)
            valid = {a.pk: a for _cid, a in sorted(present.items()) if len(a.turns) >= t}
            quoted = {pk: shape.quoted(a) for pk, a in valid.items()}
            before = judgments
            if pairwise:
                base = present.get(baseline.pk) if baseline is not None else None
                if baseline is None:
                    n = len(valid)
                    pairs = n * (n - 1) // 2
                    chars += 2 * pairs * shape.base + (n - 1) * sum(qa + qb for qa, qb in quoted.values())
                elif base is not None and base.pk in valid:
                    others = [pk for pk in valid if pk != base.pk]
                    pairs = len(others)
                    chars += pairs * (2 * shape.base + sum(quoted[base.pk])) + sum(
                        sum(quoted[pk]) for pk in others
                    )
                else:
                    pairs = 0
                judgments += 2 * pairs
                for first, second, order in sorted(judged_before.get((prompt.pk, t), ())):
                    if (
                        first in valid
                        and second in valid
                        and first < second
                        and (base is None or base.pk in (first, second))
                    ):
                        shown_a, shown_b = (
                            (first, second) if order == 1 else (second, first)
                        )  # order 1: A first
                        candidates.append(Target(prompt, t, valid[first], valid[second], order))
                        candidate_chars.append(shape.base + quoted[shown_a][0] + quoted[shown_b][1])
            else:
                judgments += len(valid)
                chars += sum(shape.base + qa for qa, _qb in quoted.values())
                for (answer_id,) in sorted(judged_before.get((prompt.pk, t), ())):
                    if answer_id in valid:
                        candidates.append(Target(prompt, t, valid[answer_id], None, 1))
                        candidate_chars.append(shape.base + quoted[answer_id][0])
            tokens_per_message += 4 * shape.messages * (judgments - before)
    share = _cache_hit_share(judge, kind, candidates)
    cached = round(share * len(candidates))
    input_tokens = round(
        (chars - share * sum(candidate_chars)) / 4
        + tokens_per_message * (1 - cached / judgments if judgments else 1)
    )
    output_tokens = (judgments - cached) * min(judge.max_tokens, settings.JUDGE_ESTIMATE_OUTPUT_TOKENS)
    return CostEstimate(
        judgments=judgments,
        cached=cached,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=cost_of(judge, input_tokens, output_tokens),
    )


def _comparisons_for(targets: Iterable[Target]) -> dict[tuple[int, int, int], Comparison]:
    wanted = {(t.first.pk, t.second.pk, t.turn): t.prompt.pk for t in targets if t.second is not None}
    if not wanted:
        return {}
    existing: dict[tuple[int, int, int], Comparison] = {}
    answer_ids = {a for a, _, _ in wanted} | {b for _, b, _ in wanted}
    for comp in Comparison.objects.filter(answer_a_id__in=answer_ids, answer_b_id__in=answer_ids):
        existing[(comp.answer_a_id, comp.answer_b_id, comp.turn)] = comp
    missing = [
        Comparison(prompt_id=prompt_id, answer_a_id=a, answer_b_id=b, turn=t)
        for (a, b, t), prompt_id in wanted.items()
        if (a, b, t) not in existing
    ]
    if missing:
        Comparison.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
        for comp in Comparison.objects.filter(answer_a_id__in=answer_ids, answer_b_id__in=answer_ids):
            existing[(comp.answer_a_id, comp.answer_b_id, comp.turn)] = comp
    return existing


@transaction.atomic
def judge_run_create(
    *,
    judge: Judge,
    prompt_set: PromptSet,
    mode: str = JudgeRun.Mode.PAIRWISE,
    contenders: Sequence[Contender] | None = None,
    baseline: Contender | None = None,
    limit: int | None = None,
    turn: int | None = None,
    inconsistent: str = JudgeRun.Inconsistent.TIE,
    start: bool = True,
    background: bool = True,
) -> JudgeRun:
    """Create a run, its comparisons and every pending judgment; start it after commit."""
    if mode not in JudgeRun.Mode.values:
        raise RunError(f"Unknown mode {mode!r}; use one of {', '.join(JudgeRun.Mode.values)}.")
    if baseline is not None and rendering.KIND_BY_RUN_MODE.get(mode) not in rendering.PAIRWISE_KINDS:
        raise RunError(
            "A baseline only makes sense for runs that compare two answers (pairwise, five_level, logprob, hhh)."
        )
    if turn is not None and turn < 1:
        raise RunError("The turn is 1 or more.")
    rendering.template_set_get(judge.template_set)  # fail now, not in every task, on a missing set
    problems = endpoint_problems(url=rendering.judge_base_url(judge), api_key_env=judge.api_key_env)
    if problems:
        raise RunError(f"Judge {judge.name}: {' '.join(problems)} Edit the judge first.")
    targets = judge_run_plan(
        prompt_set=prompt_set, mode=mode, contenders=contenders, baseline=baseline, limit=limit, turn=turn
    )
    if not targets:
        raise RunError(
            "Nothing to judge: no contender has answers to these prompts (two are needed for pairwise)."
        )
    estimate = judge_run_estimate(
        judge=judge,
        prompt_set=prompt_set,
        mode=mode,
        contenders=contenders,
        baseline=baseline,
        limit=limit,
        turn=turn,
    )
    run = JudgeRun.objects.create(
        judge=judge,
        prompt_set=prompt_set,
        mode=mode,
        baseline=baseline,
        limit=limit,
        turn=turn,
        inconsistent=inconsistent,
        template_fingerprint=rendering.template_set_get(judge.template_set).fingerprint,
        estimated_cost=estimate.cost,
    )
    chosen = set(contenders or [])
    if baseline:
        chosen.add(baseline)
    if not chosen:
        chosen = {t.first.contender for t in targets} | {t.second.contender for t in targets if t.second}
    run.contenders.set(chosen)
    comparisons = _comparisons_for(targets)
    rows = []
    for t in targets:
        if t.second is not None:
            comp = comparisons[(t.first.pk, t.second.pk, t.turn)]
            rows.append(Judgment(run=run, comparison=comp, order=t.order, turn=t.turn))
        else:
            rows.append(Judgment(run=run, answer=t.first, order=1, turn=t.turn))
    Judgment.objects.bulk_create(rows, batch_size=2000)
    if start:
        _start(run, background=background)
    return run


def _start(run: JudgeRun, *, background: bool, statuses: Sequence[str] = ()) -> None:
    JudgeRun.objects.filter(pk=run.pk).update(
        status=JudgeRun.Status.RUNNING,
        started_at=run.started_at or timezone.now(),
        finished_at=None,
        error="",
    )
    run.status = JudgeRun.Status.RUNNING
    judge_run_dispatch(run_id=run.pk, background=background)


def judge_run_dispatch(*, run_id: int, background: bool = True, ids: Sequence[int] | None = None) -> int:
    """Enqueue the run's pending judgments once the current transaction commits.

    With a broker: one Celery task per small batch of judgments (JUDGE_TASK_BATCH, default 32),
    whose rows are judged at once on the worker's request threads. Without one (embedded mode) a pool of
    JUDGE_EAGER_THREADS threads in this process judges them, in the background for the web page.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        judgments_judge = task_named(
            "judge.tasks.judgments_judge"
        )  # found before the rows are stamped enqueued
    pending = Judgment.objects.filter(run_id=run_id, status=Judgment.Status.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    judgment_ids = list(pending.order_by("id").values_list("id", flat=True))
    pending.update(enqueued_at=timezone.now())
    if not judgment_ids:
        transaction.on_commit(lambda: judge_run_finish_if_complete(run_id=run_id))
        return 0
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: run_inline(run_id, judgment_ids, background=background))
    else:
        from judge.services.execution import batch_size  # the LLM client loads with the first run

        size = batch_size()

        def send() -> None:
            for start in range(0, len(judgment_ids), size):
                judgments_judge.apply_async((judgment_ids[start : start + size],))

        transaction.on_commit(send)
    return len(judgment_ids)


_inline_threads: dict[int, threading.Thread] = {}


def run_inline(run_id: int, judgment_ids: Sequence[int], *, background: bool) -> None:
    """Embedded mode: judge in this process, with as many threads as the judge may use."""
    from judge.services.execution import judgment_execute

    threads = settings.JUDGE_EAGER_THREADS
    if threads == 0:  # tests: in the caller's thread and transaction
        for jid in judgment_ids:
            judgment_execute(judgment_id=jid)
        return

    def work() -> None:
        def one(jid: int) -> None:
            try:
                judgment_execute(judgment_id=jid)
            except Exception:
                logger.exception("judgment %s failed unexpectedly", jid)
            finally:
                close_old_connections()
                connection.close()

        max_concurrent = (
            Judge.objects.filter(runs__id=run_id).values_list("max_concurrent", flat=True).first() or 1
        )
        with ThreadPoolExecutor(
            max_workers=max(1, min(threads, max_concurrent)), thread_name_prefix=f"judge-run-{run_id}"
        ) as pool:
            list(pool.map(one, judgment_ids))

    if not background:
        work()
        return
    thread = threading.Thread(target=work, name=f"judge-run-{run_id}", daemon=True)
    _inline_threads[run_id] = thread
    thread.start()


def inline_run_wait(run_id: int, timeout: float | None = None) -> None:
    thread = _inline_threads.get(run_id)
    if thread is not None:
        thread.join(timeout)


@transaction.atomic
def judge_run_cancel(*, run: JudgeRun) -> JudgeRun:
    """Stop a run: tasks check the status before judging, so pending rows stay pending."""
    JudgeRun.objects.filter(pk=run.pk, status__in=[JudgeRun.Status.PENDING, JudgeRun.Status.RUNNING]).update(
        status=JudgeRun.Status.CANCELLED, finished_at=timezone.now()
    )
    run.refresh_from_db()
    from judge.services.progress import run_progress_report

    transaction.on_commit(lambda: run_progress_report(run.pk, force=True))
    return run


@transaction.atomic
def judge_run_resume(*, run: JudgeRun, background: bool = True) -> int:
    """Enqueue what is pending (after a crash, a cancel or a restart); returns how many."""
    run = JudgeRun.objects.select_for_update().get(pk=run.pk)
    # Claims of a dead worker would block the rows until they expire; an explicit resume by the
    # operator releases them (a live worker's result is still accepted: see execution).
    _start(run, background=background)
    return Judgment.objects.filter(run=run, status=Judgment.Status.PENDING).count()


@transaction.atomic
def judge_run_retry(
    *, run: JudgeRun, statuses: Sequence[str] = (Judgment.Status.UNPARSED,), background: bool = True
) -> int:
    """Send the unparsed (and optionally failed) judgments again; their old output is discarded."""
    run = JudgeRun.objects.select_for_update().get(pk=run.pk)
    count = Judgment.objects.filter(run=run, status__in=list(statuses)).update(
        status=Judgment.Status.PENDING,
        winner="",
        score=None,
        grade="",
        hhh={},
        preference=None,
        strong=False,
        parse_error="",
        error="",
        raw_output="",
        completed_at=None,
        claim_token="",
        claimed_until=None,
    )
    _start(run, background=background)
    return count


def judge_runs_resume_stale(*, older_than: timedelta | None = None) -> list[int]:
    """Re-enqueue pending judgments of running runs that nobody has touched for a while.

    Covers the cases a broker cannot: a message lost with a machine, a run whose dispatch never
    happened. Rows claimed by a live worker are left alone; the claim check in the task makes a
    duplicate message harmless.
    """
    from judge.services.execution import holder_is_dead

    threshold = timezone.now() - (
        older_than if older_than is not None else timedelta(seconds=settings.JUDGE_STALE_SECONDS)
    )
    now = timezone.now()
    stale = Judgment.objects.filter(
        run__status=JudgeRun.Status.RUNNING, status=Judgment.Status.PENDING
    ).filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=threshold))
    by_run: dict[int, list[int]] = {}
    for jid, run_id, token, until in stale.values_list("id", "run_id", "claim_token", "claimed_until"):
        if token and until and until > now and not holder_is_dead(token):
            continue  # a live worker is judging it
        by_run.setdefault(run_id, []).append(jid)
    for run_id, ids in by_run.items():
        judge_run_dispatch(run_id=run_id, ids=ids)
    for run_id in (
        JudgeRun.objects.filter(status=JudgeRun.Status.RUNNING)
        .exclude(pk__in=by_run)
        .values_list("id", flat=True)
    ):
        judge_run_finish_if_complete(run_id=run_id)
    return sorted(by_run)
