"""Start the action server, run a Rasa command in the foreground, stop both together.

Usage: python scripts/with_action_server.py [--quiet-actions] -- <command> ...
Ctrl-C stops everything: no orphan action server is left behind.
--quiet-actions sends the action server's output to var/action-server.log (the terminal
chat keeps the screen for the conversation) and prints its end if start-up fails.
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


ACTION_LOG = ROOT / "var" / "action-server.log"
LOG_TAIL_LINES = 20


def _log_tail() -> str:
    try:
        return "\n".join(ACTION_LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:])
    except OSError:
        return ""


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0, quiet: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            where = f"its log:\n{_log_tail()}" if quiet else "its output above"
            raise SystemExit(f"The action server exited during start-up; see {where}")
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
    options = argv[: argv.index("--")] if "--" in argv else []
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    quiet = "--quiet-actions" in options
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    settings = load_settings()
    env = {**os.environ, "SANIC_HOST": settings.action_host}
    server = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)]
    output = None
    if quiet:
        ACTION_LOG.parent.mkdir(parents=True, exist_ok=True)
        output = ACTION_LOG.open("w", encoding="utf-8")
        server.append("--quiet")
    actions = subprocess.Popen(
        server,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    main_process = None
    try:
        _wait_healthy(settings.action_url, actions, quiet=quiet)
        if not quiet:
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
        if output is not None:
            output.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
