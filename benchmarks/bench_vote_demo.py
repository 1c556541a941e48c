"""The vote round trip on the demo settings, with 20 leaderboard snapshots to keep fresh.

Goal (issue 17.4): p95 under 150 ms. A vote must never wait for a leaderboard: without a broker
the snapshots a vote makes stale are refreshed on a background thread after the response.

What it does:
1. Builds the demo in a temporary ARENA_VAR_DIR exactly as ``make demo`` does (SQLite, no Redis,
   no broker, so Celery runs inline): ``migrate`` and ``load_demo``.
2. Stores 20 snapshots that read human votes, so that every vote makes all of them stale: the
   leaderboards of ``all`` and ``human`` (Bradley-Terry and Elo, every prompt set and each of the
   three bundled ones) and the bias reports of ``human`` and ``all`` on every set.
3. Serves the demo with ``manage.py runserver`` (daphne's, as ``make demo``), with the vote rate
   limit lifted (it is not part of what is measured; the benchmark votes faster than a person).
4. ``--raters`` signed-in raters (default 1) vote back to back: ``GET /rate/`` as htmx (lease
   and panel), then ``POST`` the vote (store and reveal), ``--votes`` times each.
5. Prints p50/p95/max of the vote POST (the round trip a rater waits for after a click) and of
   the lease GET, then waits for the background refreshes and checks that the snapshots caught
   up with every vote (``battle_total`` of the human leaderboard = votes stored).

Run: ``.venv/bin/python benchmarks/bench_vote_demo.py [--votes 150] [--raters 1]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.bench_vote import free_port, p95_of, percentiles, signed_in_session  # noqa: E402 - needs ROOT on the path

GOAL_P95_MS = 150.0
VOTE_RE = re.compile(r"/rate/assignments/(\d+)/vote/")


# Not set in ``make demo``: SQLite, the in-memory layer and cache, Celery inline, debug settings.
DEMO_UNSET = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG", "SECRET_KEY")


def demo_env(var_dir: Path) -> dict[str, str]:
    """``make demo``'s environment: SQLite in ``var_dir``, no Redis, no broker."""
    env = {k: v for k, v in os.environ.items() if k not in DEMO_UNSET}
    env.update(
        ARENA_VAR_DIR=str(var_dir),
        ARENA_VOTE_RATE_LIMIT="100000",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="arena.settings",
    )
    return env


def snapshot_keys() -> list[str]:
    from reports.selectors.leaderboards import LeaderboardParams
    from reports.selectors.reports import BiasParams

    keys = []
    for source in ("all", "human"):
        for prompt_set in (None, "mt_bench", "vicuna80", "user_oriented_252"):
            for method in ("bt", "elo"):
                keys.append(
                    LeaderboardParams.from_query(
                        {"source": source, "prompt_set": prompt_set, "method": method}
                    ).key
                )
    for source in ("human", "all"):
        keys.append(BiasParams.from_query({"source": source}).key)
    keys += [
        BiasParams.from_query({"source": "human", "prompt_set": s}).key for s in ("mt_bench", "vicuna80")
    ]
    return keys


