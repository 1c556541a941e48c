"""The demo: bundled prompt sets plus real answers and recorded verdicts from the shipped data.

Each step is an ordinary import through the one pipeline, so the demo also exercises it; a
second run finds every file already imported and writes nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from arena.models import Contender, ContenderAlias
from arena.services.comparisons import comparisons_create
from arena.services.imports import ImportResult, answers_import, scores_import, verdicts_import
from arena.services.prompt_sets import prompt_sets_load_bundled

DEMO_USERNAME = "demo"
# Published in the README: only ever set in debug mode (make demo). In production the demo
# superuser gets a random password instead (see demo_user_ensure).
DEMO_PASSWORD = "arena-demo"  # noqa: S105 - printed to the person running the demo on purpose


@dataclass(frozen=True)
class AnswerFiles:
    pattern: str
    fmt: str
    prompt_set: str
    contender_from_stem: Callable[[str], str] | None = None


@dataclass(frozen=True)
class VerdictFiles:
    pattern: str
    fmt: str
    source: str
    prompt_set: str | None  # None: verdicts not linked to prompts (AlpacaEval names models only)


def _guanaco(stem: str) -> str:
    size = stem.split("-", 1)[0]
    return {"30b": "guanaco-33b"}.get(size, f"guanaco-{size}")


ANSWERS = (
    AnswerFiles("vicuna80/answers/*.jsonl", "fastchat", "vicuna80"),
    AnswerFiles("prd/answers/*.jsonl", "fastchat", "vicuna80"),
    AnswerFiles("qlora/answers/*.jsonl", "qlora", "vicuna80", _guanaco),
    AnswerFiles("mt_bench/model_answer/*.jsonl", "fastchat", "mt_bench"),
    AnswerFiles("self_instruct/predictions/*.jsonl", "self_instruct", "user_oriented_252"),
)
VERDICTS = (
    VerdictFiles("vicuna80/reviews/*.jsonl", "fastchat_review", "vicuna80-gpt4-review", "vicuna80"),
    VerdictFiles("prd/ratings-human/*.jsonl", "prd_human", "prd-human", "vicuna80"),
    VerdictFiles("prd/ratings-gpt4/*.jsonl", "threeclass", "prd-gpt4", "vicuna80"),
    VerdictFiles("qlora/ratings-gpt4/*.jsonl", "threeclass", "qlora-gpt4", "vicuna80"),
    VerdictFiles("mt_bench/human/*.jsonl", "mtbench_human", "mtbench-human", "mt_bench"),
    VerdictFiles("mt_bench/gpt4/*.jsonl", "fastchat", "mtbench-gpt4", "mt_bench"),
    # AlpacaEval 2 (weighted GPT-4 Turbo annotator, continuous preferences) and AlpacaEval 1.
    VerdictFiles(
        "alpaca_eval/alpaca-7b/weighted_alpaca_eval_gpt4_turbo/annotations.json",
        "alpaca_eval",
        "alpaca-eval-2",
        None,
    ),
    VerdictFiles(
        "alpaca_eval/alpaca-7b/alpaca_eval_gpt4/annotations.json", "alpaca_eval", "alpaca-eval-1", None
    ),
)
# Single-answer grades in FastChat's format: (pattern, source, prompt set).
SCORES = (("mt_bench/judgments/gpt-4_single.jsonl", "mtbench-public-single", "mt_bench"),)


@transaction.atomic
def contenders_load(path: Path) -> int:
    """Create the demo's contenders and their aliases (idempotent)."""
    spec = json.loads(path.read_text(encoding="utf-8"))["contenders"]
    for name, aliases in spec.items():
        contender, _ = Contender.objects.get_or_create(name=name)
        for alias in aliases:
            ContenderAlias.objects.get_or_create(alias=alias, defaults={"contender": contender})
    return len(spec)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    # The password to print, or None when the account existed and keeps the password it has
    # (in production that one was printed once, when it was made).
    password: str | None


def demo_user_ensure(*, production: bool) -> DemoLogin:
    """The demo superuser. In debug mode its password is the published DEMO_PASSWORD. In
    production it gets a random password, returned (to be printed) only when it is set: when the
    account is new, or still has the published password from an earlier debug-mode run."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if not production:
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return DemoLogin(DEMO_USERNAME, DEMO_PASSWORD)
    if created or user.check_password(DEMO_PASSWORD):
        password = secrets.token_urlsafe(18)
        user.set_password(password)
        user.save()
        return DemoLogin(DEMO_USERNAME, password)
    return DemoLogin(DEMO_USERNAME, None)


def demo_load(*, report: Callable[[str], None] = print, demo_dir: Path | None = None) -> list[ImportResult]:
    folder = demo_dir or settings.ARENA_DATA_DIR / "demo"
    for loaded in prompt_sets_load_bundled():
        report(f"prompt set {loaded.slug}: {loaded.prompts} prompts")
    contenders_load(folder / "contenders.json")
    results: list[ImportResult] = []
    for spec in ANSWERS:
        for path in sorted(folder.glob(spec.pattern)):
            contender = spec.contender_from_stem(path.stem) if spec.contender_from_stem else None
            result = answers_import(path=path, fmt=spec.fmt, prompt_set=spec.prompt_set, contender=contender)
            results.append(result)
            report(result.summary())
    for vspec in VERDICTS:
        for path in sorted(folder.glob(vspec.pattern)):
            result = verdicts_import(
                path=path, fmt=vspec.fmt, source=vspec.source, prompt_set=vspec.prompt_set
            )
            results.append(result)
            report(result.summary())
    for pattern, source, slug in SCORES:
        for path in sorted(folder.glob(pattern)):
            result = scores_import(path=path, fmt="fastchat_single", source=source, prompt_set=slug)
            results.append(result)
            report(result.summary())
    # Something to rate at /rate/ in every bundled set: a few pairs per prompt, MT-Bench on the
    # whole two-turn conversation, a little gold taken from the imported human verdicts (only
    # Vicuna-80 and MT-Bench have those); idempotent.
    for slug, turn in (("vicuna80", None), ("mt_bench", 2), ("user_oriented_252", None)):
        made = comparisons_create(prompt_set=slug, pairs_per_prompt=2, turn=turn, gold_rate=0.05, seed=4)
        report(made.summary())
    return results
