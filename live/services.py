"""Live battles' lifecycle in the database: draw, limits, store each turn, vote, end.

Called from the consumer through ``database_sync_to_async``; every function takes and returns
plain values or rows, so the async side never touches the ORM itself.
"""

from __future__ import annotations

import hashlib
import os
import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from arena.sides import comparison_side
from arena.signals import verdicts_changed
from arena.validators import endpoint_problems
from judge import client as llm
from judge.prompts import ChatMessage
from live.engine import SIDES, SideRequest, SideResult
from live.models import LiveBattle, LiveContender
from live.pairing import Candidate, NoPair, draw_pair

# What the rater reads when a side fails: never which side, which model or why.
NEUTRAL_ERROR = (
    "This battle could not be finished: one of the models did not answer. "
    "No vote is needed; start a new round."
)
VOID_MESSAGE = (
    "One of the answers named a model or its maker, so this battle does not count "
    "in the ratings. Your vote is kept with it."
)


class LiveRefused(Exception):
    """The rater may not start or continue (limits, length, no contenders, moderation)."""


def candidates() -> list[tuple[Candidate, LiveContender]]:
    now = timezone.now()
    rows = LiveContender.objects.filter(enabled=True).select_related("contender")
    out = []
    for row in rows:
        contender = row.contender
        if not contender.api_model:
            continue
        endpoint = llm.endpoint_url(contender.base_url or None)
        age = (now - row.added_at).total_seconds() / 86400
        out.append((Candidate(contender.pk, row.weight, age, (endpoint, contender.api_model)), row))
    return out


def limits_problem(*, user_id: int | None, address: str) -> str | None:
    """Why this rater may not start another battle now (None: they may)."""
    now = timezone.now()
    per_hour = settings.ARENA_LIVE_BATTLES_PER_HOUR
    per_day = settings.ARENA_LIVE_TOKENS_PER_DAY
    whose = [("your account", Q(user_id=user_id))] if user_id else []
    whose.append(("your network address", Q(address=address)))
    for who, q in whose:
        if per_hour:
            started = LiveBattle.objects.filter(q, created_at__gte=now - timedelta(hours=1)).count()
            if started >= per_hour:
                return f"The limit of {per_hour} live battles an hour for {who} is reached; try again later."
        if per_day:
            used = LiveBattle.objects.filter(q, created_at__gte=now - timedelta(days=1)).aggregate(
                n=Coalesce(
                    Sum(
                        F("input_tokens_a")
                        + F("output_tokens_a")
                        + F("input_tokens_b")
                        + F("output_tokens_b")
                    ),
                    0,
                )
            )["n"]
            if used >= per_day:
                return f"The limit of {per_day:,} tokens a day for {who} is reached; try again tomorrow."
    return None


MODERATION_REFUSAL = (
    "This prompt was not sent: the moderation check flagged it ({categories}). Try another prompt."
)
MODERATION_DOWN = (
    "The moderation check is not answering, so no prompt can be sent now; try again in a moment."
)


def moderation_endpoint() -> tuple[str, str | None] | None:
    """(url, key) of the moderation endpoint, None when moderation is off; the key variable is
    checked as judges' are. Raises ``LiveRefused`` when it is not allowed."""
    url = settings.ARENA_LIVE_MODERATION_URL
    if not url:
        return None
    key_env = settings.ARENA_LIVE_MODERATION_KEY_ENV
    problems = endpoint_problems(url=url, api_key_env=key_env)
    if problems:
        raise LiveRefused(MODERATION_DOWN)
    return url, (os.environ.get(key_env, "") if key_env else None)


def refusal_store(
    *, user_id: int | None, address: str, battle_id: int | None, prompt: str, categories: list[str]
) -> None:
    from live.models import LiveRefusal

    LiveRefusal.objects.create(
        user_id=user_id, address=address, battle_id=battle_id, prompt=prompt, categories=categories
    )


def prompt_problem(text: str) -> str | None:
    if not text.strip():
        return "Type a prompt first."
    if len(text) > settings.ARENA_LIVE_MAX_PROMPT_CHARS:
        return f"A prompt may be at most {settings.ARENA_LIVE_MAX_PROMPT_CHARS:,} characters (this one has {len(text):,})."
    if "\x00" in text:
        return "A prompt may not contain NUL characters."
    return None


