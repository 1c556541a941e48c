"""The ASGI handler daphne serves (arena.asgi): the middleware chain and view run in one thread."""

from __future__ import annotations

import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse
from django.urls import path

from arena.asgi import django_asgi_app
from arena.middleware import CONTENT_SECURITY_POLICY

threads_seen: list[str] = []


def where_am_i(request):  # type: ignore[no-untyped-def]
    threads_seen.append(f"view:{threading.get_ident()}")
    return HttpResponse("here")


def broken(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug in a view")


urlpatterns = [path("where/", where_am_i), path("broken/", broken)]


async def get(path_: str) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path_, "raw_path": path_.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1234), "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(django_asgi_app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    body = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    return start["status"], dict(start["headers"]), body.get("body", b"")


@pytest.mark.asyncio
@pytest.mark.urls("tests.ops.test_asgi")
async def test_a_request_runs_the_whole_middleware_chain_and_the_view():
    threads_seen.clear()
    status, headers, body = await get("/where/")
    assert (status, body) == (200, b"here")
    assert headers[b"Content-Security-Policy"] == CONTENT_SECURITY_POLICY.encode()  # innermost middleware
    assert b"X-Request-ID" in headers  # outermost middleware
    assert len(threads_seen) == 1 and threads_seen[0] != f"view:{threading.get_ident()}"  # off the event loop


@pytest.mark.asyncio
@pytest.mark.urls("tests.ops.test_asgi")
async def test_an_exception_in_a_view_becomes_a_500_response():
    status, headers, _ = await get("/broken/")
    assert status == 500
    assert b"Content-Security-Policy" in headers
