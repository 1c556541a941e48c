"""The bundled prompt sets load with the right shapes, and loading again changes nothing."""

from django.core.management import call_command

from arena.models import Prompt, PromptSet


def test_load_prompt_sets_gives_80_80_252(bundled_prompt_sets):
    counts = {ps.slug: ps.prompts.count() for ps in PromptSet.objects.all()}
    assert counts == {"vicuna80": 80, "mt_bench": 80, "user_oriented_252": 252}
    assert Prompt.objects.filter(prompt_set__slug="vicuna80").values("category").distinct().count() == 9
    assert Prompt.objects.filter(prompt_set__slug="mt_bench").values("category").distinct().count() == 8


def test_mt_bench_has_two_turns_and_gpt4_references_for_math_reasoning_coding(bundled_prompt_sets):
    mt = Prompt.objects.filter(prompt_set__slug="mt_bench")
    assert all(len(p.turns) == 2 for p in mt)
    with_refs = mt.exclude(references=[])
    assert {p.category for p in with_refs} >= {"math", "reasoning", "coding"}
    for p in mt.filter(category__in=["math", "reasoning", "coding"]):
        assert len(p.references) == 2 and all(p.references), p.external_id
    q111 = mt.get(external_id="111")
    assert "area of the triangle" in q111.turns[0]


def test_user_oriented_prompts_merge_instruction_and_input(bundled_prompt_sets):
    first = Prompt.objects.get(prompt_set__slug="user_oriented_252", external_id="user_oriented_task_0")
    assert first.turns[0].startswith("The sentence you are given might be too wordy")
    assert "\n\nIf you have any questions about my rate" in first.turns[0]
    assert first.category == "Grammarly"
    assert first.references and first.references[0]


def test_loading_twice_is_idempotent(bundled_prompt_sets, capsys):
    before = list(Prompt.objects.order_by("id").values_list("id", "turns"))
    call_command("load_prompt_sets")
    out = capsys.readouterr().out
    assert "vicuna80: 80 prompts (0 created, 0 updated)" in out
    assert list(Prompt.objects.order_by("id").values_list("id", "turns")) == before
