"""Live battles under load: N concurrent battles (2N upstream streams) on one daphne process.

Goal (issue 21): 200 concurrent battles, 400 upstream streams at 20 tokens/s each, on one daphne
process with PostgreSQL and Redis: every token delivered, the time to first token that Arena adds
under 50 ms at p95, and the server's CPU per streamed token reported.

What it does:
1. Recreates the PostgreSQL database ``arena_bench_live`` (override with DATABASE_URL), migrates
   it, creates N raters with real server-side sessions and two contenders whose endpoint is the
   tests' LLM server (``tests/llm_server.py``), started as its own process, streaming ``--words``
   chunks per answer at ``--rate`` chunks a second.
2. Starts ``daphne`` as deployed (DJANGO_DEBUG=0, Redis as cache and channel layer, db 13 of
   ARENA_BENCH_REDIS_URL, emptied first), the live limits lifted.
3. N WebSocket clients (one asyncio process) connect to ``/ws/battle/`` with their session
   cookie, all send their prompt at once, read every frame until both answers are complete, and
   vote.
4. Checks that every battle got every chunk of both answers (the text equals what the server
   streamed) and was stored as voted.

Time to first token added by Arena, per battle: (first text frame at the client - prompt sent)
- (the server's first chunk - its request's arrival), both sides' requests read from the LLM
server's log, on the same clock. Prints p50/p95/max of that and of the whole time to first token,
the daphne process's CPU seconds per streamed token (user+system from /proc over the streaming
phase), and the machine's load average before and after.

Run: ``.venv/bin/python benchmarks/bench_live.py [--battles 200] [--rate 20] [--words 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure, database_name  # noqa: E402 - needs ROOT on the path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench_live")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
BENCH_REDIS_URL = os.environ.get("ARENA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
GOAL_P95_MS = 50.0
LOG = Path(os.environ.get("ARENA_VAR_DIR", ROOT / "var")) / "bench_live_daphne.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_llm(rate: float, words: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_server", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    from tests.llm_server import control

    control(url, stream_rate=rate, stream_words=words)
    return server, url


def prepare(battles: int, llm_url: str) -> list[str]:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from arena.models import Contender
    from live.models import LiveContender

    for name in ("bench-left-7b", "bench-right-13b"):
        contender = Contender.objects.create(name=name, base_url=llm_url, api_model=name)
        LiveContender.objects.create(contender=contender)
    keys = []
    for i in range(battles):
        user = get_user_model().objects.create_user(f"bench-rater-{i}")
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(str(session.session_key))
    return keys


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": BENCH_REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "ARENA_LIVE_BATTLES_PER_HOUR": "0",
        "ARENA_LIVE_TOKENS_PER_DAY": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    LOG.parent.mkdir(parents=True, exist_ok=True)
    log = open(LOG, "wb")  # noqa: SIM115 - the server's, open while it runs (a pipe nobody reads would fill)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "-v",
            "0",
            "arena.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("daphne did not start: " + LOG.read_text())


async def one_battle(
    port: int, key: str, index: int, start: asyncio.Event, delay: float = 0.0
) -> dict[str, Any]:
    import websockets

    prompt = f"Benchmark battle {index}: explain the tides."
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/battle/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={key}"},
        max_size=2**22,
        open_timeout=120,
    ) as ws:
        await start.wait()
        await asyncio.sleep(delay)
        sent = time.time()
        await ws.send(json.dumps({"type": "prompt", "text": prompt}))
        first: float | None = None
        text = {"left": [], "right": []}
        messages = 0
        answered = False
        while not answered:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            messages += 1
            for frame in message["frames"] if message["type"] == "batch" else [message]:
                kind = frame["type"]
                if kind == "delta":
                    if first is None:
                        first = time.time()
                    text[frame["side"]].append(frame["text"])
                elif kind == "answered":
                    answered = True
                elif kind in ("ended", "refused"):
                    return {"prompt": prompt, "error": frame["message"], "sent": sent}
        done = time.time()
        await ws.send(json.dumps({"type": "vote", "verdict": "tie"}))
        while json.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"] != "reveal":
            pass
    return {
        "prompt": prompt,
        "sent": sent,
        "first": first,
        "done": done,
        "messages": messages,
        "left": "".join(text["left"]),
        "right": "".join(text["right"]),
    }


async def run(port: int, keys: list[str], llm_url: str, ramp: float) -> list[dict[str, Any]]:
    # One battle first, as a running server has had: its first battle sets up the SDK and pools.
    warm = asyncio.Event()
    warm.set()
    await one_battle(port, keys[-1], -1, warm)
    from tests.llm_server import reset

    reset(llm_url)
    start = asyncio.Event()
    # Raters press Send at moments spread evenly over ``ramp`` seconds (0: all in the same instant).
    tasks = [
        asyncio.create_task(one_battle(port, key, i, start, ramp * i / len(keys)))
        for i, key in enumerate(keys)
    ]
    await asyncio.sleep(1.0 + len(keys) * 0.02)  # every socket open before the prompts go
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=False)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--battles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="chunks (tokens) a second per stream")
    parser.add_argument("--words", type=int, default=200, help="chunks per answer (200 at 20/s: 10 s)")
    parser.add_argument(
        "--ramp",
        type=float,
        default=5.0,
        help="seconds over which the battles start (0: all at once); with answers longer than the ramp "
        "every battle streams at once at its end",
    )
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if database_name(url) is None or "127.0.0.1" not in url:
        raise SystemExit("bench_live needs a local PostgreSQL DATABASE_URL on 127.0.0.1.")
    database_ensure(url, recreate=True)
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    llm, llm_url = start_llm(args.rate, args.words)
    server = None
    try:
        keys = prepare(args.battles + 1, llm_url)
        port = free_port()
        server = start_server(port)
        from tests.llm_server import request_key, stats

        load_before = os.getloadavg()
        cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
        results = asyncio.run(run(port, keys[:-1], llm_url, args.ramp))
        cpu = cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        load_after = os.getloadavg()
        upstream_stats = stats(llm_url, log=True)
        log = upstream_stats["log"]
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)
        llm.terminate()
        llm.wait(15)

    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in log:
        by_key.setdefault(entry["key"], []).append(entry)
    errors = [r for r in results if "error" in r]
    complete = [r for r in results if "error" not in r]
    added, ttft, missing, to_upstream, relay, client_s, upstream_s = [], [], 0, [], [], [], []
    from tests.llm_server import stream_words

    for r in complete:
        key = request_key([{"role": "user", "content": r["prompt"]}])
        entries = by_key.get(key, [])
        expected = {
            "".join(
                stream_words([{"role": "user", "content": r["prompt"]}], model=m, key=key, count=args.words)
            )
            for m in ("bench-left-7b", "bench-right-13b")
        }
        if {r["left"], r["right"]} != expected:
            missing += 1
        streamed = [e for e in entries if e.get("first_chunk")]
        upstream = min(e["first_chunk"] - e["start"] for e in streamed)
        to_upstream.append((max(e["start"] for e in streamed) - r["sent"]) * 1000)
        relay.append((r["first"] - min(e["first_chunk"] for e in streamed)) * 1000)
        client_s.append(r["done"] - r["first"])
        upstream_s.extend(e["end"] - e["first_chunk"] for e in streamed)
        ttft.append((r["first"] - r["sent"]) * 1000)
        added.append((r["first"] - r["sent"] - upstream) * 1000)
    tokens = len(complete) * 2 * args.words  # checked: every answer arrived whole (missing == 0)
    messages = sum(r["messages"] for r in complete)
    import django

    django.setup()
    from live.models import LiveBattle

    voted = LiveBattle.objects.filter(status="voted").count() - 1  # less the warm-up battle
    print(
        f"battles: {len(results)} started over {args.ramp:g} s ({2 * len(results)} upstream streams at "
        f"{args.rate:g} tokens/s, {args.words} tokens each; at most {upstream_stats['in_flight_max']} streams at once), "
        f"{len(errors)} ended by an error, {voted} stored as voted"
    )
    print(
        f"every token delivered: {'yes' if missing == 0 and not errors else 'NO'} "
        f"({tokens} tokens in {messages} WebSocket messages; {missing} battles with a missing or altered answer)"
    )
    if added:
        print(
            f"time to first token added by Arena: p50 {statistics.median(added):.1f} ms, "
            f"p95 {pct(added, 0.95):.1f} ms, max {max(added):.1f} ms "
            f"(goal p95 < {GOAL_P95_MS:g} ms: {'met' if pct(added, 0.95) < GOAL_P95_MS else 'MISSED'})"
        )
        print(
            f"time to first token seen by the rater: p50 {statistics.median(ttft):.1f} ms, p95 {pct(ttft, 0.95):.1f} ms"
        )
        print(
            f"  of which prompt sent -> both upstream requests arrived: p50 {statistics.median(to_upstream):.1f} ms, "
            f"p95 {pct(to_upstream, 0.95):.1f} ms; first upstream chunk -> first text at the client: "
            f"p50 {statistics.median(relay):.1f} ms, p95 {pct(relay, 0.95):.1f} ms"
        )
    if client_s:
        nominal = (args.words - 1) / args.rate if args.rate > 0 else 0.0
        print(
            f"answer streaming time (first to last token; {nominal:.1f} s at the nominal rate): at the client "
            f"p50 {statistics.median(client_s):.1f} s, p95 {pct(client_s, 0.95):.1f} s; as the LLM server sent it "
            f"p50 {statistics.median(upstream_s):.1f} s, p95 {pct(upstream_s, 0.95):.1f} s"
        )
    print(
        f"daphne CPU: {cpu:.2f} s over {wall:.1f} s wall ({cpu / wall * 100:.0f}% of a core), "
        f"{cpu / max(tokens, 1) * 1e6:.0f} µs per streamed token"
    )
    print(
        f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; cores: {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
