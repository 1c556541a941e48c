"""Redis and the broker for the tests: the Makefile's ``ARENA_TEST_REDIS_URL`` and
``ARENA_TEST_BROKER_URL`` (defaults as in the Makefile), and the fixtures that hand them out.

``redis_url`` gives a test a Redis database number of its own on that server: empty when the test
gets it, flushed when it is done, and held by no other test meanwhile (the base URL's own number is
never handed out, so a developer's `make serve` on database 0 keeps its keys). ``broker_url`` gives
a test a RabbitMQ vhost of its own, named after the test under ``ARENA_TEST_VHOST`` (a name per
checkout keeps parallel runs on one broker apart), emptied of the app's queues. Two checkouts, or a
test run beside `make serve`, thus never share a queue or flush each other's keys.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

REDIS_BASE = os.environ.get("ARENA_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
BROKER_BASE = os.environ.get("ARENA_TEST_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//"
VHOST_PREFIX = os.environ.get("ARENA_TEST_VHOST") or "arena_e2e"
APP_QUEUES = ("judge", "ratings", "default")

_held: set[int] = set()


def _redis_url(db: int) -> str:
    parts = urlsplit(REDIS_BASE)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


@contextmanager
def redis_database() -> Iterator[str]:
    """The URL of a Redis database number no one else holds, empty, flushed again afterwards.
    Fails the test when the server does not answer: a missing service is an error, not a skip."""
    import redis

    base_db = int(urlsplit(REDIS_BASE).path.strip("/") or 0)
    probe = redis.Redis.from_url(REDIS_BASE)
    try:
        databases = int(probe.config_get("databases").get("databases", 16))
    except redis.ConnectionError:
        pytest.fail(f"the tests need Redis at {REDIS_BASE} (ARENA_TEST_REDIS_URL); it does not answer")
    except redis.ResponseError:  # CONFIG disabled on this server
        databases = 16
    finally:
        probe.close()
    free = [n for n in range(databases) if n != base_db and n not in _held]
    if not free:
        raise RuntimeError(f"every Redis database of {REDIS_BASE} is held by a test")
    number = free[0]
    _held.add(number)
    url = _redis_url(number)
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # leftovers of an earlier (killed) run must not reach this test
        yield url
    finally:
        client.flushdb()
        client.close()
        _held.discard(number)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of the test's own (see the module's docstring)."""
    with redis_database() as url:
        yield url


def broker_vhost(name: str) -> str:
    """The URL of vhost ``name`` on the tests' broker, created if missing (rabbitmqctl needs the
    broker's host, as here and in CI) and emptied of the app's queues. Fails without a broker."""
    from kombu import Connection

    parts = urlsplit(BROKER_BASE)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    if shutil.which("rabbitmqctl"):
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, timeout=60
        )
        if name not in listed.stdout.split():
            subprocess.run(
                ["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True, timeout=60
            )
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    try:
        with Connection(url, connect_timeout=5) as conn:
            channel = conn.channel()
            for queue in APP_QUEUES:
                try:
                    channel.queue_purge(queue)
                except Exception:  # a queue never declared holds nothing
                    channel = conn.channel()
    except OSError as error:
        pytest.fail(
            f"the tests need RabbitMQ at {BROKER_BASE} (ARENA_TEST_BROKER_URL), vhost {name}: {error}"
        )
    return url


@pytest.fixture
def broker_url(request: pytest.FixtureRequest) -> str:
    """A RabbitMQ vhost of the test's own, named after it (see the module's docstring)."""
    return broker_vhost(f"{VHOST_PREFIX}_{re.sub(r'[^A-Za-z0-9_]+', '_', request.node.originalname)}"[:200])
