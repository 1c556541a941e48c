"""The vote path under 50 concurrent raters, on the real ASGI server.

Goal (issue 4): p95 under 50 ms per request, and the vote path at least half the throughput of a
bare Django view served by the same server.

What it does:
1. Recreates the PostgreSQL database ``arena_bench_vote`` (override with DATABASE_URL), migrates
   it, and creates N raters (with real server-side sessions), two contenders and enough
   comparisons (realistic markdown answers with code blocks) for every vote.
2. Starts ``daphne -b 127.0.0.1 -p PORT arena.asgi:application`` as a subprocess with
   ARENA_BENCH_VIEWS=1 (which routes ``/bench/bare/``) and the rate limit lifted.
3. Each rater (an asyncio task with its own httpx client, session cookie and CSRF token) loops:
   ``GET /rate/`` as htmx (lease a comparison, render the panel) then
   ``POST /rate/assignments/<id>/vote/`` (store the vote, render the reveal).
4. The same number of concurrent clients then hammer ``GET /bench/bare/`` for comparison.

Prints p50/p95/max per request kind, votes per second and requests per second. Bounded: at most
``--votes`` votes per rater and ``--seconds`` per phase; only 127.0.0.1.

Run: ``.venv/bin/python benchmarks/bench_vote.py [--raters 50] [--votes 10] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench_vote")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

GOAL_P95_MS = 50.0
ANSWER = """Here is how I would approach it.

## Steps

1. Read the input **carefully**.
2. Split it into parts and handle each one:

```python
def solve(items: list[int]) -> int:
    total = 0
    for item in items:
        if item % 2 == 0:
            total += item
    return total
```

3. Check the edge cases: an empty list gives `0`.

| input | output |
|-------|--------|
| [1, 2, 3, 4] | 6 |
| [] | 0 |

> Note: this runs in O(n) time.

"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')


