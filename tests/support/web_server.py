"""Real HTTP servers in a thread of the test process: the desk for browser journeys and
benchmarks, and a stand-in for the assistant's REST channel for endpoint tests."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@contextmanager
def serving(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; yields its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-web-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class RecordingAssistant:
    """Answers Rasa's REST webhook with prepared replies and records what it was sent."""

    def __init__(self, answer: Callable[[Dict[str, Any]], List[Dict[str, Any]]]) -> None:
        self.answer = answer
        self.received: List[Dict[str, Any]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path != "/webhooks/rest/webhook" or request.method != "POST":
            return Response("not found", status=404)(environ, start_response)
        payload = request.get_json()
        self.received.append(payload)
        body = json.dumps(self.answer(payload))
        return Response(body, mimetype="application/json")(environ, start_response)
