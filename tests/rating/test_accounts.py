"""Becoming a rater: by invite link, or by open sign-up when the operator allows it."""

import pytest

from arena.models import RaterPool
from arena.services.raters import InviteInvalid, rater_invite_create, rater_invite_read
from tests.rating.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD}


class TestStranger:
    def test_cannot_sign_up_without_an_invite_by_default(self, client, django_user_model):
        response = client.post("/accounts/signup/", NEW)
        assert response.status_code == 403 and "by invitation" in response.content.decode()
        assert not django_user_model.objects.filter(username="newbie").exists()

    def test_signs_up_when_sign_up_is_open_and_lands_on_the_guidelines(self, client, settings, django_user_model):
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


def test_an_old_invite_expires(staff, settings):
    token = rater_invite_create(pool=None, created_by=staff)
    assert rater_invite_read(token=token) is None
    settings.ARENA_INVITE_MAX_AGE_DAYS = -1
    with pytest.raises(InviteInvalid, match="expired"):
        rater_invite_read(token=token)


def test_staff_creates_an_invite_link(client, staff):
    pool = RaterPool.objects.create(name="study-2")
    client.force_login(staff)
    html = client.post("/staff/raters/invite/", {"pool": pool.pk}).content.decode()
    assert "/accounts/signup/?invite=" in html
