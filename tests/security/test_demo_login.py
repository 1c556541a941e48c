"""An operator starts Arena in production mode with the demo data: no account there has the
password the README publishes. ``load_demo`` refuses without ``--allow-in-production``, and with it
the demo superuser gets a random password, printed once; ``make demo`` keeps demo / arena-demo."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from arena.models import Prompt
from arena.services.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_user_ensure
from tests.conftest import ROOT
from tests.ops.test_production import production_env

PUBLISHED_PASSWORD_HOLDERS = (
    "from django.contrib.auth import get_user_model; "
    "print(sorted(u.username for u in get_user_model().objects.all() if u.check_password('arena-demo')))"
)


def test_a_fresh_production_start_with_demo_data_has_no_published_password(tmp_path):
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'arena.sqlite3'}", ARENA_VAR_DIR=str(tmp_path))

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def shell(code: str) -> str:
        return manage("shell", "-c", code).stdout.strip().splitlines()[-1]

    assert manage("migrate", "--noinput", "-v", "0").returncode == 0
    refused = manage("load_demo", "--quiet")
    assert refused.returncode != 0
    assert "--allow-in-production" in refused.stderr and "Traceback" not in refused.stderr
    assert shell("from arena.models import Answer; print(Answer.objects.count())") == "0"

    loaded = manage("load_demo", "--quiet", "--allow-in-production")
    assert loaded.returncode == 0, loaded.stderr
    assert "arena-demo" not in loaded.stdout
    password = re.search(r"username 'demo', password '([^']+)'", loaded.stdout).group(1)
    assert len(password) >= 20
    assert shell(PUBLISHED_PASSWORD_HOLDERS) == "[]"
    check = (
        "from django.contrib.auth import authenticate; "
        f"print(authenticate(username='demo', password={password!r}) is not None)"
    )
    assert shell(check) == "True"

    again = manage("load_demo", "--quiet", "--allow-in-production")
    assert again.returncode == 0 and password not in again.stdout and "keeps its password" in again.stdout


@pytest.mark.django_db
def test_in_production_load_demo_refuses_before_writing_anything(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="--allow-in-production"):
        call_command("load_demo", "--quiet")
    assert not get_user_model().objects.exists() and not Prompt.objects.exists()


@pytest.mark.django_db
def test_in_production_a_demo_account_left_with_the_published_password_gets_a_random_one():
    user = get_user_model().objects.create_superuser(DEMO_USERNAME, password=DEMO_PASSWORD)

    login = demo_user_ensure(production=True)

    user.refresh_from_db()
    assert login.password and login.password != DEMO_PASSWORD
    assert not user.check_password(DEMO_PASSWORD) and user.check_password(login.password)
    assert demo_user_ensure(production=True).password is None  # printed once


@pytest.mark.django_db
def test_debug_mode_keeps_the_published_demo_login():
    login = demo_user_ensure(production=False)
    assert (login.username, login.password) == ("demo", "arena-demo")
    assert get_user_model().objects.get(username="demo").check_password("arena-demo")