def battle_start(
    *, user_id: int | None, address: str, prompt: str, rng: random.Random | None = None
) -> LiveBattle:
    """Check the prompt and limits, draw two contenders, store the battle (status streaming)."""
    problem = prompt_problem(prompt) or limits_problem(user_id=user_id, address=address)
    if problem:
        raise LiveRefused(problem)
    rng = rng or random.SystemRandom()
    pool = candidates()
    try:
        first, second = draw_pair(
            [c for c, _ in pool],
            rng,
            boost=settings.ARENA_LIVE_NEW_BOOST,
            new_days=settings.ARENA_LIVE_NEW_DAYS,
        )
    except NoPair as exc:
        raise LiveRefused(str(exc)) from None
    rows = {candidate.key: row for candidate, row in pool}
    battle = LiveBattle.objects.create(
        user_id=user_id,
        address=address,
        contender_a=rows[first.key].contender,
        contender_b=rows[second.key].contender,
        a_shown_first=rng.random() < 0.5,
    )
    battle._live_rows = {"a": rows[first.key], "b": rows[second.key]}  # type: ignore[attr-defined]  # for turn_open, not a field
    return battle


def turn_open(
    *, battle_id: int | None, user_id: int | None, address: str, prompt: str
) -> tuple[LiveBattle, dict[str, SideRequest]]:
    """Everything a turn needs before it streams, in one call (one trip to a worker thread):
    a new battle (``battle_id`` None) or a follow-up, and both sides' requests."""
    if battle_id is None:  # the contenders and their live rows come with it: no query more
        battle = battle_start(user_id=user_id, address=address, prompt=prompt)
    else:
        battle = turn_begin(battle_id)
    try:
        return battle, side_requests(battle, prompt)
    except llm.LLMError:
        battle_fail(battle.pk, "configuration: a contender's endpoint or key variable is not allowed")
        raise


def messages_for(battle: LiveBattle, side: str, prompt: str) -> list[ChatMessage]:
    """The whole conversation of one side so far, then the new prompt."""
    messages: list[ChatMessage] = []
    for turn in battle.conversation:
        messages.append({"role": "user", "content": turn["prompt"]})
        messages.append({"role": "assistant", "content": turn[side]})
    messages.append({"role": "user", "content": prompt})
    return messages


def side_requests(battle: LiveBattle, prompt: str) -> dict[str, SideRequest]:
    """Each side's request: its endpoint, key (read from the named variable now, checked as
    judges' keys are), model and the conversation. Raises ``PermanentLLMError`` (config) when a
    contender's endpoint or key variable is not allowed."""
    requests = {}
    rows = getattr(battle, "_live_rows", None) or {
        side: LiveContender.objects.filter(contender_id=contender_id).first()
        for side, contender_id in (("a", battle.contender_a_id), ("b", battle.contender_b_id))
    }
    for side in SIDES:
        contender = battle.contender_a if side == "a" else battle.contender_b
        live = rows[side] or LiveContender(contender=contender)
        problems = endpoint_problems(
            url=llm.endpoint_url(contender.base_url or None), api_key_env=contender.api_key_env
        )
        if problems:
            raise llm.PermanentLLMError(None, " ".join(problems), "config")
        api_key = os.environ.get(contender.api_key_env, "") if contender.api_key_env else None
        requests[side] = SideRequest(
            client=llm.AsyncStreamingClient(contender.base_url or None, api_key),
            model=contender.api_model,
            messages=messages_for(battle, side, prompt),
            temperature=live.temperature,
            max_tokens=live.max_tokens,
        )
    return requests


def identity_words(battle: LiveBattle) -> list[str]:
    words = list(settings.ARENA_IDENTITY_WORDS)
    for contender in (battle.contender_a, battle.contender_b):
        words += [contender.name, contender.api_model]
    return [w for w in words if w and len(w) >= 3]


