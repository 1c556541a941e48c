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
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from judge import backoff
from judge import client as llm
from judge.cache import cached_judgment_get, judgment_cache_key
from judge.models import Judge, JudgeRun, Judgment
from judge.services import rendering, slots
from judge.services.runs import Target, cost_of, judge_run_finish_if_complete

logger = logging.getLogger(__name__)

HOST = socket.gethostname()


@dataclass(frozen=True)
class Outcome:
    """What one execution did: ``status`` of the row afterwards, or busy/skipped."""

    result: str  # done | unparsed | failed | cached | skipped | busy | cancelled | retry
    retry_in: float = 0.0


def chat_client_for(*, base_url: str, api_key_env: str) -> llm.ChatClient:
    """The endpoint's client; the key is read from the named environment variable at call time.

    ``judge.client`` falls back to OPENAI_BASE_URL / OPENAI_API_KEY and keeps one connection pool
    per endpoint and key per process.
    """
    return llm.OpenAIChatClient(base_url=base_url or None, api_key=os.environ.get(api_key_env or "OPENAI_API_KEY"))


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


def _claim(judgment_id: int, **fields: object) -> tuple[str | None, Outcome | None]:
    """Take the row for this worker (one UPDATE); ``fields`` are written with the claim."""
    now = timezone.now()
    token = _new_token()
    lease = timedelta(seconds=_lease_seconds())
    fields.update(claim_token=token, claimed_until=now + lease, attempts=F("attempts") + 1)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claim_token="")
    if Judgment.objects.filter(free, pk=judgment_id, status=Judgment.Status.PENDING).update(**fields):
        return token, None
    row = Judgment.objects.filter(pk=judgment_id).values("status", "claim_token", "claimed_until").first()
    if row is None or row["status"] != Judgment.Status.PENDING:
        return None, Outcome("skipped")
    if holder_is_dead(row["claim_token"]) and Judgment.objects.filter(
        pk=judgment_id, status=Judgment.Status.PENDING, claim_token=row["claim_token"]
    ).update(**fields):
        logger.warning("judgment %s: took over the claim of dead worker %s", judgment_id, row["claim_token"])
        return token, None
    retry_in = max((row["claimed_until"] - now).total_seconds(), 1.0) if row["claimed_until"] else 1.0
    return None, Outcome("busy", retry_in=retry_in)


def _release(judgment_id: int, token: str) -> None:
    Judgment.objects.filter(pk=judgment_id, claim_token=token, status=Judgment.Status.PENDING).update(
        claim_token="", claimed_until=None
    )


def _store(judgment_id: int, token: str, **fields: object) -> bool:
    fields.setdefault("completed_at", timezone.now())
    return bool(
        Judgment.objects.filter(pk=judgment_id, status=Judgment.Status.PENDING, claim_token=token).update(
            claim_token="", claimed_until=None, **fields
        )
    )


def target_for(judgment: Judgment) -> Target:
    if judgment.comparison_id:
        comp = judgment.comparison
        assert comp is not None
        return Target(comp.prompt, judgment.turn, comp.answer_a, comp.answer_b, judgment.order)
    assert judgment.answer is not None
    return Target(judgment.answer.prompt, judgment.turn, judgment.answer, None, 1)


def _verdict_fields(kind: str, mode: str, text: str, order: int) -> dict[str, object]:
    verdict = rendering.parse_output(kind=kind, mode=mode, text=text, order=order)  # type: ignore[arg-type]
    if not verdict.parsed:
        return {"status": Judgment.Status.UNPARSED, "parse_error": verdict.error, "raw_output": text}
    return {
        "status": Judgment.Status.DONE, "winner": verdict.winner, "score": verdict.score, "grade": verdict.grade,
        "hhh": verdict.hhh, "raw_output": text, "parse_error": "", "error": "",
    }


STORED = frozenset({"done", "unparsed", "failed", "cached"})


def judgment_execute(*, judgment_id: int, sleep=time.sleep, rng: random.Random | None = None) -> Outcome:
    """Judge one row if it is still pending and its run is running; see the module docstring.

    Five queries on the common path (load, cache lookup, claim, store, is-the-run-finished): the
    claim also records the cache key, the template mode and the send about to happen.
    """
    judgment = (
        Judgment.objects.select_related(
            "run__judge", "run__prompt_set", "comparison__prompt", "comparison__answer_a", "comparison__answer_b", "answer__prompt"
        ).filter(pk=judgment_id).first()
    )
    if judgment is None or judgment.status != Judgment.Status.PENDING:
        return Outcome("skipped")
    if judgment.run.status != JudgeRun.Status.RUNNING:
        return Outcome("cancelled" if judgment.run.status == JudgeRun.Status.CANCELLED else "skipped")
    judge = judgment.run.judge
    kind = rendering.KIND_BY_RUN_MODE[judgment.run.mode]
    try:
        rendered = target_for(judgment).rendered(template_set=judge.template_set, kind=kind)
    except Exception as exc:  # a template that cannot render this prompt: an operator must look
        token, outcome = _claim(judgment_id)
        if token is None:
            assert outcome is not None
            return outcome
        _store(judgment.pk, token, status=Judgment.Status.FAILED, error=f"render: {exc}"[:2000])
        return _finished(judgment, Outcome("failed"))
    key = judgment_cache_key(
        model=judge.model, base_url=rendering.judge_base_url(judge), template_fingerprint=rendered.fingerprint,
        messages=rendered.messages, temperature=judge.temperature, max_tokens=judge.max_tokens,
    )
    hit = cached_judgment_get(cache_key=key, exclude_id=judgment.pk)
    claim_fields: dict[str, object] = {"cache_key": key, "mode": rendered.mode}
    if hit is None:
        claim_fields["sends"] = F("sends") + 1  # counted before it happens: survives a kill mid-request
    token, outcome = _claim(judgment_id, **claim_fields)
    if token is None:
        assert outcome is not None
        return outcome
    outcome = Outcome("error")
    try:
        if hit is not None:
            fields = _verdict_fields(kind, rendered.mode, hit.raw_output, judgment.order)
            _store(judgment.pk, token, from_cache=True, input_tokens=0, output_tokens=0, cost=0, **fields)
            outcome = Outcome("cached")
        else:
            outcome = _request_with_retries(judgment, judge, rendered, kind, token, sleep=sleep,
                                            rng=rng or random.Random())
    finally:
        if outcome.result not in STORED:
            _release(judgment_id, token)
    return _finished(judgment, outcome)


