"""Who sees what: one login page, styled 403/404/500 pages, a nav that lists only what the user may
open, and a moved admin (ADMIN_PATH) that no page names to someone who is not staff."""

from __future__ import annotations

import importlib

import pytest
from django.db import OperationalError
from django.urls import clear_url_caches

from tests.voting.conftest import PASSWORD

pytestmark = pytest.mark.django_db
SECRET_ADMIN = "desk-5f8e2b/"
# The report pages every visitor may read, in the nav's order.
REPORTS = [
    "Leaderboard",
    "Bias",
    "Agreement",
    "Scores",
    "Win rate",
    "Grades",
    "Judges",
    "Comparisons",
    "Prompt sets",
]


@pytest.fixture
def moved_admin(settings):
    """ADMIN_PATH set as an operator would: the URLconf is built again with it."""
    import arena.urls

    settings.ADMIN_PATH = SECRET_ADMIN
    importlib.reload(arena.urls)
    clear_url_caches()
    yield SECRET_ADMIN
    settings.ADMIN_PATH = "admin/"
    importlib.reload(arena.urls)
    clear_url_caches()


PAGES = [
    "/",
    "/leaderboard/",
    "/bias/",
    "/agreement/",
    "/rate/guidelines/",
    "/accounts/login/",
    "/accounts/signup/",
    "/no-such-page/",
    "/staff/raters/",
    "/judge/runs/",
    "/judge/runs/new/",
    "/rate/",
    "/rate/mine/",
]


class TestStaffPagesUseTheSiteLogin:
    @pytest.mark.parametrize("path", ["/staff/raters/", "/judge/runs/"])
    def test_a_stranger_is_sent_to_the_site_login(self, client, moved_admin, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"

    @pytest.mark.parametrize("path", ["/staff/raters/", "/judge/runs/"])
    def test_a_rater_gets_the_styled_403_page(self, rater_client, moved_admin, path):
        response = rater_client.get(path)
        html = response.content.decode()
        assert response.status_code == 403
        assert 'class="site-header"' in html and "You cannot open this page" in html
        assert "for the study&#x27;s staff" in html and "rita" in html


class TestTheMovedAdminStaysHidden:
    @pytest.mark.parametrize("who", ["stranger", "rater"])
    def test_no_page_names_it_to_someone_who_is_not_staff(self, client, rater, moved_admin, who):
        if who == "rater":
            client.force_login(rater)
        for path in PAGES:
            response = client.get(path, follow=True)
            assert response.status_code in (200, 403, 404), (path, response.status_code)
            assert SECRET_ADMIN.strip("/") not in response.content.decode(), path
            assert all(SECRET_ADMIN.strip("/") not in url for url, _ in response.redirect_chain), path

    def test_staff_find_it_in_the_nav_and_on_the_raters_page(self, client, staff, moved_admin):
        client.force_login(staff)
        assert f'href="/{SECRET_ADMIN}"' in client.get("/").content.decode()
        assert f'href="/{SECRET_ADMIN}auth/user/"' in client.get("/staff/raters/").content.decode()
        assert client.get(f"/{SECRET_ADMIN}").status_code == 200


def nav_links(html: str) -> list[str]:
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in nav.split("<a ")[1:]]


class TestTheNavShowsWhatTheUserMayOpen:
    def test_a_stranger_sees_public_pages_and_log_in(self, client):
        html = client.get("/").content.decode()
        assert nav_links(html) == REPORTS
        assert ">Log in</a>" in html

    def test_a_rater_sees_rate_but_no_staff_pages(self, rater_client):
        assert nav_links(rater_client.get("/").content.decode()) == ["Rate", "Battle", *REPORTS]

    def test_staff_see_the_staff_pages(self, client, staff):
        client.force_login(staff)
        assert nav_links(client.get("/").content.decode()) == [
            "Rate",
            "Battle",
            *REPORTS,
            "Judge runs",
            "Evaluate",
            "Raters",
            "Live prompts",
            "Admin",
        ]

    def test_every_link_in_a_raters_nav_opens(self, rater_client):
        html = rater_client.get("/").content.decode()
        nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
        for href in [part.split('"', 1)[0] for part in nav.split('href="')[1:]]:
            assert rater_client.get(href).status_code == 200, href


class TestErrorPages:
    def test_404_is_styled(self, client):
        response = client.get("/nowhere/at/all/")
        html = response.content.decode()
        assert response.status_code == 404
        assert 'class="site-header"' in html and "Page not found" in html and "arena.css" in html

    @pytest.mark.parametrize(
        ("error", "status", "heading"),
        [
            (RuntimeError("secret internals at 127.0.0.1"), 500, "Something went wrong"),
            (OperationalError("connection to server at 127.0.0.1 failed"), 503, "Unavailable for a moment"),
        ],
    )
    def test_a_failure_is_a_styled_page_without_a_traceback(
        self, client, monkeypatch, error, status, heading
    ):
        """A bug is a 500; a lost database (or Redis) a 503 that says to try again."""

        def broken() -> None:
            raise error

        monkeypatch.setattr("arena.views.home.overview_get", broken)
        client.raise_request_exception = False
        response = client.get("/")
        html = response.content.decode()
        assert response.status_code == status
        assert heading in html and 'class="site-header"' in html
        assert "127.0.0.1" not in html and "Traceback" not in html
        assert response.get("Retry-After") == ("30" if status == 503 else None)


def test_one_login_page_serves_staff_too(client, staff):
    """The site login takes a staff member to the staff page they asked for."""
    response = client.post(
        "/accounts/login/?next=/staff/raters/",
        {"username": "stella", "password": PASSWORD, "next": "/staff/raters/"},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/raters/"
    assert client.get("/staff/raters/").status_code == 200
