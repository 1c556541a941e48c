"""Judging one Judgment row: claim, cache, limits, request, retries, store — exactly once.

Why a retried or re-delivered task never judges twice:

* the row is the unit of work: the unique (run, comparison, order, turn) row is judged only while
  its status is PENDING, and the result is stored with ``UPDATE … WHERE status = pending AND
  claim_token = <ours>``, so a second writer stores nothing;
* before any request the task *claims* the row (token + lease in the row itself). A second task
  for the same row (a re-delivered message, a stale-run re-enqueue) sees the claim and backs off
  while the holder is alive, so the request is not sent twice while the first one is running.
  A holder on this host whose process is gone (SIGKILL) is detected by its pid and taken over at
  once; elsewhere the lease expires;
* ``sends`` counts requests started for the row (counted just before, so a kill cannot lose the
  count). It exceeds 1 only after a transient error or when a worker died with the request in
  flight (or about to be sent) — the one case where the answer was never stored and the request
  must be sent again.

Outages: a database or Redis that goes away during a run never costs a reply. Every database
call of the row path waits for the database to come back (``spool.with_database``) and the claim
and the store are idempotent for their own worker, so a call retried after an answer that got lost
does the right thing; a reply the database cannot take yet is spooled to local disk first and
written when it answers again (``judge.services.spool``). Redis is waited for before a request
(``slots.endpoint_slot``), never after one. A run therefore carries on by itself as soon as the
services are back, with no resume.

Throughput: a Celery task carries a small batch of rows of one run (``judgments_execute``). The
batch is loaded, rendered and looked up in the cache with one query each, and finishes with one
is-the-run-done check; its rows then run at once on the worker's request threads, each claimed
only when the process may send for the judge (``slots.process_gate``), sent and stored as it
arrives. Per row that leaves the claim, the request and the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from cachetools import TTLCache
from django.conf import settings
from django.db import connection
from django.db.models import F, Field
from django.utils import timezone

from arena.signals import verdicts_changed
from arena.validators import endpoint_problems
from judge import backoff, parsing
from judge import client as llm
from judge.cache import cached_judgments_get, judgment_cache_key
from judge.models import JudgeRun, Judgment
from judge.prompts import JudgeKind
from judge.services import rendering, slots
from judge.services.run_parts import Target, cost_of, judge_run_finish_if_complete
from judge.services.spool import DATABASE_DOWN, spool_pending, spool_write, with_database

logger = logging.getLogger(__name__)

HOST = socket.gethostname()


@dataclass(frozen=True)
class Outcome:
    """What one execution did: ``status`` of the row afterwards, or busy/skipped."""

    result: str  # done | unparsed | failed | cached | skipped | busy | cancelled | retry
    retry_in: float = 0.0


def chat_client_for(*, base_url: str, api_key_env: str) -> llm.ChatClient:
    """The endpoint's client; the key is read from the named environment variable at call time.

    Checked here, right before any request, whatever the row in the database says: the key
    variable must be one that may hold a key and the host must be allowed (``arena.validators``),
    else a permanent ``config`` error and nothing is sent. An empty ``api_key_env`` means
    OPENAI_API_KEY; a named variable that is unset means no key, never OPENAI_API_KEY instead.
    ``judge.client`` falls back to OPENAI_BASE_URL and keeps one connection pool per endpoint and
    key per process.
    """
    problems = endpoint_problems(url=llm.endpoint_url(base_url or None), api_key_env=api_key_env)
    if problems:
        raise llm.PermanentLLMError(None, " ".join(problems), "config")
    api_key = os.environ.get(api_key_env, "") if api_key_env else None
    return llm.OpenAIChatClient(base_url=base_url or None, api_key=api_key)


def _release_pooled_connection() -> None:
    """Give the DB connection back to the pool while waiting on the LLM (up to minutes), so a
    worker with many threads does not need as many database connections as requests in flight."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()


