"""Real Celery worker processes for the integration tests and the benchmark.

The worker gets the test database by name (pytest-django's ``test_<name>``) and the test's own Redis
database (tests/services.py) for the broker, the limits and the channel layer, so it collides with
nobody else's worker or queue.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def worker_env(db_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "JUDGE_"))}
    env.update(
        DATABASE_URL=db_url,
        CELERY_BROKER_URL=redis_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="arena.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        JUDGE_PROGRESS_INTERVAL="0.5",
        **extra,
    )
    return env


def start_worker(
    env: dict[str, str], *, concurrency: int = 8, name: str = "w1", log: Path | None = None
) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "arena",
            "worker",
            "-Q",
            "judge,default",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill(process)


def wait_for(predicate, *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def daphne_serving(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """daphne serving Arena on a free port with ``env``; yields its base URL once a page answers,
    stops it after (its log in ``log_dir/daphne.log`` when it does not come up)."""
    root = Path(__file__).resolve().parents[2]
    port = free_port()
    log_path = log_dir / "daphne.log"
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [
                str(root / ".venv" / "bin" / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "arena.asgi:application",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/rate/guidelines/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            assert wait_for(up, timeout=60, interval=0.3), log_path.read_text()
            yield base
        finally:
            stop(server)
