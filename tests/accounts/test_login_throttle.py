"""Password guessing is throttled per account and per client address, on the site's log-in and the
admin's: 100 wrong passwords used to cost nothing, and the right one still got in afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arena.models import LoginFailure
from tests.voting.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ARENA_LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.ARENA_LOGIN_FAILURES_PER_ADDRESS = 12
    settings.ARENA_LOGIN_WINDOW_SECONDS = 600
    return settings


def attempt(client: Client, username: str, password: str, *, path: str = "/accounts/login/", **headers: str):
    return client.post(path, {"username": username, "password": password}, **headers)


class TestPerAccount:
    def test_the_right_password_is_refused_once_an_account_has_too_many_failures(self, client, rater):
        statuses = [attempt(client, "rita", f"guess-{n}").status_code for n in range(5)]
        assert statuses == [200] * 5  # the form again, "please enter a correct username and password"
        refused = attempt(client, "rita", PASSWORD)
        html = refused.content.decode()
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 500
        assert "Too many failed log-ins for this account" in html and "try again in 10 minutes" in html
        assert "_auth_user_id" not in client.session

    def test_guesses_from_many_addresses_count_against_the_account(self, rater):
        for n in range(5):
            attempt(Client(REMOTE_ADDR=f"198.51.100.{n}"), "rita", "wrong")
        assert attempt(Client(REMOTE_ADDR="203.0.113.9"), "rita", PASSWORD).status_code == 429

    def test_refused_attempts_do_not_extend_the_lock_and_it_lifts_with_the_window(self, client, rater):
        for _ in range(5):
            attempt(client, "rita", "wrong")
        for _ in range(20):  # the guessing goes on while locked: not counted
            assert attempt(client, "rita", "wrong").status_code == 429
        assert LoginFailure.objects.count() == 5
        LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=601))  # the window has passed
        response = attempt(client, "rita", PASSWORD)
        assert response.status_code == 302 and client.session["_auth_user_id"] == str(rater.pk)

    def test_the_owner_getting_in_clears_the_accounts_typos(self, client, rater):
        for _ in range(4):
            attempt(client, "rita", "typo")
        assert attempt(client, "rita", PASSWORD).status_code == 302
        assert not LoginFailure.objects.filter(username="rita").exists()

    def test_an_unknown_account_is_throttled_the_same_way(self, client):
        for _ in range(5):
            attempt(client, "nobody-here", "x")
        assert attempt(client, "Nobody-Here", "x").status_code == 429  # no way to tell accounts apart


class TestPerAddress:
    def test_one_address_trying_many_accounts_is_stopped(self, client, rater):
        for n in range(12):
            attempt(client, f"user{n}", "wrong")
        refused = attempt(client, "rita", PASSWORD)
        assert refused.status_code == 429 and "from your network address" in refused.content.decode()
        assert attempt(Client(REMOTE_ADDR="203.0.113.7"), "rita", PASSWORD).status_code == 302

    def test_a_forwarded_address_is_ignored_unless_behind_a_proxy(self, rater, settings):
        for n in range(12):
            attempt(Client(), f"user{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        # The header is the client's own word: every guess counted against 127.0.0.1.
        assert attempt(Client(), "rita", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429

    def test_behind_a_proxy_the_address_the_proxy_added_counts(self, rater, settings):
        settings.BEHIND_PROXY = True
        for n in range(12):  # a client cannot escape by forging the first entries
            attempt(Client(), f"user{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.7")
        assert attempt(Client(), "rita", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
        assert attempt(Client(), "rita", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


class TestAdminLogin:
    def test_the_admin_login_is_throttled_too_and_shares_the_count(self, client, staff):
        for n in range(3):
            attempt(client, "stella", f"guess-{n}", path=ADMIN_LOGIN)
        for n in range(2):
            attempt(client, "stella", f"guess-{n}")
        refused = attempt(client, "stella", PASSWORD, path=ADMIN_LOGIN)
        assert "Too many failed log-ins for this account" in refused.content.decode()
        assert "_auth_user_id" not in client.session