def _lease_seconds() -> float:
    return max(settings.JUDGE_CLAIM_SECONDS, settings.JUDGE_REQUEST_TIMEOUT + 30)


def _new_token() -> str:
    return f"{HOST[:12]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:32]


def holder_is_dead(token: str) -> bool:
    """A claim by a process on this host that no longer exists (a killed worker)."""
    try:
        host, pid_text, _ = token.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != HOST[:12] or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class _Plus1:
    """``column = column + 1`` in :func:`_update_row` (the ORM's ``F(name) + 1``)."""


PLUS_1 = _Plus1()
_PENDING = "status = %s"
# Free, or already ours: a claim retried after its first answer was lost (an outage) still holds.
_FREE = "(claimed_until IS NULL OR claimed_until < %s OR claim_token = '' OR claim_token = %s)"
_update_sql: dict[tuple[str, tuple[str, ...]], str] = {}


def _judgment_field(name: str) -> Field[Any, Any]:
    field = Judgment._meta.get_field(name)
    assert isinstance(field, Field), name  # a column of the table, not a reverse relation
    return field


def _judgment_column(name: str) -> str:
    column = _judgment_field(name).column
    assert column is not None, name
    return column


def _update_row(
    judgment_id: int,
    where: str,
    where_params: Sequence[str | datetime],
    fields: dict[str, object],
    *,
    wait: bool = True,
) -> int:
    """``UPDATE judge_judgment SET fields WHERE id = judgment_id AND where``; rows changed (0 or 1).

    The claim and the store of every judgment, by a statement built once per set of fields: the
    same UPDATE as ``Judgment.objects.filter(...).update(...)``, values prepared by the model's
    own fields, without building and compiling a query each time (twice per judgment;
    PERFORMANCE.md). ``where`` names columns of the table.
    """
    names = tuple(fields)
    sql = _update_sql.get((where, names))
    if sql is None:
        quote = connection.ops.quote_name
        meta = Judgment._meta
        sets = []
        for name in names:
            column = quote(_judgment_column(name))
            sets.append(f"{column} = {column} + 1" if fields[name] is PLUS_1 else f"{column} = %s")
        # Only quoted model column names and this module's constant conditions: values are parameters.
        sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {quote(_judgment_column(meta.pk.name))} = %s AND {where}"  # noqa: S608
        _update_sql[(where, names)] = sql
    params = [
        _judgment_field(name).get_db_prep_save(value, connection)
        for name, value in fields.items()
        if value is not PLUS_1
    ]

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, judgment_id, *where_params])
            return cursor.rowcount

    return with_database(run, what=f"judgment {judgment_id}") if wait else run()


def _claim(judgment_id: int, **fields: object) -> tuple[str | None, Outcome | None]:
    """Take the row for this worker (one UPDATE); ``fields`` are written with the claim."""
    now = timezone.now()
    token = _new_token()
    lease = timedelta(seconds=_lease_seconds())
    fields.update(claim_token=token, claimed_until=now + lease, attempts=PLUS_1)
    if _update_row(judgment_id, f"{_PENDING} AND {_FREE}", [Judgment.Status.PENDING, now, token], fields):
        return token, None
    row = with_database(
        lambda: (
            Judgment.objects.filter(pk=judgment_id).values("status", "claim_token", "claimed_until").first()
        ),
        what=f"judgment {judgment_id}",
    )
    if row is None or row["status"] != Judgment.Status.PENDING:
        return None, Outcome("skipped")
    if holder_is_dead(row["claim_token"]) and _update_row(
        judgment_id, f"{_PENDING} AND claim_token = %s", [Judgment.Status.PENDING, row["claim_token"]], fields
    ):
        logger.warning("judgment %s: took over the claim of dead worker %s", judgment_id, row["claim_token"])
        return token, None
    retry_in = max((row["claimed_until"] - now).total_seconds(), 1.0) if row["claimed_until"] else 1.0
    return None, Outcome("busy", retry_in=retry_in)


