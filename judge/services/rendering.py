"""From a judgment (or a planned one) to the messages a judge sees: template sets and requests.

The one place that speaks to ``judge.prompts`` on behalf of the services. Positions: order 1 shows
the comparison's answer A in the first position ("Assistant A"), order 2 shows answer B there;
reading the judge's output back into the comparison's terms is ``judge.parsing.stored_verdict``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from cachetools import TTLCache
from django.conf import settings

from arena.models import Answer, Prompt
from judge import prompts
from judge.models import Judge, JudgeRun

KIND_BY_RUN_MODE: dict[str, prompts.JudgeKind] = {
    JudgeRun.Mode.PAIRWISE: "pairwise",
    JudgeRun.Mode.SINGLE: "single",
    JudgeRun.Mode.GRADE: "grade",
    JudgeRun.Mode.HHH: "hhh",
    JudgeRun.Mode.FIVE_LEVEL: "five_level",
    JudgeRun.Mode.LOGPROB: "logprob",
}
PAIRWISE_KINDS = ("pairwise", "hhh", "five_level", "logprob")
# Top alternatives asked for, and the one token a logprob judge may write (AlpacaEval: 5 and 1).
LOGPROB_ALTERNATIVES = 5
LOGPROB_MAX_TOKENS = 1


@lru_cache(maxsize=32)
def _template_set_cached(name: str, _mtime: float) -> prompts.TemplateSet:
    return prompts.load_template_set(name)


# How often a process looks at a template set's files for changes. Every judgment renders through
# its set, and scanning the directory each time cost more than rendering (a glob and a stat per
# file for every judgment).
TEMPLATE_SCAN_SECONDS = 1.0
_scanned: TTLCache[str, float] = TTLCache(maxsize=64, ttl=TEMPLATE_SCAN_SECONDS)  # name -> newest file mtime
_scanned_lock = threading.Lock()  # cachetools' caches are not thread-safe


def template_set_get(name: str) -> prompts.TemplateSet:
    """A template set, reloaded within a second when its directory changes (import_judge_prompts
    writes one, and forgets the set in its own process at once)."""
    with _scanned_lock:
        mtime = _scanned.get(name)
    if mtime is None:
        directory = prompts.TEMPLATES_DIR / name
        mtime = (
            max((p.stat().st_mtime for p in directory.glob("*.txt")), default=0.0)
            if directory.is_dir()
            else 0.0
        )
        with _scanned_lock:
            _scanned[name] = mtime
    return _template_set_cached(name, mtime)


def template_set_forget(name: str) -> None:
    """Look at the set's files again on its next use (after writing them)."""
    with _scanned_lock:
        _scanned.pop(name, None)


def judge_base_url(judge: Judge) -> str:
    return judge.base_url or settings.OPENAI_BASE_URL or "https://api.openai.com/v1"


@dataclass(frozen=True)
class Rendered:
    mode: str
    messages: list[prompts.ChatMessage]
    fingerprint: str


def _reference_turns(prompt: Prompt, turn: int) -> list[str] | None:
    refs = [r if isinstance(r, str) else str(r or "") for r in (prompt.references or [])]
    if len(refs) >= turn and refs[turn - 1].strip():
        return refs
    return None


def render_request(
    *,
    template_set: str,
    kind: prompts.JudgeKind,
    prompt: Prompt,
    turn: int,
    first: Answer,
    second: Answer | None,
) -> Rendered:
    """Render one judge request; ``first`` sits in position A (or is the single answer)."""
    tset = template_set_get(template_set)
    references = _reference_turns(prompt, turn)
    has_reference = references is not None and kind in ("pairwise", "single")
    mode = prompts.choose_mode(kind, turn=turn, has_reference=has_reference)
    if has_reference and mode not in tset.templates:
        # A set without reference templates judges these prompts without the reference.
        mode = prompts.choose_mode(kind, turn=turn, has_reference=False)
        references = None
    request = prompts.JudgeRequest(
        question_turns=list(prompt.turns),
        answer_a_turns=list(first.turns),
        answer_b_turns=list(second.turns) if second is not None else None,
        reference_turns=references if has_reference else None,
        turn=turn,
    )
    messages = prompts.render(tset, mode, request)
    return Rendered(mode=mode, messages=messages, fingerprint=prompts.template_fingerprint(tset, mode))
