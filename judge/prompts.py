"""Judge prompt templates: loading, rendering and fingerprints. PURE: no Django, no I/O but file reads.

A template set is a directory ``judge/templates/<set>/`` with one file per mode, ``<mode>.txt``.

Template file format::

    # Comment lines (and blank lines) before the first section are documentation, never sent.
    [system]
    The system message. Optional section.
    [user]
    The user message, with {placeholders}.

* A section starts at a line that is exactly ``[system]`` or ``[user]``; each appears at most once,
  ``[user]`` is required. Everything up to the next header belongs to the section (a ``#`` line
  inside a section is text), and leading/trailing blank lines of a section are dropped.
* ``{name}`` is a placeholder, ``{{`` and ``}}`` are literal braces (the ``str.format`` convention,
  so MT-Bench's templates need no rewriting). Unknown names and stray braces are refused when the
  file is loaded; a placeholder whose value the request lacks is refused when it is rendered.
* Rendering is one pass over the parsed template: substituted text is never scanned again, so an
  answer containing ``{answer_b}``, braces or ``[user]`` appears verbatim and cannot pull in other
  values or change the template's structure.

Placeholders (turn numbers are 1-based; "the judged turn" is ``JudgeRequest.turn``):

============================  =====================================================================
``question``                  the user message of the judged turn
``answer_a`` / ``answer_b``   the two answers to the judged turn (pairwise, hhh)
``answer``                    the single answer to the judged turn (single, grade): answer A
``reference``                 the reference answer to the judged turn
``question_N`` ...            ``question_N``, ``answer_a_N``, ``answer_b_N``, ``answer_N``,
                              ``reference_N``: turn N, for MT-Bench-style two-turn templates
``conversation_a`` / ``_b``   transcript of turns 1..judged turn with answer A / B
``conversation``              the same for the single answer (answer A)
``reference_conversation``    the same with the reference answers
``turn``                      the judged turn's number
============================  =====================================================================

Modes: ``pairwise``, ``pairwise-multi-turn``, ``pairwise-reference``, ``pairwise-reference-multi-turn``,
``single``, ``single-multi-turn``, ``single-reference``, ``single-reference-multi-turn``, ``grade``,
``hhh``, ``five-level`` (Arena-Hard's ``[[A>>B]]`` scale), ``logprob`` (one token whose probability is
read; see :func:`choose_mode`). Pairwise against a single baseline is the ``pairwise`` family with
the baseline's answer as one side; it needs no template of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

JudgeKind = Literal["pairwise", "single", "grade", "hhh", "five_level", "logprob"]

MODES: tuple[str, ...] = (
    "pairwise",
    "pairwise-multi-turn",
    "pairwise-reference",
    "pairwise-reference-multi-turn",
    "single",
    "single-multi-turn",
    "single-reference",
    "single-reference-multi-turn",
    "grade",
    "hhh",
    "five-level",
    "logprob",
)
# Kinds with one template for every turn (the template decides what of the conversation it shows).
_ONE_MODE_KINDS: Mapping[JudgeKind, str] = {
    "grade": "grade",
    "hhh": "hhh",
    "five_level": "five-level",
    "logprob": "logprob",
}

_SECTION_HEADERS = {"[system]": "system", "[user]": "user"}
_TURN_PLACEHOLDER = re.compile(r"(question|answer_a|answer_b|answer|reference)_([1-9][0-9]*)")
_FIXED_PLACEHOLDERS = frozenset(
    {
        "question",
        "answer_a",
        "answer_b",
        "answer",
        "reference",
        "conversation_a",
        "conversation_b",
        "conversation",
        "reference_conversation",
        "turn",
    }
)

# MT-Bench's judge_prompts.jsonl names -> our modes; its placeholders differ from ours only in
# ``ref_answer_N`` (ours: ``reference_N``).
MT_BENCH_MODES: Mapping[str, str] = {
    "pair-v2": "pairwise",
    "pair-v2-multi-turn": "pairwise-multi-turn",
    "pair-math-v1": "pairwise-reference",
    "pair-math-v1-multi-turn": "pairwise-reference-multi-turn",
    "single-v1": "single",
    "single-v1-multi-turn": "single-multi-turn",
    "single-math-v1": "single-reference",
    "single-math-v1-multi-turn": "single-reference-multi-turn",
}
_MT_BENCH_RENAMES = {"ref_answer_1": "reference_1", "ref_answer_2": "reference_2"}


class TemplateError(ValueError):
    """A template file or template set is malformed (raised at load time)."""


class RenderError(ValueError):
    """A request lacks a value that the template needs, or is inconsistent."""


class ChatMessage(TypedDict):
    """One chat message, in the shape the OpenAI chat API takes."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class JudgeRequest:
    """What a judge sees: the conversation turns and which turn is judged.

    ``answer_a_turns`` is the single answer for single/grade modes. ``turn`` is 1-based; turns
    after it are ignored so the same request object can be reused for each turn of a prompt.
    """

    question_turns: Sequence[str]
    answer_a_turns: Sequence[str]
    answer_b_turns: Sequence[str] | None = None
    reference_turns: Sequence[str] | None = None
    turn: int = 1

    def __post_init__(self) -> None:
        if self.turn < 1:
            raise RenderError(f"turn must be >= 1, got {self.turn}")
        for label, turns in (
            ("question_turns", self.question_turns),
            ("answer_a_turns", self.answer_a_turns),
            ("answer_b_turns", self.answer_b_turns),
            ("reference_turns", self.reference_turns),
        ):
            if turns is None:
                continue
            if isinstance(turns, str):
                # A bare string would be read as a sequence of one-character turns.
                raise RenderError(f"{label} must be a sequence of strings, not a string")
            if len(turns) < self.turn:
                raise RenderError(f"{label} has {len(turns)} turn(s); turn {self.turn} is judged")


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str


