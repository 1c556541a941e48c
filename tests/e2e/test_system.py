"""The whole system as an operator runs it: daphne, two Celery workers and beat as real
processes on PostgreSQL, Redis and RabbitMQ, with the tests' own OpenAI-compatible server.

An operator adds a judge and starts a batch from the CLI; raters vote through HTTP with real
sessions and CSRF while it runs; one worker is killed mid-batch and a new one started; an open
leaderboard socket hears about the new numbers. At the end every judgment and every vote is
stored exactly once and the leaderboards reflect them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from arena.models import Answer, Comparison, Contender, Prompt, PromptSet, Vote
from judge.models import JudgeRun, Judgment
from tests.judge.workers import database_url, free_port, kill, stop, wait_for
from tests.llm_server import FakeLLMServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PROMPTS = 6
MODELS = {"strong": 9, "middle": 5, "weak": 2}  # the fake judge prefers the higher quality marker
JUDGMENTS = PROMPTS * 3 * 2  # 3 pairs per prompt, both orders


@dataclass
class System:
    base_url: str
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed when the test ends
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        return self.processes[name]

    def start_worker(self, name: str, queues: str, concurrency: int) -> subprocess.Popen:
        return self.start(
            name,
            str(BIN / "celery"),
            "-A",
            "arena",
            "worker",
            "-Q",
            queues,
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        )

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.5) as server:
        yield server


@pytest.fixture
def system(transactional_db, tmp_path, redis_url, broker_url) -> Iterator[System]:
    """A RabbitMQ vhost of its own, so a developer's running `make serve` (same queue names on the
    default vhost) can neither take this test's tasks nor hand it theirs."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "JUDGE_", "ARENA_", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker_url,
        DJANGO_SETTINGS_MODULE="arena.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        ARENA_SNAPSHOT_DEBOUNCE_SECONDS="1",
        ARENA_BOOTSTRAP_ROUNDS="50",
        JUDGE_PROGRESS_INTERVAL="0.2",
        JUDGE_STALE_SECONDS="10",
        JUDGE_STALE_CHECK_SECONDS="10",
        DB_POOL_MAX_SIZE="10",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    sys_ = System(f"http://127.0.0.1:{port}", env, logs)
    sys_.start("web", str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "arena.asgi:application")
    sys_.start_worker("judge-a", "judge", 8)
    sys_.start_worker("mixed-b", "judge,ratings,default", 8)
    sys_.start(
        "beat",
        str(BIN / "celery"),
        "-A",
        "arena",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(tmp_path / "beat-schedule"),
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"{sys_.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(healthy, timeout=60, interval=0.3), sys_.log_tail()
        yield sys_
    finally:
        for process in sys_.processes.values():
            stop(process)


@pytest.fixture
def arena_data(transactional_db) -> PromptSet:
    pset = PromptSet.objects.create(slug="e2e", name="End to end")
    for number in range(PROMPTS):
        prompt = Prompt.objects.create(
            prompt_set=pset,
            external_id=f"q{number}",
            category="general",
            turns=[f"Question number {number}: explain something."],
            position=number,
        )
        for name, quality in MODELS.items():
            contender, _ = Contender.objects.get_or_create(name=name)
            text = f"{name.title()} answers question {number}. quality:{quality}"
            Answer.objects.create(
                prompt=prompt,
                contender=contender,
                turns=[text],
                token_counts=[len(text.split())],
                style=[[len(text.split()), 0, 0, 0]],
            )
    user_model = get_user_model()
    for username in ("rita", "ravi"):
        user_model.objects.create_user(username, password="vote-4-arena!")
    call_command("make_comparisons", "--prompt-set", "e2e", "--pairs-per-prompt", "3")
    return pset


class Rater:
    """A person in a browser: a session cookie, the CSRF token, form posts."""

    def __init__(self, base_url: str, username: str):
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
        self.http.get("/accounts/login/")
        response = self.http.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": "vote-4-arena!",
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
        )
        assert response.status_code == 200 and "sessionid" in self.http.cookies, response.text[:500]

    def next_assignment(self) -> int:
        page = self.http.get("/rate/e2e/").text
        found = re.search(r"/rate/assignments/(\d+)/vote/", page)
        assert found, page[:1000]
        return int(found.group(1))

    def vote(self, assignment: int, choice: str) -> httpx.Response:
        return self.http.post(
            f"/rate/assignments/{assignment}/vote/",
            data={
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
                "choice": choice,
                "set": "e2e",
                "grade_a": "B",
                "helpful": "A",
            },
        )


