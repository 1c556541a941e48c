"""The error pages: 403 and 404 come from Django's handlers with our templates; 500 is ours.

A 500 page is rendered without the request's context (Django's own rule: whatever failed may be
what the context needs, e.g. the database behind ``request.user``). When the failure is a
dependency that went away — the database or Redis unreachable — the answer is a 503 saying so,
with ``Retry-After``, instead of a 500: nothing is wrong with the request, it can be sent again.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from arena.redis_clients import RedisUnavailable, unavailable_errors

OUTAGES = (OperationalError, InterfaceError, RedisUnavailable)
RETRY_AFTER_SECONDS = 30


def is_outage(error: BaseException | None) -> bool:
    """The database or Redis could not be reached (the error or any error it came from)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (*OUTAGES, *unavailable_errors())):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_outage(sys.exc_info()[1]):
        response = HttpResponse(loader.get_template("503.html").render({}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
