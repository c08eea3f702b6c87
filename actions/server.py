"""The action server as Procfile.prod runs it: `python -m actions.server --port N` (the same
options as `rasa run actions`), rasa_sdk's own Sanic application (rasa_sdk.endpoint.create_app)
with a readiness route beside its `/health`:

GET /ready: 200 `{"status": "ok", "database": {"state": "ok"}}` when the desk's database answers,
503 `{"status": "unavailable", ...}` when it does not. `/health` only says the process is up: an
action server without its database still answers (a completed ticket form is spooled on disk and
registered by the worker), so nginx keeps balancing on `/webhook` and `/ready` is for whoever must
know the instance can do everything (the startup wait, a monitor, a load balancer's check)."""
from __future__ import annotations

import asyncio
import logging
import os

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5.0


async def database_state() -> dict:
    from actions.runtime import database

    try:
        reachable = await asyncio.wait_for(asyncio.to_thread(database().ping), CHECK_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        reachable = False
    return {"state": "ok" if reachable else "unreachable"}


async def ready(_: Request) -> HTTPResponse:
    database = await database_state()
    status = "ok" if database["state"] == "ok" else "unavailable"
    return response.json({"status": status, "database": database}, status=200 if status == "ok" else 503)


def main() -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app, create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    args = create_argument_parser().parse_args()
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()

    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    app.add_route(ready, "/ready", methods=["GET"])
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    log.info("action server on http://%s:%s (readiness: /ready)", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