def _release(judgment_id: int, token: str) -> None:
    with_database(
        lambda: Judgment.objects.filter(
            pk=judgment_id, claim_token=token, status=Judgment.Status.PENDING
        ).update(claim_token="", claimed_until=None),
        what=f"judgment {judgment_id}",
    )


def _store(judgment_id: int, token: str, *, reply: bool = False, **fields: object) -> bool:
    """Write the result if the row is still ours; True if it was (or had just been) written.

    ``reply``: the result of a paid request. If the database cannot take it at once, it is spooled
    to local disk before the wait, so not even a worker that dies meanwhile loses it.
    """
    completed_at = fields.setdefault("completed_at", timezone.now())
    assert isinstance(completed_at, datetime)
    fields.update(claim_token="", claimed_until=None)
    where, params = f"{_PENDING} AND claim_token = %s", [Judgment.Status.PENDING, token]
    spooled = None
    try:
        written = _update_row(judgment_id, where, params, fields, wait=False)
    except DATABASE_DOWN:
        if not reply or connection.in_atomic_block:
            written = _update_row(judgment_id, where, params, fields)
        else:
            spooled = spool_write(judgment_id=judgment_id, fields=fields)
            logger.warning("judgment %s: database unavailable, reply spooled to %s", judgment_id, spooled)
            written = _update_row(judgment_id, where, params, fields)
    if not written:  # written by an earlier try whose answer was lost?
        written = with_database(
            lambda: (
                Judgment.objects.filter(pk=judgment_id, completed_at=completed_at)
                .exclude(status=Judgment.Status.PENDING)
                .exists()
            ),
            what=f"judgment {judgment_id}",
        )
    if spooled is not None:
        spooled.unlink(missing_ok=True)
    return bool(written)


def _update_claimed(judgment_id: int, token: str, **fields: object) -> None:
    """Change fields of a row this worker holds (waiting out a database outage)."""
    with_database(
        lambda: Judgment.objects.filter(pk=judgment_id, claim_token=token).update(**fields),
        what=f"judgment {judgment_id}",
    )


def store_spooled(*, judgment_id: int, fields: dict[str, object]) -> bool:
    """Write a spooled reply to its row if it is still pending (whoever holds its claim now: the
    reply is this row's answer, and a request sent again for it would be paid twice)."""
    fields = {**fields, "claim_token": "", "claimed_until": None}
    # No wait: while the database is down the error reaches spool_flush, which keeps the file.
    return bool(_update_row(judgment_id, _PENDING, [Judgment.Status.PENDING], fields, wait=False))


def spool_flush() -> int:
    """Store every spooled reply whose row is still pending; returns how many were stored.

    Stops (leaving the files) while the database is still unreachable.
    """
    stored = 0
    for path in spool_pending():
        try:
            entry = json.loads(path.read_text())
        except FileNotFoundError:  # another process of this machine flushed it
            continue
        except ValueError:
            logger.error("judge spool: %s is not readable JSON; left for an operator", path)
            continue
        try:
            written = store_spooled(judgment_id=int(entry["judgment_id"]), fields=entry["fields"])
        except DATABASE_DOWN:
            with contextlib.suppress(Exception):
                connection.close()
            return stored
        stored += written
        if not written:
            logger.warning(
                "judge spool: judgment %s was already stored; spooled reply dropped", entry["judgment_id"]
            )
        path.unlink(missing_ok=True)
    return stored


def target_for(judgment: Judgment) -> Target:
    if judgment.comparison_id:
        comp = judgment.comparison
        assert comp is not None
        return Target(comp.prompt, judgment.turn, comp.answer_a, comp.answer_b, judgment.order)
    assert judgment.answer is not None
    return Target(judgment.answer.prompt, judgment.turn, judgment.answer, None, 1)


class _VerdictFields(TypedDict, total=False):
    """What a judge's reply writes to its row (``_store``'s fields)."""

    status: str
    winner: object
    score: object
    grade: object
    hhh: object
    preference: object
    strong: object
    raw_output: str
    parse_error: str
    error: str


