"""Becoming a rater: by invite link, or by open sign-up when the operator allows it."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from arena.models import Invite, RaterPool
from arena.services.raters import InviteInvalid, rater_invite_create, rater_invite_read
from tests.voting.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD}


def signup(client, token: str, username: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/signup/",
        {"username": username, "password1": PASSWORD, "password2": PASSWORD, "invite": token},
    )


class TestStranger:
    def test_cannot_sign_up_without_an_invite_by_default(self, client, django_user_model):
        response = client.post("/accounts/signup/", NEW)
        assert response.status_code == 403 and "by invitation" in response.content.decode()
        assert not django_user_model.objects.filter(username="newbie").exists()

    def test_signs_up_when_sign_up_is_open_and_lands_on_the_guidelines(
        self, client, settings, django_user_model
    ):
        settings.ARENA_OPEN_SIGNUP = True
        response = client.post("/accounts/signup/", NEW)
        assert response.status_code == 302 and response["Location"] == "/rate/guidelines/"
        user = django_user_model.objects.get(username="newbie")
        assert not user.is_staff
        assert client.get("/rate/").status_code == 200  # logged in

    def test_signs_up_with_an_invite_and_joins_its_pool(self, client, staff, django_user_model):
        pool = RaterPool.objects.create(name="study-1")
        token = rater_invite_create(pool=pool, created_by=staff)
        assert client.get(f"/accounts/signup/?invite={token}").status_code == 200
        response = client.post("/accounts/signup/", {**NEW, "invite": token})
        assert response.status_code == 302
        assert list(pool.members.values_list("username", flat=True)) == ["newbie"]

    def test_a_forged_invite_is_refused(self, client):
        response = client.get("/accounts/signup/?invite=forged:token")
        assert response.status_code == 403 and "not valid" in response.content.decode()


class TestInvitesRunOut:
    """One link made 8+ accounts, and a link from a deleted staff user still worked."""

    def test_an_invite_is_good_for_one_sign_up_by_default(self, client, staff, django_user_model):
        token = rater_invite_create(pool=None, created_by=staff)
        assert signup(client, token, "first").status_code == 302
        client.logout()
        refused = signup(client, token, "second")
        assert refused.status_code == 403 and "used up" in refused.content.decode()
        assert client.get(f"/accounts/signup/?invite={token}").status_code == 403
        assert not django_user_model.objects.filter(username="second").exists()

    def test_staff_choose_how_many_sign_ups_a_link_allows(self, client, staff, django_user_model):
        client.force_login(staff)
        html = client.post("/staff/raters/invite/", {"uses": "3"}).content.decode()
        token = html.split("?invite=", 1)[1].split("<", 1)[0]
        client.logout()
        statuses = []
        for n in range(4):
            statuses.append(signup(client, token, f"cohort{n}").status_code)
            client.logout()
        assert statuses == [302, 302, 302, 403]
        assert Invite.objects.get().uses == 3

    @pytest.mark.parametrize("uses", ["0", "-1", "abc", "1001"])
    def test_a_bad_use_count_is_a_400_naming_the_field(self, client, staff, uses):
        client.force_login(staff)
        response = client.post("/staff/raters/invite/", {"uses": uses})
        assert (
            response.status_code == 400 and "uses: a whole number from 1 to 1000" in response.content.decode()
        )
        assert not Invite.objects.exists()

    def test_staff_withdraw_a_link_on_the_raters_page(self, client, staff):
        token = rater_invite_create(pool=None, created_by=staff, uses=5)
        client.force_login(staff)
        page = client.get("/staff/raters/").content.decode()
        invite = Invite.objects.get()
        assert f'action="/staff/raters/invites/{invite.pk}/revoke/"' in page
        assert client.post(f"/staff/raters/invites/{invite.pk}/revoke/").status_code == 302
        assert "revoked" in client.get("/staff/raters/").content.decode()
        client.logout()
        refused = signup(client, token, "late")
        assert refused.status_code == 403 and "withdrawn" in refused.content.decode()

    def test_a_link_dies_when_its_creator_stops_being_staff(self, client, staff):
        token = rater_invite_create(pool=None, created_by=staff, uses=5)
        staff.is_staff = False
        staff.save()
        staff.is_staff = True  # made staff again: the old links stay dead
        staff.save()
        with pytest.raises(InviteInvalid, match="withdrawn"):
            rater_invite_read(token=token)

    def test_a_link_dies_with_its_creator(self, client, staff, django_user_model):
        token = rater_invite_create(pool=None, created_by=staff, uses=5)
        staff.delete()
        refused = signup(client, token, "orphan")
        assert refused.status_code == 403 and "not valid" in refused.content.decode()
        assert not django_user_model.objects.filter(username="orphan").exists()

    def test_a_link_of_a_deactivated_creator_is_refused_even_without_a_save_signal(self, staff):
        token = rater_invite_create(pool=None, created_by=staff)
        type(staff).objects.filter(pk=staff.pk).update(is_staff=False)  # no signal
        with pytest.raises(InviteInvalid, match="no longer valid"):
            rater_invite_read(token=token)

    def test_only_the_link_is_usable_the_database_holds_its_hash(self, staff):
        token = rater_invite_create(pool=None, created_by=staff)
        assert token not in Invite.objects.get().token_hash


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_the_last_use_get_one_account(staff, django_user_model):
    from django.test import Client

    token = rater_invite_create(pool=None, created_by=staff)

    def attempt(name: str) -> int:
        try:
            return signup(Client(), token, name).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(attempt, [f"racer{n}" for n in range(4)]))
    assert statuses == [302, 403, 403, 403]
    assert django_user_model.objects.filter(username__startswith="racer").count() == 1


def test_an_old_invite_expires(staff, settings):
    token = rater_invite_create(pool=None, created_by=staff)
    assert rater_invite_read(token=token).pool is None
    Invite.objects.update(expires_at="2000-01-01T00:00:00Z")
    with pytest.raises(InviteInvalid, match="expired"):
        rater_invite_read(token=token)


def test_staff_creates_an_invite_link(client, staff):
    pool = RaterPool.objects.create(name="study-2")
    client.force_login(staff)
    html = client.post("/staff/raters/invite/", {"pool": pool.pk}).content.decode()
    assert "/accounts/signup/?invite=" in html
