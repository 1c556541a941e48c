"""Log-in (throttled) and rater sign-up: with an invite link (``?invite=…``), or by anyone when
ARENA_OPEN_SIGNUP is on."""

from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from arena.forms import THROTTLED, ThrottledAuthenticationForm
from arena.services.raters import InviteInvalid, rater_create, rater_invite_read


class ThrottledLoginView(LoginView):
    """The one log-in page (staff pages send people here too); a throttled attempt is a 429."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:  # type: ignore[override]  # our form
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, THROTTLED):
            response.status_code = 429
            response["Retry-After"] = str(math.ceil(form.retry_after))
        return response


class SignupForm(UserCreationForm):
    invite = forms.CharField(required=False, widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("invite") or request.GET.get("invite", "")
    pool = None
    if token:
        try:
            pool = rater_invite_read(token=token).pool
        except InviteInvalid as invalid:
            return render(request, "registration/signup.html", {"closed": str(invalid)}, status=403)
    elif not settings.ARENA_OPEN_SIGNUP:
        return render(
            request,
            "registration/signup.html",
            {"closed": "Sign-up is by invitation: ask the study's staff for an invite link."},
            status=403,
        )
    form = SignupForm(request.POST or None, initial={"invite": token})
    if request.method == "POST" and form.is_valid():
        try:
            user = rater_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                invite_token=token,
            )
        except InviteInvalid as invalid:  # used up (or withdrawn) while the form was being filled in
            return render(request, "registration/signup.html", {"closed": str(invalid)}, status=403)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("rate_guidelines")
    return render(request, "registration/signup.html", {"form": form, "pool": pool})
