"""The chat client for judges and contenders: the only module in the project that imports ``openai``.

Callers depend on the small :class:`ChatClient` protocol; :class:`OpenAIChatClient` implements it
for any OpenAI-compatible endpoint. Errors come out as two kinds so the caller's retry policy is
simple: :class:`TransientLLMError` (retry later, honouring ``retry_after``) and
:class:`PermanentLLMError` (retrying the same request cannot help). The SDK's own retries are off
(``max_retries=0``): retries belong to the caller, which also holds the cross-worker rate limits
(``arena.limits``) and must count every attempt against them.

Streaming (the live battles) goes through the SDK's async client: :class:`AsyncStreamingClient`
yields the answer's text as the endpoint sends it, then one :class:`StreamEnd` with the tokens and
timings; closing the generator (a cancelled task, a browser gone) closes the upstream connection,
so the endpoint stops generating for nobody.

Error texts come from the endpoint and may echo the key it was sent (a 401 that repeats
``Bearer sk-…``): every message is passed through ``arena.keys.redact`` with the client's own key
before it leaves this module, so what callers store, show and log carries no key.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import httpx2  # the SDK's HTTP library: its client and transports are what the SDK accepts
import openai
import pydantic

from arena.keys import redact
from judge.backoff import retry_after_seconds
from judge.prompts import ChatMessage

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, llama.cpp, Ollama, our test server) ignore the key, but the SDK refuses to
# start without one.
PLACEHOLDER_API_KEY = "sk-no-key-required"

_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})
_PERMANENT_KINDS = {
    400: "bad_request",
    401: "auth",
    403: "forbidden",
    404: "not_found",
    422: "unprocessable",
}


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    model: str
    finish_reason: str | None
    latency_s: float
    # With ``logprobs`` asked for: the first output token's alternatives, token -> log-probability.
    top_logprobs: dict[str, float] | None = None


class LLMError(Exception):
    """Base of the two error kinds below."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"{status or 'no status'}: {message}")
        self.status = status
        self.message = message


class TransientLLMError(LLMError):
    """Retrying later may succeed: 408/409/429, 5xx, timeouts, refused or dropped connections,
    and unreadable 200 responses. ``retry_after`` is the server's requested wait in seconds."""

    def __init__(self, retry_after: float | None, status: int | None, message: str) -> None:
        super().__init__(status, message)
        self.retry_after = retry_after


class PermanentLLMError(LLMError):
    """The same request will fail again. ``kind`` is one of ``bad_request``, ``context_length``,
    ``auth``, ``forbidden``, ``not_found``, ``unprocessable``, ``client_error`` (other 4xx) or
    ``config`` (no API key for the OpenAI API)."""

    def __init__(self, status: int | None, message: str, kind: str) -> None:
        super().__init__(status, message)
        self.kind = kind


class ChatClient(Protocol):
    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        timeout: float,
        logprobs: int | None = None,
    ) -> Completion: ...

    def list_models(self) -> list[str]: ...


