"""The rules for endpoints' keys (arena.keys, pure): which variables may hold a key, which hosts
may receive one, and redaction of key-like strings in error texts an endpoint sends back."""

from __future__ import annotations

import pytest

from arena.keys import host_allowed, key_variable_problem, redact

PASTED = ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "gsk_0123456789abcdefABCDEFghij", "sk-live-0123456789abcdef")


@pytest.mark.parametrize(
    "name",
    ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MY_JUDGE_KEY", "AWS_SECRET_ACCESS_KEY"],
)
def test_only_prefixed_variables_may_hold_a_key(name):
    assert "start with ARENA_KEY_" in key_variable_problem(name, prefix="ARENA_KEY_", refused=set())


@pytest.mark.parametrize("name", ["ARENA_KEY_GPT4O", "OPENAI_API_KEY", ""])
def test_prefixed_variables_openai_api_key_and_none_are_allowed(name):
    assert key_variable_problem(name, prefix="ARENA_KEY_", refused=set()) is None


def test_settings_variables_are_refused_whatever_the_prefix():
    problem = key_variable_problem("SECRET_KEY", prefix="SECRET_", refused={"SECRET_KEY"})
    assert "one of Arena's own settings" in problem


@pytest.mark.parametrize("pasted", [*PASTED, "my-key", "A" * 65, "ARENA KEY"])
def test_a_value_that_is_no_variable_name_is_refused_without_repeating_it(pasted):
    problem = key_variable_problem(pasted, prefix="ARENA_KEY_", refused=set())
    assert "enter the NAME of the environment variable" in problem
    assert pasted not in problem


def test_pasted_vendor_keys_are_called_keys():
    for pasted in PASTED:
        assert "looks like an API key itself" in key_variable_problem(
            pasted, prefix="ARENA_KEY_", refused=set()
        )


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Incorrect API key provided: Bearer sk-proj-abcdEFGH1234ijkl.", "sk-proj-abcdEFGH1234ijkl"),
        ("401: bad key hf_AbCdEfGhIjKlMnOpQrStUv for this model", "hf_AbCdEfGhIjKlMnOpQrStUv"),
        ("invalid api_key=gsk_abcdefghijkl0123 (groq)", "gsk_abcdefghijkl0123"),
        ('{"error": {"token": "opaque-local-token"}}', "opaque-local-token"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123 rejected",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",
        ),
        ("AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
        ("key 0123456789abcdef0123456789abcdef0123 expired", "0123456789abcdef0123456789abcdef0123"),
    ],
)
def test_redaction_hides_key_like_strings(text, hidden):
    cleaned = redact(text)
    assert hidden not in cleaned and "[redacted]" in cleaned


def test_redaction_hides_the_configured_key_by_value_and_keeps_ordinary_text():
    assert (
        redact("rejected key local-token-42 for /v1", secrets=["local-token-42"])
        == "rejected key [redacted] for /v1"
    )
    for ordinary in (
        "This model's maximum context length is 8192 tokens.",
        "model 'gpt-4o-mini' not found",
        "connection error (ConnectError: [Errno 111] Connection refused)",
        "fault script: 500",
    ):
        assert redact(ordinary, secrets=["k", None]) == ordinary


def test_the_host_allow_list():
    assert host_allowed("https://api.openai.com/v1", [])
    assert host_allowed("https://api.openai.com/v1", ["api.openai.com"])
    assert host_allowed("http://vllm.lab.example.org:8000/v1", [".example.org"])
    assert not host_allowed("http://127.0.0.1:9/v1", ["api.openai.com", ".example.org"])
    assert not host_allowed("http://api.openai.com.evil.test/v1", ["api.openai.com"])
