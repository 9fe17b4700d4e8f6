"""scripts/run_server.py: the HTTP API only with a token or JWT secret from the environment, and
the project's patches to Rasa installed before Rasa starts."""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from addons.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("run_server", ROOT / "scripts" / "run_server.py")
run_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_server)

BASE = ["--model", "models/debt-rights.tar.gz", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]


def settings(**overrides) -> Settings:
    return Settings(action_host="127.0.0.1", action_port=5055, rasa_port=5005, **overrides)


def test_api_is_off_without_a_token():
    args = run_server.rasa_arguments(settings(), BASE + ["--cors", "*"])
    assert args[0] == "run" and "--enable-api" not in args and "--auth-token" not in args
    assert args[-2:] == ["--port", "5005"]
    assert "off" in run_server.banner(settings(), args)


def test_api_with_a_token_is_enabled_and_protected():
    s = settings(rasa_auth_token="s3cret")
    args = run_server.rasa_arguments(s, BASE)
    assert "--enable-api" in args and args[args.index("--auth-token") + 1] == "s3cret"
    text = run_server.banner(s, args)
    assert "s3cret" not in text and "RASA_AUTH_TOKEN" in text


def test_api_with_a_jwt_secret():
    s = settings(rasa_jwt_secret="jwt-key", rasa_jwt_method="HS512")
    args = run_server.rasa_arguments(s, BASE)
    assert "--enable-api" in args and "--auth-token" not in args
    assert args[args.index("--jwt-secret") + 1] == "jwt-key" and args[args.index("--jwt-method") + 1] == "HS512"


def test_enable_api_without_a_secret_and_secrets_on_the_command_line_are_refused():
    with pytest.raises(SystemExit, match="RASA_AUTH_TOKEN"):
        run_server.rasa_arguments(settings(), BASE + ["--enable-api"])
    for option in (["--auth-token", "x"], ["-t", "x"], ["--jwt-secret=x"]):
        with pytest.raises(SystemExit, match="command line"):
            run_server.rasa_arguments(settings(rasa_auth_token="s"), BASE + option)
    args = run_server.rasa_arguments(settings(rasa_auth_token="s"), BASE + ["--enable-api"])
    assert args.count("--enable-api") == 1


def test_banner_lists_every_public_url():
    args = run_server.rasa_arguments(settings(), BASE + ["--port", "6006"])
    assert args.count("--port") == 1
    text = run_server.banner(settings(), args)
    for url in (
        "POST http://localhost:6006/webhooks/rest/webhook",
        "http://localhost:6006/webhooks/socketio/webchat/",
        "http://localhost:6006/webhooks/wechat/webhook",
        "http://localhost:6006/ ",
        "1048576 bytes",
    ):
        assert url in text, url
    assert "http://127.0.0.1:7007/" in run_server.banner(settings(), ["run", "-i", "127.0.0.1", "-p", "7007"])


def test_settings_read_the_api_and_size_variables(monkeypatch):
    for name in ("RASA_AUTH_TOKEN", "RASA_JWT_SECRET", "RASA_JWT_METHOD", "SANIC_REQUEST_MAX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert (s.api_enabled, s.rasa_jwt_method, s.request_max_size) == (False, "HS256", 1_048_576)
    monkeypatch.setenv("RASA_AUTH_TOKEN", " tok ")
    monkeypatch.setenv("SANIC_REQUEST_MAX_SIZE", "2048")
    s = load_settings()
    assert (s.api_enabled, s.rasa_auth_token, s.request_max_size) == (True, "tok", 2048)


def test_the_server_starts_with_every_patch_to_rasa(tmp_path):
    """`make run` and the Docker image: a plain `rasa run` with these files refuses to start
    (tests/test_launcher.py); without a model, Rasa still builds the NLG and store of endpoints.yml."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "no-model").mkdir()
    (tmp_path / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RASA_JWT_SECRET", "RASA_PORT")}
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TRACKER_DB_URL=f"sqlite:///{tmp_path / 'rasa.db'}",
        RASA_AUTH_TOKEN=secrets.token_hex(8),
    )  # the API on: Rasa starts without a model
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "run_server.py"),
                "--model",
                str(tmp_path / "no-model"),
                "--endpoints",
                str(ROOT / "endpoints.yml"),
                "--credentials",
                str(tmp_path / "credentials.yml"),
                "-i",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, f"the server exited:\n{log.read_text(encoding='utf-8')[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as reply:
                    assert reply.status == 200  # listening: the agent's NLG and store were built
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start within 180 s"
                time.sleep(0.3)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    assert "HooksNotInstalled" not in log.read_text(encoding="utf-8")
