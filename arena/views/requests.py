"""What the views know of a request beyond Django's ``HttpRequest``, for the type checker.

``request.htmx`` is set on every request by django-htmx's middleware; behind ``login_required``
or ``staff_required`` the user is a signed-in ``User``, never ``AnonymousUser``.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class SignedInRequest(HtmxRequest):
    user: User
