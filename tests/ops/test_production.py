"""An operator switches on production mode: Django's deployment checks pass, and the
hardening is really on."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT


def production_env(**extra: str) -> dict[str, str]:
    # Only what an operator would set: nothing a test harness put in this process's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARENA_"))}
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="arena.example.org",
        CSRF_TRUSTED_ORIGINS="https://arena.example.org",
        **extra,
    )
    return env


def test_check_deploy_passes_at_warning_level_in_production_mode():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_harden_cookies_hsts_proxy_and_static_files():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, "
        "s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[1], s.ADMIN_PATH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **production_env(BEHIND_PROXY="1", ADMIN_PATH="/staff-only/"),
            "DJANGO_SETTINGS_MODULE": "arena.settings",
        },
    )
    assert out.stdout.split() == [
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "CompressedManifestStaticFilesStorage",
        "staff-only/",
    ], out.stderr
