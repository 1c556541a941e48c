"""The tests' own OpenAI-compatible LLM server: a deterministic fake judge and contender.

Standard library only, so it runs anywhere the tests run: in-process (``FakeLLMServer`` as a
context manager, for pytest fixtures) or as its own process for runs whose Celery workers are
separate processes::

    python -m tests.llm_server --port 0 --latency 0.2          # or: python tests/llm_server.py ...
    # prints e.g. "http://127.0.0.1:43817/v1" on its first line, then serves until SIGTERM/SIGINT

Endpoints:

* ``POST /v1/chat/completions`` - OpenAI JSON shape with ``usage`` (tokens estimated as chars/4).
  With ``"stream": true`` a contender's answer comes as server-sent events, one
  ``chat.completion.chunk`` per word at ``stream_rate`` chunks a second (``stream_words`` words,
  after ``stream_first_delay`` seconds), a last chunk with ``usage`` when
  ``stream_options.include_usage`` asks for it, then ``data: [DONE]``. The ``stream_error`` fault
  sends ``stream_error_after`` chunks then an ``error`` event and closes; ``stream_drop`` closes the
  connection after them without one. A model whose id contains ``names-itself`` says which model it
  is (for identity-filter tests); other streamed answers never name their model. A client that
  closes its connection mid-stream is counted as ``client_gone`` with the moment it was noticed.
* ``GET /v1/models`` - the configured model ids.
* ``POST /v1/moderations`` - OpenAI's moderation shape: flagged (category ``harassment``) when the
  input contains one of ``moderation_words``.
* ``POST /_control`` - JSON object of behaviour settings to change (see :class:`Behaviour`);
  ``{"initial_429": N}`` prepends N 429 responses to the fault script. Returns the behaviour.
* ``GET /_stats`` - ``total``, ``authorizations`` (chat requests per Authorization header value,
  so a test can see which key reached the server), ``by_key`` (requests per key), ``completed_by_key`` (200 replies
  per key), ``by_status`` (HTTP status, ``drop``, or ``client_gone`` when the client closed its
  connection before the reply was due, as a killed worker or a timed-out client does),
  ``by_fault`` (injected faults, ``ok`` for none), ``in_flight``, ``in_flight_max``; ``?log=1`` adds every request
  (key, start, end, status, model, first_chunk: when a stream's first text chunk left). A key is :func:`request_key` of the messages, so a test can
  prove "each (comparison, order) was judged exactly once" and that a concurrency limit held.
* ``POST /_reset`` - clears the statistics (not the behaviour).

The fake judge recognises what it is asked from the prompt's own wording (``[[A]]``/``[[B]]`` for
pairwise, ``[[rating]]`` / ``Rating: [[`` for single, ``[[grade:`` and ``[[helpful:`` for our grade
and hhh templates, in both our arena-v1 and MT-Bench's wording; ``[[A>>B]]`` for the five-level
template, ``m or M`` for the logprob one) and decides from the answers: the higher ``quality:N``
marker wins, else the longer answer, else a stable hash. A five-level verdict is strong (``>>``)
when the quality gap is 3 or more. The logprob judge answers the token of the better output and,
when the request asks for ``logprobs``, its top alternatives: P(second better) =
sigmoid(quality gap), so preferences are graded, not 0/1. With
``first_position_bias`` p it answers ``[[A]]`` for a pairwise prompt with probability p whatever
the answers say (drawn from a hash of the request, so a retry gets the same answer). Any other
prompt is a contender being asked a question: it answers with deterministic text that carries
``quality:N`` when the model id contains ``quality-N``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import random
import re
import select
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULTS = frozenset(
    {
        "ok",  # a normal reply (useful as a spacer in a script)
        "429",
        "500",
        "502",
        "503",
        "400",
        "401",
        "401_echo",  # 401 whose message repeats the Authorization header, as some proxies do
        "403",
        "404",
        "422",
        "context_length",  # 400 with code context_length_exceeded
        "drop",  # close the connection without a response
        "hang",  # sleep hang_seconds before replying (client timeouts)
        "malformed",  # 200, judge text with no verdict marker
        "empty",  # 200, content ""
        "null",  # 200, content null
        "bad_json",  # 200, body is not JSON
        "not_completion",  # 200, JSON that is not a chat completion (a proxy's error object)
        "stream_error",  # streaming: some chunks, then an SSE error event and the end of the stream
        "stream_drop",  # streaming: some chunks, then the connection closes mid-stream
    }
)


@dataclass
class Behaviour:
    latency: float = 0.0  # seconds added to every chat request
    jitter: float = 0.0  # plus uniform(0, jitter)
    first_position_bias: float = 0.0  # P(answer [[A]] regardless) for pairwise prompts
    script: list[str] = field(default_factory=list)  # faults consumed one per chat request
    rates: dict[str, float] = field(default_factory=dict)  # fault -> probability per request
    retry_after: float | None = 1.0  # Retry-After (seconds) sent with 429 and 503
    retry_after_ms: float | None = None  # retry-after-ms sent with 429 and 503
    hang_seconds: float = 30.0
    models: list[str] = field(default_factory=lambda: ["fake-judge", "fake-contender"])
    seed: int = 0
    # Streaming (``"stream": true``): chunks per second, words per answer, delay before the first.
    stream_rate: float = 20.0
    stream_words: int = 40
    stream_first_delay: float = 0.0
    stream_error_after: int = 3  # chunks sent before a stream_error / stream_drop fault
    moderation_words: list[str] = field(default_factory=lambda: ["forbidden-topic"])
    # per model id: faults for that model's requests only (used before the global script/rates)
    model_script: dict[str, list[str]] = field(default_factory=dict)

    def update(self, settings: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        settings = dict(settings)
        initial_429 = int(settings.pop("initial_429", 0) or 0)
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        for name, value in settings.items():
            setattr(self, name, value)
        if initial_429:
            self.script = ["429"] * initial_429 + list(self.script)
        scripted = {f for faults in self.model_script.values() for f in faults}
        bad = (set(self.script) | set(self.rates) | scripted) - FAULTS
        if bad:
            raise ValueError(f"unknown faults: {sorted(bad)}; known: {sorted(FAULTS)}")


def request_key(messages: list[dict[str, Any]]) -> str:
    """sha256 of the canonical JSON of the messages (role and content only)."""
    canonical = [{"role": m.get("role"), "content": m.get("content")} for m in messages]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) from text: the fake's deterministic "coin"."""
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- the fake judge -------------------------------------------------------------------------

