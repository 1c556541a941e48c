"""Structured logs: one JSON line per request and per Celery task, with ids, when
ARENA_JSON_LOGS=1. Off by default so development output stays readable."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

request_logger = logging.getLogger("arena.request")
task_logger = logging.getLogger("arena.task")


class JsonFormatter(logging.Formatter):
    """Renders a record as one JSON object; extra fields passed as ``extra={"data": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "data", {}) or {})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


# An X-Request-ID from a proxy is kept only when it is a short token (a UUID, nginx's 32 hex
# digits, ...): anything else would be echoed into every response and log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_from(header: str | None) -> str:
    """The request's id: the proxy's X-Request-ID when it is a safe token, else a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Gives every request an id (honouring a safe X-Request-ID from a proxy) and logs it once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        request_logger.info(
            "request",
            extra={
                "data": {
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                }
            },
        )
        response["X-Request-ID"] = request_id
        return response


_task_started: dict[str, float] = {}


def connect_task_logging() -> None:
    """Log one JSON line per finished Celery task (id, name, state, duration)."""
    from celery.signals import task_postrun, task_prerun

    @task_prerun.connect(weak=False)
    def _started(task_id: str | None = None, **_: Any) -> None:
        if task_id:
            _task_started[task_id] = time.perf_counter()

    @task_postrun.connect(weak=False)
    def _finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
        started = _task_started.pop(task_id or "", None)
        task_logger.info(
            "task",
            extra={
                "data": {
                    "task_id": task_id,
                    "task": getattr(task, "name", None),
                    "state": state,
                    "ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                }
            },
        )