def _finished(judgment: Judgment, outcome: Outcome) -> Outcome:
    if outcome.result in STORED:
        from judge.progress import run_progress_report

        if outcome.result in ("done", "cached"):
            _leaderboards_mark_stale(judgment)
        if not judge_run_finish_if_complete(run_id=judgment.run_id):
            run_progress_report(judgment.run_id)
    return outcome


def _leaderboards_mark_stale(judgment: Judgment) -> None:
    """Results are stored with .update(), which sends no signal: tell the leaderboards directly.

    At most once per run per debounce window from here (the snapshot service debounces again per
    snapshot), so a 160/s batch does not scan the snapshot table 160 times a second.
    """
    from django.conf import settings
    from django.core.cache import cache

    from arena.services.snapshots import snapshots_mark_stale

    window = settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS
    if window > 0 and not cache.add(f"judge:stale-marked:{judgment.run_id}", 1, timeout=window):
        return
    snapshots_mark_stale(source=f"judge:{judgment.run.judge.name}", prompt_set=judgment.run.prompt_set.slug)


def _request_with_retries(judgment: Judgment, judge: Judge, rendered: rendering.Rendered, kind: str, token: str,
                          *, sleep, rng: random.Random) -> Outcome:
    last_error = ""
    for attempt in range(1, settings.JUDGE_MAX_ATTEMPTS + 1):
        # Cancel was checked when the row was loaded, and again before every retry.
        if attempt > 1 and JudgeRun.objects.filter(pk=judgment.run_id).values_list(
            "status", flat=True
        ).first() != JudgeRun.Status.RUNNING:
            return Outcome("cancelled")
        try:
            client = chat_client_for(base_url=judge.base_url, api_key_env=judge.api_key_env)
            with slots.endpoint_slot(key=f"judge:{judge.pk}", max_concurrent=judge.max_concurrent,
                                     rpm=judge.requests_per_minute, lease_seconds=settings.JUDGE_REQUEST_TIMEOUT + 30):
                if attempt > 1:
                    Judgment.objects.filter(pk=judgment.pk, claim_token=token).update(
                        sends=F("sends") + 1, claimed_until=timezone.now() + timedelta(seconds=_lease_seconds())
                    )
                _release_pooled_connection()
                completion = client.complete(
                    rendered.messages, model=judge.model, temperature=judge.temperature,
                    max_tokens=judge.max_tokens, timeout=settings.JUDGE_REQUEST_TIMEOUT,
                )
        except (llm.TransientLLMError, TimeoutError) as exc:
            # TimeoutError: no request slot of the judge came free in time (judge.limits.SlotTimeout).
            last_error = f"attempt {attempt}: {exc}"
            Judgment.objects.filter(pk=judgment.pk, claim_token=token).update(error=last_error[:2000])
            if attempt == settings.JUDGE_MAX_ATTEMPTS:
                break
            delay = backoff.retry_delay(attempt, retry_after=getattr(exc, "retry_after", None), base=settings.JUDGE_BACKOFF_BASE,
                                        cap=settings.JUDGE_BACKOFF_CAP, rng=rng)
            sleep(delay)
            continue
        except llm.PermanentLLMError as exc:
            _store(judgment.pk, token, status=Judgment.Status.FAILED, error=f"{exc.kind}: {exc}"[:2000])
            return Outcome("failed")
        fields = _verdict_fields(kind, rendered.mode, completion.text or "", judgment.order)
        stored = _store(
            judgment.pk, token, input_tokens=completion.input_tokens or 0, output_tokens=completion.output_tokens or 0,
            cost=cost_of(judge, completion.input_tokens or 0, completion.output_tokens or 0),
            latency_s=completion.latency_s, **fields,
        )
        if not stored:
            logger.warning("judgment %s: result discarded, the row was stored by another worker", judgment.pk)
            return Outcome("skipped")
        return Outcome(str(fields["status"]))
    _store(judgment.pk, token, status=Judgment.Status.FAILED,
           error=f"gave up after {settings.JUDGE_MAX_ATTEMPTS} attempts; {last_error}"[:2000])
    return Outcome("failed")
