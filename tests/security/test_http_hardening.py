"""Small things a prober tried: an echoed 7 KB X-Request-ID, a password-reset page that can send
no mail, and a Content-Security-Policy that let scripts open WebSockets to any host."""

from __future__ import annotations

import importlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import clear_url_caches

from arena.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "sent", ["x" * 7000, "abc def", "id\r\nSet-Cookie: a=b", "<script>", "a" * 65, "-leading"]
)
def test_an_unsafe_or_long_request_id_is_replaced_by_a_fresh_one(client, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize(
    "sent", ["3f2c1e9a-7b7d-4c51-9a51-0b7f5c0a1d2e", "0123456789abcdef0123456789abcdef", "req.42:a_b"]
)
def test_a_proxys_short_token_is_kept(client, sent):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent


def test_websockets_may_only_go_to_the_site_itself():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["connect-src"] == "'self'"


def _reload_urls() -> None:
    import arena.urls

    importlib.reload(arena.urls)
    clear_url_caches()


@pytest.fixture
def email_configured(settings):
    settings.EMAIL_HOST = "smtp.example.org"
    settings.ARENA_PASSWORD_RESET = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _reload_urls()
    yield
    settings.ARENA_PASSWORD_RESET = False
    _reload_urls()


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
    ],
)
def test_without_email_password_reset_is_not_served(client, path):
    assert client.get(path).status_code == 404


def test_password_change_stays_for_signed_in_users(client):
    assert client.get("/accounts/password_change/").status_code == 302  # to the login page


def test_with_email_configured_password_reset_sends_the_link(client, email_configured):
    get_user_model().objects.create_user("rita", email="rita@example.org", password="pw-123-secret")
    assert client.get("/accounts/password_reset/").status_code == 200
    response = client.post("/accounts/password_reset/", {"email": "rita@example.org"})
    assert response.status_code == 302 and len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