_Segment = _Literal | _Field


def _parse_format(text: str, *, where: str) -> tuple[_Segment, ...]:
    """Split ``text`` into literal and placeholder segments, refusing anything but ``{name}``."""
    segments: list[_Segment] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # stray "{" or "}"
        raise TemplateError(f"{where}: {exc} (write literal braces as {{{{ and }}}})") from exc
    for literal, name, spec, conversion in parsed:
        if literal:
            segments.append(_Literal(literal))
        if name is None:
            continue
        if spec or conversion:
            raise TemplateError(f"{where}: placeholder {{{name}}} may not carry a format spec or conversion")
        if not _is_known_placeholder(name):
            raise TemplateError(f"{where}: unknown placeholder {{{name}}}")
        segments.append(_Field(name))
    return tuple(segments)


def _is_known_placeholder(name: str) -> bool:
    return name in _FIXED_PLACEHOLDERS or _TURN_PLACEHOLDER.fullmatch(name) is not None


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True)
class Template:
    """One mode's prompt: an optional system part and a user part, validated at construction."""

    mode: str
    user: str
    system: str | None = None
    _user_segments: tuple[_Segment, ...] = field(init=False, repr=False, compare=False)
    _system_segments: tuple[_Segment, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise TemplateError(f"unknown mode {self.mode!r}; known: {', '.join(MODES)}")
        # Normalise the same way the file loader does so an imported template and the file it is
        # dumped to have one fingerprint.
        object.__setattr__(self, "user", self.user.strip("\n"))
        if self.system is not None:
            object.__setattr__(self, "system", self.system.strip("\n") or None)
        if not self.user.strip():
            raise TemplateError(f"{self.mode}: the user part is empty")
        object.__setattr__(self, "_user_segments", _parse_format(self.user, where=f"{self.mode} [user]"))
        object.__setattr__(
            self,
            "_system_segments",
            _parse_format(self.system, where=f"{self.mode} [system]") if self.system else (),
        )

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(
            s.name for s in (*self._system_segments, *self._user_segments) if isinstance(s, _Field)
        )

    @property
    def fingerprint(self) -> str:
        """sha256 of the text sent to the judge (mode-independent), for the judgment cache."""
        canonical = json.dumps({"system": self.system, "user": self.user}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_text(self, comment: str = "") -> str:
        """The template as a file in the format described in the module docstring."""
        lines = [f"# {line}".rstrip() for line in comment.splitlines()]
        if self.system is not None:
            lines += ["[system]", self.system]
        lines += ["[user]", self.user]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TemplateSet:
    name: str
    templates: Mapping[str, Template]

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(m for m in MODES if m in self.templates)

    def template(self, mode: str) -> Template:
        try:
            return self.templates[mode]
        except KeyError:
            raise TemplateError(
                f"template set {self.name!r} has no mode {mode!r}; it has: {', '.join(self.modes)}"
            ) from None

    @property
    def fingerprint(self) -> str:
        """sha256 over every mode's template fingerprint: changes when any template text changes."""
        digest = hashlib.sha256()
        for mode in sorted(self.templates):
            digest.update(f"{mode}\0{self.templates[mode].fingerprint}\n".encode())
        return digest.hexdigest()


def parse_template(text: str, *, mode: str) -> Template:
    """Parse one template file's text (format in the module docstring)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _SECTION_HEADERS.get(line.rstrip())
        if header is not None:
            if header in sections:
                raise TemplateError(f"{mode}: line {number}: second [{header}] section")
            sections[header] = []
            current = header
        elif current is None:
            if line.strip() and not line.lstrip().startswith("#"):
                raise TemplateError(f"{mode}: line {number}: text before the first [system]/[user] header")
        else:
            sections[current].append(line)
    if "user" not in sections:
        raise TemplateError(f"{mode}: no [user] section")
    system = "\n".join(sections["system"]) if "system" in sections else None
    return Template(mode=mode, system=system, user="\n".join(sections["user"]))


def load_template_set(name_or_dir: str | Path) -> TemplateSet:
    """Load a bundled set by name (``arena-v1``, ``mt-bench``) or any directory of ``<mode>.txt`` files.

    Files whose stem is not a known mode are refused rather than ignored, so a misspelt mode
    file cannot silently leave a mode missing.
    """
    path = Path(name_or_dir)
    if not path.is_dir():
        if isinstance(name_or_dir, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name_or_dir):
            path = TEMPLATES_DIR / name_or_dir
        if not path.is_dir():
            raise TemplateError(f"no template set {str(name_or_dir)!r} (looked in {TEMPLATES_DIR})")
    templates: dict[str, Template] = {}
    for file in sorted(path.glob("*.txt")):
        if file.stem not in MODES:
            raise TemplateError(f"{file}: {file.stem!r} is not a mode; known: {', '.join(MODES)}")
        templates[file.stem] = parse_template(file.read_text(encoding="utf-8"), mode=file.stem)
    if not templates:
        raise TemplateError(f"template set {path} has no <mode>.txt files")
    return TemplateSet(name=path.name, templates=templates)


def write_template_set(template_set: TemplateSet, directory: Path, *, comment: str = "") -> None:
    """Write each template as ``<mode>.txt`` (used to store the imported MT-Bench set)."""
    directory.mkdir(parents=True, exist_ok=True)
    for mode in template_set.modes:
        header = f"{template_set.name} / {mode}" + (f"\n{comment}" if comment else "")
        (directory / f"{mode}.txt").write_text(template_set.templates[mode].to_text(header), encoding="utf-8")


def template_fingerprint(template_set: TemplateSet, mode: str) -> str:
    """Stable hash of the text of the template used for ``mode`` (part of the judgment cache key)."""
    return template_set.template(mode).fingerprint


def choose_mode(kind: JudgeKind, *, turn: int, has_reference: bool) -> str:
    """The template mode for a kind of judgment on a turn, with or without a reference answer.

    Turn 1 uses the one-turn templates; later turns the multi-turn ones (MT-Bench's convention:
    the judge sees the whole conversation and focuses on the last turn). ``grade`` and ``hhh``
    render the conversation up to the judged turn and take no reference.
    """
    if turn < 1:
        raise ValueError(f"turn must be >= 1, got {turn}")
    if kind in _ONE_MODE_KINDS:
        return _ONE_MODE_KINDS[kind]
    if kind not in ("pairwise", "single"):
        raise ValueError(f"unknown judge kind {kind!r}")
    mode: str = kind
    if has_reference:
        mode += "-reference"
    if turn > 1:
        mode += "-multi-turn"
    return mode


def output_kind(mode: str) -> JudgeKind:
    """Which verdict format a mode's judge writes (which parser reads it)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    for kind, one_mode in _ONE_MODE_KINDS.items():
        if mode == one_mode:
            return kind
    if mode.startswith("pairwise"):
        return "pairwise"
    if mode.startswith("single"):
        return "single"
    raise AssertionError(mode)  # pragma: no cover - every mode starts with a kind


def _transcript(questions: Sequence[str], replies: Sequence[str], *, reply_role: str, upto: int) -> str:
    parts: list[str] = []
    for number in range(1, upto + 1):
        parts.append(f"--- turn {number}, user ---\n{questions[number - 1]}")
        parts.append(f"--- turn {number}, {reply_role} ---\n{replies[number - 1]}")
    return "\n\n".join(parts)


def _value(name: str, request: JudgeRequest) -> str:
    """The text for one placeholder, or RenderError when the request does not carry it."""
    turn = request.turn
    sources: dict[str, Sequence[str] | None] = {
        "question": request.question_turns,
        "answer_a": request.answer_a_turns,
        "answer": request.answer_a_turns,
        "answer_b": request.answer_b_turns,
        "reference": request.reference_turns,
    }
    if name == "turn":
        return str(turn)
    if name in sources:
        turns = sources[name]
        if turns is None:
            raise RenderError(
                f"the template needs {{{name}}} but the request has no {name.replace('_', ' ')}"
            )
        return turns[turn - 1]
    numbered = _TURN_PLACEHOLDER.fullmatch(name)
    if numbered:
        base, number = numbered.group(1), int(numbered.group(2))
        turns = sources[base]
        if turns is None:
            raise RenderError(
                f"the template needs {{{name}}} but the request has no {base.replace('_', ' ')}"
            )
        if number > turn:
            raise RenderError(f"the template needs {{{name}}} but turn {turn} is judged")
        return turns[number - 1]
    if name in ("conversation", "conversation_a"):
        return _transcript(request.question_turns, request.answer_a_turns, reply_role="assistant", upto=turn)
    if name == "conversation_b":
        if request.answer_b_turns is None:
            raise RenderError("the template needs {conversation_b} but the request has no answer B")
        return _transcript(request.question_turns, request.answer_b_turns, reply_role="assistant", upto=turn)
    if name == "reference_conversation":
        if request.reference_turns is None:
            raise RenderError("the template needs {reference_conversation} but the request has no reference")
        return _transcript(
            request.question_turns, request.reference_turns, reply_role="reference answer", upto=turn
        )
    raise RenderError(f"unknown placeholder {{{name}}}")  # pragma: no cover - refused at load


def _substitute(segments: Sequence[_Segment], request: JudgeRequest) -> str:
    # One pass: a value is appended as-is and never parsed, which is what keeps answers inert.
    return "".join(s.text if isinstance(s, _Literal) else _value(s.name, request) for s in segments)


def render(template_set: TemplateSet, mode: str, request: JudgeRequest) -> list[ChatMessage]:
    """The chat messages to send to the judge for ``request`` in ``mode``."""
    template = template_set.template(mode)
    kind = output_kind(mode)
    if kind in ("pairwise", "hhh", "five_level", "logprob") and request.answer_b_turns is None:
        raise RenderError(f"mode {mode!r} compares two answers; the request has no answer B")
    if "reference" in mode and request.reference_turns is None:
        raise RenderError(f"mode {mode!r} needs a reference answer")
    messages: list[ChatMessage] = []
    if template._system_segments:
        messages.append({"role": "system", "content": _substitute(template._system_segments, request)})
    messages.append({"role": "user", "content": _substitute(template._user_segments, request)})
    return messages


def import_mt_bench_judge_prompts(jsonl_text: str, *, name: str = "mt-bench") -> TemplateSet:
    """Convert FastChat's ``llm_judge/data/judge_prompts.jsonl`` into a template set of our modes.

    The text is kept as MT-Bench wrote it; only ``ref_answer_N`` placeholders are renamed to
    ``reference_N``. Rows with names we do not know are refused so a newer file is not
    half-imported without anyone noticing.
    """
    templates: dict[str, Template] = {}
    for number, line in enumerate(jsonl_text.splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        prompt_name = row.get("name")
        mode = MT_BENCH_MODES.get(prompt_name)
        if mode is None:
            raise TemplateError(f"line {number}: unknown MT-Bench judge prompt {prompt_name!r}")
        if mode in templates:
            raise TemplateError(f"line {number}: {prompt_name!r} appears twice")
        templates[mode] = Template(
            mode=mode,
            system=_rename_fields(row["system_prompt"], where=prompt_name) or None,
            user=_rename_fields(row["prompt_template"], where=prompt_name),
        )
    missing = set(MT_BENCH_MODES.values()) - set(templates)
    if missing:
        raise TemplateError(f"MT-Bench judge prompts lack modes: {', '.join(sorted(missing))}")
    return TemplateSet(name=name, templates=templates)


def _rename_fields(text: str, *, where: str) -> str:
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc}") from exc
    for literal, name, spec, conversion in parsed:
        out.append(_escape_braces(literal))
        if name is not None:
            if spec or conversion:
                raise TemplateError(f"{where}: placeholder {{{name}}} carries a format spec")
            out.append("{" + _MT_BENCH_RENAMES.get(name, name) + "}")
    return "".join(out)
