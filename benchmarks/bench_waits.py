"""Where people wait (issue 23): command start-up, leaderboards read from PostgreSQL, online Elo,
snapshot refreshes at a million battles. Each row against a straightforward reference in the
same run, with the ratio.

Run: .venv/bin/python benchmarks/bench_waits.py [--quick] [--keep] [--repeat N]

Rows and their references:
1. Start-up: ``manage.py check`` and ``django.setup()`` in a fresh interpreter, against the
   floor ``python -c "import django; django.setup()"`` with an empty project's settings.
2. ``manage.py leaderboard`` (the whole command, a fresh process, PostgreSQL) on 135,624 and
   1,000,000 imported battles, BT with no bootstrap and with 1,000 rounds, against the
   straightforward command written plainly with FastChat's algorithms (``rating_systems.py``):
   one Python row per battle from the database, ``preprocess_for_bt``, L-BFGS per fit and per
   bootstrap round (timed on a few rounds and extrapolated; FastChat spreads rounds over
   processes, which changes wall time, not CPU time).
3. Online Elo, K=4, one chronological pass, against FastChat's ``compute_elo`` loop.
4. Elo, mean over P random orders (1,000 of 135k; 100 of 1M), against FastChat's
   ``fit_vectorized_elo`` fed the same orders (their generation not counted for it).
   Ratings are checked equal to 1e-9.
5. The snapshot refresh a worker runs for a 1M-battle source, for what the pages show by
   default (leaderboard BT + 1,000 rounds; bias report; agreement with a second source),
   against Arena's previous code path (one ``Battle`` per row, per-battle reports: the readers
   kept under tests/ as references).

Every row shows wall-clock and CPU seconds. The machine may be shared: the load average is
printed at the start and the end, and CPU time does not count other people's work (a command's
CPU is its process's, threads included). ``--quick`` uses 200,000 battles for the "1M" rows and
fewer orders; the absolute goals are for the full run. DATABASE_URL defaults to the local
database ``arena_bench_waits`` (created and migrated; the bench sources are written once and
reused with ``--keep``).
"""

from __future__ import annotations

import os

# One BLAS thread per process, as the workers run (see bench_ratings.py); set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import io
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure  # noqa: E402 - needs ROOT on the path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench_waits")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
PYTHON = sys.executable
SMALL = 135_624  # the Chatbot Arena battles the issue measured on (synthetic here: see README)


class Seconds(NamedTuple):
    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:7.2f} s / {self.cpu:6.2f} s"

    def times(self, factor: float) -> Seconds:
        return Seconds(self.wall * factor, self.cpu * factor)


