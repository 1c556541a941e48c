"""Who may open a page: one rule for every staff page, and one login page for everyone.

Staff pages send a stranger to the site's own login (``LOGIN_URL``), never to the admin's, whose
path (``ADMIN_PATH``) is kept from anyone who is not staff; a signed-in rater gets the site's
styled 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("This page is for the study's staff.")
        return view(request, *args, **kwargs)

    return wrapped
