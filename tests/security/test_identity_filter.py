"""An answer that names its model stays out of human comparisons, however the name is disguised:
the filter reads the text as the rater sees it on the page (rendered, entities decoded, NFKC,
without format characters, look-alike letters folded), and ordinary text is not flagged."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from arena import identity
from arena.identity import identity_mentions
from arena.models import Answer
from arena.services.comparisons import comparisons_create
from arena.services.imports import answers_import
from tests import factories

WORDS = settings.ARENA_IDENTITY_WORDS

DISGUISED = {
    "zero-width space": "As Chat\u200bGPT, I cannot browse.",
    "numeric entity": "As Chat&#71;PT, I cannot browse.",
    "named entity": "I am Cl&shy;aude, made to help.",
    "markdown emphasis": "As Chat**GPT**, I cannot browse.",
    "single emphasis": "As Chat*GPT*, I cannot browse.",
    "soft hyphen": "As Chat\u00adGPT, I cannot browse.",
    "word joiner": "Trained by Open\u2060AI.",
    "cyrillic look-alikes": "As \u0421h\u0430tG\u0420\u0422, I cannot browse.",
    "cherokee and cyrillic": "I am \u13dfl\u0430ude.",
    "greek omicron": "Trained by \u039fpenAI.",
    "fullwidth letters": "As \uff23\uff48\uff41\uff54\uff27\uff30\uff34, I cannot browse.",
    "mathematical bold": "As \U0001d402\U0001d421\U0001d41a\U0001d42d\U0001d406\U0001d40f\U0001d413, I cannot browse.",
    "non-breaking hyphen": "I am based on GPT\u20114.",
    "inside a link": "See [ChatGPT](https://example.org) for more.",
}
ORDINARY = {
    "napalm and attempts": "Napalm was banned; every attempt at a palmtop failed.",
    "two paragraphs": "I like to chat\n\nGPT stands for a kind of model.",
    "russian": "\u041f\u0440\u0438\u0432\u0435\u0442! \u041a\u0430\u043a \u0434\u0435\u043b\u0430? \u0412\u043e\u0442 \u043c\u043e\u0439 \u043e\u0442\u0432\u0435\u0442.",
    "greek": "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1, \u03c4\u03b9 \u03ba\u03ac\u03bd\u03b5\u03b9\u03c2;",
    "chinese": "\u4f60\u597d\uff0c\u6211\u662f\u4e00\u4e2a\u4e50\u4e8e\u52a9\u4eba\u7684\u52a9\u624b\u3002",
    "code and maths": "Use `x = a*b*c` and 2*3*4; the ratio is 1:2.",
    "accents": "Caf\u00e9 cr\u00e8me and pi\u00f1ata, na\u00efve fa\u00e7ade.",
}


@pytest.mark.parametrize("text", DISGUISED.values(), ids=DISGUISED.keys())
def test_a_disguised_model_name_is_found(text):
    assert identity_mentions(text, WORDS)


@pytest.mark.parametrize("text", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_text_is_not_flagged(text):
    assert identity_mentions(text, WORDS) == []


def test_the_filter_reads_what_the_page_shows():
    assert (
        identity.seen_text("As **ChatGPT**, see [the docs](https://x.org).").strip()
        == "As ChatGPT, see the docs."
    )
    # Inside a word the renderer leaves the asterisks as written (pi*r^2 must not turn italic);
    # the reader still reads the word, and so does the filter.
    assert "ChatGPT" in identity.seen_text("As Chat**GPT**, I think so.")


@pytest.mark.django_db
def test_imported_disguised_answers_stay_out_of_comparisons(bundled_prompt_sets, tmp_path):
    path = tmp_path / "answers.jsonl"
    texts = {
        "81": DISGUISED["cyrillic look-alikes"],
        "82": DISGUISED["markdown emphasis"],
        "83": "Plain answer.",
    }
    path.write_text(
        "".join(
            json.dumps({"prompt_id": q, "model": "leaky", "turns": [t, "ok"]}) + "\n"
            for q, t in texts.items()
        )
    )
    answers_import(path=path, fmt="jsonl", prompt_set="mt_bench")
    flags = dict(Answer.objects.values_list("prompt__external_id", "reveals_identity"))
    assert flags == {"81": True, "82": True, "83": False}


@pytest.mark.django_db
def test_an_edited_answer_is_checked_again():
    answer = factories.answer(factories.prompt(), "m-one", "A plain answer.")
    assert not answer.reveals_identity
    answer.turns = [DISGUISED["soft hyphen"]]
    answer.save()
    answer.refresh_from_db()
    assert answer.reveals_identity


@pytest.mark.django_db
def test_identity_reflag_flags_answers_stored_before_the_filter_changed():
    p = factories.prompt()
    for name, text in (
        ("m-one", "Plain."),
        ("m-two", "Also plain."),
        ("m-three", DISGUISED["zero-width space"]),
    ):
        factories.answer(p, name, text)
    leaky = Answer.objects.get(contender__name="m-three")
    Answer.objects.filter(pk=leaky.pk).update(reveals_identity=False)  # as the old filter stored it
    comparisons_create(prompt_set=p.prompt_set.slug)

    out = StringIO()
    call_command("identity_reflag", "--dry-run", stdout=out)
    assert "1 newly flagged" in out.getvalue() and "2 existing comparisons" in out.getvalue()
    assert not Answer.objects.get(pk=leaky.pk).reveals_identity
    call_command("identity_reflag", stdout=StringIO())
    assert Answer.objects.get(pk=leaky.pk).reveals_identity
    assert comparisons_create(prompt_set=p.prompt_set.slug).left_out_identity == 1