def timed(work: Callable[[], Any]) -> tuple[Seconds, Any]:
    """Wall and CPU seconds (this process, all threads) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return Seconds(time.perf_counter() - wall, time.process_time() - cpu), result


def run_process(args: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Seconds:
    """Wall and CPU seconds (user + system) of a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env or dict(os.environ), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Seconds(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def median_of(repeat: int, measure: Callable[[], Seconds]) -> Seconds:
    runs = [measure() for _ in range(repeat)]
    return Seconds(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


class Row(NamedTuple):
    task: str
    arena: Seconds
    reference: Seconds | None
    reference_name: str
    goal: str
    met: str  # "" (no goal) or "wall yes/NO, CPU yes/NO"


ROWS: list[Row] = []


def verdict(
    arena: Seconds, *, under: float | None = None, ratio_of: Seconds | None = None, at_least: float = 0.0
) -> str:
    """Whether a goal is met by the wall clock and by CPU time. On a busy machine the wall clock
    counts other people's work: the CPU verdict is what an idle machine would show for a
    single-threaded task (for a threaded one CPU time is the sum over threads, so stricter)."""

    def met(value: float, reference: float) -> str:
        ok = value < under if under is not None else reference / value >= at_least
        return "yes" if ok else "NO"

    reference = ratio_of or Seconds(0.0, 0.0)
    return f"wall {met(arena.wall, reference.wall)}, CPU {met(arena.cpu, reference.cpu)}"


def record(
    task: str, arena: Seconds, reference: Seconds | None, reference_name: str, goal: str = "", met: str = ""
) -> None:
    ROWS.append(Row(task, arena, reference, reference_name, goal, met))
    ratio = (
        f"  ratio {reference.wall / arena.wall:,.1f}x wall / {reference.cpu / arena.cpu:,.1f}x CPU"
        if reference
        else ""
    )
    print(
        f"  {task}: Arena {arena}" + (f", {reference_name} {reference}" if reference else "") + ratio,
        flush=True,
    )


# --- Synthetic data -------------------------------------------------------------------------


def synthetic(
    n: int, n_models: int, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int8]]:
    """Chatbot-Arena-shaped battles: popular models meet more often, BT outcomes on spread
    strengths, about 15 % ties and 10 % both bad."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 0.7, n_models)
    popularity = rng.pareto(1.5, n_models) + 1.0
    popularity /= popularity.sum()
    a = rng.choice(n_models, n, p=popularity)
    b = rng.choice(n_models, n, p=popularity)
    clash = a == b
    b[clash] = (a[clash] + rng.integers(1, n_models, clash.sum())) % n_models
    roll = rng.random(n)
    p_a = 1.0 / (1.0 + np.exp(strength[b] - strength[a]))
    outcome = np.where(roll < 0.15, 2, np.where(roll < 0.25, 3, np.where(rng.random(n) < p_a, 0, 1)))
    return a.astype(np.intp), b.astype(np.intp), outcome.astype(np.int8)


WINNER_NAMES = ("model_a", "model_b", "tie", "both_bad")


def write_source(
    name: str, n: int, *, n_models: int, seed: int, prompts: list[int] | None, contender_ids: list[int]
) -> None:
    """COPY ``n`` imported verdicts under ``import:name``: linked to ``prompts`` (two turns) when
    given, else each its own conversation like Chatbot Arena's; raters, positions, timestamps."""
    from django.db import connection, transaction

    from arena.models import ImportBatch, ImportedVerdict, VerdictSource

    ImportedVerdict.objects.filter(source__name=name).delete()
    ImportBatch.objects.filter(source=name).delete()
    source, _ = VerdictSource.objects.get_or_create(name=name, defaults={"is_human": True})
    batch = ImportBatch.objects.create(
        kind="verdicts", source=name, file_name="synthetic", sha256=name, format="synthetic", rows=n
    )
    a, b, outcome = synthetic(n, n_models, seed)
    rng = np.random.default_rng(seed + 1)
    ids = np.array(contender_ids)
    prompt = np.array(prompts)[rng.integers(0, len(prompts), n)] if prompts else None
    turn = rng.integers(1, 3, n) if prompts else np.ones(n, dtype=np.int64)
    rater = rng.integers(0, max(n // 30, 1), n)
    winner = np.array(WINNER_NAMES)[outcome]
    copy_sql = (
        "COPY arena_importedverdict (source_id, batch_id, line, model_a_id, model_b_id, winner, prompt_id, "
        "question_ref, turn, position_known, judged_order, rater, tstamp, raw_output, metadata) FROM STDIN"
    )
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for start in range(0, n, 200_000):
            buf = io.StringIO()
            for i in range(start, min(n, start + 200_000)):
                linked = f"{prompt[i]}\tp{prompt[i]}" if prompt is not None else f"\\N\tconv-{i}"
                buf.write(
                    f"{source.id}\t{batch.id}\t{i}\t{ids[a[i]]}\t{ids[b[i]]}\t{winner[i]}\t{linked}\t{turn[i]}"
                    f"\tt\t0\tvoter-{rater[i]}\t{1.6e9 + 30.0 * i}\t\t{{}}\n"
                )
            copy.write(buf.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE arena_importedverdict")


def ensure_data(large: int, keep: bool) -> None:
    """Sources bench-135k (64 models, unlinked), bench-large and bench-large-b (100 models on
    80 two-turn prompts whose answers carry style features)."""
    from arena.models import Answer, Contender, ImportedVerdict, Prompt, PromptSet

    wanted = {"bench-135k": SMALL, "bench-large": large, "bench-large-b": large // 10}
    have = {name: ImportedVerdict.objects.filter(source__name=name).count() for name in wanted}
    if keep and have == wanted:
        print(f"reusing the bench sources: {have}")
        return
    started = time.perf_counter()
    contenders = [Contender.objects.get_or_create(name=f"bench-model-{i:03d}")[0].id for i in range(100)]
    pset, _ = PromptSet.objects.get_or_create(slug="bench-waits", defaults={"name": "bench-waits"})
    prompt_ids = []
    rng = np.random.default_rng(5)
    for i in range(80):
        prompt, _ = Prompt.objects.get_or_create(
            prompt_set=pset,
            external_id=f"p{i}",
            defaults={
                "category": ("writing", "math", "coding", "reasoning")[i % 4],
                "turns": ["One?", "Two?"],
            },
        )
        prompt_ids.append(prompt.id)
    Answer.objects.filter(prompt__prompt_set=pset).delete()
    Answer.objects.bulk_create(
        [
            Answer(
                prompt_id=p,
                contender_id=c,
                turns=["...", "..."],
                token_counts=[0, 0],
                style=[
                    [
                        int(rng.integers(20, 900)),
                        int(rng.integers(0, 5)),
                        int(rng.integers(0, 12)),
                        int(rng.integers(0, 6)),
                    ]
                    for _ in range(2)
                ],
            )
            for p in prompt_ids
            for c in contenders
        ]
    )
    # The Prompt ids go into COPY as prompt_id; question_ref p<id> is what a file would carry.
    write_source("bench-135k", SMALL, n_models=64, seed=1, prompts=None, contender_ids=contenders)
    write_source("bench-large", large, n_models=100, seed=2, prompts=prompt_ids, contender_ids=contenders)
    write_source(
        "bench-large-b", large // 10, n_models=100, seed=3, prompts=prompt_ids, contender_ids=contenders
    )
    print(
        f"wrote the bench sources ({SMALL:,} + {large:,} + {large // 10:,} verdicts) in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


# --- References: FastChat's algorithms, written plainly ------------------------------------------


def reference_rows(source: str) -> tuple[list[str], list[str], list[str]]:
    """One Python row per battle, as a DataFrame load would give them."""
    from arena.models import ImportedVerdict

    rows = list(
        ImportedVerdict.objects.filter(source__name=source)
        .exclude(winner="")
        .order_by("batch_id", "line")
        .values_list("model_a__name", "model_b__name", "winner")
    )
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def preprocess_for_bt(model_a: list[str], model_b: list[str], winner: list[str]):
    """FastChat's preprocess_for_bt: factorise the names, unique (a, b, outcome) rows with counts."""
    index: dict[str, int] = {}  # pandas.factorize, by hashing
    codes = np.array([index.setdefault(name, len(index)) for name in model_a + model_b], dtype=np.int32)
    models = list(index)
    n = len(model_a)
    schedule = np.ones((n, 3), dtype=np.int32)
    schedule[:, 0], schedule[:, 1] = codes[:n], codes[n:]
    w = np.array(winner, dtype=object)
    schedule[w == "model_a", 2] = 2
    schedule[w == "model_b", 2] = 0
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    return matchups_outcomes[:, :2], matchups_outcomes[:, 2] / 2.0, models, weights.astype(np.float64)


def fit_bt(
    matchups: NDArray[Any], outcomes: NDArray[Any], weights: NDArray[Any], n_models: int
) -> NDArray[Any]:
    """FastChat's fit_bt: L-BFGS on the weighted logistic loss."""
    from scipy.optimize import minimize
    from scipy.special import expit

    alpha = math.log(10.0)

    def loss_and_grad(ratings: NDArray[Any]) -> tuple[float, NDArray[Any]]:
        matchup_ratings = ratings[matchups]
        probs = expit(alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1]))
        loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
        grads = -alpha * (outcomes - probs) * weights
        model_grad = np.zeros_like(ratings)
        np.add.at(model_grad, matchups[:, [0, 1]], grads[:, None] * np.array([1.0, -1.0]))
        return loss, model_grad

    result = minimize(
        loss_and_grad, np.zeros(n_models), jac=True, method="L-BFGS-B", options={"maxiter": 100, "gtol": 1e-6}
    )
    return np.asarray(result.x)


def reference_leaderboard(source: str, rounds: int, rounds_timed: int) -> Seconds:
    """The straightforward command, as a fresh process like Arena's: start Django, read, preprocess,
    fit, and ``rounds`` bootstrap fits (``rounds_timed`` of them run, the rest extrapolated)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(
        [PYTHON, __file__, "--reference-command", source, str(rounds), str(rounds_timed)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = json.loads(done.stdout.strip().splitlines()[-1])
    return Seconds(
        wall + extra["wall"],
        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime + extra["cpu"],
    )


def reference_command(source: str, rounds: int, rounds_timed: int) -> None:
    """The body of that process; prints the seconds the rounds it did not run would take."""
    import django

    django.setup()
    matchups, outcomes, models, weights = preprocess_for_bt(*reference_rows(source))
    fit_bt(matchups, outcomes, weights, len(models))
    extra = Seconds(0.0, 0.0)
    if rounds:
        rng = np.random.default_rng(0)
        draws = rng.multinomial(int(weights.sum()), weights / weights.sum(), size=rounds_timed)
        per_round, _ = timed(
            lambda: [fit_bt(matchups, outcomes, d.astype(np.float64), len(models)) for d in draws]
        )
        extra = per_round.times((rounds - rounds_timed) / rounds_timed)
    print(json.dumps(extra._asdict()))


def fastchat_compute_elo(
    matchups: NDArray[Any], outcomes: NDArray[Any], n_models: int, k: float = 4.0
) -> NDArray[Any]:
    """FastChat's compute_elo: the plain loop."""
    alpha = math.log(10.0) / 400.0
    ratings = np.full(n_models, 1000.0)
    for (a, b), outcome in zip(matchups, outcomes, strict=True):
        prob = 1.0 / (1.0 + math.exp(alpha * (ratings[b] - ratings[a])))
        update = k * (outcome - prob)
        ratings[a] += update
        ratings[b] -= update
    return ratings


def fastchat_vectorized_elo(
    matchups: NDArray[Any],
    outcomes: NDArray[Any],
    sample_indices: NDArray[Any],
    n_models: int,
    k: float = 4.0,
) -> NDArray[Any]:
    """FastChat's fit_vectorized_elo: all samples advanced together, one battle position a step."""
    from scipy.special import expit

    alpha = math.log(10.0) / 400.0
    num_samples = sample_indices.shape[1]
    ratings = np.zeros((num_samples, n_models))
    sample_range = np.arange(num_samples)
    for matchup_indices in sample_indices:
        model_a_indices = matchups[matchup_indices, 0]
        model_b_indices = matchups[matchup_indices, 1]
        model_a_ratings = ratings[sample_range, model_a_indices]
        model_b_ratings = ratings[sample_range, model_b_indices]
        probs = expit(alpha * (model_a_ratings - model_b_ratings))
        updates = k * (outcomes[matchup_indices] - probs)
        ratings[sample_range, model_a_indices] += updates
        ratings[sample_range, model_b_indices] -= updates
    return ratings + 1000.0


# --- The rows -----------------------------------------------------------------------------------


def startup_rows(repeat: int) -> None:
    print(f"1. Start-up (median of {repeat} fresh processes)", flush=True)
    with tempfile.TemporaryDirectory() as empty:
        Path(empty, "empty_settings.py").write_text("SECRET_KEY = 'x'\nINSTALLED_APPS = []\n")
        floor_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "empty_settings", "PYTHONPATH": empty}
        floor = median_of(
            repeat,
            lambda: run_process(
                [PYTHON, "-c", "import django; django.setup()"], env=floor_env, cwd=Path(empty)
            ),
        )
    setup = median_of(repeat, lambda: run_process([PYTHON, "-c", "import django; django.setup()"]))
    check = median_of(repeat, lambda: run_process([PYTHON, "manage.py", "check"]))
    floor_name = "floor (empty project)"
    record("django.setup()", setup, floor, floor_name)
    record("manage.py check", check, floor, floor_name, "< 0.5 s", verdict(check, under=0.5))


def leaderboard_rows(large: int, repeat: int, quick: bool) -> None:
    print(
        f"2. manage.py leaderboard, whole command on PostgreSQL (median of {repeat}); the reference too, a fresh "
        "process",
        flush=True,
    )
    rounds_timed = 3 if quick else 5
    for source, n in (("bench-135k", SMALL), ("bench-large", large)):
        for rounds, goal in ((0, ""), (1000, "< 1 s" if n == SMALL else "< 3 s")):
            arena = median_of(
                repeat,
                lambda s=source, r=rounds: run_process(
                    [
                        PYTHON,
                        "manage.py",
                        "leaderboard",
                        "--source",
                        f"import:{s}",
                        "--method",
                        "bt",
                        "--bootstrap",
                        str(r),
                        "--format",
                        "json",
                    ]
                ),
            )
            reference = reference_leaderboard(source, rounds, rounds_timed)
            limit = 1.0 if n == SMALL else 3.0
            record(
                f"leaderboard BT, {n:,} battles, bootstrap {rounds}",
                arena,
                reference,
                "FastChat plainly"
                + (f" ({rounds_timed} rounds x {rounds // rounds_timed})" if rounds else ""),
                goal,
                verdict(arena, under=limit) if goal and not (quick and n != SMALL) else "",
            )


def elo_rows(large: int, quick: bool) -> None:
    from arena.ratings import BattleArrays
    from arena.ratings.elo import elo_over_random_orders, elo_scores, online_elo, random_orders

    print("3./4. Online Elo (in-process, arrays in memory)", flush=True)
    compile_load, _ = timed(lambda: online_elo(BattleArrays.from_arrays(["a", "b"], [0], [1], [0])))
    print(
        f"  first Elo call in a process (numba import, compiled loops loaded from the on-disk cache): {compile_load}"
    )
    for n, orders in ((SMALL, 100 if quick else 1000), (large, 10 if quick else 100)):
        a, b, outcome = synthetic(n, 64, seed=7)
        arrays = BattleArrays.from_arrays([f"m{i}" for i in range(64)], a, b, outcome)
        _, score = elo_scores(arrays)
        matchups = np.column_stack([arrays.model_a, arrays.model_b])
        arena, ours = timed(lambda arr=arrays: online_elo(arr))
        reference, theirs = timed(lambda m=matchups, s=score: fastchat_compute_elo(m, s, 64))
        assert np.abs(ours - theirs).max() < 1e-9, "online Elo differs from FastChat's loop"
        record(
            f"online Elo, one pass, {n:,} battles",
            arena,
            reference,
            "FastChat compute_elo",
            ">= 5x",
            verdict(arena, ratio_of=reference, at_least=5.0),
        )
        arena, ours = timed(lambda arr=arrays, p=orders: elo_over_random_orders(arr, permutations=p, seed=0))
        # The same orders as random_orders(n, orders, seed=0), a block at a time to bound memory.
        assert np.array_equal(
            random_orders(n, 2, seed=0),
            np.random.default_rng(0).permuted(np.broadcast_to(np.arange(n), (2, n)), axis=1),
        )
        rng, block = np.random.default_rng(0), max(1, 20_000_000 // n)
        parts: list[NDArray[Any]] = []
        wall = cpu = 0.0
        for start in range(0, orders, block):
            chunk = rng.permuted(np.broadcast_to(np.arange(n), (min(block, orders - start), n)), axis=1)
            seconds, ratings = timed(
                lambda c=chunk, m=matchups, s=score: fastchat_vectorized_elo(m, s, c.T.copy(), 64)
            )
            wall, cpu = wall + seconds.wall, cpu + seconds.cpu
            parts.append(ratings)
        difference = np.abs(np.concatenate(parts) - ours).max()
        assert difference < 1e-9, f"Elo over random orders differs from FastChat's by {difference}"
        goal = "< 2 s" if n == SMALL and orders == 1000 else ""
        record(
            f"Elo mean over {orders:,} orders of {n:,}",
            arena,
            Seconds(wall, cpu),
            f"FastChat vectorised (same orders; max diff {difference:.1e})",
            goal,
            verdict(arena, under=2.0) if goal else "",
        )


def snapshot_rows(large: int, quick: bool) -> None:
    from arena.models import RatingSnapshot
    from arena.ratings import BattleArrays, compute_leaderboard, length_bias
    from reports.selectors.leaderboards import LeaderboardParams
    from reports.selectors.reports import AgreementParams, BiasParams
    from reports.services.snapshots import snapshot_refresh
    from tests.previous_battles import previous_battles_list
    from tests.ratings import previous_reports

    print(f"5. Snapshot refresh for a {large:,}-battle source, as a worker runs it (in-process)", flush=True)
    source, other = "import:bench-large", "import:bench-large-b"
    keys = {
        "leaderboard (BT, 1,000 rounds)": LeaderboardParams(source=source, bootstrap=1000).key,
        "bias report": BiasParams(source=source).key,
        f"agreement with a {large // 10:,}-battle source": AgreementParams(a=source, b=other).key,
    }

    def old_leaderboard() -> None:
        compute_leaderboard(previous_battles_list(source=source), bootstrap_rounds=1000)

    def old_bias() -> None:
        per_order, combined = (
            previous_battles_list(source=source, per_order=True),
            previous_battles_list(source=source),
        )
        previous_reports.position_bias(per_order)
        length_bias(BattleArrays.from_battles(combined))
        previous_reports.inter_rater_agreement(combined)

    def old_agreement() -> None:
        previous_reports.agreement(previous_battles_list(source=source), previous_battles_list(source=other))

    total_arena = Seconds(0.0, 0.0)
    total_old = Seconds(0.0, 0.0)
    for (label, key), old in zip(keys.items(), (old_leaderboard, old_bias, old_agreement), strict=True):
        RatingSnapshot.objects.filter(key=key).delete()
        arena, _ = timed(lambda k=key: snapshot_refresh(key=k))
        reference, _ = timed(old)
        total_arena = Seconds(total_arena.wall + arena.wall, total_arena.cpu + arena.cpu)
        total_old = Seconds(total_old.wall + reference.wall, total_old.cpu + reference.cpu)
        record(f"snapshot: {label}", arena, reference, "previous per-row path")
    record(
        f"snapshots together, {large:,} battles",
        total_arena,
        total_old,
        "previous per-row path",
        "< 5 s",
        verdict(total_arena, under=5.0) if not quick else "",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200,000 battles for the large rows, fewer Elo orders"
    )
    parser.add_argument("--keep", action="store_true", help="reuse the bench sources already in the database")
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh processes per command row (the median is shown)"
    )
    parser.add_argument("--only", choices=["startup", "leaderboard", "elo", "snapshots"], action="append")
    parser.add_argument(
        "--reference-command", nargs=3, metavar=("SOURCE", "ROUNDS", "TIMED"), help=argparse.SUPPRESS
    )
    options = parser.parse_args()
    if options.reference_command:
        source, rounds, rounds_timed = options.reference_command
        reference_command(source, int(rounds), int(rounds_timed))
        return
    large = 200_000 if options.quick else 1_000_000
    only = set(options.only or ["startup", "leaderboard", "elo", "snapshots"])
    started_load = load()
    print(f"{started_load} at the start; {os.cpu_count()} CPUs", flush=True)

    database_ensure(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if only & {"leaderboard", "snapshots"}:
        ensure_data(large, options.keep)
    if "startup" in only:
        startup_rows(options.repeat)
    if "leaderboard" in only:
        leaderboard_rows(large, options.repeat, options.quick)
    if "elo" in only:
        elo_rows(large, options.quick)
    if "snapshots" in only:
        snapshot_rows(large, options.quick)

    print()
    print(
        f"{'task':<52} {'Arena wall / CPU':>20}  {'reference wall / CPU':>20}  {'ratio wall / CPU':>17}  "
        f"{'goal':<7} {'met':<20} reference"
    )
    for row in ROWS:
        reference = str(row.reference) if row.reference else ""
        ratio = (
            f"{row.reference.wall / row.arena.wall:,.1f}x / {row.reference.cpu / row.arena.cpu:,.1f}x"
            if row.reference
            else ""
        )
        print(
            f"{row.task:<52} {row.arena!s:>20}  {reference:>20}  {ratio:>17}  {row.goal:<7} {row.met:<20} "
            f"{row.reference_name}"
        )
    print(f"{started_load} at the start, {load()} at the end")
    if options.quick:
        print(
            "(--quick: the large rows use 200,000 battles and fewer orders; the absolute goals are for the full run)"
        )
    print(
        json.dumps(
            {
                "rows": [
                    {
                        "task": r.task,
                        "arena": r.arena._asdict(),
                        "reference": r.reference._asdict() if r.reference else None,
                    }
                    for r in ROWS
                ]
            }
        )
    )


if __name__ == "__main__":
    main()
