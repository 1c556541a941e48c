"""An operator makes comparisons for a prompt set; identity-revealing answers stay out."""

import pytest
from django.core.management import CommandError, call_command

from arena.models import Comparison, Contender, ImportBatch, ImportedVerdict, VerdictSource
from arena.services.comparisons import ComparisonsError, comparisons_create
from tests import factories

pytestmark = pytest.mark.django_db


def three_answers(p, *, leaky: bool = False):
    factories.blind_answer(p, "m-one")
    factories.blind_answer(p, "m-two")
    factories.blind_answer(p, "m-three", "As ChatGPT, I think so." if leaky else "I think so.")


def test_every_pair_of_answers_gets_one_comparison_in_canonical_order():
    for _ in range(2):
        three_answers(factories.blind_prompt("set"))
    result = comparisons_create(prompt_set="set")
    assert result.created == 6
    for c in Comparison.objects.all():
        assert c.answer_a_id < c.answer_b_id and c.turn == 1


def test_running_twice_creates_nothing_new():
    three_answers(factories.blind_prompt("set"))
    comparisons_create(prompt_set="set")
    again = comparisons_create(prompt_set="set")
    assert (again.created, again.existing) == (0, 3)
    assert Comparison.objects.count() == 3


def test_identity_revealing_answers_are_left_out_unless_asked():
    three_answers(factories.blind_prompt("set"), leaky=True)
    result = comparisons_create(prompt_set="set")
    assert (result.created, result.left_out_identity) == (1, 1)
    assert comparisons_create(prompt_set="set", include_identity=True).created == 2


def test_contenders_and_pairs_per_prompt_narrow_the_choice():
    for _ in range(3):
        three_answers(factories.blind_prompt("set"))
    assert comparisons_create(prompt_set="set", contenders=["m-one", "m-two"]).created == 3
    # Each prompt has one comparison now: topping up to two adds one per prompt.
    assert comparisons_create(prompt_set="set", pairs_per_prompt=2, seed=1).created == 3
    assert comparisons_create(prompt_set="set", pairs_per_prompt=2, seed=1).created == 0
    with pytest.raises(ComparisonsError, match="m-nope"):
        comparisons_create(prompt_set="set", contenders=["m-one", "m-nope"])


def test_a_two_turn_prompt_is_compared_on_the_whole_conversation_by_default():
    p = factories.blind_prompt("mt", turns=("Write a poem.", "Now make it rhyme."))
    factories.blind_answer(p, "m-one", "Roses", "Roses rhyme")
    factories.blind_answer(p, "m-two", "Violets", "Violets rhyme")
    comparisons_create(prompt_set="mt")
    assert Comparison.objects.get().turn == 2
    comparisons_create(prompt_set="mt", turn=1)
    assert sorted(Comparison.objects.values_list("turn", flat=True)) == [1, 2]
    assert comparisons_create(prompt_set="mt", turn=3).created == 0


def test_gold_comparisons_take_their_answer_from_unanimous_human_verdicts():
    p = factories.blind_prompt("set")
    three_answers(p)
    source = VerdictSource.objects.create(name="people", is_human=True)
    batch = ImportBatch.objects.create(
        kind="verdicts", source="people", file_name="f", sha256="x", format="t"
    )
    m1, m2 = Contender.objects.get(name="m-one"), Contender.objects.get(name="m-two")
    # Stated with m-two as model_a: the service must translate to the comparison's order.
    ImportedVerdict.objects.create(
        source=source, batch=batch, line=1, model_a=m2, model_b=m1, winner="model_a", prompt=p, turn=1
    )
    result = comparisons_create(prompt_set="set", gold_rate=1.0)
    assert result.gold == 1
    gold = Comparison.objects.select_related("answer_a__contender").get(is_gold=True)
    winner_name = gold.answer_a.contender.name if gold.gold_winner == "model_a" else "other"
    assert gold.gold_winner in ("model_a", "model_b")
    assert (winner_name == "m-two") == (gold.gold_winner == "model_a")


def test_the_command_reports_what_it_made(capsys):
    three_answers(factories.blind_prompt("set"))
    call_command("make_comparisons", "--prompt-set", "set", "--contenders", "m-one,m-two", "--turn", "1")
    assert "1 comparisons created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No prompt set"):
        call_command("make_comparisons", "--prompt-set", "nope")
