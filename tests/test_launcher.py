"""The launchers: scripts/with_action_server.py (`make chat`/`make run`: Ctrl-C leaves no orphan action
server) and `python -m addons.rasa_cli` (`rasa` with the project's patches to Rasa; the terminal chat
installs them itself). The Rasa servers here start without a model (the API on, an empty model folder):
Rasa still builds the NLG and the tracker store of endpoints.yml, which refuse to start without the hooks.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

from addons.channels.terminal_chat import LOAD_FAILED

ROOT = Path(__file__).resolve().parent.parent
REFUSED = "HooksNotInstalled: RedactingTrackerStore needs the project's patches to Rasa"
# Commands of `rasa` that never build the agent with endpoints.yml (no hooks needed).
PLAIN_RASA_COMMANDS = ("train", "run actions", "data validate", "test nlu")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
            return True
    except OSError:
        return False


def _start(port: int, **popen_kwargs) -> subprocess.Popen:
    """The launcher around a dummy foreground command, once its action server is healthy."""
    env = {**os.environ, "ACTION_SERVER_PORT": str(port)}
    launcher = subprocess.Popen(
        [sys.executable, "scripts/with_action_server.py", "--", sys.executable, "-c", "import time; time.sleep(120)"],
        cwd=ROOT,
        env=env,
        **popen_kwargs,
    )
    deadline = time.monotonic() + 90
    while not _healthy(port):
        assert launcher.poll() is None, "launcher exited during start-up"
        assert time.monotonic() < deadline, "action server never became healthy"
        time.sleep(0.5)
    return launcher


def test_ctrl_c_stops_the_action_server_too():
    port = _free_port()
    launcher = _start(port, start_new_session=True)
    try:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert launcher.wait(timeout=30) == 130
        deadline = time.monotonic() + 15
        while _healthy(port) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not _healthy(port), "action server still answering after Ctrl-C"
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)


def test_action_server_listens_on_localhost_only():
    port = _free_port()
    launcher = _start(port, start_new_session=True)
    try:
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        local_addresses = [line.split()[3] for line in listening.splitlines()]
        assert local_addresses == [f"127.0.0.1:{port}"], listening
    finally:
        os.killpg(launcher.pid, signal.SIGINT)
        launcher.wait(timeout=30)


def test_killing_the_launcher_outright_still_stops_the_action_server():
    port = _free_port()
    launcher = _start(port)
    launcher.kill()  # SIGKILL: no chance to clean up
    launcher.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _healthy(port) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not _healthy(port), "orphan action server left behind"


# --- python -m addons.rasa_cli ------------------------------------------------------------------------


def _env(tmp_path: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RASA_AUTH_TOKEN", "RASA_JWT_SECRET")}
    env.update(RASA_TELEMETRY_ENABLED="false", TRACKER_DB_URL=f"sqlite:///{tmp_path / 'rasa.db'}")
    return env


def _rasa_run_without_a_model(tmp_path: Path, port: int) -> List[str]:
    (tmp_path / "no-model").mkdir(exist_ok=True)
    (tmp_path / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    return [
        "run",
        "--enable-api",
        "--auth-token",
        secrets.token_hex(8),
        "--model",
        str(tmp_path / "no-model"),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--credentials",
        str(tmp_path / "credentials.yml"),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
    ]


def _serves(command: List[str], env: Dict[str, str], port: int, log: Path, timeout: float = 180) -> bool:
    """True once `command` answers GET / on `port` (then it is stopped); False if it exits first."""
    with open(log, "wb") as output:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as reply:
                    return reply.status == 200
            except OSError:
                pass
            assert time.monotonic() < deadline, f"neither serving nor exited:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        return False
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def test_rasa_cli_serves_where_plain_rasa_refuses_to_start(tmp_path):
    port = _free_port()
    args = _rasa_run_without_a_model(tmp_path, port)
    log = tmp_path / "plain.log"
    assert not _serves([sys.executable, "-m", "rasa", *args], _env(tmp_path), port, log)
    assert REFUSED in log.read_text(encoding="utf-8")  # loudly, naming the way to start it

    log = tmp_path / "rasa_cli.log"
    assert _serves([sys.executable, "-m", "addons.rasa_cli", *args], _env(tmp_path), port, log), log.read_text()
    assert "HooksNotInstalled" not in log.read_text(encoding="utf-8")


def test_the_terminal_chat_installs_them_before_loading_the_agent(tmp_path):
    """`make chat`: with an unreadable model the agent loads without one, after its NLG and store were built."""
    model = tmp_path / "unreadable.tar.gz"
    model.write_bytes(b"")
    chat = subprocess.run(
        [
            sys.executable,
            "-m",
            "addons.channels.terminal_chat",
            "--model",
            str(model),
            "--endpoints",
            str(ROOT / "endpoints.yml"),
        ],
        cwd=ROOT,
        env=_env(tmp_path),
        input="/exit\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "HooksNotInstalled" not in chat.stderr, chat.stderr[-3000:]
    assert chat.returncode == 1 and LOAD_FAILED.format(model=model) in chat.stderr


def test_make_runs_rasa_commands_that_load_the_agent_through_rasa_cli():
    recipes = [
        line.strip() for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines() if line.startswith("\t")
    ]
    for line in recipes:
        for command in re.findall(r"\$\(RASA\) ([a-z]+(?: [a-z]+)?)", line):
            assert command.startswith(PLAIN_RASA_COMMANDS), f"plain `rasa {command}` needs addons.rasa_cli: {line}"
    assert any(line.startswith("$(PY) -m addons.rasa_cli test core --stories") for line in recipes)