def _verdict_fields(kind: JudgeKind, text: str, order: int) -> _VerdictFields:
    verdict = parsing.stored_verdict(kind, text, order=order)
    if not verdict.parsed:
        return {"status": Judgment.Status.UNPARSED, "parse_error": verdict.error, "raw_output": text}
    return {
        "status": Judgment.Status.DONE,
        "winner": verdict.winner,
        "score": verdict.score,
        "grade": verdict.grade,
        "hhh": verdict.hhh,
        "preference": verdict.preference,
        "strong": verdict.strong,
        "raw_output": text,
        "parse_error": "",
        "error": "",
    }


STORED = frozenset({"done", "unparsed", "failed", "cached"})


@dataclass
class _Item:
    """One row of a batch, ready to judge: rendered (or why not) and its cache answer."""

    judgment: Judgment
    rendered: rendering.Rendered | None = None
    key: str = ""
    hit: Judgment | None = None
    render_error: str = ""


def batch_size() -> int:
    """Judgments per Celery task (settings.JUDGE_TASK_BATCH)."""
    return max(1, settings.JUDGE_TASK_BATCH)


# What rendering and judging a row reads (the rest of the rows, answers' token counts and style
# among them, is not loaded).
BATCH_FIELDS = (
    "id",
    "run_id",
    "status",
    "order",
    "turn",
    "comparison_id",
    "answer_id",
    "comparison__prompt__turns",
    "comparison__prompt__references",
    "comparison__answer_a__turns",
    "comparison__answer_b__turns",
    "answer__turns",
    "answer__prompt__turns",
    "answer__prompt__references",
)
# How stale a process's view of a run's status may be when a waiting row is about to be sent: a
# cancel stops this process's requests within this many seconds (retries always read it afresh).
RUN_STATUS_MAX_AGE = 0.5

_run_status: TTLCache[int, str | None] = TTLCache(maxsize=1000, ttl=RUN_STATUS_MAX_AGE)
_run_status_lock = threading.Lock()  # cachetools' caches are not thread-safe
_UNKNOWN = object()


def _run_status_set(run_id: int, status: str | None) -> None:
    with _run_status_lock:
        _run_status[run_id] = status


def _run_status_get(run_id: int, *, fresh: bool = False) -> str | None:
    """The run's status: this process's copy while it is under RUN_STATUS_MAX_AGE old, unless
    ``fresh``, else read again."""
    if not fresh:
        with _run_status_lock:
            cached = _run_status.get(run_id, _UNKNOWN)
        if cached is not _UNKNOWN:
            return cast("str | None", cached)  # not the _UNKNOWN sentinel: a stored status
    status = with_database(
        lambda: JudgeRun.objects.filter(pk=run_id).values_list("status", flat=True).first(),
        what=f"run {run_id}",
    )
    _run_status_set(run_id, status)
    return status


_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def _request_pool() -> ThreadPoolExecutor:
    """The process's threads for the rows of batches (created lazily, reused across tasks).

    Its size is no limit in practice (threads x batch size rows can wait at once, every one on its
    own thread): the limits are the judge's, applied by ``slots``.
    """
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=1024, thread_name_prefix="judge-request")
            _pool_pid = os.getpid()
        return _pool


def judgment_execute(
    *, judgment_id: int, sleep: Callable[[float], object] = time.sleep, rng: random.Random | None = None
) -> Outcome:
    """Judge one row if it is still pending and its run is running; see the module docstring."""
    return judgments_execute(judgment_ids=[judgment_id], sleep=sleep, rng=rng)[judgment_id]


