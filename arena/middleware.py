"""Content-Security-Policy on every response.

Model text is untrusted HTML: besides sanitising it, the browser is told to run only our own
scripts and load images only from us, so a payload that slipped through still cannot execute.
Scripts may connect (fetch, WebSocket) only to this site: CSP Level 3 lets ``'self'`` match the
same host's ``ws:``/``wss:`` URLs, which is all the live pages (``/ws/leaderboard/``,
``/ws/judge/runs/<id>/``) open, so no bare ``ws:``/``wss:`` that would allow any host.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