def turn_store(battle_id: int, prompt: str, results: dict[str, SideResult]) -> LiveBattle:
    """Both sides finished a turn: append it, count tokens and cost, check identity."""
    # ``of=("self",)``: lock the battle's row only, never the contenders every battle joins
    # (locking those too deadlocked concurrent battles in bench_live).
    with transaction.atomic():
        battle = (
            LiveBattle.objects.select_for_update(of=("self",))
            .select_related("contender_a", "contender_b")
            .get(pk=battle_id)
        )
        if battle.status != LiveBattle.Status.STREAMING:
            return battle
        a, b = results["a"], results["b"]
        battle.conversation = [
            *battle.conversation,
            {
                "prompt": prompt,
                "a": a.text,
                "b": b.text,
                "timing": {
                    side: {"first_token_ms": r.first_token_ms, "total_ms": r.total_ms}
                    for side, r in results.items()
                },
                "tokens": {
                    side: {"input": r.input_tokens, "output": r.output_tokens} for side, r in results.items()
                },
            },
        ]
        battle.turns = len(battle.conversation)
        prices = {
            lc.contender_id: lc
            for lc in LiveContender.objects.filter(
                contender_id__in=[battle.contender_a_id, battle.contender_b_id]
            )
        }
        for side, result in results.items():
            contender_id = battle.contender_a_id if side == "a" else battle.contender_b_id
            setattr(
                battle, f"input_tokens_{side}", getattr(battle, f"input_tokens_{side}") + result.input_tokens
            )
            setattr(
                battle,
                f"output_tokens_{side}",
                getattr(battle, f"output_tokens_{side}") + result.output_tokens,
            )
            live = prices.get(contender_id)
            if live:
                setattr(
                    battle,
                    f"cost_{side}",
                    getattr(battle, f"cost_{side}") + live.cost(result.input_tokens, result.output_tokens),
                )
        from arena.identity import identity_mentions

        words = identity_words(battle)
        if not battle.reveals_identity:
            battle.reveals_identity = any(identity_mentions(r.text, words) for r in results.values())
        battle.status = LiveBattle.Status.ANSWERED
        battle.heartbeat_at = timezone.now()
        battle.save()
        return battle


def turn_begin(battle_id: int) -> LiveBattle:
    """A follow-up: the battle streams again (only from answered, within the turn limit)."""
    with transaction.atomic():
        battle = (
            LiveBattle.objects.select_for_update(of=("self",))
            .select_related("contender_a", "contender_b")
            .get(pk=battle_id)
        )
        if battle.status != LiveBattle.Status.ANSWERED:
            raise LiveRefused("This battle cannot take another prompt now.")
        if battle.turns >= settings.ARENA_LIVE_MAX_TURNS:
            raise LiveRefused(
                f"A battle has at most {settings.ARENA_LIVE_MAX_TURNS} turns: vote, then start a new round."
            )
        battle.status = LiveBattle.Status.STREAMING
        battle.heartbeat_at = timezone.now()
        battle.save(update_fields=["status", "heartbeat_at"])
        return battle


def battle_fail(battle_id: int, error: str, *, status: str = LiveBattle.Status.ERROR) -> None:
    LiveBattle.objects.filter(pk=battle_id, status__in=LiveBattle.ACTIVE).update(
        status=status, error=error[:2000], ended_at=timezone.now()
    )


def battle_abandon(battle_id: int) -> None:
    battle_fail(battle_id, "", status=LiveBattle.Status.ABANDONED)


def heartbeat(battle_ids: list[int]) -> None:
    LiveBattle.objects.filter(pk__in=battle_ids, status__in=LiveBattle.ACTIVE).update(
        heartbeat_at=timezone.now()
    )


def stale_abandon() -> int:
    """Battles whose socket stopped beating (a server restart, a killed process): abandoned."""
    cutoff = timezone.now() - timedelta(seconds=settings.ARENA_LIVE_STALE_SECONDS)
    return LiveBattle.objects.filter(status__in=LiveBattle.ACTIVE, heartbeat_at__lt=cutoff).update(
        status=LiveBattle.Status.ABANDONED,
        ended_at=timezone.now(),
        error="abandoned: no heartbeat (server restart?)",
    )


SHOWN_VERDICTS = {"left", "right", "tie", "both_bad"}


@dataclass(frozen=True)
class Reveal:
    left: str
    right: str
    winner: str
    void: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "winner": self.winner,
            "void": self.void,
            "message": self.message,
        }