def judgments_execute(
    *,
    judgment_ids: Sequence[int],
    sleep: Callable[[float], object] = time.sleep,
    rng: random.Random | None = None,
    parallel: bool = False,
) -> dict[int, Outcome]:
    """Judge a batch of rows (one Celery task's worth): each as :func:`judgment_execute` would.

    The batch shares its queries: one load of the pending rows, one of their run and judge, one
    cache lookup for all of them, and one is-the-run-finished check with the progress report at
    the end. Each row is then claimed, sent and stored on its own — claimed only once one of the
    process's request slots for the judge is free, so rows waiting their turn are not claimed and
    a killed worker leaves them for another without a repeated request. With ``parallel`` the rows
    run at once on the process's request threads (a worker); otherwise one after the other in
    this thread (inline mode, tests).
    """
    outcomes = {jid: Outcome("skipped") for jid in judgment_ids}
    if spool_pending():  # replies kept on this machine through an outage go in first
        spool_flush()
    # By primary key alone (the status is checked here): a status condition lets the planner
    # combine the status index with the key, and that index holds every row of every run.
    rows = with_database(
        lambda: [
            row
            for row in Judgment.objects.select_related(
                "comparison__prompt", "comparison__answer_a", "comparison__answer_b", "answer__prompt"
            )
            .only(*BATCH_FIELDS)
            .filter(pk__in=list(judgment_ids))
            .order_by("id")
            if row.status == Judgment.Status.PENDING
        ],
        what="a batch of judgments",
    )
    by_run: dict[int, list[Judgment]] = {}
    for row in rows:
        by_run.setdefault(row.run_id, []).append(row)
    for run_id, run_rows in by_run.items():
        outcomes.update(_run_batch(run_id, run_rows, sleep=sleep, rng=rng, parallel=parallel))
    return outcomes


def _run_batch(
    run_id: int,
    rows: list[Judgment],
    *,
    sleep: Callable[[float], object],
    rng: random.Random | None,
    parallel: bool,
) -> dict[int, Outcome]:
    run = with_database(
        lambda: JudgeRun.objects.select_related("judge", "prompt_set").filter(pk=run_id).first(),
        what=f"run {run_id}",
    )
    if run is None:
        return {row.pk: Outcome("skipped") for row in rows}
    _run_status_set(run_id, run.status)
    if run.status != JudgeRun.Status.RUNNING:
        result = "cancelled" if run.status == JudgeRun.Status.CANCELLED else "skipped"
        return {row.pk: Outcome(result) for row in rows}
    judge = run.judge
    kind = rendering.KIND_BY_RUN_MODE[run.mode]
    base_url = rendering.judge_base_url(judge)
    items: list[_Item] = []
    for row in rows:
        row.run = run
        try:
            rendered = target_for(row).rendered(template_set=judge.template_set, kind=kind)
        except Exception as exc:  # a template that cannot render this prompt: an operator must look
            items.append(_Item(row, render_error=f"render: {exc}"[:2000]))
            continue
        key = judgment_cache_key(
            model=judge.model,
            base_url=base_url,
            template_fingerprint=rendered.fingerprint,
            messages=rendered.messages,
            temperature=judge.temperature,
            max_tokens=judge.max_tokens,
        )
        items.append(_Item(row, rendered, key))
    hits = with_database(
        lambda: cached_judgments_get(
            cache_keys=[i.key for i in items if i.key], exclude_ids=[r.pk for r in rows]
        ),
        what=f"run {run_id}",
    )
    for item in items:
        item.hit = hits.get(item.key) if item.key else None

    def one(item: _Item) -> Outcome:
        return _judge_one(item, kind, sleep=sleep, rng=rng or random.Random())

    outcomes: dict[int, Outcome] = {}
    error: BaseException | None = None
    if parallel and len(items) > 1:
        pool = _request_pool()
        futures = [(item, pool.submit(_in_pool_thread, one, item)) for item in items]
        _release_pooled_connection()  # this thread only waits now
        for item, future in futures:
            try:
                outcomes[item.judgment.pk] = future.result()
            except Exception as exc:  # a bug: the others are stored all the same, then it surfaces
                logger.exception("judgment %s failed unexpectedly", item.judgment.pk)
                outcomes[item.judgment.pk] = Outcome("error")
                error = error or exc
    else:
        for item in items:
            outcomes[item.judgment.pk] = one(item)
    with_database(lambda: _finished(run, outcomes.values()), what=f"run {run.pk}")
    if error is not None:
        raise error
    return outcomes


