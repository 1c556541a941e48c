"""Log-in forms, for the site and for the admin, that count failures and refuse while throttled."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from arena.services.logins import (
    client_address,
    login_failure_record,
    login_failures_clear,
    login_throttle_get,
)

THROTTLED = "throttled"


class ThrottledLoginMixin:
    """Before the password is checked: refuse if the account or the address is throttled. After:
    count a failure, or clear the account's failures on success."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request is not None else "unknown"
        throttled = login_throttle_get(username=username, address=address)
        if throttled is not None:
            self.retry_after = throttled.retry_after
            raise forms.ValidationError(throttled.message, code=THROTTLED)
        try:
            cleaned = super().clean()  # type: ignore[misc]  # a mixin: the form it joins has clean()
        except forms.ValidationError as error:
            if (
                getattr(error, "code", None) == "invalid_login"
                and username
                and self.cleaned_data.get("password")
            ):
                login_failure_record(username=username, address=address)
            raise
        login_failures_clear(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
