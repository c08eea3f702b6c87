"""A readiness route for the assistant (Rasa), as an input channel: GET /webhooks/readiness/ready.

Rasa's own `GET /` says the process is up, not that it can hold a conversation. This route checks
what this instance needs: the model is loaded, the tracker store's database answers (a `SELECT 1`
on the SQL tracker store's engine) and the lock store's Redis answers. 200 when it can serve,
503 when the model or the tracker store's database is missing; Redis unreachable gives 200 with
`"status": "degraded"`: the lock store falls back to this process's memory and the assistant keeps
answering (policies/lock_store.py). Registered in credentials.prod.yml (Procfile.prod)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import text

from rasa.core.channels.channel import InputChannel, UserMessage

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


def _primary(store: Any) -> Any:
    """The tracker store under Rasa's FailSafeTrackerStore wrapper."""
    return getattr(store, "_tracker_store", store)


def _tracker_store_state(store: Any) -> Dict[str, str]:
    engine = getattr(_primary(store), "engine", None)
    if engine is None:
        return {"state": "ok", "kind": type(_primary(store)).__name__}  # in memory: nothing to reach
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means the database cannot serve
        return {"state": "unreachable", "error": type(error).__name__}
    return {"state": "ok"}


def _lock_store_state(store: Any) -> Dict[str, str]:
    redis_store = getattr(store, "_redis", store)
    client = getattr(redis_store, "red", None)
    if client is None:
        return {"state": "ok", "kind": type(store).__name__}
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001
        return {"state": "unreachable", "error": type(error).__name__}
    return {"state": "ok"}


async def _bounded(check: Callable[[], Dict[str, str]]) -> Dict[str, str]:
    try:
        return await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return {"state": "unreachable", "error": "timeout"}


async def readiness(agent: Optional[Any]) -> Dict[str, Any]:
    model_loaded = bool(agent is not None and agent.is_ready())
    report: Dict[str, Any] = {"model": {"state": "ok" if model_loaded else "not loaded"}}
    if agent is not None and agent.tracker_store is not None:
        report["tracker_store"] = await _bounded(lambda: _tracker_store_state(agent.tracker_store))
    if agent is not None and agent.lock_store is not None:
        report["lock_store"] = await _bounded(lambda: _lock_store_state(agent.lock_store))
    failing = not model_loaded or report.get("tracker_store", {}).get("state") != "ok"
    degraded = report.get("lock_store", {}).get("state") not in (None, "ok")
    report["status"] = "unavailable" if failing else "degraded" if degraded else "ok"
    return report


class ReadinessInput(InputChannel):
    """Not a channel users talk through: only the readiness route, on Rasa's own port."""

    @classmethod
    def name(cls) -> Text:
        return "readiness"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("dialoga_readiness", __name__)

        @blueprint.get("/ready")
        async def ready(request: Request) -> HTTPResponse:
            report = await readiness(getattr(request.app.ctx, "agent", None))
            if report["status"] == "unavailable":
                log.warning("not ready: %s", {key: value for key, value in report.items() if key != "status"})
            return response.json(report, status=503 if report["status"] == "unavailable" else 200)

        return blueprint