def _in_pool_thread(fn: Callable[[_Item], Outcome], item: _Item) -> Outcome:
    """Run one row on a request thread, and give its DB connection back to the pool afterwards."""
    try:
        return fn(item)
    finally:
        with contextlib.suppress(Exception):  # a connection the database dropped: the pool replaces it
            connection.close()


def _judge_one(
    item: _Item, kind: JudgeKind, *, sleep: Callable[[float], object], rng: random.Random
) -> Outcome:
    judgment = item.judgment
    if item.rendered is None:
        token, outcome = _claim(judgment.pk)
        if token is None:
            assert outcome is not None
            return outcome
        _store(judgment.pk, token, status=Judgment.Status.FAILED, error=item.render_error)
        return Outcome("failed")
    if item.hit is not None:
        token, outcome = _claim(judgment.pk, cache_key=item.key, mode=item.rendered.mode)
        if token is None:
            assert outcome is not None
            return outcome
        try:
            fields = _verdict_fields(kind, item.hit.raw_output, judgment.order)
            _store(judgment.pk, token, from_cache=True, input_tokens=0, output_tokens=0, cost=0, **fields)
        except BaseException:
            _release(judgment.pk, token)
            raise
        return Outcome("cached")
    return _request_with_retries(judgment, item.rendered, kind, item.key, sleep=sleep, rng=rng)


def _finished(run: JudgeRun, outcomes: Iterable[Outcome]) -> None:
    """After a batch: leaderboards told, the run finished if nothing is pending, progress sent."""
    results = {o.result for o in outcomes}
    if not results & STORED:
        return
    from judge.services.progress import run_progress_report

    if results & {"done", "cached"}:
        _leaderboards_mark_stale(run)
    if not judge_run_finish_if_complete(run_id=run.pk):
        run_progress_report(run.pk)


def _leaderboards_mark_stale(run: JudgeRun) -> None:
    """Results are stored with .update(), which sends no signal: announce the new verdicts.

    Cheap at the judge's full rate: the reports' receiver (``snapshots_mark_stale``) scans the
    snapshots at most once per source and prompt set per debounce window, and refreshes the judge's
    panels too.
    """
    verdicts_changed.send(sender=JudgeRun, source=f"judge:{run.judge.name}", prompt_set=run.prompt_set.slug)


class _RequestOptions(TypedDict):
    max_tokens: int
    logprobs: int | None


def _request_options(kind: JudgeKind, max_tokens: int) -> _RequestOptions:
    """A logprob judge writes one token and is asked for its alternatives; the others write freely."""
    if kind == "logprob":
        return {"max_tokens": rendering.LOGPROB_MAX_TOKENS, "logprobs": rendering.LOGPROB_ALTERNATIVES}
    return {"max_tokens": max_tokens, "logprobs": None}