_clients: dict[tuple[int, str, str], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def _shared_openai(base_url: str, api_key: str) -> openai.OpenAI:
    """One SDK client (one connection pool) per endpoint and key, reused across requests.

    The process id is part of the key: a pool inherited through fork (Celery prefork workers)
    would share sockets with the parent, so each process builds its own.
    """
    key = (os.getpid(), base_url, api_key)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = openai.OpenAI(
                base_url=base_url,
                api_key=api_key,
                max_retries=0,
                http_client=openai.DefaultHttpxClient(verify=_tls_context()),
            )
            _clients[key] = client
        return client


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every endpoint's pool: parsing the CA bundle is most of what building an
    SDK client costs (PERFORMANCE.md), paid by every thread waiting for a new endpoint's client."""
    return httpx2.create_ssl_context()


def endpoint_url(base_url: str | None) -> str:
    """The endpoint requests go to: ``base_url``, else ``OPENAI_BASE_URL``, else the OpenAI API."""
    return (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL).rstrip("/")


def resolve_endpoint(base_url: str | None, api_key: str | None) -> tuple[str, str]:
    """The (base_url, api_key) to use, with ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` as fallbacks.

    ``api_key=None`` means "no key of its own": OPENAI_API_KEY is used. An empty string means the
    endpoint's own key variable is empty or unset: no key is sent, never OPENAI_API_KEY instead.
    """
    url = endpoint_url(base_url)
    key = os.environ.get("OPENAI_API_KEY") if api_key is None else api_key
    if not key:
        if url == OPENAI_DEFAULT_BASE_URL:
            raise PermanentLLMError(
                None, "no API key: set OPENAI_API_KEY or the judge's key variable", "config"
            )
        key = PLACEHOLDER_API_KEY
    return url, key


class OpenAIChatClient:
    """:class:`ChatClient` for an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, *, sdk: openai.OpenAI | None = None
    ) -> None:
        self.base_url, api_key = resolve_endpoint(base_url, api_key)
        self._client = sdk or _shared_openai(self.base_url, api_key)
        self._key = api_key

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIChatClient(base_url={self.base_url!r})"

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        timeout: float,
        logprobs: int | None = None,
    ) -> Completion:
        """One chat completion; ``logprobs=k`` also asks for the top-k alternatives of each token."""
        started = time.perf_counter()
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if logprobs:
            body.update(logprobs=True, top_logprobs=logprobs)
        try:
            # The SDK's documented raw call (its "undocumented endpoints" form): the same client,
            # auth, headers, timeouts and status errors as ``chat.completions.create``, without
            # its per-call TypedDict transform of the messages and its typed response model. Those
            # two were a quarter of a judge worker's CPU per judgment, and we read four fields.
            response = self._client.post(
                "/chat/completions", body=body, options={"timeout": timeout}, cast_to=httpx2.Response
            )
            payload = response.json()
        except Exception as exc:
            raise classify_error(exc, secrets=(self._key,)) from exc
        return _completion_from(payload, model=model, latency=time.perf_counter() - started)

    def list_models(self) -> list[str]:
        try:
            return sorted(model.id for model in self._client.models.list())
        except Exception as exc:
            raise classify_error(exc, secrets=(self._key,)) from exc


def _completion_from(payload: Any, *, model: str, latency: float) -> Completion:
    """The :class:`Completion` in a ``/chat/completions`` reply body; a body that is not a chat
    completion (a proxy's error page as JSON, a truncated reply) is a transient error."""
    try:
        choices = payload["choices"]
        choice = choices[0] if choices else None
        message = choice.get("message") if choice else None
        # Empty or null content is a judge output like any other: the caller records it as
        # unparsed rather than retrying forever.
        text = (message.get("content") if message else None) or ""
        usage = payload.get("usage") or {}
        return Completion(
            text=text if isinstance(text, str) else str(text),
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            model=payload.get("model") or model,
            finish_reason=choice.get("finish_reason") if choice else None,
            latency_s=latency,
            top_logprobs=_first_token_alternatives(choice),
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise TransientLLMError(None, 200, f"unreadable response: not a chat completion ({exc!r})") from exc


def _first_token_alternatives(choice: Any) -> dict[str, float] | None:
    """``choices[0].logprobs.content[0].top_logprobs`` as token -> logprob (None when absent)."""
    content = ((choice or {}).get("logprobs") or {}).get("content") or []
    if not content:
        return None
    first = content[0] or {}
    alternatives = {str(t["token"]): float(t["logprob"]) for t in first.get("top_logprobs") or []}
    if "token" in first and "logprob" in first:
        alternatives.setdefault(str(first["token"]), float(first["logprob"]))
    return alternatives


# --- streaming (async) ----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEnd:
    """The end of a streamed answer: its whole text, tokens (the endpoint's usage when it sends
    one, else one per chunk of text), finish reason and timings from the request's start."""

    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str | None
    first_token_s: float | None
    total_s: float
    usage_reported: bool


_async_clients: dict[tuple[int, int, str, str], openai.AsyncOpenAI] = {}


def _shared_async_openai(base_url: str, api_key: str) -> openai.AsyncOpenAI:
    """One async SDK client (one connection pool) per event loop, endpoint and key: a pool's
    connections belong to the loop that opened them."""
    loop = asyncio.get_running_loop()
    key = (os.getpid(), id(loop), base_url, api_key)
    client = _async_clients.get(key)
    if client is None:
        http_client = openai.DefaultAsyncHttpxClient(
            verify=_tls_context(), limits=httpx2.Limits(max_connections=None, max_keepalive_connections=100)
        )
        client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, http_client=http_client
        )
        _async_clients[key] = client
    return client


class AsyncStreamingClient:
    """Streams chat completions from an OpenAI-compatible endpoint (``"stream": true``)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        sdk: openai.AsyncOpenAI | None = None,
    ) -> None:
        self.base_url, api_key = resolve_endpoint(base_url, api_key)
        self._sdk = sdk
        self._key = api_key

    def __repr__(self) -> str:  # never show the key
        return f"AsyncStreamingClient(base_url={self.base_url!r})"

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        timeout: float,
    ) -> AsyncIterator[str | StreamEnd]:
        """The answer's text pieces as they arrive, then one :class:`StreamEnd`.

        Errors (before or during the stream) come out as :class:`TransientLLMError` or
        :class:`PermanentLLMError`, redacted. The SSE lines are read raw (the SDK's streaming
        response, without a typed model per chunk): a chunk costs a ``json.loads``.
        """
        client = self._sdk or _shared_async_openai(self.base_url, self._key)
        started = time.perf_counter()
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        parts: list[str] = []
        chunks = 0
        first: float | None = None
        finish: str | None = None
        usage: dict[str, Any] | None = None
        response: httpx2.Response | None = None
        try:
            # The SDK's raw call, as ``complete`` makes it: the same auth, headers, timeout and
            # status errors, the body left unread (``stream=True``) for us to read line by line.
            response = await client.post(
                "/chat/completions",
                body=body,
                options={"timeout": timeout},
                cast_to=httpx2.Response,
                stream=True,
            )
            event = ""
            async for line in response.aiter_lines():
                if not line:
                    event = ""
                    continue
                if line.startswith("event:"):
                    event = line[6:].strip()
                    continue
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                payload = json.loads(data)
                if event == "error" or (isinstance(payload, dict) and payload.get("error")):
                    raise TransientLLMError(None, 200, f"error mid-stream: {_stream_error(payload)}")
                if payload.get("usage"):
                    usage = payload["usage"]
                for choice in payload.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        if first is None:
                            first = time.perf_counter() - started
                        parts.append(piece)
                        chunks += 1
                        yield piece
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            else:
                raise TransientLLMError(None, 200, "the stream ended before [DONE]")
        except LLMError as exc:
            raise _redacted(exc, (self._key,)) from None
        except (ValueError, AttributeError, TypeError) as exc:
            raise TransientLLMError(None, 200, f"unreadable stream: {exc!r}") from exc
        except httpx2.HTTPError as exc:
            raise _redacted(
                TransientLLMError(None, None, f"stream broken ({type(exc).__name__}: {exc})"), (self._key,)
            ) from exc
        except Exception as exc:
            raise classify_error(exc, secrets=(self._key,)) from exc
        finally:
            if response is not None:  # closes the upstream connection when the reader stops early
                await response.aclose()
        yield StreamEnd(
            text="".join(parts),
            input_tokens=int((usage or {}).get("prompt_tokens") or 0),
            output_tokens=int((usage or {}).get("completion_tokens") or chunks),
            finish_reason=finish,
            first_token_s=first,
            total_s=time.perf_counter() - started,
            usage_reported=usage is not None,
        )


@dataclass(frozen=True)
class Moderation:
    flagged: bool
    categories: list[str]  # the flagged categories


async def moderate(
    text: str, *, base_url: str, api_key: str | None, model: str, timeout: float = 10.0
) -> Moderation:
    """Ask an OpenAI-compatible ``/moderations`` endpoint about ``text`` (errors as ``LLMError``)."""
    url, key = resolve_endpoint(base_url, api_key)
    client = _shared_async_openai(url, key)
    try:
        response = await client.post(
            "/moderations",
            body={"input": text, "model": model},
            options={"timeout": timeout},
            cast_to=httpx2.Response,
        )
        result = response.json()["results"][0]
        categories = sorted(name for name, on in (result.get("categories") or {}).items() if on)
        return Moderation(bool(result.get("flagged")), categories)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise TransientLLMError(None, 200, f"unreadable moderation reply: {exc!r}") from exc
    except LLMError:
        raise
    except Exception as exc:
        raise classify_error(exc, secrets=(key,)) from exc


def _stream_error(payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(error or payload)[:200]


_WARM_UP_REPLY = {
    "id": "warm-up",
    "object": "chat.completion",
    "created": 0,
    "model": "warm-up",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "[[C]]"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def sdk_warm_up() -> None:
    """Send one chat completion through the SDK to an in-memory transport (nothing leaves the process).

    The SDK imports its modules and sets up its request path (and httpx2 its transport) on a
    process's first request. In a new worker every request thread of the run's first batches
    queued behind that first request (PERFORMANCE.md); workers call this at start-up.
    """
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=_WARM_UP_REPLY))
    http_client = openai.DefaultHttpxClient(verify=_tls_context(), transport=transport)
    with openai.OpenAI(
        base_url="http://warm-up.invalid/v1",
        api_key=PLACEHOLDER_API_KEY,
        max_retries=0,
        http_client=http_client,
    ) as sdk:
        OpenAIChatClient(base_url="http://warm-up.invalid/v1", sdk=sdk).complete(
            [{"role": "user", "content": "warm-up"}],
            model="warm-up",
            temperature=0.0,
            max_tokens=1,
            timeout=5.0,
        )


async def async_sdk_warm_up() -> None:
    """:func:`sdk_warm_up` for the async client: one streamed completion from an in-memory
    transport, so a process's first live battle does not pay the SDK's set-up."""
    chunk = {
        "id": "w",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "warm-up",
        "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}],
    }
    body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()

    async def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    http_client = openai.DefaultAsyncHttpxClient(verify=_tls_context(), transport=httpx2.MockTransport(reply))
    async with openai.AsyncOpenAI(
        base_url="http://warm-up.invalid/v1",
        api_key=PLACEHOLDER_API_KEY,
        max_retries=0,
        http_client=http_client,
    ) as sdk:
        async for _ in AsyncStreamingClient("http://warm-up.invalid/v1", sdk=sdk).stream(
            [{"role": "user", "content": "warm-up"}],
            model="warm-up",
            temperature=0.0,
            max_tokens=1,
            timeout=5.0,
        ):
            pass


def classify_error(exc: BaseException, *, secrets: Sequence[str | None] = ()) -> LLMError:
    """Map an SDK / transport exception to Transient or Permanent (exceptions we do not know
    stay as they are: a bug should surface, not be retried). The message is redacted: ``secrets``
    and anything key-like never appear in it."""
    if isinstance(exc, LLMError):
        return exc
    error = _classified(exc)
    return _redacted(error, secrets)


def _redacted(error: LLMError, secrets: Sequence[str | None]) -> LLMError:
    message = redact(error.message, secrets=secrets)
    if message != error.message:
        error.message = message
        error.args = (f"{error.status or 'no status'}: {message}",)
    return error


def _classified(exc: BaseException) -> LLMError:
    if isinstance(exc, openai.APITimeoutError):
        return TransientLLMError(None, None, "request timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f"{type(cause).__name__}: {cause}" if cause else exc.message
        return TransientLLMError(None, None, f"connection error ({detail})")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _error_message(exc)
        if status in _TRANSIENT_STATUSES or status >= 500:
            return TransientLLMError(retry_after_seconds(exc.response.headers), status, message)
        if status == 400 and _is_context_length(exc, message):
            return PermanentLLMError(status, message, "context_length")
        return PermanentLLMError(status, message, _PERMANENT_KINDS.get(status, "client_error"))
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | pydantic.ValidationError):
        # A 200 whose body is not a chat completion: a proxy or server glitch, worth one more try.
        return TransientLLMError(None, 200, f"unreadable response: {exc}")
    raise exc


def _error_message(exc: openai.APIStatusError) -> str:
    body: Any = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return exc.message


def _is_context_length(exc: openai.APIStatusError, message: str) -> bool:
    if exc.code == "context_length_exceeded":
        return True
    lowered = message.lower()
    return "context length" in lowered or "context window" in lowered or "maximum context" in lowered
