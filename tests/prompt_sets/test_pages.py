"""The prompt-set pages: readable by everyone who may read leaderboards, upload for staff only,
the same validation and errors as the command, no input gives a 500."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from arena.models import Prompt, PromptSet

pytestmark = pytest.mark.django_db


def jsonl(rows):
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def custom(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_bytes(
        jsonl(
            [
                {
                    "prompt_id": f"p{i}",
                    "category": "math" if i % 2 else "writing",
                    "prompt": f"Question number {i} <script>alert(1)</script>",
                }
                for i in range(60)
            ]
        )
    )
    call_command(
        "import_prompt_set",
        str(path),
        "--slug",
        "mine",
        "--name",
        "Mine",
        "--format",
        "jsonl",
        stdout=io.StringIO(),
    )
    return PromptSet.objects.get(slug="mine")


def test_list_shows_counts_to_anyone(client, custom):
    html = client.get("/prompt-sets/").content.decode()
    assert 'data-set="mine"' in html and ">60<" in html and "Upload a prompt set" not in html


def test_set_page_searches_and_pages_and_escapes(client, custom):
    page = client.get("/prompt-sets/mine/")
    html = page.content.decode()
    assert page.status_code == 200 and "60 prompts." in html and "Page 1 of 2" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    html = client.get("/prompt-sets/mine/?q=number 7").content.decode()
    assert 'data-prompt="p7"' in html and 'data-prompt="p8"' not in html
    html = client.get("/prompt-sets/mine/?q=MATH").content.decode()
    assert "30 of 60 prompts match" in html


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "version=2", "version=-1", "q=" + "x" * 300, "nope=1", "q=%00"]
)
def test_bad_parameters_are_a_400_naming_them(client, custom, query):
    response = client.get(f"/prompt-sets/mine/?{query}")
    assert response.status_code == 400
    assert 'data-error="bad-parameters"' in response.content.decode()


def test_unknown_set_is_a_404(client):
    assert client.get("/prompt-sets/nope/").status_code == 404


def test_only_staff_may_upload(client, django_user_model):
    upload = SimpleUploadedFile("mine.jsonl", jsonl([{"prompt_id": 1, "prompt": "x"}]))
    response = client.post("/prompt-sets/", {"file": upload, "slug": "s", "format": "jsonl"})
    assert response.status_code == 403 and not PromptSet.objects.exists()
    client.force_login(django_user_model.objects.create_user("rita"))
    upload.seek(0)
    assert client.post("/prompt-sets/", {"file": upload, "slug": "s", "format": "jsonl"}).status_code == 403


def test_staff_upload_imports_and_names_bad_lines(staff_client):
    good = SimpleUploadedFile(
        "mine.jsonl", jsonl([{"prompt_id": 1, "prompt": "x"}, {"prompt_id": 2, "prompt": "y"}])
    )
    response = staff_client.post("/prompt-sets/", {"file": good, "slug": "s", "name": "S", "format": "jsonl"})
    assert response.status_code == 302 and response["Location"] == "/prompt-sets/s/?imported=1"
    assert Prompt.objects.filter(prompt_set__slug="s").count() == 2
    bad = SimpleUploadedFile("bad.jsonl", jsonl([{"prompt_id": 1, "prompt": "x"}, {"prompt_id": 2}]))
    response = staff_client.post("/prompt-sets/", {"file": bad, "slug": "t", "format": "jsonl"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "bad.jsonl, line 2: field &#x27;turns&#x27;" in html and "nothing was imported" in html
    assert "/tmp" not in html  # the server's paths stay on the server
    assert not PromptSet.objects.filter(slug="t").exists()
    for data in (
        {"slug": "t", "format": "yaml"},
        {"slug": "no slug!", "format": "jsonl"},
        {"format": "jsonl"},
    ):
        upload = SimpleUploadedFile("x.jsonl", jsonl([{"prompt_id": 1, "prompt": "x"}]))
        assert staff_client.post("/prompt-sets/", {"file": upload, **data}).status_code == 400
    assert staff_client.post("/prompt-sets/", {"slug": "t", "format": "jsonl"}).status_code == 400
