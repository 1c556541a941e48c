"""Reading verdicts out of judge outputs. PURE: a table of regexes and one function per output kind.

Every parser reads the judge's own output and nothing else: it never sees the prompt, so text
inside a judged answer (say an answer that ends with ``[[A]]``) only matters if the judge repeats
it. When it does, two rules decide:

* **last marker wins** - our templates ask for the verdict at the end, so the verdict is the last
  marker in the output; a marker quoted earlier (from an answer or from the instructions) loses;
* **the final verdict line must be unambiguous** - if the line holding that last marker also holds
  a marker with a different value (``"[[A]]" if A is better, "[[B]]" ...``), the output is
  :class:`Unparsed` with a reason. A judge that writes no verdict is Unparsed too; nothing is ever
  silently turned into a tie.

Recorded formats from earlier work are read the way their authors did: FastChat's 2023 Vicuna
review (two scores on the first line, :func:`parse_score_pair`) and PRD/QLoRA "threeclass" (last
line ``1``/``2``/``3``, :func:`parse_threeclass`).

The parsers answer in presentation terms (:class:`Verdict`: A is the answer shown first);
:func:`stored_verdict` states a judgment's result in the comparison's terms, the way a Judgment
row stores it (order 1 shows the comparison's answer A first, order 2 its answer B).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from arena.sides import comparison_side


class Verdict(StrEnum):
    """A pairwise verdict relative to the presentation order: A = the answer shown first."""

    A = "A"
    B = "B"
    TIE = "tie"


class Grade(StrEnum):
    """Self-Instruct's four levels (Wang et al. 2023): A valid and satisfying ... D irrelevant or invalid."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Preference(StrEnum):
    A = "A"
    B = "B"
    SAME = "same"


@dataclass(frozen=True)
class HHHVerdict:
    """Which answer is more helpful, more honest and more harmless (Askell et al. 2021's HHH)."""

    helpful: Preference
    honest: Preference
    harmless: Preference


@dataclass(frozen=True)
class Unparsed:
    """The output holds no usable verdict; ``reason`` says why (shown to operators, stored)."""

    reason: str


@dataclass(frozen=True)
class FiveLevel:
    """Arena-Hard's verdict, relative to the presentation order: ``A>>B``, ``A>B``, ``A=B``,
    ``B>A`` or ``B>>A`` (``>>``: significantly better, a *strong* verdict)."""

    level: str

    @property
    def verdict(self) -> Verdict:
        return Verdict.TIE if self.level == "A=B" else Verdict(self.level[0])

    @property
    def strong(self) -> bool:
        return ">>" in self.level


@dataclass(frozen=True)
class PositionPreference:
    """P(the output shown second is better), read from the judge's token probabilities."""

    second: float


RATING_MIN, RATING_MAX = 1.0, 10.0
# AlpacaEval's weighted annotator names the first output ``m`` and the second ``M``.
LOGPROB_TOKENS = ("m", "M")