class LeaderboardSocket:
    """An open leaderboard page's WebSocket, listening in a background thread."""

    def __init__(self, base_url: str):
        self.url = base_url.replace("http://", "ws://") + "/ws/leaderboard/"
        self.origin = base_url
        self.messages: list[dict] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)
        self._thread.start()
        assert self.connected.wait(15), "the leaderboard socket did not connect"

    async def _listen(self) -> None:
        import websockets

        async with websockets.connect(self.url, origin=self.origin) as ws:
            self.connected.set()
            while not self._stop.is_set():
                try:
                    self.messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5)))
                except TimeoutError:
                    continue
                except websockets.ConnectionClosed as closed:
                    self.messages.append({"closed": str(closed)})
                    return

    def snapshot_keys(self) -> list[str]:
        return [m.get("key", "") for m in self.messages]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def leaderboard(base_url: str, source: str) -> dict:
    # rater_quality=all: these scripted raters vote faster than anyone can read, which the default
    # (clean) rightly leaves out; here every stored vote must reach the board.
    response = httpx.get(
        f"{base_url}/api/leaderboard/",
        params={"source": source, "prompt_set": "e2e", "bootstrap": 50, "rater_quality": "all"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_judge_batch_and_human_votes_survive_a_killed_worker_and_reach_the_live_leaderboard(
    system, arena_data, llm
):
    base = system.base_url
    system.manage(
        "judge_add",
        "e2e-judge",
        "--model",
        "fake-judge",
        "--base-url",
        llm.base_url,
        "--api-key-env",
        "ARENA_KEY_E2E_NONE",
        "--max-concurrent",
        "4",
        "--rpm",
        "6000",
        "--price-input",
        "2.5",
        "--price-output",
        "10",
    )
    # Open pages: snapshots exist for both sources, and a socket listens for their updates.
    assert leaderboard(base, "human")["battle_total"] == 0
    assert leaderboard(base, "judge:e2e-judge")["battle_total"] == 0
    socket_ = LeaderboardSocket(base)
    try:
        system.manage("judge_run", "--judge", "e2e-judge", "--prompt-set", "e2e", "--mode", "pairwise")
        run = JudgeRun.objects.get()

        # Kill one worker mid-batch; start another in its place.
        done = lambda: Judgment.objects.filter(run=run).exclude(status="pending").count()  # noqa: E731
        assert wait_for(lambda: done() >= 6, timeout=60), system.log_tail()
        kill(system.processes["judge-a"])
        assert done() < JUDGMENTS, "the batch finished before the kill; make the server slower"
        system.start_worker("judge-a2", "judge", 8)

        # Raters vote while the batch goes on; one of them double-submits.
        raters = [Rater(base, "rita"), Rater(base, "ravi")]
        cast = 0
        for rater in raters:
            for choice in ("A", "B", "tie", "A"):
                assignment = rater.next_assignment()
                response = rater.vote(assignment, choice)
                assert response.status_code == 200, response.text[:500]
                cast += 1
        again = raters[0].vote(assignment_id := raters[0].next_assignment(), "B")
        assert again.status_code == 200
        assert raters[0].vote(assignment_id, "B").status_code == 200  # the double click
        cast += 1

        assert wait_for(
            lambda: JudgeRun.objects.get(pk=run.pk).status == "done", timeout=120, interval=0.3
        ), f"{done()} of {JUDGMENTS} judged\n{system.log_tail()}"

        # Every (comparison, order) judged exactly once, counted by the database and the server.
        judgments = Judgment.objects.filter(run=run)
        assert judgments.count() == JUDGMENTS
        assert set(judgments.values_list("status", flat=True)) == {"done"}
        assert judgments.values("comparison", "order").distinct().count() == JUDGMENTS
        stats = llm.stats()
        repeated = sum(count - 1 for count in stats["by_key"].values())
        assert len(stats["by_key"]) == JUDGMENTS
        # Only requests the killed worker had started but not stored are sent again: at most its
        # 8 threads' worth. The database counts a send when a row is claimed, before the request
        # (so a kill cannot hide one): it is never below what the server saw.
        assert repeated <= 8, repeated
        assert sum(judgments.values_list("sends", flat=True)) >= stats["total"]
        assert stats["in_flight_max"] <= 4  # the judge's limit held across both workers
        assert sum(j.cost for j in judgments) > 0

        # Every vote stored once, as a human battle.
        assert Vote.objects.count() == cast
        assert Comparison.objects.filter(votes__isnull=False).count() == cast

        # The open socket heard about both leaderboards, and they show the new verdicts.
        assert wait_for(
            lambda: (
                any("source=human" in k for k in socket_.snapshot_keys())
                and any("judge%3Ae2e-judge" in k or "judge:e2e-judge" in k for k in socket_.snapshot_keys())
            ),
            timeout=60,
            interval=0.3,
        ), (socket_.messages, system.log_tail())
        assert wait_for(lambda: leaderboard(base, "human")["battle_total"] == cast, timeout=30, interval=0.5)
        judged = {}

        def judge_board_complete() -> bool:
            judged.update(leaderboard(base, "judge:e2e-judge"))
            return judged["battle_total"] == JUDGMENTS // 2

        assert wait_for(judge_board_complete, timeout=30, interval=0.5), judged
        assert [row["model"] for row in judged["rows"]] == ["strong", "middle", "weak"]
    finally:
        socket_.close()
