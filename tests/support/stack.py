"""Start the real assistant (Rasa server) and action server as subprocesses on
free loopback ports; used by the end-to-end tests, `make eval` and `make bench`."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx

from desk.config import PROJECT_ROOT

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
MODEL = PROJECT_ROOT / "models" / "dialoga.tar.gz"
LOG_DIR = PROJECT_ROOT / "test-artifacts" / "logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {LOG_DIR}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{name} did not answer {url} within {timeout:.0f} s; see {LOG_DIR}")


def _environment(extra: Dict[str, str]) -> Dict[str, str]:
    env = dict(os.environ)
    # The action server keeps idle connections open longer than Rasa's client pool (aiohttp, 15 s)
    # does, so the client always closes first: otherwise a request may go out on a connection
    # the server is closing ("Cannot write to closing transport") and the action is lost.
    env.update({"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SANIC_HOST": "127.0.0.1",
                "SANIC_KEEP_ALIVE_TIMEOUT": "120"})
    # Processes started here (the desk under gunicorn in bench/) accept the development secret key.
    env.setdefault("DIALOGA_ENV", "development")
    env.update(extra)
    return env


@contextmanager
def _process(name: str, command: List[str], env: Dict[str, str]) -> Iterator[subprocess.Popen]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Assistant:
    url: str
    actions_url: str

    def say(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None, timeout: float = 30) -> List[Dict[str, Any]]:
        payload = {"sender": sender, "message": message}
        if metadata is not None:
            payload["metadata"] = metadata
        response = httpx.post(f"{self.url}/webhooks/rest/webhook", json=payload, timeout=timeout)
        response.raise_for_status()
        return response.json()


def custom_of(replies: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Merge the `custom` objects of a reply list (the contract's machine-readable layer)."""
    merged: Dict[str, Any] = {}
    for message in replies:
        merged.update(message.get("custom") or {})
    return merged


def text_of(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in replies)


@contextmanager
def running_assistant(database_url: str, name: str = "stack", extra_env: Optional[Dict[str, str]] = None,
                      endpoints: str = "endpoints.yml", enable_api: bool = False,
                      rasa_args: Optional[List[str]] = None) -> Iterator[Assistant]:
    """The assistant and its action server. `endpoints="endpoints.model-server.yml"` (with
    DIALOGA_MODEL_SERVER_* in extra_env) makes Rasa pull its model from a model server;
    enable_api opens Rasa's HTTP API (GET /status tells which model is loaded); rasa_args
    are added to Rasa's command line."""
    if not MODEL.exists():
        raise FileNotFoundError(f"{MODEL} is missing: run `make model` first")
    rasa_port, actions_port = free_port(), free_port()
    env = _environment({"DIALOGA_DATABASE_URL": database_url, "ACTIONS_PORT": str(actions_port),
                        "RASA_PORT": str(rasa_port), **(extra_env or {})})
    actions_cmd = [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"]
    rasa_cmd = [str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1", "--port", str(rasa_port),
                "--model", str(MODEL), "--endpoints", endpoints, "--credentials", "credentials.yml", *(rasa_args or [])]
    if enable_api:
        rasa_cmd.append("--enable-api")
    with _process(f"{name}-actions", actions_cmd, env) as actions, _process(f"{name}-rasa", rasa_cmd, env) as rasa:
        actions_url = f"http://127.0.0.1:{actions_port}"
        wait_for(f"{actions_url}/health", 120, actions, "action server")
        wait_for(f"http://127.0.0.1:{rasa_port}/", 240, rasa, "Rasa server")
        yield Assistant(f"http://127.0.0.1:{rasa_port}", actions_url)
