"""The ASGI handler daphne serves (arena.asgi): the middleware chain and view run in one thread,
taken from a pool of idle request threads."""

from __future__ import annotations

import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse
from django.urls import path

from arena.asgi import django_asgi_app
from arena.middleware import CONTENT_SECURITY_POLICY

threads_seen: list[str] = []
# The thread objects themselves: kept alive, no two can be mistaken for one (idents are reused).
thread_objects: list[threading.Thread] = []


def where_am_i(request):  # type: ignore[no-untyped-def]
    threads_seen.append(f"view:{threading.get_ident()}")
    thread_objects.append(threading.current_thread())
    return HttpResponse("here")


def broken(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug in a view")


database_visits: list[tuple[str, bool]] = []


def uses_the_database(request):  # type: ignore[no-untyped-def]
    from django.db import connection

    # Whether this thread's connection is still open from an earlier request when this one starts.
    database_visits.append((threading.current_thread().name, connection.connection is not None))
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("queried")


running = {"now": 0, "most": 0}
running_lock = threading.Lock()


def slow(request):  # type: ignore[no-untyped-def]
    import time

    with running_lock:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
    time.sleep(0.1)
    with running_lock:
        running["now"] -= 1
    return HttpResponse("slow")


urlpatterns = [
    path("where/", where_am_i),
    path("broken/", broken),
    path("query/", uses_the_database),
    path("slow/", slow),
]


async def get(path_: str) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
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


@pytest.mark.asyncio
@pytest.mark.urls("tests.ops.test_asgi")
async def test_one_request_after_another_reuses_a_thread_instead_of_starting_one():
    thread_objects.clear()
    for _ in range(5):
        assert (await get("/where/"))[0] == 200
    assert len(set(thread_objects)) == 1


@pytest.mark.asyncio
@pytest.mark.urls("tests.ops.test_asgi")
async def test_requests_at_the_same_time_run_on_different_threads():
    import asyncio

    thread_objects.clear()
    results = await asyncio.gather(*(get("/where/") for _ in range(4)))
    assert [status for status, _, _ in results] == [200] * 4
    assert len(set(thread_objects)) == 4


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.ops.test_asgi")
async def test_each_request_closes_its_database_connection_on_the_reused_thread():
    database_visits.clear()
    for _ in range(3):
        assert (await get("/query/"))[0] == 200
    assert {name for name, _ in database_visits} == {database_visits[0][0]}
    assert database_visits[0][0].startswith("arena-request")
    assert [still_open for _, still_open in database_visits] == [False, False, False]


@pytest.mark.asyncio
@pytest.mark.urls("tests.ops.test_asgi")
async def test_at_most_web_threads_requests_run_at_once_and_the_rest_wait_their_turn(settings):
    import asyncio

    settings.WEB_THREADS = 2
    running.update(now=0, most=0)
    results = await asyncio.gather(*(get("/slow/") for _ in range(5)))
    assert [status for status, _, _ in results] == [200] * 5
    assert running["most"] == 2
