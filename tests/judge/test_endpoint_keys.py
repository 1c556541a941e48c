"""A judge or contender names the environment variable holding its API key and the worker sends
that value to the endpoint's host. An attacker with staff rights (or write access to the table)
points one at their own server - here the tests' LLM server - and names SECRET_KEY,
DATABASE_URL or REDIS_URL: the server must never receive a worker secret. Keys pasted where a
variable's name belongs, and keys an endpoint echoes in its errors, are never stored, shown or
exported."""

from __future__ import annotations

import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from arena.models import Contender
from judge.client import PLACEHOLDER_API_KEY, PermanentLLMError
from judge.models import Judge, JudgeRun, Judgment
from judge.services import RunError, judge_run_create
from judge.services.generation import answer_generate

SECRET = "worker-secret-value-never-leaves-9f3c2a"
OPENAI_KEY = "sk-proj-openaiSECRETvalue0123456789"
PASTED = ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "gsk_0123456789abcdefABCDEFghij", "sk-live-0123456789abcdef")


@pytest.fixture(autouse=True)
def _worker_secrets(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL_FOR_TEST", "REDIS_URL", "ARENA_KEY_PRESET"):
        monkeypatch.setenv(name, SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)


def seen_authorizations(llm_server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return llm_server.stats()["authorizations"]


def assert_no_secret_sent(llm_server) -> None:  # type: ignore[no-untyped-def]
    for header in seen_authorizations(llm_server):
        assert SECRET not in header and OPENAI_KEY not in header


# --- every way in -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", *PASTED])
def test_judge_add_refuses_a_variable_that_may_not_hold_a_key(name):
    with pytest.raises(CommandError) as refused:
        call_command(
            "judge_add",
            "evil",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--api-key-env",
            name,
            stdout=StringIO(),
        )
    assert name not in str(refused.value) or name.isupper()
    assert not Judge.objects.exists()


@pytest.mark.django_db
def test_judge_add_takes_no_key_variable_for_a_local_server():
    call_command(
        "judge_add",
        "local",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--api-key-env",
        "",
        stdout=StringIO(),
    )
    assert Judge.objects.get().api_key_env == ""


@pytest.mark.django_db
def test_a_judge_host_outside_arena_judge_hosts_is_refused(settings):
    settings.ARENA_JUDGE_HOSTS = ["api.openai.com"]
    with pytest.raises(CommandError, match="ARENA_JUDGE_HOSTS"):
        call_command(
            "judge_add", "evil", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", stdout=StringIO()
        )


JUDGE_FORM = {
    "name": "local",
    "base_url": "http://127.0.0.1:9/v1",
    "model": "m",
    "temperature": "0",
    "max_tokens": "512",
    "max_concurrent": "4",
    "requests_per_minute": "60",
    "price_input_per_million": "0",
    "price_output_per_million": "0",
    "template_set": "arena-v1",
}


def test_the_admin_judge_form_needs_no_key_variable(admin_client):
    response = admin_client.post("/admin/judge/judge/add/", {**JUDGE_FORM, "api_key_env": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Judge.objects.get().api_key_env == ""
    assert "OPENAI_API_KEY (default)" in admin_client.get("/admin/judge/judge/").content.decode()


@pytest.mark.parametrize("name", ["SECRET_KEY", PASTED[0]])
def test_the_admin_forms_refuse_a_variable_that_may_not_hold_a_key(admin_client, name):
    page = admin_client.post("/admin/judge/judge/add/", {**JUDGE_FORM, "api_key_env": name}).content.decode()
    assert "errorlist" in page and not Judge.objects.exists()
    page = admin_client.post(
        "/admin/arena/contender/add/",
        {
            "name": "c",
            "base_url": "http://127.0.0.1:9/v1",
            "api_key_env": name,
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
        },
    ).content.decode()
    assert "errorlist" in page and not Contender.objects.exists()


# --- and again right before a request ------------------------------------------------------


def _start_after_tampering(judge, battle_set, django_capture_on_commit_callbacks, **changes):  # type: ignore[no-untyped-def]
    """Create a run with a valid judge, then change the judge's row behind every check (as a
    direct database write would) and let the worker judge it."""
    return _start_after(
        judge,
        battle_set,
        django_capture_on_commit_callbacks,
        lambda: Judge.objects.filter(pk=judge.pk).update(**changes),
    )


def _start_after(judge, battle_set, django_capture_on_commit_callbacks, tamper):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks() as callbacks:
        run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)
    tamper()
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL_FOR_TEST", "REDIS_URL", PASTED[0]])
def test_a_judge_row_naming_a_worker_secret_sends_nothing(
    judge, battle_set, llm, django_capture_on_commit_callbacks, name
):
    run = _start_after_tampering(judge, battle_set, django_capture_on_commit_callbacks, api_key_env=name)
    assert llm.stats()["total"] == 0
    errors = list(run.judgments.values_list("status", "error"))
    assert errors and all(status == "failed" and error.startswith("config:") for status, error in errors)
    assert all(SECRET not in error and PASTED[0] not in error for _, error in errors)


def test_an_allowed_key_variable_reaches_the_judge(
    judge, battle_set, llm, django_capture_on_commit_callbacks
):
    run = _start_after_tampering(
        judge, battle_set, django_capture_on_commit_callbacks, api_key_env="ARENA_KEY_PRESET"
    )
    assert set(seen_authorizations(llm)) == {f"Bearer {SECRET}"}  # what the checks below look for
    assert set(run.judgments.values_list("status", flat=True)) == {"done"}


def test_a_judge_host_outside_the_allow_list_is_sent_nothing(
    judge, battle_set, llm, settings, django_capture_on_commit_callbacks
):
    Judge.objects.filter(pk=judge.pk).update(api_key_env="ARENA_KEY_PRESET")
    judge.refresh_from_db()

    def only_openai() -> None:
        settings.ARENA_JUDGE_HOSTS = ["api.openai.com"]

    run = _start_after(judge, battle_set, django_capture_on_commit_callbacks, only_openai)
    assert llm.stats()["total"] == 0
    errors = list(run.judgments.values_list("status", "error"))
    assert errors and all(status == "failed" and "ARENA_JUDGE_HOSTS" in error for status, error in errors)
    with pytest.raises(RunError, match="ARENA_JUDGE_HOSTS"):
        judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)


def test_run_start_refuses_a_judge_whose_row_names_a_worker_secret(judge, battle_set, llm, client):
    Judge.objects.filter(pk=judge.pk).update(api_key_env="SECRET_KEY")
    with pytest.raises(RunError, match="SECRET_KEY"):
        judge_run_create(judge=Judge.objects.get(), prompt_set=battle_set, mode="pairwise")
    client.force_login(get_user_model().objects.create_user("olga", is_staff=True))
    page = client.post(
        "/judge/runs/new/",
        {"judge": judge.pk, "prompt_set": battle_set.slug, "mode": "pairwise", "inconsistent": "tie"},
    ).content.decode()
    assert "Edit the judge first" in page and not JudgeRun.objects.exists()
    assert llm.stats()["total"] == 0


def test_an_unset_key_variable_sends_no_key_not_openai_api_key(
    judge, battle_set, llm, django_capture_on_commit_callbacks
):
    _start_after_tampering(
        judge, battle_set, django_capture_on_commit_callbacks, api_key_env="ARENA_KEY_UNSET"
    )
    assert set(seen_authorizations(llm)) == {f"Bearer {PLACEHOLDER_API_KEY}"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["DATABASE_URL_FOR_TEST", "SECRET_KEY"])
def test_a_contender_naming_a_worker_secret_generates_nothing(llm, name):
    from arena.models import Prompt, PromptSet

    pset = PromptSet.objects.create(slug="gen", name="gen")
    prompt = Prompt.objects.create(prompt_set=pset, external_id="1", turns=["Hello?"])
    contender = Contender.objects.create(name="evil", base_url=llm.base_url, api_model="m", api_key_env=name)
    with pytest.raises(CommandError, match=name):
        call_command(
            "generate_answers", contender="evil", prompt_set="gen", no_progress=True, stdout=StringIO()
        )
    with pytest.raises(PermanentLLMError) as refused:  # the request itself checks too
        answer_generate(contender=contender, prompt=prompt)
    assert refused.value.kind == "config"
    assert llm.stats()["total"] == 0


# --- keys echoed by an endpoint, or pasted into the table ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_key_echoed_in_a_401_is_stored_shown_and_exported_redacted(
    judge, battle_set, llm, monkeypatch, tmp_path, client
):
    monkeypatch.setenv("ARENA_KEY_ECHOED", "opaque-proxy-credential-1234")
    llm.configure(rates={"401_echo": 1.0})
    Judge.objects.filter(pk=judge.pk).update(api_key_env="ARENA_KEY_ECHOED")
    run = judge_run_create(
        judge=Judge.objects.get(), prompt_set=battle_set, mode="pairwise", limit=1
    )  # judged now
    run.refresh_from_db()
    assert set(seen_authorizations(llm)) == {"Bearer opaque-proxy-credential-1234"}
    errors = list(run.judgments.values_list("error", flat=True))
    assert all(
        e.startswith("auth:") and "Incorrect API key provided" in e and "[redacted]" in e for e in errors
    )
    assert not any("opaque-proxy-credential" in e for e in errors)
    client.force_login(get_user_model().objects.create_user("olga", is_staff=True))
    assert "opaque-proxy-credential" not in client.get(f"/judge/runs/{run.pk}/").content.decode()
    call_command("export_all", str(tmp_path / "backup"), stdout=StringIO())
    assert "opaque-proxy-credential" not in (tmp_path / "backup" / "judge.judgment.jsonl").read_text()


@pytest.mark.django_db
def test_a_key_echoed_to_generate_answers_is_redacted(llm, monkeypatch):
    from arena.models import Prompt, PromptSet

    monkeypatch.setenv("ARENA_KEY_GEN", "sk-gen-0123456789abcdefXYZ")
    pset = PromptSet.objects.create(slug="gen", name="gen")
    Prompt.objects.create(prompt_set=pset, external_id="1", turns=["Hello?"])
    Contender.objects.create(name="c", base_url=llm.base_url, api_model="m", api_key_env="ARENA_KEY_GEN")
    llm.configure(script=["401_echo"])
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "generate_answers",
            contender="c",
            prompt_set="gen",
            no_progress=True,
            concurrency=1,
            stdout=StringIO(),
            stderr=err,
        )
    assert "Incorrect API key provided" in err.getvalue() and "sk-gen-0123456789" not in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_pasted_key_in_the_table_is_never_shown_or_exported(judge, client, tmp_path):
    Judge.objects.filter(pk=judge.pk).update(api_key_env=PASTED[0])
    Contender.objects.create(name="c", api_key_env=PASTED[1])
    client.force_login(get_user_model().objects.create_user("olga", is_staff=True))
    page = client.get("/judge/runs/").content.decode()
    assert PASTED[0] not in page and "(not a variable name)" in page
    for pseudonymise in ([], ["--pseudonymise"]):
        target = tmp_path / f"backup{len(pseudonymise)}"
        call_command("export_all", str(target), *pseudonymise, stdout=StringIO())
        exported = "".join(p.read_text() for p in target.glob("*.jsonl"))
        assert PASTED[0] not in exported and PASTED[1] not in exported
        assert json.loads((target / "judge.judge.jsonl").read_text().splitlines()[0])["api_key_env"] == ""


