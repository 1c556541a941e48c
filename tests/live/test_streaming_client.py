"""Streaming through the async ``openai`` client against the tests' server: chunks at a rate,
usage, errors mid-stream, a model that names itself, and closing the stream upstream."""

from __future__ import annotations

import asyncio
import time

import pytest

from judge.client import AsyncStreamingClient, PermanentLLMError, StreamEnd, TransientLLMError
from tests.llm_server import FakeLLMServer

MESSAGES = [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture
def llm():
    with FakeLLMServer(stream_rate=100.0, stream_words=12) as server:
        yield server


async def collect(client: AsyncStreamingClient, model: str = "fake-contender") -> tuple[list[str], StreamEnd]:
    pieces: list[str] = []
    end = None
    async for item in client.stream(MESSAGES, model=model, temperature=0.7, max_tokens=256, timeout=10):
        if isinstance(item, StreamEnd):
            end = item
        else:
            pieces.append(item)
    assert end is not None
    return pieces, end


@pytest.mark.timing
def test_a_stream_arrives_in_chunks_at_the_configured_rate_with_usage(llm):
    llm.configure(stream_rate=20.0, stream_words=10)
    started = time.perf_counter()
    pieces, end = asyncio.run(collect(AsyncStreamingClient(llm.base_url)))
    elapsed = time.perf_counter() - started
    assert len(pieces) == 10
    assert end.text == "".join(pieces)
    assert end.output_tokens == 10 and end.usage_reported and end.input_tokens > 0
    assert end.finish_reason == "stop"
    assert 0.4 <= elapsed < 2.0  # 10 chunks at 20 a second: about half a second
    assert end.first_token_s is not None and end.first_token_s < end.total_s
    assert "fake-contender" not in end.text  # a streamed answer never names its model...
    assert llm.stats()["by_status"] == {"200": 1}


def test_a_model_that_names_itself_says_so():
    with FakeLLMServer(stream_rate=0, stream_words=30) as llm:
        _, end = asyncio.run(collect(AsyncStreamingClient(llm.base_url), model="bot-names-itself"))
    assert "ChatGPT" in end.text  # ...unless its id says it does


@pytest.mark.parametrize("fault", ["stream_error", "stream_drop"])
def test_an_error_mid_stream_comes_out_as_a_transient_error_after_the_first_chunks(llm, fault):
    llm.configure(script=[fault], stream_error_after=3)
    pieces: list[str] = []

    async def run() -> None:
        async for item in AsyncStreamingClient(llm.base_url).stream(
            MESSAGES, model="m", temperature=0, max_tokens=64, timeout=10
        ):
            assert not isinstance(item, StreamEnd)
            pieces.append(item)

    with pytest.raises(TransientLLMError):
        asyncio.run(run())
    assert len(pieces) == 3
    assert llm.stats()["by_status"] == {fault: 1}


def test_a_refusal_before_the_stream_is_a_permanent_error_with_no_key_in_it(llm, monkeypatch):
    llm.configure(script=["401_echo"])
    with pytest.raises(PermanentLLMError) as caught:
        asyncio.run(collect(AsyncStreamingClient(llm.base_url, api_key="sk-secret-streaming-key-123")))
    assert caught.value.kind == "auth"
    assert "sk-secret-streaming-key-123" not in str(caught.value)


@pytest.mark.timing
def test_cancelling_the_reader_closes_the_upstream_stream_at_once(llm):
    llm.configure(stream_rate=5.0, stream_words=100)  # 20 s if read to the end

    async def run() -> float:
        async def read() -> None:
            async for _ in AsyncStreamingClient(llm.base_url).stream(
                MESSAGES, model="m", temperature=0, max_tokens=512, timeout=30
            ):
                pass

        task = asyncio.create_task(read())
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.time()

    cancelled_at = asyncio.run(run())
    deadline = time.time() + 2
    while llm.stats()["in_flight"] and time.time() < deadline:
        time.sleep(0.02)
    stats = llm.stats(log=True)
    assert stats["in_flight"] == 0 and stats["by_status"] == {"client_gone": 1}
    assert stats["log"][0]["end"] - cancelled_at < 1.0