def _request_with_retries(
    judgment: Judgment,
    rendered: rendering.Rendered,
    kind: JudgeKind,
    key: str,
    *,
    sleep: Callable[[float], object],
    rng: random.Random,
) -> Outcome:
    """Claim the row once the process may send for this judge, then send with retries and store.

    The claim records the cache key, the template mode and the send about to happen (counted
    before it happens: survives a kill mid-request). The process's gate for the judge is held
    from the claim to the answer only: the result is stored, and a retry waited for, after the
    next row has been let in. The row's claim is released unless a result was stored.
    """
    judge = judgment.run.judge
    limit_key = f"judge:{judge.pk}"
    token: str | None = None
    outcome = Outcome("error")
    last_error = ""
    try:
        for attempt in range(1, settings.JUDGE_MAX_ATTEMPTS + 1):
            failure: llm.LLMError | TimeoutError | None = None
            completion: llm.Completion | None = None
            with slots.process_gate(key=limit_key, max_concurrent=judge.max_concurrent):
                # Cancel: checked when the batch was loaded, when a waiting row's turn comes (this
                # process's view, at most RUN_STATUS_MAX_AGE old) and afresh before every retry.
                status = _run_status_get(judgment.run_id, fresh=attempt > 1)
                if status != JudgeRun.Status.RUNNING:
                    outcome = Outcome("cancelled")
                    return outcome
                if token is None:
                    token, busy = _claim(judgment.pk, cache_key=key, mode=rendered.mode, sends=PLUS_1)
                    if token is None:
                        assert busy is not None
                        outcome = busy
                        return outcome
                else:
                    _update_claimed(
                        judgment.pk,
                        token,
                        sends=F("sends") + 1,
                        claimed_until=timezone.now() + timedelta(seconds=_lease_seconds()),
                    )
                _release_pooled_connection()
                try:
                    client = chat_client_for(base_url=judge.base_url, api_key_env=judge.api_key_env)
                    with slots.endpoint_slot(
                        key=limit_key,
                        max_concurrent=judge.max_concurrent,
                        rpm=judge.requests_per_minute,
                        lease_seconds=settings.JUDGE_REQUEST_TIMEOUT + 30,
                    ):
                        completion = client.complete(
                            rendered.messages,
                            model=judge.model,
                            temperature=judge.temperature,
                            timeout=settings.JUDGE_REQUEST_TIMEOUT,
                            **_request_options(kind, judge.max_tokens),
                        )
                except (llm.TransientLLMError, TimeoutError, llm.PermanentLLMError) as exc:
                    # TimeoutError: no request slot of the judge came free in time (arena.limits.SlotTimeout).
                    failure = exc
            if isinstance(failure, llm.PermanentLLMError):
                _store(
                    judgment.pk,
                    token,
                    status=Judgment.Status.FAILED,
                    error=f"{failure.kind}: {failure}"[:2000],
                )
                outcome = Outcome("failed")
                return outcome
            if failure is not None:
                last_error = f"attempt {attempt}: {failure}"
                _update_claimed(judgment.pk, token, error=last_error[:2000])
                if attempt == settings.JUDGE_MAX_ATTEMPTS:
                    break
                delay = backoff.retry_delay(
                    attempt,
                    retry_after=getattr(failure, "retry_after", None),
                    base=settings.JUDGE_BACKOFF_BASE,
                    cap=settings.JUDGE_BACKOFF_CAP,
                    rng=rng,
                )
                _release_pooled_connection()
                sleep(delay)  # outside the gate: the process's slots serve other rows meanwhile
                continue
            assert completion is not None  # no failure: the request answered
            text = completion.text or ""
            if kind == "logprob":  # the probabilities are the verdict: keep them with the token
                text = parsing.logprob_output(text, completion.top_logprobs)
            fields = _verdict_fields(kind, text, judgment.order)
            stored = _store(
                judgment.pk,
                token,
                reply=True,
                input_tokens=completion.input_tokens or 0,
                output_tokens=completion.output_tokens or 0,
                cost=cost_of(judge, completion.input_tokens or 0, completion.output_tokens or 0),
                latency_s=completion.latency_s,
                **fields,
            )
            if not stored:
                logger.warning(
                    "judgment %s: result discarded, the row was stored by another worker", judgment.pk
                )
                outcome = Outcome("skipped")
                return outcome
            outcome = Outcome(str(fields["status"]))
            return outcome
        assert token is not None  # claimed on the first attempt (JUDGE_MAX_ATTEMPTS >= 1)
        _store(
            judgment.pk,
            token,
            status=Judgment.Status.FAILED,
            error=f"gave up after {settings.JUDGE_MAX_ATTEMPTS} attempts; {last_error}"[:2000],
        )
        outcome = Outcome("failed")
        return outcome
    finally:
        if token is not None and outcome.result not in STORED:
            _release(judgment.pk, token)