def test_the_migration_removes_keys_already_stored(judge, db):
    Judge.objects.filter(pk=judge.pk).update(api_key_env=PASTED[0])
    Judge.objects.create(name="fine", model="m", api_key_env="ARENA_KEY_FINE")
    Contender.objects.create(name="c", api_key_env=PASTED[2])
    Contender.objects.create(name="d", api_key_env="MY_OLD_NAME")  # a name, refused at send time, kept
    run = JudgeRun.objects.create(
        judge=judge, prompt_set_id=_a_prompt_set().pk, error="401: Bearer sk-abcdefgh12345678"
    )
    importlib.import_module("judge.migrations.0004_judge_api_key_env").remove_stored_keys(apps, None)
    importlib.import_module("arena.migrations.0006_contender_api_key_env").blank_pasted_keys(apps, None)
    assert dict(Judge.objects.values_list("name", "api_key_env")) == {
        "fake-judge": "",
        "fine": "ARENA_KEY_FINE",
    }
    assert dict(Contender.objects.values_list("name", "api_key_env")) == {"c": "", "d": "MY_OLD_NAME"}
    run.refresh_from_db()
    assert run.error == "401: Bearer [redacted]"
    assert not Judgment.objects.exists()


def _a_prompt_set():  # type: ignore[no-untyped-def]
    from arena.models import PromptSet

    return PromptSet.objects.create(slug="m", name="m")
