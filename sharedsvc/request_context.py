"""The id of the request (or background job) being served, for logs and background work.

The middleware sets it for a web request (from `X-Request-ID` when a proxy sent one, else
a new one) and returns it in the response's `X-Request-ID`; the outbox stores it with the
work a request asked for, and the task that does the work takes it back, so one id
follows a change from the request to its emails. Every log line carries it
(`RequestIdFilter`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")

# An id from outside is kept only if it is a plain token (no log injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def safe_request_id(value: str | None) -> str:
    return value if value and _SAFE_ID.match(value) else new_request_id()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        rid = safe_request_id(request.headers.get("X-Request-ID"))
        token = request_id.set(rid)
        request.request_id = rid
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the traceback
    when there is one (log collectors parse it without guessing)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
