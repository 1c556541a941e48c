"""The vote path under 50 concurrent raters, on the real ASGI server.

Goal (issue 4): p95 under 50 ms per request, and the vote path at least half the throughput of a
bare Django view served by the same server.

What it does:
1. Recreates the PostgreSQL database ``arena_bench_vote`` (override with DATABASE_URL), migrates
   it, and creates N raters (with real server-side sessions), two contenders and enough
   comparisons (realistic markdown answers with code blocks) for every vote.
2. Starts ``daphne -b 127.0.0.1 -p PORT arena.asgi:application`` as a subprocess with
   ARENA_BENCH_VIEWS=1 (which routes ``/bench/bare/``) and the rate limit lifted, configured as
   deployed: DJANGO_DEBUG=0, Redis for the cache and channel layer (db 12, emptied first;
   ARENA_BENCH_REDIS_URL), behind a TLS-terminating proxy (BEHIND_PROXY=1; the load generator
   sends ``X-Forwarded-Proto: https``, and ``Origin`` with its POSTs as a browser does), static
   files collected. ``--debug`` serves the development settings instead, for comparison.
3. Each rater (an asyncio task with its own httpx client, session cookie and CSRF token) loops:
   ``GET /rate/`` as htmx (lease a comparison, render the panel) then
   ``POST /rate/assignments/<id>/vote/`` (store the vote, render the reveal).
4. The same number of concurrent clients then hammer ``GET /bench/bare/`` for comparison, and
   the raters ``GET /bench/signed-in/`` (their session and user loaded, nothing else): the floor
   under any request of a signed-in rater, so the gap from the bare view splits into what
   signing in costs and what the vote path itself does.
5. Open loop (``--rates``): vote cycles (GET then POST) arrive as a Poisson process at each given
   rate, on the same raters (one cycle per rater at a time; a cycle that finds no idle rater
   waits, and that wait counts in its GET latency, which is measured from the scheduled arrival,
   so a saturated server cannot hide its queue). This finds the throughput at which p95 stays
   under the goal; the closed loop above (50 raters back to back) measures saturation. After each
   rate the bare view gets the same request rate (a control: on a shared machine it shows how
   much of the latency the machine itself adds).

Prints p50/p95/max per request kind, votes per second, requests per second, and CPU time per
vote and per bare request: the daphne process, the PostgreSQL backends serving the benchmark
database, and the load generator itself (all share the same machine). Bounded: at most
``--votes`` votes per rater and ``--seconds`` per phase; only 127.0.0.1.

Run: ``.venv/bin/python benchmarks/bench_vote.py [--raters 50] [--votes 10] [--seconds 60]
[--rates 10,20,40] [--open-seconds 15] [--debug]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure, database_name  # noqa: E402 - needs ROOT on the path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench_vote")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
# One key for this process (which creates the raters' sessions) and the server (which reads them).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))

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


def prepare(raters: int, comparisons: int) -> list[str]:
    """Migrate, create data; returns one session key per rater."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from arena.markdown import rendered_turns
    from arena.models import Answer, Contender, Prompt, PromptSet
    from arena.services.comparisons import comparisons_create

    def text(turn: str) -> dict[str, object]:
        """Every text distinct (no render cache hits), stored with its HTML as imports store it."""
        return {"turns": [turn], "rendered": rendered_turns([turn])}

    pset = PromptSet.objects.create(slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        Prompt(
            prompt_set=pset,
            external_id=f"q{i}",
            position=i,
            **text(f"Question {i}: sum the even numbers in a list."),
        )
        for i in range(comparisons)
    )
    models = [Contender.objects.create(name=n) for n in ("bench-model-one", "bench-model-two")]
    Answer.objects.bulk_create(
        Answer(prompt=p, contender=m, **text(f"{ANSWER}Answer {p.external_id} by candidate {k}."))
        for p in prompts
        for k, m in enumerate(models)
    )
    comparisons_create(prompt_set="bench", seed=1)

    user_model = get_user_model()
    template = user_model(username="template")
    template.set_password("bench-password-not-used")
    users = user_model.objects.bulk_create(
        user_model(username=f"bench-rater-{i}", password=template.password) for i in range(raters)
    )
    keys = [signed_in_session(user) for user in users]
    from django.db import connections

    connections.close_all()
    return keys