def demo_database(env: dict[str, str]) -> None:
    """``make demo``'s database (migrate, load_demo) in ``env``'s ARENA_VAR_DIR, and Django set up
    on it in this process."""
    for command in (["migrate", "--noinput", "-v", "0"], ["load_demo", "--quiet"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    for name in DEMO_UNSET:  # this process reads the same database (bench_vote's import set some)
        os.environ.pop(name, None)
    os.environ.update(env)
    import django

    django.setup()


def prepare(env: dict[str, str], raters: int) -> list[str]:
    """The demo database, 20 snapshots, and one session per rater."""
    demo_database(env)
    from django.contrib.auth import get_user_model
    from django.db import connections

    from reports.services.snapshots import snapshot_refresh

    started = time.perf_counter()
    keys = snapshot_keys()
    for key in keys:
        snapshot_refresh(key=key)
    print(f"{len(keys)} snapshots stored in {time.perf_counter() - started:.1f} s")
    sessions = [
        signed_in_session(get_user_model().objects.create_user(f"bench-rater-{i}"))  # no password needed
        for i in range(raters)
    ]
    connections.close_all()
    return sessions


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    import httpx

    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/rate/guidelines/", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(
        "the demo server did not start: " + (server.stderr.read().decode() if server.stderr else "")
    )


def vote_loop(base: str, session_key: str, votes: int, get_ms: list[float], post_ms: list[float]) -> int:
    import httpx

    with httpx.Client(base_url=base, cookies={"sessionid": session_key}, timeout=60) as client:
        first = client.get("/rate/")
        token = re.search(r'"X-CSRFToken": "([^"]+)"', first.text)
        if first.status_code != 200 or token is None:
            detail = re.search(r"exception_value\">([^<]*)", first.text)
            raise RuntimeError(f"/rate/ answered {first.status_code} {detail.group(1) if detail else ''}")
        headers = {"X-CSRFToken": token.group(1), "HX-Request": "true"}
        done = 0
        for _ in range(votes):
            started = time.perf_counter()
            panel = client.get("/rate/", headers={"HX-Request": "true"})
            get_ms.append((time.perf_counter() - started) * 1000)
            found = VOTE_RE.search(panel.text)
            if found is None:
                break  # nothing left to rate
            started = time.perf_counter()
            reveal = client.post(
                f"/rate/assignments/{found.group(1)}/vote/", data={"choice": "A"}, headers=headers
            )
            post_ms.append((time.perf_counter() - started) * 1000)
            if reveal.status_code != 200 or "Your vote is in" not in reveal.text:
                detail = re.search(r"exception_value\">([^<]*)", reveal.text)
                raise RuntimeError(
                    f"vote: {reveal.status_code} {detail.group(1) if detail else reveal.text[:200]}"
                )
            done += 1
    return done


def snapshots_caught_up(votes: int, timeout: float) -> tuple[bool, float]:
    """Whether the stored human leaderboard counts every vote, waiting up to ``timeout``."""
    from django.db import connections

    from arena.models import RatingSnapshot, Vote
    from reports.selectors.leaderboards import LeaderboardParams

    key = LeaderboardParams.from_query({"source": "human"}).key
    started = time.monotonic()
    while True:
        stored = Vote.objects.count()
        snapshot = RatingSnapshot.objects.filter(key=key).values_list("battle_count", flat=True).first()
        connections.close_all()
        if stored == votes and snapshot == votes:
            return True, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return False, time.monotonic() - started
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--votes", type=int, default=150, help="Votes per rater.")
    parser.add_argument("--raters", type=int, default=1, help="Raters voting at once, each back to back.")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="arena-bench-demo-"))
    env = demo_env(var_dir)
    try:
        sessions = prepare(env, args.raters)
        port = free_port()
        server = start_server(port, env)
        try:
            import threading

            get_ms: list[float] = []
            post_ms: list[float] = []
            counts = [0] * len(sessions)
            errors: list[str] = []

            def rater(i: int) -> None:
                try:
                    counts[i] = vote_loop(
                        f"http://127.0.0.1:{port}", sessions[i], args.votes, get_ms, post_ms
                    )
                except Exception as error:  # reported with the figures
                    errors.append(f"rater {i}: {error}")

            started = time.perf_counter()
            threads = [threading.Thread(target=rater, args=(i,)) for i in range(len(sessions))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
            votes = sum(counts)
            caught_up, waited = snapshots_caught_up(votes, timeout=120)
        finally:
            server.terminate()
            server.wait(10)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    p95 = p95_of(post_ms)
    print(
        f"\nDemo settings (SQLite, no broker, Celery inline), runserver on 127.0.0.1, {args.raters} rater(s) back to "
        f"back, 20 snapshots reading human votes; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  POST vote (store + reveal)    {percentiles(post_ms)}")
    print(f"  GET  /rate/ (lease + panel)   {percentiles(get_ms)}")
    print(f"  {votes} votes in {seconds:.1f} s")
    if errors:
        print(f"  errors ({len(errors)}): {errors}")
    print(
        f"  snapshots caught up with every vote: {'yes' if caught_up else 'NO'} ({waited:.1f} s after the last vote)"
    )
    print(
        f"  goal p95 < {GOAL_P95_MS:.0f} ms for the vote: {'met' if p95 < GOAL_P95_MS else 'NOT met'} ({p95:.1f} ms)"
    )


if __name__ == "__main__":
    main()