def prepare(raters: int, comparisons: int) -> list[str]:
    """Migrate, create data; returns one session key per rater."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from arena.models import Answer, Contender, Prompt, PromptSet
    from arena.services.comparisons import comparisons_create

    pset = PromptSet.objects.create(slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        Prompt(prompt_set=pset, external_id=f"q{i}", turns=[f"Question {i}: sum the even numbers in a list."],
               position=i)
        for i in range(comparisons)
    )
    models = [Contender.objects.create(name=n) for n in ("bench-model-one", "bench-model-two")]
    Answer.objects.bulk_create(
        Answer(prompt=p, contender=m, turns=[f"{ANSWER}Answer {p.external_id} by candidate {k}."])
        for p in prompts for k, m in enumerate(models)
    )
    comparisons_create(prompt_set="bench", seed=1)

    user_model = get_user_model()
    template = user_model(username="template")
    template.set_password("bench-password-not-used")
    users = user_model.objects.bulk_create(
        user_model(username=f"bench-rater-{i}", password=template.password) for i in range(raters)
    )
    keys = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    from django.db import connections

    connections.close_all()
    return keys


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ARENA_BENCH_VIEWS": "1",
        "ARENA_VOTE_RATE_LIMIT": "100000",
        "ARENA_GOLD_RATE": "0",
        "LOG_LEVEL": "WARNING",
        # Under ASGI every request runs on a fresh thread; persistent connections (the default
        # DB_CONN_MAX_AGE=60) pile up one per thread until PostgreSQL refuses clients.
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "0"),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0",
         "arena.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/bare/", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("daphne did not start: " + (server.stderr.read().decode() if server.stderr else ""))


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"n={len(ordered):5d}  p50={statistics.median(ordered):6.1f} ms  p95={p95:6.1f} ms  "
            f"max={ordered[-1]:6.1f} ms")


def p95_of(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("inf")


async def rater_loop(base: str, session_key: str, votes: int, deadline: float,
                     get_ms: list[float], post_ms: list[float], errors: list[str]) -> int:
    import httpx

    done = 0
    async with httpx.AsyncClient(base_url=base, cookies={"sessionid": session_key}, timeout=30) as client:
        first = await client.get("/rate/")  # a full page once: sets the CSRF cookie
        token_match = re.search(r'"X-CSRFToken": "([^"]+)"', first.text)
        if first.status_code != 200 or token_match is None:
            errors.append(f"first page: {first.status_code}")
            return 0
        headers = {"X-CSRFToken": token_match.group(1), "HX-Request": "true"}
        pending = re.search(r"/rate/assignments/(\d+)/vote/", first.text)
        while done < votes and time.monotonic() < deadline:
            if pending is None:
                started = time.perf_counter()
                panel = await client.get("/rate/", headers={"HX-Request": "true"})
                get_ms.append((time.perf_counter() - started) * 1000)
                pending = re.search(r"/rate/assignments/(\d+)/vote/", panel.text)
                if panel.status_code != 200 or pending is None:
                    errors.append(f"lease: {panel.status_code}")
                    break
            started = time.perf_counter()
            reveal = await client.post(f"/rate/assignments/{pending.group(1)}/vote/",
                                       data={"choice": "A", "grade_a": "B", "helpful": "A"}, headers=headers)
            post_ms.append((time.perf_counter() - started) * 1000)
            if reveal.status_code != 200 or "Your vote is in" not in reveal.text:
                errors.append(f"vote: {reveal.status_code} {reveal.text[:120]}")
                break
            done += 1
            pending = None
    return done


async def bare_loop(base: str, requests: int, deadline: float, samples: list[float]) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(requests):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            response = await client.get("/bench/bare/")
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()


async def main_async(args: argparse.Namespace, base: str, keys: list[str]) -> None:
    get_ms: list[float] = []
    post_ms: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + args.seconds
    started = time.perf_counter()
    done = await asyncio.gather(*(rater_loop(base, k, args.votes, deadline, get_ms, post_ms, errors) for k in keys))
    vote_seconds = time.perf_counter() - started
    votes = sum(done)

    bare_ms: list[float] = []
    deadline = time.monotonic() + args.seconds
    per_client = len(get_ms + post_ms) // len(keys) + 1
    started = time.perf_counter()
    await asyncio.gather(*(bare_loop(base, per_client, deadline, bare_ms) for _ in keys))
    bare_seconds = time.perf_counter() - started

    vote_requests = len(get_ms) + len(post_ms)
    vote_rps = vote_requests / vote_seconds
    bare_rps = len(bare_ms) / bare_seconds
    load = os.getloadavg()[0]
    print(f"\n{len(keys)} concurrent raters, daphne on 127.0.0.1, PostgreSQL, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the end")
    print(f"  GET  /rate/ (lease + panel)   {percentiles(get_ms)}")
    print(f"  POST vote (store + reveal)    {percentiles(post_ms)}")
    print(f"  vote path, both requests      {percentiles(get_ms + post_ms)}")
    print(f"  GET  /bench/bare/             {percentiles(bare_ms)}")
    print(f"  votes stored: {votes} in {vote_seconds:.1f} s = {votes / vote_seconds:.1f} votes/s "
          f"({vote_rps:.0f} requests/s)")
    print(f"  bare view: {bare_rps:.0f} requests/s; vote path / bare = {vote_rps / bare_rps:.2f}")
    if errors:
        print(f"  errors ({len(errors)}): {errors[:5]}")
    p95 = p95_of(get_ms + post_ms)
    print(f"  goal p95 < {GOAL_P95_MS:.0f} ms: {'met' if p95 < GOAL_P95_MS else 'NOT met'} ({p95:.1f} ms); "
          f"goal >= 0.5x bare throughput: {'met' if vote_rps >= 0.5 * bare_rps else 'NOT met'}")


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--votes", type=int, default=10, help="Votes per rater (bounded).")
    parser.add_argument("--seconds", type=float, default=60.0, help="Time limit per phase.")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://")) or "127.0.0.1" not in url:
        raise SystemExit("bench_vote needs a local PostgreSQL DATABASE_URL on 127.0.0.1.")
    recreate_database(url)
    keys = prepare(args.raters, args.raters * args.votes + args.raters)
    port = free_port()
    server = start_server(port)
    try:
        asyncio.run(main_async(args, f"http://127.0.0.1:{port}", keys))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