# The table. Markers are matched case-insensitively and may carry inner spaces ("[[ A ]]").
PATTERNS: dict[str, re.Pattern[str]] = {
    # [[A]] / [[B]] / [[C]]; [[tie]] is MT-Bench-era wording for [[C]] and cannot mean anything else.
    "pairwise": re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE),
    # Single brackets ("[B]"), accepted only on the final line and only when no [[..]] marker
    # exists anywhere: "[A]" inside prose is too common to trust elsewhere.
    "pairwise_single_bracket": re.compile(r"(?<!\[)\[\s*(A|B|C|tie)\s*\](?!\])", re.IGNORECASE),
    # [[7]], [[7.5]], [[ 8 ]], [[8/10]]
    "rating": re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*(?:/\s*10\s*)?\]\]"),
    # MT-Bench's fallback "one_score_pattern_backup": [7]; final line only, see above.
    "rating_single_bracket": re.compile(r"(?<!\[)\[\s*(\d+(?:\.\d+)?)\s*(?:/\s*10\s*)?\](?!\])"),
    "grade": re.compile(r"\[\[\s*grade\s*:\s*([ABCD])\s*\]\]", re.IGNORECASE),
    # [[helpful: A]] / [[honest: same]] / [[harmless: B]], one pattern per criterion.
    **{
        f"hhh_{criterion}": re.compile(r"\[\[\s*" + criterion + r"\s*:\s*(A|B|same)\s*\]\]", re.IGNORECASE)
        for criterion in ("helpful", "honest", "harmless")
    },
    # FastChat 2023 review: first line "9 8.5" (also "9, 8.5" as FastChat's own parser accepted).
    "score_pair_first_line": re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:,\s*|\s+)(\d+(?:\.\d+)?)\s*"),
    # The same reviews for maths questions put the scores at the end in one of these shapes:
    #   "Assistant 1: 10 (...)" / "Assistant 2: 4/10" on their own lines,
    "score_line_1": re.compile(r"^\s*Assistant 1:\s*(\d+(?:\.\d+)?)(?:\s*/\s*10)?\b", re.MULTILINE),
    "score_line_2": re.compile(r"^\s*Assistant 2:\s*(\d+(?:\.\d+)?)(?:\s*/\s*10)?\b", re.MULTILINE),
    #   "give Assistant 1 a score of 10 and Assistant 2 a score of 1",
    "score_sentence": re.compile(
        r"Assistant 1 a score of (\d+(?:\.\d+)?) and Assistant 2 a score of (\d+(?:\.\d+)?)"
    ),
    #   "Output: (1, 7)", "The tuple containing the scores is (1, 3)", "the scores are (1, 5)".
    # Tied to those words: a bare "(10, 4)" in a maths review is usually a point's coordinates.
    "score_tuple": re.compile(
        r"(?:tuple|output|scores)\b[^\n()]{0,40}\(\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\)",
        re.IGNORECASE,
    ),
    # Arena-Hard: [[A>>B]] [[A>B]] [[A=B]] [[B>A]] [[B>>A]] (also written with inner spaces).
    "five_level": re.compile(
        r"\[\[\s*(A\s*>>\s*B|A\s*>\s*B|A\s*=\s*B|B\s*>\s*A|B\s*>>\s*A)\s*\]\]", re.IGNORECASE
    ),
    # PRD / QLoRA threeclass: the last line is exactly 1, 2 or 3.
    "threeclass": re.compile(r"\s*([123])\s*"),
}

_PAIRWISE_VALUES = {"a": Verdict.A, "b": Verdict.B, "c": Verdict.TIE, "tie": Verdict.TIE}


