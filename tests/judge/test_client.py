"""The chat client's error classification and configuration, and the retry delays (judge.backoff)."""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from judge import client as client_module
from judge.backoff import retry_after_seconds, retry_delay
from judge.client import (
    PLACEHOLDER_API_KEY,
    OpenAIChatClient,
    PermanentLLMError,
    TransientLLMError,
    resolve_endpoint,
)
from tests.llm_server import FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def complete(server: FakeLLMServer, *, timeout: float = 5.0, max_tokens: int = 256):  # type: ignore[no-untyped-def]
    client = OpenAIChatClient(base_url=server.base_url, api_key="k")
    return client.complete(HELLO, model="fake-judge", temperature=0.0, max_tokens=max_tokens, timeout=timeout)  # type: ignore[arg-type]


class TestErrors:
    @pytest.mark.parametrize(
        ("fault", "status", "kind"),
        [
            ("400", 400, "bad_request"),
            ("context_length", 400, "context_length"),
            ("401", 401, "auth"),
            ("403", 403, "forbidden"),
            ("404", 404, "not_found"),
            ("422", 422, "unprocessable"),
        ],
    )
    def test_permanent(self, llm: FakeLLMServer, fault: str, status: int, kind: str) -> None:
        llm.configure(script=[fault])
        with pytest.raises(PermanentLLMError) as caught:
            complete(llm)
        assert (caught.value.status, caught.value.kind) == (status, kind)
        if kind == "context_length":
            assert "maximum context length" in caught.value.message

    @pytest.mark.parametrize("fault", ["429", "500", "502", "503"])
    def test_transient(self, llm: FakeLLMServer, fault: str) -> None:
        llm.configure(script=[fault], retry_after=None)
        with pytest.raises(TransientLLMError) as caught:
            complete(llm)
        assert caught.value.status == int(fault) and caught.value.retry_after is None

    def test_retry_after_ms_wins_over_retry_after(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["429"], retry_after=5, retry_after_ms=1500)
        with pytest.raises(TransientLLMError) as caught:
            complete(llm)
        assert caught.value.retry_after == 1.5

    def test_503_carries_retry_after_too(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["503"], retry_after=7)
        with pytest.raises(TransientLLMError) as caught:
            complete(llm)
        assert caught.value.retry_after == 7.0

    def test_a_timeout_is_transient(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["hang"], hang_seconds=2)
        with pytest.raises(TransientLLMError, match="timed out") as caught:
            complete(llm, timeout=0.3)
        assert caught.value.status is None

    def test_a_refused_connection_is_transient(self) -> None:
        with FakeLLMServer() as server:
            base_url = server.base_url
        client = OpenAIChatClient(base_url=base_url, api_key="k")
        with pytest.raises(TransientLLMError, match="connection error"):
            client.complete(HELLO, model="m", temperature=0, max_tokens=5, timeout=2)  # type: ignore[arg-type]

    def test_a_200_that_is_not_json_is_transient(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["bad_json"])
        with pytest.raises(TransientLLMError) as caught:
            complete(llm)
        assert caught.value.status == 200

    def test_a_200_that_is_not_a_chat_completion_is_transient(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["not_completion"])
        with pytest.raises(TransientLLMError, match="not a chat completion") as caught:
            complete(llm)
        assert caught.value.status == 200

    def test_error_kinds_are_llm_errors(self) -> None:
        assert issubclass(TransientLLMError, client_module.LLMError)
        assert issubclass(PermanentLLMError, client_module.LLMError)


class TestCompletion:
    @pytest.mark.parametrize("fault", ["empty", "null"])
    def test_empty_or_null_content_is_an_empty_text_not_an_error(
        self, llm: FakeLLMServer, fault: str
    ) -> None:
        llm.configure(script=[fault])
        completion = complete(llm)
        assert completion.text == ""
        assert completion.finish_reason == "stop"

    def test_usage_and_truncation_are_reported(self, llm: FakeLLMServer) -> None:
        completion = complete(llm, max_tokens=3)
        assert completion.finish_reason == "length"
        assert completion.output_tokens == 3 and len(completion.text) == 12
        assert completion.input_tokens == 2 + 4  # "hello" ~ 2 tokens + per-message overhead

    def test_one_connection_pool_per_endpoint_and_key(self, llm: FakeLLMServer) -> None:
        first = OpenAIChatClient(base_url=llm.base_url, api_key="k")
        second = OpenAIChatClient(base_url=llm.base_url + "/", api_key="k")
        other_key = OpenAIChatClient(base_url=llm.base_url, api_key="other")
        assert first._client is second._client
        assert first._client is not other_key._client
        assert first._client.max_retries == 0, "retries are ours, not the SDK's"
        assert "k" not in repr(first)


