"""The request id of the message an action runs for (metadata `request_id`, set by the desk or
the Telegram gateway from nginx's X-Request-ID) in the action server's logs, and the log format
of DIALOGA_LOG_FORMAT. The SDK gives no hook around an action call, so ActionExecutor.run is
wrapped once, when the action server imports this package."""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Optional

from rasa_sdk.executor import ActionExecutor

from desk.ops.request_context import configure_logging, reset_request_id, set_request_id, valid_request_id

log = logging.getLogger(__name__)


def request_id_of(action_call: Dict[str, Any]) -> Optional[str]:
    latest = ((action_call or {}).get("tracker") or {}).get("latest_message") or {}
    return valid_request_id((latest.get("metadata") or {}).get("request_id"))


def install() -> None:
    if getattr(ActionExecutor.run, "_dialoga_request_id", False):
        return
    original = ActionExecutor.run

    async def run(self, action_call):
        request_id = request_id_of(action_call)
        token = set_request_id(request_id)
        try:
            if request_id:
                log.info("action %s for request %s", action_call.get("next_action"), request_id)
            return await original(self, action_call)
        finally:
            reset_request_id(token)

    run._dialoga_request_id = True
    ActionExecutor.run = run
    # The SDK has set up its handlers by the time it imports the actions.
    configure_logging(os.environ.get("DIALOGA_LOG_FORMAT", "text").strip().lower() or "text", add_handler=False)
