"""Fixtures for the judge app: the fake LLM server, a judge pointed at it and answers to judge.

Runs here use the embedded mode (no broker) with JUDGE_EAGER_THREADS=0, so every judgment is
judged in the test's own thread and transaction, through the real openai client and a real HTTP
server. The integration tests start real Celery workers instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from arena.models import Prompt, PromptSet
from judge.models import Judge
from tests import factories
from tests.llm_server import FakeLLMServer


@pytest.fixture(autouse=True)
def _judge_settings(settings):
    settings.JUDGE_EAGER_THREADS = 0
    settings.JUDGE_BACKOFF_BASE = 0.01
    settings.JUDGE_BACKOFF_CAP = 0.05
    settings.JUDGE_PROGRESS_INTERVAL = 0.0
    settings.JUDGE_MAX_ATTEMPTS = 4
    settings.JUDGE_GENERATION_CONCURRENCY = 1  # in the test's thread and transaction
    settings.REDIS_URL = ""  # the in-process limiter; the Redis one is covered by the worker tests
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return settings


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(retry_after=0.2) as server:
        yield server


@pytest.fixture
def judge(db, llm) -> Judge:
    return Judge.objects.create(
        name="fake-judge",
        base_url=llm.base_url,
        model="fake-judge",
        api_key_env="ARENA_KEY_TEST_NO_SUCH",
        max_concurrent=4,
        requests_per_minute=6000,
        price_input_per_million=Decimal("2.5"),
        price_output_per_million=Decimal("10"),
        max_tokens=512,
    )


@pytest.fixture
def battle_set(db) -> PromptSet:
    """Two one-turn prompts; strong > middle > weak by the quality markers the fake judge reads."""
    pset = PromptSet.objects.create(slug="judge-test", name="judge test")
    for position, text in enumerate(["Explain photosynthesis.", "Write a haiku about rain."]):
        prompt = Prompt.objects.create(
            prompt_set=pset, external_id=f"p{position}", turns=[text], category="writing", position=position
        )
        factories.answer(prompt, "strong", f"A careful answer to {text} quality:9")
        factories.answer(prompt, "middle", f"An answer to {text} quality:5")
        factories.answer(prompt, "weak", "Meh. quality:2")
    return pset


@pytest.fixture
def start_run(django_capture_on_commit_callbacks):
    """Create a run and judge it inline (as the embedded mode does after commit)."""
    from judge.services import judge_run_create

    def start(**options):
        with django_capture_on_commit_callbacks(execute=True):
            run = judge_run_create(**options)
        run.refresh_from_db()
        return run

    return start


@pytest.fixture
def start_run_async(settings):
    """For transactional tests: create a run, and start it later in this thread (inline mode)."""
    from judge.services import judge_run_create
    from judge.services.runs import _start

    def create(**options):
        return judge_run_create(**options)

    def start(run):
        _start(run, background=False)

    create.start = start
    return create
