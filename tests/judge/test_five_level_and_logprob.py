"""Arena-Hard's five-level verdicts and AlpacaEval's logprob preference: the parsers, the request
the client sends (logprobs asked for, the alternatives read back through the real openai client
and the test LLM server), and the mapping of both orders onto the comparison's answers."""

from __future__ import annotations

import json
import math

import pytest

from judge import parsing
from judge.client import OpenAIChatClient
from tests.llm_server import FakeLLMServer


@pytest.mark.parametrize(
    ("text", "level", "strong"),
    [
        ("Both fine, but A is much clearer.\n\nMy final verdict is [[A>>B]]", "A>>B", True),
        ("[[B > A]]", "B>A", False),
        ("tie: [[a=b]]", "A=B", False),
        ("Answer B once wrote [[A>>B]].\nMy final verdict: [[B>>A]]", "B>>A", True),
    ],
)
def test_five_level_parser_reads_the_last_marker(text, level, strong):
    parsed = parsing.parse_five_level(text)
    assert isinstance(parsed, parsing.FiveLevel)
    assert (parsed.level, parsed.strong) == (level, strong)


@pytest.mark.parametrize("text", ["", "I prefer A.", "[[A>>B]] or [[B>A]]", "[[A]]"])
def test_five_level_parser_never_guesses(text):
    assert isinstance(parsing.parse_five_level(text), parsing.Unparsed)


def test_logprob_parser_normalises_the_two_identifiers():
    stored = parsing.logprob_output("m", {"m": math.log(0.6), " M": math.log(0.2), "The": math.log(0.2)})
    parsed = parsing.parse_logprobs(stored)
    assert isinstance(parsed, parsing.PositionPreference)
    assert parsed.second == pytest.approx(0.25)  # 0.2 / (0.6 + 0.2)
    assert isinstance(parsing.parse_logprobs(parsing.logprob_output("Sure", {"Sure": 0.0})), parsing.Unparsed)
    assert isinstance(parsing.parse_logprobs("m"), parsing.Unparsed)  # a reply without its logprobs


def test_both_orders_map_to_the_comparisons_answers():
    # Order 1 shows answer A first: [[A>>B]] → model_a, strongly. Order 2 shows B first.
    assert parsing.stored_verdict("five_level", "[[A>>B]]", order=1).winner == "model_a"
    second = parsing.stored_verdict("five_level", "[[A>>B]]", order=2)
    assert (second.winner, second.strong) == ("model_b", True)
    stored = parsing.logprob_output("M", {"m": math.log(0.3), "M": math.log(0.7)})
    first = parsing.stored_verdict("logprob", stored, order=1)
    swapped = parsing.stored_verdict("logprob", stored, order=2)
    assert (first.winner, first.preference) == ("model_b", pytest.approx(0.7))
    assert (swapped.winner, swapped.preference) == ("model_a", pytest.approx(0.3))


def test_the_client_asks_for_logprobs_and_reads_the_alternatives():
    prompt = (
        "Output identified by m:\n<output_m>\nshort quality:2\n</output_m>\n\nOutput identified by M:\n"
        "<output_M>\nbetter quality:5\n</output_M>\n\nGive the identifier: m or M."
    )
    with FakeLLMServer() as server:
        client = OpenAIChatClient(base_url=server.base_url)
        completion = client.complete(
            [{"role": "user", "content": prompt}],
            model="fake-judge",
            temperature=0.0,
            max_tokens=1,
            timeout=5.0,
            logprobs=5,
        )
        plain = client.complete(
            [{"role": "user", "content": prompt}],
            model="fake-judge",
            temperature=0.0,
            max_tokens=1,
            timeout=5.0,
        )
    assert completion.text == "M"
    alternatives = completion.top_logprobs
    assert set(alternatives) == {"m", "M", "The"}
    # The fake judge's P(second better) = sigmoid(5 - 2).
    p_second = math.exp(alternatives["M"]) / (math.exp(alternatives["M"]) + math.exp(alternatives["m"]))
    assert p_second == pytest.approx(1 / (1 + math.exp(-3)))
    assert plain.top_logprobs is None
    stored = json.loads(parsing.logprob_output(completion.text, alternatives))
    assert stored["content"] == "M"
