"""Start the action server, run a Rasa command in the foreground, stop both together.

Usage: python scripts/with_action_server.py -- rasa shell ...
Ctrl-C stops everything: no orphan action server is left behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addons.settings import load_settings  # noqa: E402


def _die_with_parent() -> None:
    """Linux: the action server gets SIGTERM if this launcher dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _interrupt(signum, frame):  # SIGTERM / SIGHUP (terminal closed) shut down like Ctrl-C
    raise KeyboardInterrupt


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("The action server exited during start-up; see its output above.")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The action server did not answer at {url} within {timeout:.0f} s.")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    settings = load_settings()
    env = {**os.environ, "SANIC_HOST": settings.action_host}
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    main_process = None
    try:
        _wait_healthy(settings.action_url, actions)
        print(f"Action server: {settings.action_url} (localhost only unless ACTION_SERVER_HOST is set)", flush=True)
        main_process = subprocess.Popen(command, cwd=ROOT, preexec_fn=_die_with_parent)
        return main_process.wait()
    except KeyboardInterrupt:
        if main_process is not None and main_process.poll() is None:
            main_process.send_signal(signal.SIGINT)
            try:
                main_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                main_process.kill()
        return 130
    finally:
        _stop(actions)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
