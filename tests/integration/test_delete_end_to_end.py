"""delete_my_data through Rasa's own machinery: a trained model, Agent, a real action
server and the stores from endpoints.yml (embedded SQLite; PostgreSQL + Redis with two servers)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import psycopg2
import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from actions.advice.dialogue_kb import load_dialogue
from addons.stores.lock_store import AtomicRedisLockStore, EnvLockStore
from addons.stores.tracker_store import RedactingTrackerStore

from .services import free_port

# The agent is loaded here as a server loads it: in a process with the patches to Rasa installed.
pytestmark = pytest.mark.usefixtures("server_hooks_installed")

ROOT = Path(__file__).resolve().parents[2]
PII_MESSAGE = "手机 13800138000 身份证 11010519491231002X 卡号 6222021234567890128 暗号ZEBRAMARKER"
RAW = ("13800138000", "11010519491231002X", "6222021234567890128")
# What action_delete_my_data says (actions/knowledge/dialogue.yml, messages.data_deleted).
DELETED = load_dialogue().messages["data_deleted"]

BOT = {
    "domain.yml": """
version: "3.1"
intents: [greet, inform, delete_my_data]
actions: [action_delete_my_data]
responses:
  utter_greet: [{text: "你好"}]
  utter_noted: [{text: "记下了"}]
  utter_data_deleted: [{text: "已删除你在本服务中的全部聊天记录和信息。"}]
""",
    "config.yml": """
recipe: default.v1
language: zh
assistant_id: privacy-e2e
pipeline:
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
""",
    "data/nlu.yml": """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 在吗
- intent: inform
  examples: |
    - 手机
    - 卡号
- intent: delete_my_data
  examples: |
    - 删除
    - 删掉
""",
    "data/rules.yml": """
version: "3.1"
rules:
- rule: greet
  steps: [{intent: greet}, {action: utter_greet}]
- rule: inform
  steps: [{intent: inform}, {action: utter_noted}]
- rule: delete
  steps: [{intent: delete_my_data}, {action: action_delete_my_data}]
""",
}


@pytest.fixture(scope="session")
def model(tmp_path_factory) -> str:
    import rasa.api

    folder = tmp_path_factory.mktemp("bot")
    for name, text in BOT.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    result = rasa.api.train(
        str(folder / "domain.yml"),
        str(folder / "config.yml"),
        [str(folder / "data")],
        output=str(folder / "models"),
        fixed_model_name="privacy",
    )
    assert result.code == 0 and result.model, "training the tiny model failed"
    return result.model


@pytest.fixture(scope="session")
def action_server() -> str:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions.privacy_actions", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"action server exited: {process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("action server did not start within 90 s")
                time.sleep(0.2)
        yield f"{url}/webhook"
    finally:
        process.terminate()
        process.wait(timeout=20)


def load(model: str, action_url: str) -> Agent:
    endpoints = AvailableEndpoints(
        action=EndpointConfig(url=action_url),
        tracker_store=read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"),
        lock_store=read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"),
    )
    return asyncio.run(load_agent(model_path=model, endpoints=endpoints))


async def say(agent: Agent, sender: str, text: str) -> List[str]:
    output = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, output, sender))
    return [message.get("text") for message in output.messages]


def sqlite_rows(path: Path, sender: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT type_name, action_name, data FROM events WHERE sender_id = ?", (sender,))
        return [{"type": t, "action": a, "data": json.loads(d)} for t, a, d in found]


@pytest.fixture
def debug_log():
    """Rasa at DEBUG prints the parsed text: what reaches the handler must be redacted."""
    from rasa.utils.log_utils import configure_structlog

    stream, root = io.StringIO(), logging.getLogger()
    handler, level = logging.StreamHandler(stream), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    configure_structlog(logging.DEBUG)  # as `rasa run --debug` does: structlog -> stdlib logging
    try:
        yield stream
    finally:
        root.setLevel(level)
        root.removeHandler(handler)
        configure_structlog(logging.INFO)


def on_disk(database) -> bytes:
    """The SQLite file plus its -wal / -journal files: all the store keeps on disk."""
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


def test_delete_my_data_with_the_embedded_sqlite_store(model, action_server, tmp_path, monkeypatch, debug_log):
    database = tmp_path / "var" / "rasa.db"
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{database}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    agent = load(model, action_server)
    assert type(agent.tracker_store._tracker_store) is RedactingTrackerStore  # inside Rasa's fail-safe wrapper
    assert type(agent.lock_store) is EnvLockStore

    assert asyncio.run(say(agent, "user-1", PII_MESSAGE)) == ["记下了"]
    assert asyncio.run(say(agent, "user-2", "你好")) == ["你好"]
    stored = sqlite_rows(database, "user-1")
    user_text = next(row["data"]["text"] for row in stored if row["type"] == "user")
    assert user_text == "手机 [手机号] 身份证 [身份证号] 卡号 [银行卡号] 暗号ZEBRAMARKER"
    assert b"ZEBRAMARKER" in on_disk(database)

    assert asyncio.run(say(agent, "user-1", "删除")) == [DELETED]
    assert sqlite_rows(database, "user-1") == []
    assert sqlite_rows(database, "user-2")  # someone else's conversation stays
    content = on_disk(database)
    assert b"ZEBRAMARKER" not in content and not any(raw.encode() in content for raw in RAW)

    # the next message starts a fresh conversation
    assert asyncio.run(say(agent, "user-1", "你好")) == ["你好"]
    types = [row["type"] for row in sqlite_rows(database, "user-1")]
    assert types[:3] == ["action", "session_started", "action"] and types.count("user") == 1

    logs = debug_log.getvalue()
    assert "[手机号]" in logs  # Rasa did log the message text ...
    assert not any(raw in logs for raw in RAW)  # ... but only redacted


def test_two_servers_on_postgres_and_redis(model, action_server, postgres_url, redis_url, monkeypatch):
    monkeypatch.setenv("TRACKER_DB_URL", postgres_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    server_a, server_b = load(model, action_server), load(model, action_server)
    assert type(server_a.lock_store.backend) is AtomicRedisLockStore

    # The same user writes to both servers at once (a thread and event loop per request,
    # like separate processes). Measured: with per-server in-memory locks instead, 4 of
    # 16 such messages were lost and the session started twice.
    def send(index: int) -> List[str]:
        return asyncio.run(say([server_a, server_b][index % 2], "multi", f"手机 1390000000{index}"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(send, range(6))) == [["记下了"]] * 6
    tracker = asyncio.run(server_b.tracker_store.retrieve_full_tracker("multi"))
    names = [e.as_dict().get("name") or e.type_name for e in tracker.events if e.type_name in ("user", "action")]
    turns = [n for n in names if n != "action_listen"]
    assert turns.count("user") == 6 and turns.count("action_session_start") == 1
    assert all(turns[i + 1] == "utter_noted" for i, n in enumerate(turns) if n == "user")  # no interleaving

    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = 'multi'")
        stored = [json.loads(row[0]) for row in cursor.fetchall()]
    assert "1390000000" not in json.dumps(stored, ensure_ascii=False)
    assert [e["text"] for e in stored if e["event"] == "user"] == ["手机 [手机号]"] * 6

    assert asyncio.run(say(server_b, "multi", "删除")) == [DELETED]
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = 'multi'")
        assert cursor.fetchone()[0] == 0
    assert asyncio.run(server_a.tracker_store.retrieve("multi")) is None
