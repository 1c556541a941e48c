"""Creating the comparisons people rate.

Which turn a comparison is about: a comparison with ``turn = T`` shows the whole conversation up
to and including turn T (every user message and both answers to each), and the verdict is on that
conversation, with turn T the one being judged. So an MT-Bench ``turn=2`` comparison shows both
turns, as in MT-Bench's own human study, and its votes become turn-2 battles next to the turn-2
judge verdicts and imported MT-Bench human votes. By default each prompt gets comparisons on its
last turn (the whole conversation); ``turn=1`` asks for first-turn comparisons instead.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from arena.models import Answer, Comparison, ImportedVerdict, PromptSet
from arena.selectors.raters import rating_sets_forget


class ComparisonsError(ValueError):
    """The request names something that does not exist or cannot be compared."""


@dataclass(frozen=True)
class ComparisonsCreated:
    prompt_set: str
    created: int
    existing: int
    gold: int
    left_out_identity: int

    def summary(self) -> str:
        return (
            f"{self.prompt_set}: {self.created} comparisons created ({self.gold} gold), "
            f"{self.existing} already existed, {self.left_out_identity} answers left out as identity-revealing"
        )


def _known_winners(prompt_ids: set[int]) -> dict[tuple[int, int, int, int], str]:
    """Unanimous decisive human verdicts imported for (prompt, turn, contender, contender).

    The key's contender ids are in the order the winner names them (``model_a`` = first id).
    These are the "known answers" gold comparisons are made from.
    """
    seen: dict[tuple[int, int, int, int], set[str]] = defaultdict(set)
    rows = ImportedVerdict.objects.filter(
        source__is_human=True, prompt_id__in=prompt_ids, winner__in=["model_a", "model_b", "tie"]
    ).values_list("prompt_id", "turn", "model_a_id", "model_b_id", "winner")
    for prompt_id, turn, con_a, con_b, winner in rows:
        # Store every verdict in (low, high) contender order so both spellings of a pair agree.
        if con_a > con_b:
            con_a, con_b = con_b, con_a
            winner = {"model_a": "model_b", "model_b": "model_a"}.get(winner, winner)
        seen[(prompt_id, turn, con_a, con_b)].add(winner)
    return {key: next(iter(ws)) for key, ws in seen.items() if len(ws) == 1 and ws != {"tie"}}


@transaction.atomic
def comparisons_create(
    *,
    prompt_set: str,
    contenders: Sequence[str] | None = None,
    pairs_per_prompt: int | None = None,
    turn: int | None = None,
    gold_rate: float = 0.0,
    include_identity: bool = False,
    seed: int | None = None,
) -> ComparisonsCreated:
    """Create the comparisons of ``prompt_set`` for human rating, skipping pairs that exist.

    Every pair of the prompt's answers (from ``contenders`` if given) is a candidate; with
    ``pairs_per_prompt`` a random sample, topping each prompt up to that many comparisons
    (existing ones count, so a re-run adds nothing). Answers flagged
    ``reveals_identity`` are left out unless ``include_identity``. Rows are inserted in random
    order, so the queue's "fewest votes, then oldest" order is not biased toward any model.
    ``gold_rate`` marks that share of the new comparisons as gold, choosing pairs with a unanimous
    imported human verdict (which becomes the gold answer).
    """
    if not 0.0 <= gold_rate <= 1.0:
        raise ComparisonsError("gold_rate must be between 0 and 1.")
    if turn is not None and turn < 1:
        raise ComparisonsError("turn must be 1 or more.")
    if pairs_per_prompt is not None and pairs_per_prompt < 1:
        raise ComparisonsError("pairs_per_prompt must be 1 or more.")
    try:
        pset = PromptSet.objects.get(slug=prompt_set)
    except PromptSet.DoesNotExist:
        raise ComparisonsError(f"No prompt set {prompt_set!r}.") from None
    answers = Answer.objects.filter(
        prompt__prompt_set=pset, prompt__last_version__isnull=True
    ).select_related("prompt")
    if contenders:
        names = list(dict.fromkeys(contenders))
        found = set(answers.filter(contender__name__in=names).values_list("contender__name", flat=True))
        absent = [n for n in names if n not in found]
        if absent:
            raise ComparisonsError(f"No answers in {prompt_set} from: {', '.join(absent)}.")
        answers = answers.filter(contender__name__in=names)
    left_out = 0
    if not include_identity:
        left_out = answers.filter(reveals_identity=True).count()
        answers = answers.filter(reveals_identity=False)

    rng = random.Random(seed)
    by_prompt: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers.order_by("prompt_id", "id"):
        by_prompt[answer.prompt_id].append(answer)

    existing_pairs = set(
        Comparison.objects.filter(prompt__prompt_set=pset).values_list("answer_a_id", "answer_b_id", "turn")
    )
    new: list[Comparison] = []
    existing = 0
    for prompt_answers in by_prompt.values():
        prompt = prompt_answers[0].prompt
        judged_turn = turn or prompt.turn_count
        if judged_turn > prompt.turn_count:
            continue
        usable = [a for a in prompt_answers if len(a.turns) >= judged_turn]
        pairs = list(itertools.combinations(usable, 2))  # already sorted by id: canonical order
        missing = [(a, b) for a, b in pairs if (a.id, b.id, judged_turn) not in existing_pairs]
        existing += len(pairs) - len(missing)
        if pairs_per_prompt is not None:
            room = max(pairs_per_prompt - (len(pairs) - len(missing)), 0)
            missing = rng.sample(missing, min(room, len(missing)))
        for first, second in missing:
            new.append(Comparison(prompt=prompt, answer_a=first, answer_b=second, turn=judged_turn))

    gold = 0
    if gold_rate > 0 and new:
        winners = _known_winners(set(by_prompt))
        want = round(gold_rate * len(new))
        candidates = [c for c in new if _gold_key(c) in winners]
        for comparison in rng.sample(candidates, min(want, len(candidates))):
            comparison.is_gold = True
            comparison.gold_winner = _gold_winner(comparison, winners[_gold_key(comparison)])
            gold += 1

    rng.shuffle(new)
    Comparison.objects.bulk_create(new, batch_size=1000)
    if new:
        transaction.on_commit(lambda: rating_sets_forget(prompt_set=pset.slug))
    return ComparisonsCreated(pset.slug, len(new), existing, gold, left_out)


def _gold_key(c: Comparison) -> tuple[int, int, int, int]:
    low, high = sorted((c.answer_a.contender_id, c.answer_b.contender_id))
    return (c.prompt_id, c.turn, low, high)


def _gold_winner(c: Comparison, winner_low_high: str) -> str:
    """Translate a winner stated for (low contender id, high contender id) to this comparison."""
    if c.answer_a.contender_id < c.answer_b.contender_id or winner_low_high not in ("model_a", "model_b"):
        return winner_low_high
    return "model_b" if winner_low_high == "model_a" else "model_a"