def signed_in_session(user) -> str:  # type: ignore[no-untyped-def]
    """A server-side session of ``user``, signed in as a login would leave it; its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


BENCH_REDIS_URL = os.environ.get("ARENA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# What the load generator sends as a TLS-terminating proxy would: the deployed server (DJANGO_DEBUG=0,
# BEHIND_PROXY=1) then treats the request as HTTPS, so it neither redirects nor withholds cookies.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def server_env(*, debug: bool) -> dict[str, str]:
    """daphne's environment: as deployed (DJANGO_DEBUG=0 behind a TLS proxy) unless ``debug``."""
    env = {
        **os.environ,
        "ARENA_BENCH_VIEWS": "1",
        "ARENA_VOTE_RATE_LIMIT": "100000",
        "ARENA_GOLD_RATE": "0",
        "LOG_LEVEL": "WARNING",
        # PostgreSQL goes through the psycopg pool (DB_POOL, on by default): no per-thread
        # connections to pile up, so no DB_CONN_MAX_AGE workaround is needed any more.
    }
    if not debug:
        # Redis as deployed: the cache (sessions, the vote rate limit) and the channel layer.
        env.update(DJANGO_DEBUG="0", ALLOWED_HOSTS="127.0.0.1", BEHIND_PROXY="1", REDIS_URL=BENCH_REDIS_URL)
    return env


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if env.get("DJANGO_DEBUG") == "0":  # manifest static files, as deployed
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
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
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    f"http://127.0.0.1:{port}/bench/bare/", headers=PROXY_HEADERS, timeout=1
                ).status_code
                == 200
            ):
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
    return (
        f"n={len(ordered):5d}  p50={statistics.median(ordered):6.1f} ms  p95={p95:6.1f} ms  "
        f"max={ordered[-1]:6.1f} ms"
    )


def p95_of(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("inf")


# --- CPU accounting: the server, its PostgreSQL backends and the load generator ---------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds used between ``start()`` and ``stop()`` by daphne, by the benchmark database's
    PostgreSQL backends (pooled, so they live through a phase) and by this process."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid = server_pid
        self.database = database

    def _sample(self) -> tuple[float, dict[int, float], float]:
        backends = {pid: _proc_cpu_seconds(pid) for pid in _backend_pids(self.database)}
        return _proc_cpu_seconds(self.server_pid), backends, time.process_time()

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        server, backends, client = self._sample()
        server0, backends0, client0 = self.before
        return {
            "server": server - server0,
            "postgres": sum(cpu - backends0.get(pid, 0.0) for pid, cpu in backends.items()),
            "client": client - client0,
        }


def cpu_line(cpu: dict[str, float], per: int, unit: str) -> str:
    if not per:
        return "no samples"
    ms = {k: v * 1000 / per for k, v in cpu.items()}
    return (
        f"CPU per {unit}: daphne {ms['server']:.1f} ms + PostgreSQL {ms['postgres']:.1f} ms "
        f"= {ms['server'] + ms['postgres']:.1f} ms server side (load generator {ms['client']:.1f} ms)"
    )


# --- Load --------------------------------------------------------------------------------------


VOTE_RE = re.compile(r"/rate/assignments/(\d+)/vote/")


class Rater:
    """One rater's HTTP client, CSRF token and the comparison it holds, if any."""

    def __init__(self, base: str, session_key: str) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=base, cookies={"sessionid": session_key}, headers=PROXY_HEADERS, timeout=30
        )
        self.headers: dict[str, str] = {}
        self.pending: str | None = None

    async def start(self) -> None:
        first = await self.client.get("/rate/")  # a full page once: sets the CSRF cookie
        for name, value in first.cookies.items():  # marked Secure; the proxy would carry them over TLS
            self.client.cookies.set(name, value)
        token_match = re.search(r'"X-CSRFToken": "([^"]+)"', first.text)
        if first.status_code != 200 or token_match is None:
            raise RuntimeError(f"first page: {first.status_code}")
        # Origin as a browser sends it with a POST (CSRF checks it against the host on HTTPS).
        origin = str(self.client.base_url).replace("http://", "https://", 1).rstrip("/")
        self.headers = {"X-CSRFToken": token_match.group(1), "HX-Request": "true", "Origin": origin}
        pending = VOTE_RE.search(first.text)
        self.pending = pending.group(1) if pending else None

    async def lease(self) -> None:
        panel = await self.client.get("/rate/", headers={"HX-Request": "true"})
        pending = VOTE_RE.search(panel.text)
        if panel.status_code != 200 or pending is None:
            raise RuntimeError(f"lease: {panel.status_code}")
        self.pending = pending.group(1)

    async def vote(self) -> None:
        reveal = await self.client.post(
            f"/rate/assignments/{self.pending}/vote/",
            data={"choice": "A", "grade_a": "B", "helpful": "A"},
            headers=self.headers,
        )
        if reveal.status_code != 200 or "Your vote is in" not in reveal.text:
            raise RuntimeError(f"vote: {reveal.status_code} {reveal.text[:120]}")
        self.pending = None


