"""From a judgment (or a planned one) to the messages a judge sees, and from its output to a verdict.

The one place that speaks to ``judge.prompts`` and ``judge.parsing`` on behalf of the services,
so the rest of the judge app deals in Judgment rows and stored verdicts only.

Positions: order 1 shows the comparison's answer A in the first position ("Assistant A"), order 2
shows answer B there. A verdict for the first position therefore means ``model_a`` in order 1 and
``model_b`` in order 2; verdicts are stored in the comparison's terms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings

from arena.models import Answer, Prompt
from judge import parsing, prompts
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
# file, at 160 judgments a second).
TEMPLATE_SCAN_SECONDS = 1.0
_scanned: dict[str, tuple[float, float]] = {}  # name -> (when scanned, newest file mtime)


def template_set_get(name: str) -> prompts.TemplateSet:
    """A template set, reloaded within a second when its directory changes (import_judge_prompts
    writes one, and forgets the set in its own process at once)."""
    now = time.monotonic()
    scanned = _scanned.get(name)
    if scanned is None or now - scanned[0] >= TEMPLATE_SCAN_SECONDS:
        directory = prompts.TEMPLATES_DIR / name
        mtime = max((p.stat().st_mtime for p in directory.glob("*.txt")), default=0.0) if directory.is_dir() else 0.0
        scanned = _scanned[name] = (now, mtime)
    return _template_set_cached(name, scanned[1])


def template_set_forget(name: str) -> None:
    """Look at the set's files again on its next use (after writing them)."""
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
    *, template_set: str, kind: prompts.JudgeKind, prompt: Prompt, turn: int, first: Answer,
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


@dataclass(frozen=True)
class Verdict:
    """A parsed judgment in the comparison's terms. ``error`` set means the output did not parse."""

    winner: str = ""
    score: float | None = None
    grade: str = ""
    hhh: dict[str, str] = field(default_factory=dict)
    preference: float | None = None  # P(the comparison's answer B is better)
    strong: bool = False
    error: str = ""

    @property
    def parsed(self) -> bool:
        return not self.error


def _position_to_winner(position: str, order: int) -> str:
    """'A' / 'B' / 'tie' in screen positions → model_a / model_b / tie in the comparison's terms."""
    p = position.strip().lower()
    if p in ("tie", "c", "same", "equal"):
        return "tie"
    if p in ("a", "model_a", "first"):
        return "model_a" if order == 1 else "model_b"
    if p in ("b", "model_b", "second"):
        return "model_b" if order == 1 else "model_a"
    raise ValueError(f"unknown position {position!r}")


def _unparsed_reason(result: Any) -> str | None:
    if isinstance(result, parsing.Unparsed):
        return str(getattr(result, "reason", "") or "unparsed")[:500]
    return None


def parse_output(*, kind: prompts.JudgeKind, mode: str, text: str, order: int) -> Verdict:
    """Read the verdict from the judge's output; never guesses a tie for unreadable text."""
    if kind == "pairwise":
        result = parsing.parse_pairwise(text)
        if (reason := _unparsed_reason(result)) is not None:
            return Verdict(error=reason)
        return Verdict(winner=_position_to_winner(_pairwise_position(result), order))
    if kind == "five_level":
        level = parsing.parse_five_level(text)
        if isinstance(level, parsing.Unparsed):
            return Verdict(error=level.reason[:500])
        return Verdict(winner=_position_to_winner(level.verdict.value, order), strong=level.strong)
    if kind == "logprob":
        found = parsing.parse_logprobs(text)
        if isinstance(found, parsing.Unparsed):
            return Verdict(error=found.reason[:500])
        # Order 1 shows answer A first, so "second better" is answer B; order 2 the reverse.
        preference = found.second if order == 1 else 1.0 - found.second
        winner = "model_b" if preference > 0.5 else "model_a" if preference < 0.5 else "tie"
        return Verdict(winner=winner, preference=preference)
    if kind == "single":
        rating = parsing.parse_rating(text)
        if (reason := _unparsed_reason(rating)) is not None:
            return Verdict(error=reason)
        return Verdict(score=float(_attr(rating, "score", "rating", "value")))
    if kind == "grade":
        grade = parsing.parse_grade(text)
        if (reason := _unparsed_reason(grade)) is not None:
            return Verdict(error=reason)
        return Verdict(grade=str(_attr(grade, "grade", "value")).upper())
    hhh = parsing.parse_hhh(text)
    if (reason := _unparsed_reason(hhh)) is not None:
        return Verdict(error=reason)
    criteria = _hhh_items(hhh)
    mapped = {}
    for criterion, position in criteria.items():
        winner = _position_to_winner(str(position), order)
        mapped[criterion] = "same" if winner == "tie" else winner
    return Verdict(hhh=mapped)


def _attr(obj: Any, *names: str) -> Any:
    if isinstance(obj, str | int | float):
        return obj
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise TypeError(f"cannot read {names} from {obj!r}")


def _pairwise_position(result: Any) -> str:
    value = _attr(result, "winner", "position", "verdict", "value")
    return str(getattr(value, "value", value))


def _hhh_items(result: Any) -> dict[str, str]:
    if isinstance(result, dict):
        return {k: str(getattr(v, "value", v)) for k, v in result.items()}
    out = {}
    for criterion in ("helpful", "honest", "harmless"):
        value = getattr(result, criterion)
        out[criterion] = str(getattr(value, "value", value))
    return out