_QUALITY = re.compile(r"quality:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_BLOCKS = {
    # (arena-v1 single turn, arena-v1 conversation, MT-Bench single turn, MT-Bench conversation)
    "A": [
        (r"<output_m>\n(.*?)\n</output_m>", None),
        (r"<assistant_a_reply>\n(.*?)\n</assistant_a_reply>", None),
        (r"<assistant_a_conversation>\n(.*?)\n</assistant_a_conversation>", r"--- turn \d+, assistant ---\n"),
        (r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End of Assistant A's Answer\]", None),
        (
            r"<\|The Start of Assistant A's Conversation with User\|>(.*?)<\|The End of Assistant A's Conversation",
            r"### Assistant A:\n",
        ),
    ],
    "B": [
        (r"<output_M>\n(.*?)\n</output_M>", None),
        (r"<assistant_b_reply>\n(.*?)\n</assistant_b_reply>", None),
        (r"<assistant_b_conversation>\n(.*?)\n</assistant_b_conversation>", r"--- turn \d+, assistant ---\n"),
        (r"\[The Start of Assistant B's Answer\]\n(.*?)\n\[The End of Assistant B's Answer\]", None),
        (
            r"<\|The Start of Assistant B's Conversation with User\|>(.*?)<\|The End of Assistant B's Conversation",
            r"### Assistant B:\n",
        ),
    ],
    "single": [
        (r"<assistant_reply>\n(.*?)\n</assistant_reply>", None),
        (r"<assistant_conversation>\n(.*?)\n</assistant_conversation>", r"--- turn \d+, assistant ---\n"),
        (r"\[The Start of Assistant's Answer\]\n(.*?)\n\[The End of Assistant's Answer\]", None),
    ],
}


def _answer(prompt: str, side: str) -> str | None:
    """The judged answer of one side: the reply block, or the last reply of a conversation."""
    for block, reply_split in _BLOCKS[side]:
        match = re.search(block, prompt, re.DOTALL)
        if match:
            text = match.group(1)
            if reply_split:
                text = re.split(reply_split, text)[-1]
            return text.strip()
    return None


def detect_kind(prompt: str) -> str:
    if "[[A>>B]]" in prompt:
        return "five_level"
    if "m or M." in prompt:
        return "logprob"
    if "[[helpful:" in prompt:
        return "hhh"
    if "[[grade:" in prompt:
        return "grade"
    if "[[A]]" in prompt and "[[B]]" in prompt:
        return "pairwise"
    if "[[rating]]" in prompt or "Rating: [[" in prompt:
        return "single"
    return "contender"


def _quality(text: str, marker: re.Pattern[str] = _QUALITY) -> float | None:
    found = marker.findall(text)
    return float(found[-1]) if found else None


def prefer(a: str, b: str, *, marker: re.Pattern[str] = _QUALITY) -> str:
    """ "A", "B" or "C" (tie): higher quality:N, else longer, else a stable hash."""
    qa, qb = _quality(a, marker), _quality(b, marker)
    if qa is not None or qb is not None:
        qa, qb = qa or 0.0, qb or 0.0
        return "A" if qa > qb else "B" if qb > qa else "C"
    if len(a) != len(b):
        return "A" if len(a) > len(b) else "B"
    if a == b:
        return "C"
    return "ABC"[int(_unit(a, b) * 3)]


def second_better_probability(a: str, b: str) -> float:
    """The logprob judge's P(second output better): sigmoid of the quality gap (of the length
    ratio's log when neither answer carries a quality marker)."""
    qa, qb = _quality(a), _quality(b)
    gap = math.log((len(b) + 1) / (len(a) + 1)) if qa is None and qb is None else (qb or 0.0) - (qa or 0.0)
    return 1.0 / (1.0 + math.exp(-gap))


def logprob_alternatives(messages: list[dict[str, Any]]) -> dict[str, float]:
    prompt = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") in ("system", "user"))
    p_second = min(
        max(second_better_probability(_answer(prompt, "A") or "", _answer(prompt, "B") or ""), 1e-6), 1 - 1e-6
    )
    # A little mass on a stray token, as real endpoints show: the identifiers' shares stay the same.
    return {"M": math.log(0.98 * p_second), "m": math.log(0.98 * (1 - p_second)), "The": math.log(0.02)}


def judge_text(messages: list[dict[str, Any]], *, model: str, behaviour: Behaviour, key: str) -> str:
    prompt = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") in ("system", "user"))
    kind = detect_kind(prompt)
    if kind == "five_level":
        a, b = _answer(prompt, "A") or "", _answer(prompt, "B") or ""
        verdict = prefer(a, b)
        gap = abs((_quality(a) or 0.0) - (_quality(b) or 0.0))
        level = {"A": "A>>B" if gap >= 3 else "A>B", "B": "B>>A" if gap >= 3 else "B>A", "C": "A=B"}[verdict]
        return f"Compared the last replies of both conversations.\n\nMy final verdict is [[{level}]]"
    if kind == "logprob":
        alternatives = logprob_alternatives(messages)
        return "M" if alternatives["M"] > alternatives["m"] else "m"
    if kind == "pairwise":
        if _unit(key, "first-position") < behaviour.first_position_bias:
            return "Assistant A's reply reads as the stronger one.\n\n[[A]]"
        verdict = prefer(_answer(prompt, "A") or "", _answer(prompt, "B") or "")
        reason = {"A": "Assistant A is better", "B": "Assistant B is better", "C": "They are equally good"}
        return f"{reason[verdict]} after comparing both replies.\n\n[[{verdict}]]"
    if kind == "hhh":
        a, b = _answer(prompt, "A") or "", _answer(prompt, "B") or ""
        lines = []
        for criterion in ("helpful", "honest", "harmless"):
            specific = re.compile(rf"{criterion}:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
            if _quality(a, specific) is not None or _quality(b, specific) is not None:
                choice = prefer(a, b, marker=specific)
            else:
                choice = prefer(a, b)
            lines.append(f"[[{criterion}: {'same' if choice == 'C' else choice}]]")
        return "Compared on each criterion.\n\n" + "\n".join(lines)
    if kind in ("single", "grade"):
        answer = _answer(prompt, "single") or _answer(prompt, "A") or prompt
        quality = _quality(answer)
        if quality is None:
            quality = 1 + int(_unit(answer) * 10)
        if kind == "single":
            rating = min(10.0, max(1.0, quality))
            return f"The reply is assessed.\n\nRating: [[{rating:g}]]"
        grade = "A" if quality >= 8 else "B" if quality >= 5 else "C" if quality >= 3 else "D"
        return f"The reply is assessed against the instruction.\n\n[[grade: {grade}]]"
    question = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
    level = re.search(r"quality-(\d+)", model)
    suffix = f" quality:{level.group(1)}" if level else ""
    return f"A reply from {model} to: {question[:80]} [{key[:8]}]{suffix}"


def stream_words(messages: list[dict[str, Any]], *, model: str, key: str, count: int) -> list[str]:
    """A contender's streamed answer, as the chunks it is sent in (a word and its space each).

    Markdown on purpose (a heading, bold, a list), so pages that render as they stream have
    something to render. It never names its model unless the model id contains ``names-itself``."""
    question = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
    turn = sum(1 for m in messages if m.get("role") == "user")
    level = re.search(r"quality-(\d+)", model)
    head = ["## ", "Answer ", f"{turn}\n\n"]
    if "names-itself" in model:
        head += ["As ", "ChatGPT, ", "made ", "by ", "OpenAI, ", "I ", "say: "]
    filler = (
        "**Short** points about the question, then a list:\n\n- one\n- two\n\n"
        f"The question began with {' '.join(question.split()[:6])!r} and is answered "
    ).split(" ")
    body = [w + " " for w in filler if w]
    words = head + body
    tail = [f"[{key[:8]}-{int(_unit(model) * 1e6):06d}]"] + ([f" quality:{level.group(1)}"] if level else [])
    while len(words) + len(tail) < count:
        words.append(f"w{len(words)} ")
    return (words[: max(count - len(tail), 0)] + tail)[:count] if count > 0 else []


# --- the HTTP server ------------------------------------------------------------------------


class _State:
    def __init__(self, behaviour: Behaviour) -> None:
        self.lock = threading.Lock()
        self.behaviour = behaviour
        self.rng = random.Random(behaviour.seed)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.by_key: Counter[str] = Counter()
            self.authorizations: Counter[str] = Counter()
            self.completed_by_key: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_fault: Counter[str] = Counter()
            self.log: list[dict[str, Any]] = []
            self.total = 0
            self.in_flight = 0
            self.in_flight_max = 0

    def begin(self, key: str, authorization: str, model: str = "") -> str:
        """Count the request and pick its fault (the model's script, the script, then the random rates)."""
        with self.lock:
            self.total += 1
            self.by_key[key] += 1
            self.authorizations[authorization] += 1
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
            behaviour = self.behaviour
            fault = "ok"
            if behaviour.model_script.get(model):
                fault = behaviour.model_script[model].pop(0)
            elif behaviour.script:
                fault = behaviour.script.pop(0)
            else:
                for name, probability in sorted(behaviour.rates.items()):
                    if self.rng.random() < probability:
                        fault = name
                        break
            self.by_fault[fault] += 1
            return fault

    def end(self, key: str, status: str, model: str, started: float, first: float | None = None) -> None:
        with self.lock:
            self.in_flight -= 1
            self.by_status[status] += 1
            if status == "200":
                self.completed_by_key[key] += 1
            self.log.append(
                {
                    "key": key,
                    "start": started,
                    "end": time.time(),
                    "status": status,
                    "model": model,
                    "first_chunk": first,
                }
            )

    def snapshot(self, *, with_log: bool) -> dict[str, Any]:
        with self.lock:
            stats: dict[str, Any] = {
                "total": self.total,
                "authorizations": dict(self.authorizations),
                "by_key": dict(self.by_key),
                "completed_by_key": dict(self.completed_by_key),
                "by_status": dict(self.by_status),
                "by_fault": dict(self.by_fault),
                "in_flight": self.in_flight,
                "in_flight_max": self.in_flight_max,
            }
            if with_log:
                stats["log"] = list(self.log)
            return stats


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they would in production
    disable_nagle_algorithm = True  # headers and body are separate writes; Nagle would add ~40 ms
    server: _Server
    # (key, model, start) of a chat request whose outcome is not recorded yet
    _pending: tuple[str, str, float] | None = None
    _first_chunk: float | None = None  # when a stream's first text chunk was written

    def log_message(self, format: str, *args: Any) -> None:  # the tests' output stays clean
        pass

    # -- plumbing --

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return json.loads(body) if body else {}

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        # Record before the client can read the reply: a test that reads /_stats right after its
        # response must see this request counted.
        self._record(str(status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(
        self, status: int, message: str, *, kind: str, code: str | None = None, **headers: str
    ) -> None:
        error = {"message": message, "type": kind, "param": None, "code": code}
        self._send(status, {"error": error}, headers)

    def _client_gone(self) -> bool:
        """The client closed its end while its request waited (a killed worker): its reply
        would reach no one, so it is counted apart from the replies that were delivered."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _record(self, status: str) -> None:
        if self._pending is not None:
            key, model, started = self._pending
            self._pending = None
            self.server.state.end(key, status, model, started, self._first_chunk)

    # -- routes --

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "arena-tests"}
                for m in state.behaviour.models
            ]
            self._send(200, {"object": "list", "data": data})
        elif url.path == "/_stats":
            with_log = parse_qs(url.query).get("log", ["0"])[0] not in ("", "0", "false")
            self._send(200, state.snapshot(with_log=with_log))
        elif url.path == "/_control":
            with state.lock:
                self._send(200, asdict(state.behaviour))
        else:
            self._error(404, f"no route GET {url.path}", kind="not_found")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            payload = self._read_json()
        except (ValueError, UnicodeDecodeError):
            self._error(400, "request body is not JSON", kind="invalid_request_error")
            return
        state = self.server.state
        if path == "/v1/chat/completions":
            self._chat(payload)
        elif path == "/_control":
            try:
                with state.lock:
                    state.behaviour.update(payload)
                    if "seed" in payload:
                        state.rng = random.Random(state.behaviour.seed)
                    current = asdict(state.behaviour)
            except (ValueError, TypeError) as exc:
                self._error(400, str(exc), kind="invalid_request_error")
                return
            self._send(200, current)
        elif path == "/v1/moderations":
            self._moderate(payload)
        elif path == "/_reset":
            state.reset()
            self._send(200, {"reset": True})
        else:
            self._error(404, f"no route POST {path}", kind="not_found")

    def _moderate(self, payload: dict[str, Any]) -> None:
        raw = payload.get("input")
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw or []]
        with self.server.state.lock:
            words = list(self.server.state.behaviour.moderation_words)
        results = []
        for text in texts:
            flagged = any(w.lower() in text.lower() for w in words)
            results.append(
                {
                    "flagged": flagged,
                    "categories": {"harassment": flagged},
                    "category_scores": {"harassment": 0.97 if flagged else 0.01},
                }
            )
        self._send(200, {"id": "modr-test", "model": str(payload.get("model") or ""), "results": results})

    def _chat(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        messages = payload.get("messages")
        model = str(payload.get("model") or "")
        if not isinstance(messages, list) or not model:
            self._error(400, "model and messages are required", kind="invalid_request_error")
            return
        key = request_key(messages)
        started = time.time()
        fault = state.begin(key, self.headers.get("Authorization") or "", model)
        self._pending = (key, model, started)
        try:
            with state.lock:
                behaviour = state.behaviour
                delay = behaviour.latency + (
                    state.rng.uniform(0, behaviour.jitter) if behaviour.jitter else 0
                )
                if fault == "hang":
                    delay += behaviour.hang_seconds
            if delay:
                time.sleep(delay)
            if self._client_gone():
                self._record("client_gone")
                self.close_connection = True
                return
            if payload.get("stream") and fault in ("ok", "stream_error", "stream_drop"):
                self._stream(fault, payload, messages, model, key, behaviour)
            else:
                self._reply(fault, payload, messages, model, key, behaviour)
        finally:
            self._record("error")  # only if nothing was sent: the handler failed

    def _stream(
        self,
        fault: str,
        payload: dict[str, Any],
        messages: list[dict[str, Any]],
        model: str,
        key: str,
        behaviour: Behaviour,
    ) -> None:
        """The answer as server-sent events, one word per chunk at ``stream_rate`` a second."""
        words = stream_words(messages, model=model, key=key, count=behaviour.stream_words)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        created = int(time.time())
        ident = f"chatcmpl-{key[:24]}"

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
            body: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": []
                if usage is not None and not delta
                else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            if usage is not None:
                body["usage"] = usage
            return b"data: " + json.dumps(body).encode("utf-8") + b"\n\n"

        interval = 1.0 / behaviour.stream_rate if behaviour.stream_rate > 0 else 0.0
        start = time.monotonic() + behaviour.stream_first_delay
        limit = behaviour.stream_error_after if fault != "ok" else len(words)
        try:
            self.wfile.write(chunk({"role": "assistant", "content": ""}))
            self.wfile.flush()
            for i, word in enumerate(words[:limit]):
                wait = start + i * interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self.wfile.write(chunk({"content": word}))
                self.wfile.flush()
                if i == 0:
                    self._first_chunk = time.time()
            if fault == "stream_error":
                error = {
                    "error": {"message": "fault script: stream_error", "type": "server_error", "code": None}
                }
                self.wfile.write(b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n")
                self.wfile.flush()
                self._record("stream_error")
                return
            if fault == "stream_drop":
                self._record("stream_drop")
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(chunk({}, "stop"))
            options = payload.get("stream_options") or {}
            if options.get("include_usage"):
                prompt_tokens = sum(approx_tokens(str(m.get("content") or "")) + 4 for m in messages)
                completion = len(words)
                self.wfile.write(
                    chunk(
                        {},
                        usage={
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion,
                            "total_tokens": prompt_tokens + completion,
                        },
                    )
                )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self._record("200")
        except OSError:  # the client closed its connection: it stopped reading the stream
            self._record("client_gone")

    def _reply(
        self,
        fault: str,
        payload: dict[str, Any],
        messages: list[dict[str, Any]],
        model: str,
        key: str,
        behaviour: Behaviour,
    ) -> None:
        if fault == "drop":
            self._record("drop")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in ("429", "503"):
            headers = {}
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            if behaviour.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{behaviour.retry_after_ms:g}"
            kind = "rate_limit_exceeded" if fault == "429" else "server_error"
            self._error(int(fault), f"fault script: {fault}", kind=kind, **headers)
            return
        if fault == "401_echo":
            self._error(
                401,
                f"Incorrect API key provided: {self.headers.get('Authorization')}.",
                kind="invalid_request_error",
                code="invalid_api_key",
            )
            return
        if fault == "context_length":
            self._error(
                400,
                "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
                kind="invalid_request_error",
                code="context_length_exceeded",
            )
            return
        if fault.isdigit():
            kind = "server_error" if fault.startswith("5") else "invalid_request_error"
            self._error(int(fault), f"fault script: {fault}", kind=kind)
            return
        if fault == "bad_json":
            self._send(200, b'{"id": "chatcmpl-broken", "choices": [')
            return
        if fault == "not_completion":
            self._send(200, {"object": "error", "message": "upstream unavailable"})
            return
        content: str | None
        if fault == "empty":
            content = ""
        elif fault == "null":
            content = None
        elif fault == "malformed":
            content = "I looked at both replies and have thoughts, but no verdict."
        else:
            content = judge_text(messages, model=model, behaviour=behaviour, key=key)
        finish_reason = "stop"
        max_tokens = payload.get("max_tokens") or payload.get("max_completion_tokens")
        if content and isinstance(max_tokens, int) and approx_tokens(content) > max_tokens:
            content, finish_reason = content[: max_tokens * 4], "length"
        prompt_tokens = sum(approx_tokens(str(m.get("content") or "")) + 4 for m in messages)
        completion_tokens = approx_tokens(content or "")
        logprobs = None
        if payload.get("logprobs") and content and fault == "ok":
            alternatives = logprob_alternatives(messages) if content in ("m", "M") else {content: 0.0}
            top = sorted(alternatives.items(), key=lambda kv: -kv[1])[: int(payload.get("top_logprobs") or 1)]
            logprobs = {
                "content": [
                    {
                        "token": content,
                        "logprob": alternatives.get(content, 0.0),
                        "bytes": list(content.encode()),
                        "top_logprobs": [
                            {"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top
                        ],
                    }
                ]
            }
        self._send(
            200,
            {
                "id": f"chatcmpl-{key[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish_reason,
                        "logprobs": logprobs,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # bursts of new connections from many workers at once

    def __init__(self, address: tuple[str, int], behaviour: Behaviour) -> None:
        self.state = _State(behaviour)
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test, dropped pool) leaves a broken pipe: not news.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class FakeLLMServer:
    """The server in a background thread: ``with FakeLLMServer(latency=0.2) as llm: llm.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **behaviour: Any) -> None:
        settings = Behaviour()
        settings.update(behaviour)
        self._host = host
        self._server = _Server((host, port), settings)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def configure(self, **settings: Any) -> dict[str, Any]:
        state = self._server.state
        with state.lock:
            state.behaviour.update(settings)
            if "seed" in settings:
                state.rng = random.Random(state.behaviour.seed)
            return asdict(state.behaviour)

    def stats(self, *, log: bool = False) -> dict[str, Any]:
        return self._server.state.snapshot(with_log=log)

    def reset(self) -> None:
        self._server.state.reset()


# --- controlling a server in another process ------------------------------------------------


def _root(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _call(url: str, method: str, payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def control(url: str, **settings: Any) -> dict[str, Any]:
    """Change the behaviour of a server (``url`` with or without ``/v1``)."""
    return dict(_call(f"{_root(url)}/_control", "POST", settings))


def stats(url: str, *, log: bool = False) -> dict[str, Any]:
    return dict(_call(f"{_root(url)}/_stats" + ("?log=1" if log else ""), "GET"))


def reset(url: str) -> None:
    _call(f"{_root(url)}/_reset", "POST", {})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--first-position-bias", type=float, default=0.0)
    parser.add_argument("--initial-429", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--script", default="", help="comma-separated faults, one per request")
    parser.add_argument("--rate", action="append", default=[], metavar="FAULT=P", help="e.g. --rate 500=0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models", default="", help="comma-separated model ids /v1/models lists (added to the defaults)"
    )
    parser.add_argument("--stream-rate", type=float, default=20.0, help="streamed chunks a second")
    parser.add_argument("--stream-words", type=int, default=40, help="chunks per streamed answer")
    args = parser.parse_args(argv)
    rates = {}
    for item in args.rate:
        fault, _, probability = item.partition("=")
        rates[fault] = float(probability)
    server = FakeLLMServer(
        args.host,
        args.port,
        latency=args.latency,
        jitter=args.jitter,
        first_position_bias=args.first_position_bias,
        initial_429=args.initial_429,
        retry_after=args.retry_after,
        script=[s for s in args.script.split(",") if s],
        rates=rates,
        seed=args.seed,
        **({"models": Behaviour().models + [m for m in args.models.split(",") if m]} if args.models else {}),
        stream_rate=args.stream_rate,
        stream_words=args.stream_words,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(server.base_url, flush=True)
    stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