class TestEndpointResolution:
    def test_explicit_values_win(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", "http://env:1/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "env-key")
        assert resolve_endpoint("http://mine:2/v1/", "my-key") == ("http://mine:2/v1", "my-key")

    def test_environment_fallback(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", "http://env:1/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "env-key")
        assert resolve_endpoint(None, None) == ("http://env:1/v1", "env-key")

    def test_a_local_server_needs_no_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        assert resolve_endpoint("http://127.0.0.1:8000/v1", None) == (
            "http://127.0.0.1:8000/v1",
            PLACEHOLDER_API_KEY,
        )

    def test_the_openai_api_without_a_key_is_a_configuration_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        with pytest.raises(PermanentLLMError) as caught:
            OpenAIChatClient()
        assert caught.value.kind == "config"

    def test_env_configured_client_reaches_the_server(
        self, llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        completion = OpenAIChatClient().complete(HELLO, model="m", temperature=0, max_tokens=50, timeout=5)  # type: ignore[arg-type]
        assert "hello" in completion.text


def test_client_py_is_the_only_module_that_imports_openai() -> None:
    offenders = []
    for path in [*ROOT.glob("arena/**/*.py"), *ROOT.glob("judge/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "openai" or name.startswith("openai.") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == ["judge/client.py"]


class TestBackoff:
    def test_full_jitter_grows_exponentially_up_to_the_cap(self) -> None:
        rng = random.Random(1)
        for attempt, ceiling in [
            (1, 1.0),
            (2, 2.0),
            (3, 4.0),
            (6, 32.0),
            (7, 60.0),
            (50, 60.0),
            (10_000, 60.0),
        ]:
            delays = [retry_delay(attempt, rng=rng) for _ in range(400)]
            assert all(0 <= d <= ceiling for d in delays)
            assert max(delays) > 0.8 * ceiling, "full jitter uses the whole range"
            assert min(delays) < 0.2 * ceiling

    def test_retry_after_is_a_floor(self) -> None:
        rng = random.Random(2)
        delays = [retry_delay(1, retry_after=5.0, rng=rng) for _ in range(200)]
        assert all(5.0 <= d <= 5.5 for d in delays)
        assert len(set(delays)) > 100, "workers told the same Retry-After do not return in lockstep"
        # When the exponential delay is already longer, it stands.
        assert all(retry_delay(8, retry_after=0.01, base=1, cap=60, rng=rng) >= 0.01 for _ in range(50))

    def test_an_absurd_retry_after_is_capped(self) -> None:
        assert retry_delay(1, retry_after=86_400, rng=random.Random(3), max_retry_after=300) <= 301

    def test_attempts_count_from_one(self) -> None:
        with pytest.raises(ValueError, match="from 1"):
            retry_delay(0)

    @pytest.mark.parametrize(
        ("headers", "seconds"),
        [
            ({"Retry-After": "3"}, 3.0),
            ({"retry-after": "0.5"}, 0.5),
            ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
            ({"Retry-After": "soon"}, None),
            ({"Retry-After": "-4"}, None),
            ({}, None),
        ],
    )
    def test_retry_after_headers(self, headers: dict[str, str], seconds: float | None) -> None:
        assert retry_after_seconds(headers) == seconds

    def test_retry_after_as_an_http_date(self) -> None:
        now = 1_700_000_000.0
        assert retry_after_seconds({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
        assert retry_after_seconds({"Retry-After": formatdate(now - 30, usegmt=True)}, now=now) == 0.0


def test_the_worker_warm_up_runs_the_sdk_path_without_a_server() -> None:
    """sdk_warm_up (called by every worker at start-up) goes through the SDK's whole request and
    response path against an in-memory transport: no endpoint, no shared client left behind."""
    from judge import client as llm

    before = dict(llm._clients)
    llm.sdk_warm_up()
    assert llm._clients == before
