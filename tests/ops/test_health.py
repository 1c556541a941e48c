"""A load balancer asks /healthz whether this process can reach its services."""

import json
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from tests.services import BROKER_BASE

pytestmark = pytest.mark.django_db


def test_healthy_with_embedded_defaults(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "mode": "inline"}


def test_reports_redis_and_broker_queue_depth_without_leaking_urls(client, settings, redis_url):
    with_password = redis_url.replace("//", "//:s3cret-password@", 1)
    broker = BROKER_BASE
    with override_settings(REDIS_URL=with_password, CELERY_BROKER_URL=broker):
        from arena.celery import app

        app.conf.broker_url = broker
        try:
            response = client.get("/healthz")
        finally:
            app.conf.broker_url = None
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["redis"]["ok"] is True
    assert set(body["checks"]["broker"]["queue_depth"]) == {"judge", "ratings", "default"}
    text = json.dumps(body)
    broker_password = urlsplit(broker).password or "guest"
    assert "s3cret" not in text and broker_password not in text and str(urlsplit(redis_url).port) not in text


def test_503_when_redis_is_unreachable(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
