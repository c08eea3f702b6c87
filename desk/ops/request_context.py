"""A request id for every message: set by nginx (X-Request-ID, generated when absent), read by
the desk, sent to Rasa in the message's metadata and the header, read again by the action server;
every log line of the desk's code written meanwhile carries it. Logs as text or as JSON objects.

The id lives in a context variable: Flask's request thread, the action server's asyncio task and
the threads it starts (asyncio.to_thread copies the context) each see their own."""
from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, Optional

REQUEST_ID_HEADER = "X-Request-ID"
# What a request id may look like when a client or a proxy sends one (nginx's map uses the same).
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_request_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("dialoga_request_id", default=None)


def valid_request_id(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and _VALID_REQUEST_ID.match(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> Optional[str]:
    return _request_id.get()


def set_request_id(value: Optional[str]) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message; an exception by its
    type and place only (its message and locals could hold what a user wrote)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["where"] = f"{record.pathname}:{record.lineno}"
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(log_format: str, level: int = logging.INFO, add_handler: bool = True) -> None:
    """Put the request id on every record of the root logger's handlers (adding one when there is
    none and add_handler) and, with log_format "json", write them as JSON."""
    root = logging.getLogger()
    if not root.handlers and add_handler:
        root.addHandler(logging.StreamHandler())
        root.setLevel(level)
        for handler in root.handlers:
            handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
