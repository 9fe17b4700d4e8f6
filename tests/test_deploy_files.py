"""deploy/: the Helm values give Rasa the project's stores, NLG, channels and action server,
and the Dockerfiles copy what the servers need (checked without Docker or Helm here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from rasa.core.run import create_http_input_channels
from rasa.utils.endpoints import read_endpoint_config

from addons.channels.rest_channel import GuardedRestInput
from addons.channels.socketio_channel import PersistentSocketIOInput
from addons.channels.wechat_channel import WeChatInput

ROOT = Path(__file__).resolve().parent.parent
VALUES = yaml.safe_load((ROOT / "deploy" / "values.yml").read_text(encoding="utf-8"))


def rendered_config_map(tmp_path: Path):
    """endpoints.yml and credentials.yml as the chart's templates/config-map.yaml renders them
    (tracker/lock store blocks disabled; `action_endpoint: url: ${ACTION_SERVER_URL}` because
    rasa-action-server.install is true; then additionalEndpoints)."""
    settings = VALUES["applicationSettings"]
    endpoints = {}
    assert not settings["endpoints"]["trackerStore"]["enabled"]
    assert not settings["endpoints"]["lockStore"]["enabled"]
    assert VALUES["rasa-action-server"]["install"]
    endpoints["action_endpoint"] = {"url": "${ACTION_SERVER_URL}"}
    endpoints.update(settings["endpoints"]["additionalEndpoints"])
    credentials = settings["credentials"]["additionalChannelCredentials"]
    endpoints_file, credentials_file = tmp_path / "endpoints.yml", tmp_path / "credentials.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    credentials_file.write_text(yaml.safe_dump(credentials), encoding="utf-8")
    return endpoints_file, credentials_file


def test_values_configure_the_projects_stores_nlg_and_action_server(tmp_path, monkeypatch):
    endpoints_file, _ = rendered_config_map(tmp_path)
    monkeypatch.setenv("ACTION_SERVER_URL", "http://debt-rights-rasa-action-server.ns.svc:80/webhook")
    assert read_endpoint_config(str(endpoints_file), "action_endpoint").url.endswith(".svc:80/webhook")
    project = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    for key in ("tracker_store", "lock_store", "nlg"):
        assert read_endpoint_config(str(endpoints_file), key).type == project[key]["type"]


def test_values_channels_load_as_the_projects_channels(tmp_path, monkeypatch):
    for name in ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_AES_KEY"):
        monkeypatch.delenv(name, raising=False)
    _, credentials_file = rendered_config_map(tmp_path)
    channels = {type(channel) for channel in create_http_input_channels(None, str(credentials_file))}
    assert channels == {GuardedRestInput, PersistentSocketIOInput, WeChatInput}


def test_values_run_the_launcher_without_the_api_and_with_secrets_from_a_secret():
    assert VALUES["command"] == ["python", "/app/scripts/run_server.py"]
    assert "--enable-api" not in VALUES["args"] and "--auth-token" not in VALUES["args"]
    env = {item["name"]: item for item in VALUES["extraEnv"]}
    for name in ("TRACKER_DB_URL", "REDIS_URL", "WECHAT_APP_SECRET"):
        assert "secretKeyRef" in env[name]["valueFrom"], name
    assert "RASA_AUTH_TOKEN" not in env  # API off unless an operator adds it
    assert VALUES["replicaCount"] >= 2 and VALUES["rasa-action-server"]["replicaCount"] >= 2
    assert VALUES["securityContext"]["runAsNonRoot"] and VALUES["rasa-action-server"]["securityContext"]["runAsNonRoot"]
    assert VALUES["ingress"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def dockerfile(name: str) -> str:
    return (ROOT / "deploy" / name).read_text(encoding="utf-8")


def copies(text: str) -> list:
    return re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)", text, flags=re.M)


def test_action_server_dockerfile_copies_only_actions_and_runs_as_non_root():
    text = dockerfile("Dockerfile.actions")
    assert copies(text) == ["deploy/requirements-actions.txt", "chinese_text/", "actions/"]
    assert re.search(r"^USER 1001", text, flags=re.M) and "SANIC_HOST=0.0.0.0" in text
    assert '"rasa_sdk", "--actions", "actions", "--port", "5055"' in text


def test_action_server_requirements_are_pinned_like_constraints():
    constraints = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    lines = [line for line in dockerfile("requirements-actions.txt").splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in lines)
    pins = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in lines}
    assert pins["rasa-sdk"] == "3.6.2"
    for name, version in pins.items():
        if name in constraints:
            assert constraints[name] == version, name


def test_rasa_dockerfile_copies_what_the_server_imports():
    text = dockerfile("Dockerfile.rasa")
    for path in ("addons/", "chinese_text/", "web/", "scripts/run_server.py", "models/debt-rights.tar.gz"):
        assert f"COPY {path}" in text or f" {path} " in text, path
    assert not any(path.startswith("actions") for path in copies(text))  # the rule engine stays out
    assert re.search(r"^USER 1001", text, flags=re.M) and "run_server.py" in text