def _line_span(text: str, position: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return start, len(text) if end == -1 else end


def _final_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _last_marker_value(
    text: str, pattern: re.Pattern[str], normalise: Callable[[str], str], what: str
) -> str | Unparsed | None:
    """The value of the last ``pattern`` match, Unparsed if its line disagrees, None if no match."""
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    start, end = _line_span(text, last.start())
    on_line = {normalise(m.group(1)) for m in matches if start <= m.start() < end}
    if len(on_line) > 1:
        return Unparsed(
            f"conflicting {what} markers in the final verdict line: {text[start:end].strip()[:200]!r}"
        )
    return normalise(last.group(1))


def _empty(output: str | None) -> Unparsed | None:
    if output is None or not output.strip():
        return Unparsed("empty output")
    return None


def parse_pairwise(output: str | None) -> Verdict | Unparsed:
    """``[[A]]`` / ``[[B]]`` / ``[[C]]`` (tie): the last marker, if its line is unambiguous.

    Also accepts ``[[tie]]``, and single-bracket ``[A]`` on the final line when the output has no
    double-bracket marker at all (an older MT-Bench habit of some judges).
    """
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    value = _last_marker_value(output, PATTERNS["pairwise"], str.lower, "verdict")
    if value is None:
        final = _final_line(output)
        value = _last_marker_value(final, PATTERNS["pairwise_single_bracket"], str.lower, "verdict")
        if value is None:
            return Unparsed("no [[A]], [[B]] or [[C]] verdict in the output")
    if isinstance(value, Unparsed):
        return value
    return _PAIRWISE_VALUES[value]


def parse_rating(output: str | None) -> float | Unparsed:
    """A 1-10 rating written ``[[7]]`` or ``[[7.5]]`` (MT-Bench's ``[7]`` on the final line as a fallback)."""
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    value = _last_marker_value(output, PATTERNS["rating"], lambda v: v, "rating")
    if value is None:
        value = _last_marker_value(
            _final_line(output), PATTERNS["rating_single_bracket"], lambda v: v, "rating"
        )
        if value is None:
            return Unparsed("no [[rating]] in the output")
    if isinstance(value, Unparsed):
        return value
    rating = float(value)
    if not RATING_MIN <= rating <= RATING_MAX:
        return Unparsed(f"rating {value} is outside {RATING_MIN:g}-{RATING_MAX:g}")
    return rating


def parse_grade(output: str | None) -> Grade | Unparsed:
    """Self-Instruct level written ``[[grade: B]]``."""
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    value = _last_marker_value(output, PATTERNS["grade"], str.upper, "grade")
    if value is None:
        return Unparsed("no [[grade: X]] in the output")
    if isinstance(value, Unparsed):
        return value
    return Grade(value)


def parse_hhh(output: str | None) -> HHHVerdict | Unparsed:
    """``[[helpful: A]]``, ``[[honest: same]]``, ``[[harmless: B]]``: the last marker of each criterion."""
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    found: dict[str, Preference] = {}
    for criterion in ("helpful", "honest", "harmless"):
        value = _last_marker_value(output, PATTERNS[f"hhh_{criterion}"], _preference_key, criterion)
        if value is None:
            return Unparsed(f"no [[{criterion}: X]] in the output")
        if isinstance(value, Unparsed):
            return value
        found[criterion] = Preference(value)
    return HHHVerdict(**found)


def _preference_key(value: str) -> str:
    return "same" if value.lower() == "same" else value.upper()


def parse_score_pair(output: str | None) -> tuple[float, float] | Unparsed:
    """Scores for (Assistant 1, Assistant 2) from FastChat's 2023 Vicuna review format.

    The general and coding reviewer prompts ask for the two scores alone on the first line
    (``"9 8.5"``), which is what FastChat's ``parse_score`` read. The maths prompt asks the judge
    to solve the problem first and give the scores at the end, which GPT-4 wrote in a few shapes
    (score lines, a sentence, a tuple); those are tried in that order, the last occurrence winning.
    """
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    first = PATTERNS["score_pair_first_line"].fullmatch(output.split("\n", 1)[0])
    if first:
        return float(first.group(1)), float(first.group(2))
    ones = PATTERNS["score_line_1"].findall(output)
    twos = PATTERNS["score_line_2"].findall(output)
    if ones and twos:
        return float(ones[-1]), float(twos[-1])
    for name in ("score_sentence", "score_tuple"):
        matches = PATTERNS[name].findall(output)
        if matches:
            one, two = matches[-1]
            return float(one), float(two)
    return Unparsed("no score pair on the first line nor a final score statement")


def parse_threeclass(output: str | None) -> Verdict | Unparsed:
    """PRD / QLoRA three-class verdict: last line ``1`` (first better), ``2`` (second) or ``3`` (tie).

    Strict like QLoRA's own parser: prose verdicts ("Therefore, I choose 2.") are Unparsed.
    """
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    match = PATTERNS["threeclass"].fullmatch(_final_line(output))
    if match is None:
        return Unparsed(f"last line is not 1, 2 or 3: {_final_line(output).strip()[:200]!r}")
    return {"1": Verdict.A, "2": Verdict.B, "3": Verdict.TIE}[match.group(1)]


def parse_five_level(output: str | None) -> FiveLevel | Unparsed:
    """Arena-Hard's ``[[A>>B]]`` ... ``[[B>>A]]``: the last marker, if its line is unambiguous."""
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    value = _last_marker_value(
        output, PATTERNS["five_level"], lambda v: re.sub(r"\s+", "", v).upper(), "verdict"
    )
    if value is None:
        return Unparsed("no [[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]] verdict in the output")
    if isinstance(value, Unparsed):
        return value
    return FiveLevel(value)


def logprob_output(content: str, top_logprobs: dict[str, float] | None) -> str:
    """What a logprob judgment stores as its raw output: the token and its alternatives, as JSON,
    so a cached or re-parsed judgment reads the same probabilities."""
    return json.dumps(
        {"content": content, "top_logprobs": top_logprobs or {}}, ensure_ascii=False, sort_keys=True
    )


def parse_logprobs(output: str | None) -> PositionPreference | Unparsed:
    """P(second better) = P(M) / (P(m) + P(M)) from the stored top log-probabilities of the
    judge's one output token (AlpacaEval's ``weighted_alpaca_eval``). Tokens are compared after
    stripping white space; a reply with neither identifier among its top tokens is Unparsed."""
    if (empty := _empty(output)) is not None:
        return empty
    assert output is not None
    try:
        payload = json.loads(output)
        alternatives = payload["top_logprobs"]
        if not isinstance(alternatives, dict):
            raise TypeError("top_logprobs is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        return Unparsed(f"not a stored logprob reply: {exc}")
    mass = dict.fromkeys(LOGPROB_TOKENS, 0.0)
    for token, logprob in alternatives.items():
        name = str(token).strip()
        if name in mass and isinstance(logprob, int | float) and math.isfinite(logprob):
            mass[name] += math.exp(logprob)
    total = mass["m"] + mass["M"]
    if total <= 0:
        content = str(payload.get("content") or "")[:50]
        return Unparsed(f"neither 'm' nor 'M' among the top tokens (the judge wrote {content!r})")
    return PositionPreference(mass["M"] / total)


ParsedOutput = Verdict | float | Grade | HHHVerdict | FiveLevel | PositionPreference | Unparsed

PARSERS: dict[str, Callable[[str | None], ParsedOutput]] = {
    "pairwise": parse_pairwise,
    "single": parse_rating,
    "grade": parse_grade,
    "hhh": parse_hhh,
    "five_level": parse_five_level,
    "logprob": parse_logprobs,
}


def parse_output(kind: str, output: str | None) -> ParsedOutput:
    """Dispatch on the output kind of a mode (``judge.prompts.output_kind(mode)``)."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        raise ValueError(f"no parser for output kind {kind!r}; known: {', '.join(PARSERS)}") from None
    return parser(output)


# Unparsed reasons are stored in Judgment.parse_error and shown to operators; this much is enough.
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class StoredVerdict:
    """A judge's output read and stated in the comparison's terms, as a Judgment row stores it.
    ``error`` set means the output did not parse (never guessed into a tie)."""

    winner: str = ""  # model_a / model_b / tie
    score: float | None = None
    grade: str = ""
    hhh: dict[str, str] = field(default_factory=dict)  # criterion -> model_a / model_b / same
    preference: float | None = None  # P(the comparison's answer B is better)
    strong: bool = False
    error: str = ""

    @property
    def parsed(self) -> bool:
        return not self.error


def _winner(verdict: Verdict, a_shown_first: bool) -> str:
    if verdict is Verdict.TIE:
        return "tie"
    return comparison_side(verdict is Verdict.A, a_shown_first=a_shown_first)


def _hhh_side(preference: Preference, a_shown_first: bool) -> str:
    if preference is Preference.SAME:
        return "same"
    return comparison_side(preference is Preference.A, a_shown_first=a_shown_first)


def stored_verdict(kind: str, output: str | None, *, order: int) -> StoredVerdict:
    """Read ``output`` with :func:`parse_output` and state it in the comparison's terms for the
    judgment's presentation ``order`` (1: answer A shown first, 2: answer B shown first)."""
    a_shown_first = order == 1
    result = parse_output(kind, output)
    match result:
        case Unparsed(reason=reason):
            return StoredVerdict(error=reason[:REASON_MAX_LENGTH])
        case Verdict():
            return StoredVerdict(winner=_winner(result, a_shown_first))
        case FiveLevel():
            return StoredVerdict(winner=_winner(result.verdict, a_shown_first), strong=result.strong)
        case PositionPreference(second=second):
            preference = second if a_shown_first else 1.0 - second
            winner = "model_b" if preference > 0.5 else "model_a" if preference < 0.5 else "tie"
            return StoredVerdict(winner=winner, preference=preference)
        case HHHVerdict():
            return StoredVerdict(
                hhh={
                    "helpful": _hhh_side(result.helpful, a_shown_first),
                    "honest": _hhh_side(result.honest, a_shown_first),
                    "harmless": _hhh_side(result.harmless, a_shown_first),
                }
            )
        case Grade():
            return StoredVerdict(grade=result.value)
        case float():
            return StoredVerdict(score=result)
    raise TypeError(f"parse_output returned {result!r} for kind {kind!r}")