async def rater_loop(
    rater: Rater, votes: int, deadline: float, get_ms: list[float], post_ms: list[float], errors: list[str]
) -> int:
    """Closed loop: lease, vote, lease, vote … back to back."""
    done = 0
    try:
        while done < votes and time.monotonic() < deadline:
            if rater.pending is None:
                started = time.perf_counter()
                await rater.lease()
                get_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await rater.vote()
            post_ms.append((time.perf_counter() - started) * 1000)
            done += 1
    except Exception as error:  # reported with the results
        errors.append(str(error))
    return done


async def poisson_arrivals(
    rate: float, seconds: float, rng: random.Random, job: Callable[[float], Awaitable[None]]
) -> float:
    """Start ``job(scheduled_time)`` at Poisson arrivals of ``rate`` per second for ``seconds``,
    wait for every job, and return the elapsed seconds."""
    loop = asyncio.get_running_loop()
    start = at = loop.time()
    tasks = []
    while True:
        at += rng.expovariate(rate)
        if at - start > seconds:
            break
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(job(at)))
    await asyncio.gather(*tasks)
    return loop.time() - start


async def open_loop(
    raters: list[Rater],
    rate: float,
    seconds: float,
    get_ms: list[float],
    post_ms: list[float],
    errors: list[str],
) -> tuple[int, float]:
    """Vote cycles arriving as a Poisson process at ``rate`` per second for ``seconds``.

    Latency of the GET is measured from the scheduled arrival (so waiting for an idle rater, or
    for a late event loop, counts); the POST follows at once. Returns (votes, elapsed seconds)."""
    idle: asyncio.Queue[Rater] = asyncio.Queue()
    for rater in raters:
        idle.put_nowait(rater)
    loop = asyncio.get_running_loop()
    rng = random.Random(int(rate * 1000))
    done = 0

    async def cycle(scheduled: float) -> None:
        nonlocal done
        rater = await idle.get()
        try:
            await rater.lease()
            get_ms.append((loop.time() - scheduled) * 1000)
            started = loop.time()
            await rater.vote()
            post_ms.append((loop.time() - started) * 1000)
            done += 1
        except Exception as error:
            errors.append(str(error))
        finally:
            idle.put_nowait(rater)

    elapsed = await poisson_arrivals(rate, seconds, rng, cycle)
    return done, elapsed


