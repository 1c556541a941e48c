"""import_prompt_set: all or nothing, the same file twice is a no-op, a changed file makes a
new version while earlier votes and judgments keep theirs, leaderboards read a version."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from arena.markdown import stored_html
from arena.models import Prompt, PromptSet, PromptSetVersion, Vote
from arena.params import ParamError
from reports.selectors.leaderboards import LeaderboardParams, leaderboard_compute
from tests import factories

pytestmark = pytest.mark.django_db


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(*args):
    out = io.StringIO()
    call_command("import_prompt_set", *map(str, args), stdout=out)
    return out.getvalue()


def shape(slug):
    return [
        (p.external_id, p.category, p.turns, p.references, p.metadata)
        for p in Prompt.objects.current().filter(prompt_set__slug=slug).order_by("position")
    ]


def test_mt_bench_reimported_as_a_custom_set_is_the_bundled_set(bundled_prompt_sets, data_dir):
    folder = data_dir / "prompt_sets" / "mt_bench"
    out = run(
        folder / "question.jsonl",
        "--slug",
        "my-mt",
        "--name",
        "My MT",
        "--format",
        "fastchat",
        "--references",
        folder / "reference_answer_gpt-4.jsonl",
    )
    assert "my-mt: version 1 with 80 prompts." in out
    assert shape("my-mt") == shape("mt_bench")
    assert len({c for _, c, *_ in shape("my-mt")}) == 8
    assert PromptSet.objects.get(slug="my-mt").name == "My MT"


def test_same_file_twice_is_a_no_op(tmp_path):
    path = write(
        tmp_path, "q.jsonl", [{"prompt_id": i, "category": "c", "prompt": f"Q{i}"} for i in range(3)]
    )
    run(path, "--slug", "s", "--format", "jsonl")
    ids = list(Prompt.objects.order_by("id").values_list("id", flat=True))
    out = run(path, "--slug", "s", "--format", "jsonl")
    assert "already imported as version 1" in out
    assert list(Prompt.objects.order_by("id").values_list("id", flat=True)) == ids
    assert PromptSetVersion.objects.count() == 1


def test_a_bad_line_names_file_line_and_field_and_writes_nothing(tmp_path):
    path = write(tmp_path, "q.jsonl", [{"prompt_id": 1, "prompt": "ok"}, {"prompt_id": 2, "prompt": 5}])
    with pytest.raises(CommandError) as err:
        run(path, "--slug", "s", "--format", "jsonl")
    assert f"{path}, line 2: field 'prompt'" in str(err.value) and "nothing was imported" in str(err.value)
    assert not PromptSet.objects.exists() and not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "not a slug", "--format", "jsonl"], "field '--slug'"),
        (["--slug", "mt_bench", "--format", "jsonl"], "bundled"),
    ],
)
def test_bad_slugs_are_refused(tmp_path, bundled_prompt_sets, args, message):
    path = write(tmp_path, "q.jsonl", [{"prompt_id": 1, "prompt": "ok"}])
    with pytest.raises(CommandError, match=message):
        run(path, *args)
    assert not PromptSet.objects.filter(bundled=False).exists()


def test_unknown_format_and_missing_file_exit_with_a_reason(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.jsonl", "--slug", "s", "--format", "jsonl")
    with pytest.raises(CommandError, match="invalid choice"):
        run(tmp_path / "nope.jsonl", "--slug", "s", "--format", "yaml")


def test_changed_file_makes_version_2_and_old_votes_keep_version_1(tmp_path):
    v1 = write(
        tmp_path,
        "v1.jsonl",
        [
            {"prompt_id": "a", "category": "c", "prompt": "Old A"},
            {"prompt_id": "b", "category": "c", "prompt": "Same B"},
            {"prompt_id": "c", "category": "c", "prompt": "Dropped C"},
        ],
    )
    run(v1, "--slug", "s", "--format", "jsonl")
    old_a = Prompt.objects.get(external_id="a")
    rater = get_user_model().objects.create_user("r1")
    comparison = factories.comparison(old_a, "m1", "m2")
    Vote.objects.create(rater=rater, comparison=comparison, winner="model_a", a_shown_first=True)

    v2 = write(
        tmp_path,
        "v2.jsonl",
        [
            {"prompt_id": "a", "category": "c", "prompt": "New A"},
            {"prompt_id": "b", "category": "c", "prompt": "Same B"},
            {"prompt_id": "d", "category": "c", "prompt": "New D"},
        ],
    )
    out = run(v2, "--slug", "s", "--format", "jsonl")
    assert "version 2 with 3 prompts (1 unchanged, 2 new or changed, 2 of version 1 changed or dropped" in out
    pset = PromptSet.objects.get(slug="s")
    assert pset.version == 2 and list(pset.versions.values_list("number", flat=True)) == [1, 2]
    old_a.refresh_from_db()
    assert old_a.turns == ["Old A"] and old_a.last_version == 1  # never edited
    assert Vote.objects.get().comparison.prompt_id == old_a.pk
    assert [p[0] for p in shape("s")] == ["a", "b", "d"]
    assert Prompt.objects.current().get(prompt_set=pset, external_id="a").turns == ["New A"]
    assert all(
        stored_html(p.turns, p.rendered) for p in Prompt.objects.all()
    )  # written in bulk, HTML included
    assert sorted(Prompt.objects.in_version(1).filter(prompt_set=pset).values_list("turns", flat=True)) == [
        ["Dropped C"],
        ["Old A"],
        ["Same B"],
    ]

    # Leaderboards read the latest version by default; version=1 reads the old vote.
    latest = leaderboard_compute(
        params=LeaderboardParams.from_query({"source": "human", "prompt_set": "s", "bootstrap": "0"})
    )
    first = leaderboard_compute(
        params=LeaderboardParams.from_query(
            {"source": "human", "prompt_set": "s", "version": "1", "bootstrap": "0"}
        )
    )
    assert latest["battle_total"] == 0 and first["battle_total"] == 1
    everywhere = leaderboard_compute(
        params=LeaderboardParams.from_query({"source": "human", "bootstrap": "0"})
    )
    assert everywhere["battle_total"] == 1

    # The same v1 file again is a change from v2: version 3, equal in content to version 1.
    run(v1, "--slug", "s", "--format", "jsonl")
    assert PromptSet.objects.get(slug="s").version == 3
    assert [p[2] for p in shape("s")] == [["Old A"], ["Same B"], ["Dropped C"]]


def test_version_parameter_is_validated(tmp_path):
    run(write(tmp_path, "q.jsonl", [{"prompt_id": 1, "prompt": "x"}]), "--slug", "s", "--format", "jsonl")
    for query, field in (
        ({"version": "1"}, "version"),
        ({"prompt_set": "s", "version": "2"}, "version"),
        ({"prompt_set": "s", "version": "zero"}, "version"),
    ):
        with pytest.raises(ParamError) as err:
            LeaderboardParams.from_query(query)
        assert field in str(err.value.errors if hasattr(err.value, "errors") else err.value)
    assert (
        LeaderboardParams.from_query({"prompt_set": "s", "version": "1"}).version is None
    )  # 1 is the latest
    with pytest.raises(CommandError, match="version"):
        call_command("leaderboard", "--prompt-set", "s", "--prompt-set-version", "9", stdout=io.StringIO())
