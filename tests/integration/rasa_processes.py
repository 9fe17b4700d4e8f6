"""Real `rasa run` and action-server processes on free loopback ports, for the integration tests.

Rasa servers are started the way `make run` starts them (scripts/run_server.py,
so the HTTP API is on only with RASA_AUTH_TOKEN and addons.server_hooks are installed
before Rasa starts: a plain `rasa run` would refuse to start), with a temporary endpoints file
whose action_endpoint points at the test's action server (endpoints.yml's URL is
fixed to localhost:5055) and a temporary credentials file with the project's
REST and socket.io channels. Each process writes stdout+stderr to its own log
file (appended across restarts) so the tests can grep the logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from .services import free_port

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "debt-rights.tar.gz"
# Variables of the developer's shell that must not leak into the servers under test.
_SCRUBBED = (
    "TRACKER_DB_URL",
    "REDIS_URL",
    "RASA_AUTH_TOKEN",
    "RASA_JWT_SECRET",
    "RASA_JWT_METHOD",
    "ACTION_SERVER_HOST",
    "ACTION_SERVER_PORT",
    "RASA_PORT",
    "RATE_LIMIT_PER_MINUTE",
    "SANIC_HOST",
    "SANIC_WORKERS",
    "MAX_NUMBER_OF_PREDICTIONS",
)

CREDENTIALS = """\
addons.channels.rest_channel.GuardedRestInput:
addons.channels.socketio_channel.PersistentSocketIOInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
  socketio_path: /socket.io
"""


def base_env(**extra: str) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONHASHSEED="0",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def write_endpoints(folder: Path, action_url: str) -> Path:
    """endpoints.yml with action_endpoint.url replaced (the ACTION_SERVER_URL override of the tests)."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"] = {"url": action_url}
    path = folder / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return path


def write_credentials(folder: Path) -> Path:
    path = folder / "credentials.yml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    return path


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "".join(path.read_text(encoding="utf-8", errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


def _get(url: str, timeout: float = 2.0) -> Tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Process:
    """A restartable child process with its output appended to `log`."""

    def __init__(self, name: str, command: List[str], env: Dict[str, str], log: Path, health_url: str) -> None:
        self.name, self.command, self.env, self.log, self.health_url = name, command, env, log, health_url
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "Process":
        assert self.process is None or self.process.poll() is not None, f"{self.name} is running"
        with open(self.log, "ab") as output:
            output.write(f"\n===== start {self.name} {time.strftime('%H:%M:%S')} =====\n".encode())
            output.flush()
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, timeout: float = 240.0) -> "Process":
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up:\n{tail(self.log)}")
            try:
                if _get(self.health_url, timeout=1.0)[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready within {timeout:.0f} s:\n{tail(self.log)}")
            time.sleep(0.25)

    def stop(self, kill: bool = False, timeout: float = 30.0) -> None:
        """SIGTERM (or SIGKILL: a crash) to the process group; waits until it is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def action_server(folder: Path, port: Optional[int] = None) -> Process:
    port = port or free_port()
    return Process(
        "action-server",
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        base_env(SANIC_HOST="127.0.0.1"),
        folder / "action-server.log",
        f"http://127.0.0.1:{port}/health",
    )


class RasaServer(Process):
    """`python scripts/run_server.py` (= `make run`) on 127.0.0.1:<port>."""

    def __init__(self, name: str, folder: Path, action_url: str, token: str, debug: bool = False, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        command = [
            sys.executable,
            "scripts/run_server.py",
            "--model",
            str(MODEL),
            "--endpoints",
            str(write_endpoints(folder, action_url)),
            "--credentials",
            str(write_credentials(folder)),
            "-i",
            "127.0.0.1",
            "--port",
            str(self.port),
        ] + (["--debug"] if debug else [])
        super().__init__(name, command, base_env(RASA_AUTH_TOKEN=token, **env), folder / f"{name}.log", f"{self.url}/")

    def tracker(self, sender: str, token: Optional[str] = "") -> Tuple[int, Any]:
        token = self.token if token == "" else token
        query = f"?token={token}" if token else ""
        status, body = _get(f"{self.url}/conversations/{sender}/tracker{query}", timeout=30)
        return status, json.loads(body)


def say(server: RasaServer, sender: str, text: str, timeout: float = 120.0) -> Tuple[int, List[Dict[str, Any]]]:
    """POST to the REST webhook; (status, replies)."""
    request = urllib.request.Request(
        f"{server.url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, [{"raw": body.decode(errors="replace")}]


def texts(replies: List[Dict[str, Any]]) -> List[str]:
    return [reply.get("text", "") for reply in replies]


@contextlib.contextmanager
def real_bot(folder: Path, name: str, **env: str) -> Iterator[RasaServer]:
    """The trained bot as `make run` serves it (own action server, SQLite store in `folder`)."""
    assert MODEL.exists(), "run `make train` first (make test-integration depends on it)"
    actions = action_server(folder).start().wait_ready(90)
    rasa = RasaServer(
        name,
        folder,
        actions.health_url.replace("/health", "/webhook"),
        secrets.token_hex(8),
        TRACKER_DB_URL=f"sqlite:///{folder / 'rasa.db'}",
        **env,
    )
    try:
        yield rasa.start().wait_ready()
    finally:
        rasa.stop()
        actions.stop()
