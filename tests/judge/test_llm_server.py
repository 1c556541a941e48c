"""The fake OpenAI-compatible server, exercised through the real openai SDK (via OpenAIChatClient)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from judge.client import OpenAIChatClient, PermanentLLMError, TransientLLMError
from judge.parsing import (
    Grade,
    HHHVerdict,
    Preference,
    Verdict,
    parse_grade,
    parse_hhh,
    parse_pairwise,
    parse_rating,
)
from judge.prompts import JudgeRequest, load_template_set, render
from tests import llm_server
from tests.llm_server import FakeLLMServer, request_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def client_for(server: FakeLLMServer) -> OpenAIChatClient:
    return OpenAIChatClient(base_url=server.base_url, api_key="test-key")


def ask(client: OpenAIChatClient, messages: list, *, timeout: float = 5.0, model: str = "fake-judge"):  # type: ignore[no-untyped-def,type-arg]
    return client.complete(messages, model=model, temperature=0.0, max_tokens=512, timeout=timeout)


def pairwise_messages(first: str, second: str, question: str = "Explain tides.") -> list:  # type: ignore[type-arg]
    return render(load_template_set("arena-v1"), "pairwise", JudgeRequest([question], [first], [second]))


class TestCompletions:
    def test_a_contender_question_gets_deterministic_text_and_usage(self, llm: FakeLLMServer) -> None:
        client = client_for(llm)
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        first = ask(client, messages, model="fake-quality-7")
        again = ask(client, messages, model="fake-quality-7")
        assert first.text == again.text
        assert "What is the capital of France?" in first.text and first.text.endswith("quality:7")
        assert first.model == "fake-quality-7" and first.finish_reason == "stop"
        assert first.input_tokens > 0 and first.output_tokens > 0
        assert first.latency_s >= 0

    def test_models_are_listed(self, llm: FakeLLMServer) -> None:
        assert client_for(llm).list_models() == ["fake-contender", "fake-judge"]

    def test_the_judge_prefers_the_higher_quality_marker_in_either_order(self, llm: FakeLLMServer) -> None:
        client = client_for(llm)
        good, poor = (
            "Tides come from the Moon's gravity. quality:9",
            "Tides are wind, probably, and also waves. quality:2",
        )
        assert parse_pairwise(ask(client, pairwise_messages(good, poor)).text) == Verdict.A
        assert parse_pairwise(ask(client, pairwise_messages(poor, good)).text) == Verdict.B
        assert parse_pairwise(ask(client, pairwise_messages(good, good)).text) == Verdict.TIE
        # Without markers the longer answer wins.
        assert (
            parse_pairwise(ask(client, pairwise_messages("short", "a much longer answer")).text) == Verdict.B
        )

    @pytest.mark.parametrize("set_name", ["arena-v1", "mt-bench"])
    def test_every_mode_gets_an_answer_its_parser_reads(self, llm: FakeLLMServer, set_name: str) -> None:
        client = client_for(llm)
        templates = load_template_set(set_name)
        request = JudgeRequest(
            ["Q1", "Q2"],
            ["a1 quality:3", "a2 quality:8"],
            ["b1 quality:9", "b2 quality:4"],
            ["r1", "r2"],
            turn=2,
        )
        pairwise = ask(client, render(templates, "pairwise-reference-multi-turn", request)).text
        assert parse_pairwise(pairwise) == Verdict.A, "turn 2 is judged: a2 (8) beats b2 (4)"
        single = ask(client, render(templates, "single-multi-turn", request)).text
        assert parse_rating(single) == 8.0
        turn_one = JudgeRequest(["Q1"], ["a1 quality:3"], ["b1 quality:9"])
        assert parse_rating(ask(client, render(templates, "single", turn_one)).text) == 3.0
        if set_name == "arena-v1":
            assert parse_grade(ask(client, render(templates, "grade", turn_one)).text) == Grade.C
            hhh = ask(
                client, render(templates, "hhh", JudgeRequest(["Q"], ["a honest:9"], ["b, a longer reply"]))
            ).text
            assert parse_hhh(hhh) == HHHVerdict(Preference.B, Preference.A, Preference.B)


class TestFaults:
    def test_initial_429s_carry_retry_after(self, llm: FakeLLMServer) -> None:
        llm.configure(initial_429=2, retry_after=3)
        client = client_for(llm)
        for _ in range(2):
            with pytest.raises(TransientLLMError) as caught:
                ask(client, [{"role": "user", "content": "hi"}])
            assert caught.value.status == 429 and caught.value.retry_after == 3.0
        assert ask(client, [{"role": "user", "content": "hi"}]).text
        assert llm.stats()["by_status"] == {"429": 2, "200": 1}

    def test_500_is_transient(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["500"])
        with pytest.raises(TransientLLMError) as caught:
            ask(client_for(llm), [{"role": "user", "content": "hi"}])
        assert caught.value.status == 500 and caught.value.retry_after is None

    def test_a_dropped_connection_is_transient(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["drop"])
        client = client_for(llm)
        with pytest.raises(TransientLLMError, match="connection error") as caught:
            ask(client, [{"role": "user", "content": "hi"}])
        assert caught.value.status is None
        assert ask(client, [{"role": "user", "content": "hi"}]).text, "the pool recovers on the next request"
        assert llm.stats()["by_status"] == {"drop": 1, "200": 1}

    def test_400_is_permanent(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["400"])
        with pytest.raises(PermanentLLMError) as caught:
            ask(client_for(llm), [{"role": "user", "content": "hi"}])
        assert caught.value.status == 400 and caught.value.kind == "bad_request"

    def test_probabilistic_faults(self, llm: FakeLLMServer) -> None:
        llm.configure(rates={"500": 0.5}, seed=7)
        client = client_for(llm)
        outcomes = Counter()
        for number in range(60):
            try:
                ask(client, [{"role": "user", "content": f"q{number}"}])
                outcomes["ok"] += 1
            except TransientLLMError:
                outcomes["500"] += 1
        assert 15 <= outcomes["500"] <= 45, outcomes
        assert llm.stats()["by_fault"] == {"ok": outcomes["ok"], "500": outcomes["500"]}

    def test_malformed_output_is_returned_for_the_parser_to_reject(self, llm: FakeLLMServer) -> None:
        llm.configure(script=["malformed"])
        text = ask(client_for(llm), pairwise_messages("x", "y")).text
        assert text and not isinstance(parse_pairwise(text), Verdict)

    def test_unknown_settings_and_faults_are_refused(self, llm: FakeLLMServer) -> None:
        with pytest.raises(ValueError, match="unknown faults"):
            llm.configure(script=["teapot"])
        with pytest.raises(ValueError, match="unknown settings"):
            llm.configure(latncy=1)


class TestFirstPositionBias:
    def test_bias_shows_in_the_per_order_verdicts(self, llm: FakeLLMServer) -> None:
        llm.configure(first_position_bias=0.6)
        client = client_for(llm)
        verdicts: dict[int, Counter[Verdict]] = {1: Counter(), 2: Counter()}
        for number in range(150):
            good, poor = f"Answer {number} with care. quality:9", f"Answer {number}. quality:1"
            verdicts[1][parse_pairwise(ask(client, pairwise_messages(good, poor, f"Q{number}")).text)] += 1
            verdicts[2][parse_pairwise(ask(client, pairwise_messages(poor, good, f"Q{number}")).text)] += 1
        # Shown first, the good answer always wins; shown second, it loses to the bias about 60 % of the time.
        assert verdicts[1] == Counter({Verdict.A: 150})
        share = verdicts[2][Verdict.A] / 150
        assert 0.45 <= share <= 0.75, verdicts
        assert verdicts[2][Verdict.A] + verdicts[2][Verdict.B] == 150

    def test_the_biased_answer_is_stable_for_a_retried_request(self, llm: FakeLLMServer) -> None:
        llm.configure(first_position_bias=0.5)
        client = client_for(llm)
        texts = {
            ask(client, pairwise_messages("p quality:1", f"q{n} quality:9")).text
            for n in range(3)
            for _ in range(3)
        }
        assert len(texts) <= 3


class TestStats:
    def test_requests_are_counted_by_key(self, llm: FakeLLMServer) -> None:
        client = client_for(llm)
        once, twice = pairwise_messages("a", "b"), pairwise_messages("b", "a")
        ask(client, once)
        ask(client, twice)
        ask(client, twice)
        stats = llm.stats(log=True)
        assert stats["total"] == 3
        assert stats["by_key"] == {request_key(once): 1, request_key(twice): 2}
        assert stats["completed_by_key"] == stats["by_key"]
        assert [entry["status"] for entry in stats["log"]] == ["200"] * 3
        assert all(entry["end"] >= entry["start"] for entry in stats["log"])
        llm.reset()
        assert llm.stats()["total"] == 0 and llm.stats()["by_key"] == {}

    def test_failed_attempts_count_as_requests_not_completions(self, llm: FakeLLMServer) -> None:
        llm.configure(initial_429=1)
        client = client_for(llm)
        messages = pairwise_messages("a", "b")
        with pytest.raises(TransientLLMError):
            ask(client, messages)
        ask(client, messages)
        stats = llm.stats()
        assert stats["by_key"] == {request_key(messages): 2}
        assert stats["completed_by_key"] == {request_key(messages): 1}

    def test_a_reply_whose_client_left_is_not_counted_as_delivered(self, llm: FakeLLMServer) -> None:
        # What a killed worker's requests look like to the server: the connection closes while
        # the request waits. Its reply reaches no one, so a repeat of it is no repeated answer.
        llm.configure(latency=0.5)
        messages = pairwise_messages("a", "b")
        with pytest.raises(TransientLLMError):
            ask(client_for(llm), messages, timeout=0.1)
        deadline = time.monotonic() + 5
        while llm.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = llm.stats()
        assert stats["by_status"] == {"client_gone": 1}
        assert stats["by_key"] == {request_key(messages): 1} and stats["completed_by_key"] == {}


@pytest.mark.timing
class TestConcurrency:
    def test_32_concurrent_requests_with_200ms_latency_overlap(self, llm: FakeLLMServer) -> None:
        llm.configure(latency=0.2)
        client = client_for(llm)
        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(lambda n: ask(client, [{"role": "user", "content": f"q{n}"}]), range(32)))
        elapsed = time.perf_counter() - started
        assert len(results) == 32
        assert elapsed < 1.5, f"32 x 0.2 s took {elapsed:.2f} s; serial would be 6.4 s"
        assert llm.stats()["in_flight_max"] >= 24

    def test_throughput_at_concurrency_32(self, llm: FakeLLMServer) -> None:
        llm.configure(latency=0.2)
        client = client_for(llm)
        with ThreadPoolExecutor(32) as pool:  # warm the keep-alive pool
            list(pool.map(lambda n: ask(client, [{"role": "user", "content": f"w{n}"}]), range(32)))
        requests = 320
        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda n: ask(client, [{"role": "user", "content": f"q{n}"}]), range(requests)))
        rate = requests / (time.perf_counter() - started)
        print(f"fake LLM server: {rate:.0f} req/s at concurrency 32 with 200 ms latency (ideal 160)")
        assert rate >= 110


class TestStandaloneProcess:
    @pytest.mark.parametrize("how", ["module", "script"])
    def test_runs_as_a_process_and_is_controlled_over_http(self, how: str) -> None:
        command = (
            [sys.executable, "-m", "tests.llm_server"]
            if how == "module"
            else [sys.executable, "tests/llm_server.py"]
        )
        process = subprocess.Popen(
            [*command, "--port", "0", "--latency", "0.05", "--initial-429", "1", "--retry-after", "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": ""} if how == "script" else None,
        )
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            client = OpenAIChatClient(base_url=base_url, api_key="k")
            with pytest.raises(TransientLLMError) as caught:
                ask(client, [{"role": "user", "content": "hi"}])
            assert caught.value.retry_after == 2.0
            llm_server.control(base_url, first_position_bias=1.0)
            assert parse_pairwise(ask(client, pairwise_messages("p", "a longer answer")).text) == Verdict.A
            stats = llm_server.stats(base_url)
            assert stats["total"] == 2 and stats["by_status"] == {"429": 1, "200": 1}
            llm_server.reset(base_url)
            assert llm_server.stats(base_url)["total"] == 0
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
