"""The reverse proxy's configuration, rendered from deploy/nginx.conf.template with the
ports of deploy/production.env. Pure functions apart from `render_file`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from desk.config import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Z_]+)\s*\}\}")


def _ports(text: str, name: str) -> tuple:
    ports = tuple(int(part) for part in text.replace(",", " ").split())
    if not ports or any(not 0 < port < 65536 for port in ports):
        raise ValueError(f"{name} must list one or more ports, not {text!r}")
    return ports


@dataclass(frozen=True)
class ProxyLayout:
    """Where nginx listens and what it balances."""

    public_port: int
    assistant_port: int
    actions_proxy_port: int
    desk_port: int
    rasa_ports: Sequence[int]
    actions_ports: Sequence[int]
    public_address: str = "127.0.0.1"
    workers: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ProxyLayout":
        return cls(
            public_port=int(environ.get("DIALOGA_HTTP_PORT", 8080)),
            assistant_port=int(environ.get("DIALOGA_ASSISTANT_PROXY_PORT", 5004)),
            actions_proxy_port=int(environ.get("DIALOGA_ACTIONS_PROXY_PORT", 5054)),
            desk_port=int(environ.get("DESK_PORT", 8000)),
            rasa_ports=_ports(environ.get("DIALOGA_RASA_PORTS", "5005 5006"), "DIALOGA_RASA_PORTS"),
            actions_ports=_ports(environ.get("DIALOGA_ACTIONS_PORTS", "5055 5056"), "DIALOGA_ACTIONS_PORTS"),
            public_address=environ.get("DIALOGA_HTTP_ADDRESS", "127.0.0.1"),
            workers=int(environ.get("DIALOGA_NGINX_WORKERS", 1)),
        )


def _servers(ports: Sequence[int]) -> str:
    # One failure takes an instance out for 10 s; nginx then tries it again with live traffic.
    return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in ports)


def render(template: str, layout: ProxyLayout, prefix: Path, access_log: str = "/dev/stdout") -> str:
    values = {
        "PREFIX": str(prefix),
        "ACCESS_LOG": access_log,
        "NGINX_WORKERS": str(layout.workers),
        "PUBLIC_ADDRESS": layout.public_address,
        "PUBLIC_PORT": str(layout.public_port),
        "ASSISTANT_PORT": str(layout.assistant_port),
        "ACTIONS_PROXY_PORT": str(layout.actions_proxy_port),
        "DESK_PORT": str(layout.desk_port),
        "RASA_SERVERS": _servers(layout.rasa_ports),
        "ACTIONS_SERVERS": _servers(layout.actions_ports),
    }

    def value_of(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"the nginx template names an unknown value {name}")
        return values[name]

    return _PLACEHOLDER.sub(value_of, template)


def render_file(layout: ProxyLayout, prefix: Path, access_log: str = "/dev/stdout") -> Path:
    """Write <prefix>/nginx.conf and create the prefix's folders; returns the file."""
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)  # nginx opens <prefix>/logs/error.log before reading the file
    target = prefix / "nginx.conf"
    target.write_text(render(TEMPLATE.read_text(encoding="utf-8"), layout, prefix, access_log), encoding="utf-8")
    return target
