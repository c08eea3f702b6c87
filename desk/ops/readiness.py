"""`dialoga deploy ready`: whether every instance of this machine's layout (the ports of
deploy/production.env) can serve, from its readiness route: the assistants'
`/webhooks/readiness/ready` (policies/readiness.py), the action servers' `/ready`
(actions/server.py) and the desk's `/healthz`. For a deployment script: restart one instance,
wait until it is ready, then the next (README "Deployment")."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

import httpx

from desk.ops.nginx import ProxyLayout


@dataclass(frozen=True)
class InstanceState:
    name: str
    url: str
    http_status: Optional[int]  # None: nothing answered
    status: str  # the route's own word ("ok", "degraded", "unavailable") or why nothing answered

    @property
    def ready(self) -> bool:
        return self.http_status == 200


def readiness_urls(layout: ProxyLayout) -> List[Tuple[str, str]]:
    urls = [(f"assistant:{port}", f"http://127.0.0.1:{port}/webhooks/readiness/ready") for port in layout.rasa_ports]
    urls += [(f"actions:{port}", f"http://127.0.0.1:{port}/ready") for port in layout.actions_ports]
    urls.append((f"desk:{layout.desk_port}", f"http://127.0.0.1:{layout.desk_port}/healthz"))
    return urls


def check(layout: ProxyLayout, timeout: float = 5.0) -> List[InstanceState]:
    states = []
    for name, url in readiness_urls(layout):
        try:
            response = httpx.get(url, timeout=timeout)
        except httpx.HTTPError as error:
            states.append(InstanceState(name, url, None, f"down ({type(error).__name__})"))
            continue
        try:
            word = str(response.json().get("status", ""))
        except ValueError:
            word = ""
        states.append(InstanceState(name, url, response.status_code, word or f"HTTP {response.status_code}"))
    return states


def wait_until_ready(layout: ProxyLayout, within: float, pause: float = 1.0) -> List[InstanceState]:
    """Ask again until every instance is ready or `within` seconds have passed; the last answers."""
    deadline = time.monotonic() + within
    while True:
        states = check(layout)
        if all(state.ready for state in states) or time.monotonic() >= deadline:
            return states
        time.sleep(pause)
