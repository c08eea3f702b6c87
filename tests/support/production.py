"""A production-like stack for the fault drills: the processes of Procfile.prod (nginx with the
project's configuration, two Rasa servers on a SQL tracker store and a Redis lock store, two action
servers, the desk under gunicorn), each started from its Procfile line with the test's environment,
on free loopback ports, a throwaway PostgreSQL database and a throwaway redis-server."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import httpx
from sqlalchemy.engine import make_url

from desk.config import PROJECT_ROOT
from desk.ops.nginx import ProxyLayout, render_file
from tests.support.redis_server import ThrowawayRedis
from tests.support.stack import LOG_DIR, MODEL, free_port

PROCFILE = PROJECT_ROOT / "Procfile.prod"


def procfile_commands(path: Path = PROCFILE) -> Dict[str, str]:
    commands = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def stack_environment(database_url: str, redis_port: int, prefix: Path, ports: Dict[str, int],
                      key_prefix: str, spool_dir: Path) -> Dict[str, str]:
    url = make_url(database_url)
    return {
        "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
        "DIALOGA_SECRET_KEY": secrets.token_urlsafe(48), "DIALOGA_RASA_API_TOKEN": secrets.token_hex(16),
        "DIALOGA_METRICS_TOKEN": secrets.token_urlsafe(16),
        "DIALOGA_HTTP_ADDRESS": "127.0.0.1", "DIALOGA_HTTP_PORT": str(ports["public"]),
        "DIALOGA_PUBLIC_URL": f"http://127.0.0.1:{ports['public']}", "DIALOGA_BEHIND_PROXY": "true",
        "DESK_PORT": str(ports["desk"]), "DIALOGA_DESK_WORKERS": "2",
        "DIALOGA_RASA_PORT_1": str(ports["rasa1"]), "DIALOGA_RASA_PORT_2": str(ports["rasa2"]),
        "DIALOGA_RASA_PORTS": f"{ports['rasa1']} {ports['rasa2']}",
        "DIALOGA_ACTIONS_PORT_1": str(ports["actions1"]), "DIALOGA_ACTIONS_PORT_2": str(ports["actions2"]),
        "DIALOGA_ACTIONS_PORTS": f"{ports['actions1']} {ports['actions2']}",
        "DIALOGA_ASSISTANT_PROXY_PORT": str(ports["assistant_proxy"]),
        "DIALOGA_ACTIONS_PROXY_PORT": str(ports["actions_proxy"]),
        "DIALOGA_RASA_URL": f"http://127.0.0.1:{ports['assistant_proxy']}",
        "DIALOGA_ACTIONS_URL": f"http://127.0.0.1:{ports['actions_proxy']}",
        "DIALOGA_NGINX_PREFIX": str(prefix),
        "DIALOGA_DATABASE_URL": database_url, "DIALOGA_TRACKER_STORE_URL": database_url,
        "DIALOGA_TRACKER_DB_HOST": url.host or "127.0.0.1", "DIALOGA_TRACKER_DB_PORT": str(url.port or 5432),
        "DIALOGA_TRACKER_DB_NAME": url.database, "DIALOGA_TRACKER_DB_USER": url.username or "postgres",
        "DIALOGA_TRACKER_DB_PASSWORD": url.password or "",
        "DIALOGA_LOCK_REDIS_HOST": "127.0.0.1", "DIALOGA_LOCK_REDIS_PORT": str(redis_port),
        "DIALOGA_LOCK_REDIS_DB": "0", "DIALOGA_LOCK_KEY_PREFIX": key_prefix,
        "DIALOGA_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DIALOGA_REDIS_PREFIX": f"{key_prefix}:rate",
        "TICKET_LOCK_LIFETIME": "10",
        "DIALOGA_MODELS_DIR": str(MODEL.parent), "DIALOGA_SPOOL_DIR": str(spool_dir),
        "DIALOGA_LOG_FORMAT": "json",
        # Many conversations come from one address (the test); the poll limit stays low for the Redis drill.
        "DIALOGA_WIDGET_SESSIONS_PER_MINUTE": "1000", "DIALOGA_WIDGET_MESSAGES_PER_MINUTE": "120",
        "DIALOGA_WIDGET_POLLS_PER_MINUTE": "20",
    }


@dataclass
class ProductionStack:
    environment: Dict[str, str]
    ports: Dict[str, int]
    redis: ThrowawayRedis
    prefix: Path
    name: str = "drill"
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['public']}"

    def log_of(self, process: str) -> Path:
        return LOG_DIR / f"{self.name}-{process}.log"

    def start(self, process: str) -> subprocess.Popen:
        command = procfile_commands()[process]
        env = {**os.environ, **self.environment}
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_of(process), "ab") as log:
            self.processes[process] = subprocess.Popen(
                ["bash", "-c", command], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill reaches the server, not only bash
            )
        return self.processes[process]

    def health_url(self, process: str) -> Optional[str]:
        """Each process's readiness: 200 once it can serve with its dependencies (README "Deployment")."""
        if process.startswith("assistant"):
            return f"http://127.0.0.1:{self.ports['rasa' + process[-1]]}/webhooks/readiness/ready"
        if process.startswith("actions"):
            return f"http://127.0.0.1:{self.ports[process]}/ready"
        if process == "desk":
            return f"http://127.0.0.1:{self.ports['desk']}/healthz"
        if process == "nginx":
            return f"{self.public_url}/healthz"
        return None  # the worker: alive is all there is to check

    def wait_until_up(self, processes: List[str], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(processes)
        while waiting:
            for process in list(waiting):
                if self.processes[process].poll() is not None:
                    raise RuntimeError(f"{process} exited with {self.processes[process].returncode}; "
                                       f"see {self.log_of(process)}")
                url = self.health_url(process)
                if url is None:
                    waiting.remove(process)
                    continue
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        waiting.remove(process)
                except httpx.HTTPError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(waiting)} not up within {timeout:.0f} s; see {LOG_DIR}")
            time.sleep(0.5)

    def kill(self, process: str, sig: int = signal.SIGKILL) -> None:
        popen = self.processes.pop(process)
        try:
            os.killpg(popen.pid, sig)
        except ProcessLookupError:
            pass
        popen.wait(timeout=30)

    def is_running(self, process: str) -> bool:
        return process in self.processes and self.processes[process].poll() is None

    def stop_all(self) -> None:
        for process in list(self.processes):
            try:
                self.kill(process, signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self.kill(process, signal.SIGKILL)


def _ports() -> Dict[str, int]:
    names = ("public", "desk", "rasa1", "rasa2", "actions1", "actions2", "assistant_proxy", "actions_proxy")
    return {name: free_port() for name in names}


@contextmanager
def production_stack(database_url: str, work_dir: Path, name: str = "drill",
                     processes=("actions1", "actions2", "assistant1", "assistant2", "desk", "nginx", "worker"),
                     extra_env: Optional[Dict[str, str]] = None) -> Iterator[ProductionStack]:
    if not MODEL.exists():
        raise FileNotFoundError(f"{MODEL} is missing: run `make model` first")
    redis_server = ThrowawayRedis().start()
    ports = _ports()
    prefix = Path(tempfile.mkdtemp(prefix="dialoga-nginx-"))
    # nginx's workers run as an unprivileged user when the tests run as root: they must reach the
    # prefix (its temporary files), which pytest's private tmp folders would not let them.
    prefix.chmod(0o755)
    key_prefix = f"drill{secrets.token_hex(4)}"
    environment = {**stack_environment(database_url, redis_server.port, prefix, ports, key_prefix, work_dir / "spool"), **(extra_env or {})}
    render_file(ProxyLayout.from_env(environment), prefix, access_log=str(prefix / "access.log"))
    stack = ProductionStack(environment, ports, redis_server, prefix, name)
    try:
        for process in processes:
            stack.start(process)
        stack.wait_until_up(list(processes))
        yield stack
    finally:
        stack.stop_all()
        redis_server.destroy()
        shutil.rmtree(prefix, ignore_errors=True)