def battle_vote(battle_id: int, *, user_id: int | None, verdict: str) -> Reveal:
    """Store the rater's verdict (as shown: left, right, tie, both_bad) once both sides finished."""
    if verdict not in SHOWN_VERDICTS:
        raise LiveRefused("A verdict is one of: left, right, tie, both_bad.")
    with transaction.atomic():
        battle = (
            LiveBattle.objects.select_for_update(of=("self",))
            .select_related("contender_a", "contender_b")
            .get(pk=battle_id)
        )
        if battle.user_id != user_id:
            raise LiveRefused("This is not your battle.")
        if battle.status != LiveBattle.Status.ANSWERED:
            raise LiveRefused("A vote is possible once both answers are complete, and only once.")
        left_is_a = battle.a_shown_first
        winner = (
            comparison_side(verdict == "left", a_shown_first=left_is_a)
            if verdict in ("left", "right")
            else verdict
        )
        battle.winner = winner
        battle.status = LiveBattle.Status.VOTED
        battle.voted_at = battle.ended_at = timezone.now()
        battle.save(update_fields=["winner", "status", "voted_at", "ended_at"])
        if not battle.reveals_identity:
            transaction.on_commit(_ratings_stale)
    left, right = (
        (battle.contender_a, battle.contender_b) if left_is_a else (battle.contender_b, battle.contender_a)
    )
    return Reveal(
        left.name,
        right.name,
        verdict,
        battle.reveals_identity,
        VOID_MESSAGE if battle.reveals_identity else "Your vote counts in the live ratings.",
    )


def _ratings_stale() -> None:
    """A counted live vote: announced as ``live`` (and ``human`` when folded) so the snapshots that
    read them refresh."""
    verdicts_changed.send(sender=LiveBattle, source="live")
    if settings.ARENA_LIVE_AS_HUMAN:
        verdicts_changed.send(sender=LiveBattle, source="human")


def prompt_hash(text: str) -> str:
    """The key deduplicating live prompts: NFKC, case-folded, whitespace collapsed."""
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


# --- staff: live prompts into a custom prompt set ---------------------------------------------


@dataclass(frozen=True)
class LivePrompt:
    text_hash: str
    text: str
    battles: int
    keep: bool | None  # None: not reviewed yet


def live_prompts(*, reviewed: bool | None = False, limit: int = 200) -> list[LivePrompt]:
    """The distinct first prompts of live battles (deduplicated by ``prompt_hash``), most asked
    first; ``reviewed``: False only those not reviewed yet, True only reviewed ones, None all."""
    from collections import Counter

    from live.models import LivePromptReview

    texts: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for text in (
        LiveBattle.objects.filter(turns__gte=1).values_list("conversation__0__prompt", flat=True).iterator()
    ):
        if not isinstance(text, str) or not text.strip():
            continue
        key = prompt_hash(text)
        texts.setdefault(key, text)
        counts[key] += 1
    decisions = dict(
        LivePromptReview.objects.filter(text_hash__in=list(texts)).values_list("text_hash", "keep")
    )
    out = [LivePrompt(key, texts[key], n, decisions.get(key)) for key, n in counts.most_common()]
    if reviewed is not None:
        out = [p for p in out if (p.keep is not None) == reviewed]
    return out[:limit]


def prompt_review(*, text: str, keep: bool, user_id: int | None) -> None:
    from live.models import LivePromptReview

    LivePromptReview.objects.update_or_create(
        text_hash=prompt_hash(text), defaults={"text": text, "keep": keep, "reviewed_by_id": user_id}
    )


@dataclass(frozen=True)
class PromptSetResult:
    slug: str
    added: int
    already: int


def prompt_set_from_reviews(*, slug: str, name: str) -> PromptSetResult:
    """Every kept live prompt into the custom prompt set ``slug`` (created if needed), once each:
    a prompt already in the set (same normalised text) is not added again."""
    from arena.models import Prompt, PromptSet
    from live.models import LivePromptReview

    with transaction.atomic():
        prompt_set, _ = PromptSet.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name or slug,
                "source": "Prompts typed by raters in live battles, kept by staff.",
            },
        )
        present = {
            prompt_hash(turns[0])
            for turns in prompt_set.prompts.values_list("turns", flat=True)
            if isinstance(turns, list) and turns
        }
        position = prompt_set.prompts.count()
        added = already = 0
        for review in LivePromptReview.objects.filter(keep=True).order_by("reviewed_at", "id"):
            if review.text_hash in present:
                already += 1
                continue
            Prompt.objects.create(
                prompt_set=prompt_set,
                external_id=f"live-{review.text_hash[:16]}",
                category="live",
                turns=[review.text],
                position=position,
            )
            present.add(review.text_hash)
            position += 1
            added += 1
    return PromptSetResult(slug, added, already)
