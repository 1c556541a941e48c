from __future__ import annotations

from collections.abc import Iterator

import pytest

from arena.models import Contender
from live.models import LiveContender
from tests.llm_server import FakeLLMServer


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(stream_rate=200.0, stream_words=24) as server:
        yield server


def add_contender(llm: FakeLLMServer, name: str, model: str | None = None, **live: object) -> Contender:
    contender = Contender.objects.create(
        name=name, base_url=llm.base_url, api_model=model or name, api_key_env="ARENA_KEY_TEST_NO_SUCH"
    )
    LiveContender.objects.create(contender=contender, **live)
    return contender


@pytest.fixture
def pair(db, llm) -> tuple[Contender, Contender]:
    return (
        add_contender(llm, "alpha-7b", price_input=1.0, price_output=2.0),
        add_contender(llm, "beta-13b", price_input=0.5, price_output=4.0),
    )
