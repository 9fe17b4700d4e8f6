"""`make chat`/`make run` launcher: Ctrl-C leaves no orphan action server."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
        cwd=ROOT, env=env, **popen_kwargs,
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