async def open_loop_bare(base: str, clients: int, rate: float, seconds: float, samples: list[float]) -> None:
    """The control for ``open_loop``: single ``GET /bench/bare/`` requests arriving at ``rate`` per
    second on ``clients`` connections, latency from the scheduled arrival."""
    import httpx

    idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    for _ in range(clients):
        idle.put_nowait(httpx.AsyncClient(base_url=base, headers=PROXY_HEADERS, timeout=30))
    loop = asyncio.get_running_loop()
    rng = random.Random(int(rate * 1000) + 1)

    async def one(scheduled: float) -> None:
        client = await idle.get()
        try:
            (await client.get("/bench/bare/")).raise_for_status()
            samples.append((loop.time() - scheduled) * 1000)
        finally:
            idle.put_nowait(client)

    await poisson_arrivals(rate, seconds, rng, one)
    while not idle.empty():
        await idle.get_nowait().aclose()


async def bare_client(base: str):  # type: ignore[no-untyped-def]
    """A client with its connection open, as the raters' are when their loop starts."""
    import httpx

    client = httpx.AsyncClient(base_url=base, headers=PROXY_HEADERS, timeout=30)
    (await client.get("/bench/bare/")).raise_for_status()
    return client


async def get_loop(client, path: str, requests: int, deadline: float, samples: list[float]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(requests):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        response = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()


async def main_async(args: argparse.Namespace, base: str, keys: list[str], meter: CpuMeter) -> None:
    raters = [Rater(base, k) for k in keys]
    await asyncio.gather(*(r.start() for r in raters))

    get_ms: list[float] = []
    post_ms: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + args.seconds
    meter.start()
    started = time.perf_counter()
    done = await asyncio.gather(
        *(rater_loop(r, args.votes, deadline, get_ms, post_ms, errors) for r in raters)
    )
    vote_seconds = time.perf_counter() - started
    vote_cpu = meter.stop()
    votes = sum(done)

    bare_ms: list[float] = []
    deadline = time.monotonic() + args.seconds
    per_client = len(get_ms + post_ms) // len(keys) + 1
    # Connections opened before the clock starts, as the raters' are (Rater.start): opening 50 of
    # them inside a phase of a few seconds would count set-up against the bare view only.
    clients = await asyncio.gather(*(bare_client(base) for _ in keys))
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(get_loop(client, "/bench/bare/", per_client, deadline, bare_ms) for client in clients)
    )
    bare_seconds = time.perf_counter() - started
    bare_cpu = meter.stop()
    await asyncio.gather(*(client.aclose() for client in clients))

    # The raters again, on a view that only loads their session and user: what any request of a
    # signed-in rater costs before the vote path does any work of its own.
    signed_ms: list[float] = []
    deadline = time.monotonic() + args.seconds
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(get_loop(r.client, "/bench/signed-in/", per_client, deadline, signed_ms) for r in raters)
    )
    signed_seconds = time.perf_counter() - started
    signed_cpu = meter.stop()

    vote_requests = len(get_ms) + len(post_ms)
    vote_rps = vote_requests / vote_seconds
    bare_rps = len(bare_ms) / bare_seconds
    signed_rps = len(signed_ms) / signed_seconds
    load = os.getloadavg()[0]
    print(
        f"\nClosed loop: {len(keys)} concurrent raters back to back, daphne (one process) on 127.0.0.1, "
        f"DJANGO_DEBUG={int(args.debug)}, "
        f"PostgreSQL, {os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(f"  GET  /rate/ (lease + panel)   {percentiles(get_ms)}")
    print(f"  POST vote (store + reveal)    {percentiles(post_ms)}")
    print(f"  vote path, both requests      {percentiles(get_ms + post_ms)}")
    print(f"  GET  /bench/bare/             {percentiles(bare_ms)}")
    print(f"  GET  /bench/signed-in/        {percentiles(signed_ms)}")
    print(
        f"  votes stored: {votes} in {vote_seconds:.1f} s = {votes / vote_seconds:.1f} votes/s "
        f"({vote_rps:.0f} requests/s)"
    )
    print(f"  bare view: {bare_rps:.0f} requests/s; vote path / bare = {vote_rps / bare_rps:.2f}")
    print(f"  signed-in view: {signed_rps:.0f} requests/s; signed-in / bare = {signed_rps / bare_rps:.2f}")
    print(f"  {cpu_line(vote_cpu, votes, 'vote (GET + POST)')}")
    print(f"  {cpu_line(bare_cpu, len(bare_ms), 'bare request')}")
    print(f"  {cpu_line(signed_cpu, len(signed_ms), 'signed-in request')}")
    if errors:
        print(f"  errors ({len(errors)}): {errors[:5]}")
    p95 = p95_of(get_ms + post_ms)
    print(
        f"  goal p95 < {GOAL_P95_MS:.0f} ms: {'met' if p95 < GOAL_P95_MS else 'NOT met'} ({p95:.1f} ms); "
        f"goal >= 0.5x bare throughput: {'met' if vote_rps >= 0.5 * bare_rps else 'NOT met'}"
    )

    if args.rates:
        print(
            f"\nOpen loop: Poisson arrivals of vote cycles (GET then POST) on {len(keys)} raters, "
            f"{args.open_seconds:.0f} s per rate; GET latency counted from the scheduled arrival"
        )
    for rate in args.rates:
        get_ms, post_ms, errors = [], [], []
        meter.start()
        votes, seconds = await open_loop(raters, rate, args.open_seconds, get_ms, post_ms, errors)
        cpu = meter.stop()
        p95 = p95_of(get_ms + post_ms)
        print(
            f"  {rate:6.1f} votes/s offered, {votes / seconds:5.1f} done ({2 * votes / seconds:5.1f} requests/s), "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"      GET  {percentiles(get_ms)}")
        print(f"      POST {percentiles(post_ms)}")
        print(
            f"      both p95 {p95:.1f} ms: {'under' if p95 < GOAL_P95_MS else 'OVER'} {GOAL_P95_MS:.0f} ms; "
            f"{cpu_line(cpu, votes, 'vote')}"
        )
        if errors:
            print(f"      errors ({len(errors)}): {errors[:3]}")
        if args.bare_control:
            bare_ms = []
            await open_loop_bare(base, len(keys), 2 * rate, args.open_seconds, bare_ms)
            print(f"      control, bare view at {2 * rate:.0f} requests/s: {percentiles(bare_ms)}")
    await asyncio.gather(*(r.client.aclose() for r in raters))


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--votes", type=int, default=10, help="Votes per rater (bounded).")
    parser.add_argument("--seconds", type=float, default=60.0, help="Time limit per phase.")
    parser.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",") if x],
        default=[],
        help="Open-loop arrival rates to try, in votes per second, e.g. 10,20,40.",
    )
    parser.add_argument("--open-seconds", type=float, default=15.0, help="Duration of each open-loop rate.")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="Serve with DJANGO_DEBUG=1 (the development default) instead of as deployed.",
    )
    parser.add_argument(
        "--no-bare-control",
        dest="bare_control",
        action="store_false",
        help="Skip the bare view at the same request rate after each open-loop rate.",
    )
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if database_name(url) is None or "127.0.0.1" not in url:
        raise SystemExit("bench_vote needs a local PostgreSQL DATABASE_URL on 127.0.0.1.")
    database_ensure(url, recreate=True)
    if not args.debug:  # the cache of an earlier run (sessions, rate counters) must not leak into this one
        import redis

        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    open_votes = int(sum(args.rates) * args.open_seconds * 1.3) + 20 * len(args.rates)
    keys = prepare(args.raters, args.raters * args.votes + args.raters + open_votes)
    port = free_port()
    server = start_server(port, server_env(debug=args.debug))
    try:
        meter = CpuMeter(server.pid, url.rsplit("/", 1)[1].split("?")[0])
        asyncio.run(main_async(args, f"http://127.0.0.1:{port}", keys, meter))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
