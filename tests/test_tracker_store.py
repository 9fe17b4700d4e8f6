"""RedactingTrackerStore on real SQLite files: factory wiring, redaction, deletion."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from addons.settings import DEFAULT_SQLITE_PATH, load_settings
from addons.stores.tracker_store import DELETE_ACTION_NAME, RedactingTrackerStore

# The store is built as Rasa builds it in a server: in a process with the patches to Rasa.
pytestmark = pytest.mark.usefixtures("server_hooks_installed")

ROOT = Path(__file__).resolve().parent.parent
ID_18 = "11010519491231002X"
PHONE = "13800138000"
CARD = "6222021234567890128"
RAW = (ID_18, PHONE, CARD, "zhang@example.com")
MARKER = "ZEBRAMARKER42"  # not an identifier: shows what secure_delete overwrites

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform, delete_my_data]
slots:
  phone:
    type: text
    mappings: [{type: custom}]
  amount:
    type: float
    mappings: [{type: custom}]
responses:
  utter_data_deleted: [{text: "已删除"}]
"""
)


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "nested" / "rasa.db"  # folder does not exist yet
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def store(db_path) -> RedactingTrackerStore:
    return RedactingTrackerStore(domain=DOMAIN)


def user(text: str, **extra: Any) -> UserUttered:
    parse_data = {
        "text": text,
        "intent": {"name": "inform", "confidence": 1.0},
        "entities": [{"entity": "phone", "value": PHONE, "start": 0, "end": 11}],
    }
    return UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data, **extra)


def conversation(sender: str = "alice") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            user(
                f"身份证{ID_18}，手机{PHONE}，卡号{CARD}，邮箱zhang@example.com，欠了43000元 {MARKER}",
                metadata={"contact": f"tel:{PHONE}"},
            ),
            SlotSet("phone", PHONE),
            SlotSet("amount", 43000.0),
            ActionExecuted("action_give_guidance"),
            BotUttered(f"我记下了你的手机{PHONE}"),
            ActionExecuted("action_listen"),
        ],
        slots=DOMAIN.slots,
    )


def stored_bytes(db_path: Path) -> bytes:
    """The database file and its write-ahead log: everything SQLite keeps on disk."""
    wal = Path(f"{db_path}-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def rows(db_path: Path, sender: str = None) -> List[Dict[str, Any]]:
    query = "SELECT sender_id, type_name, intent_name, action_name, data FROM events"
    with sqlite3.connect(db_path) as connection:
        found = connection.execute(query + (" WHERE sender_id = ?" if sender else ""), (sender,) if sender else ())
        return [dict(zip(("sender_id", "type_name", "intent_name", "action_name", "data"), row)) for row in found]


def delete_turn(tracker: DialogueStateTracker) -> None:
    """What the processor appends when the rule runs action_delete_my_data."""
    tracker.update(user("删除我的聊天记录"))
    tracker.update(ActionExecuted(DELETE_ACTION_NAME))
    tracker.update(BotUttered("已删除"))
    tracker.update(Restarted())
    tracker.update(ActionExecuted("action_listen"))


def test_endpoints_yml_builds_this_store_through_rasas_factory(db_path):
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, DOMAIN)
    assert type(store) is RedactingTrackerStore  # not the InMemory fallback, not an awaitable wrapper
    assert isinstance(store, SQLTrackerStore)
    assert store.engine.dialect.name == "sqlite"
    assert Path(store.engine.url.database) == db_path
    assert db_path.parent.is_dir()


def test_default_database_is_the_project_sqlite_file(monkeypatch):
    monkeypatch.delenv("TRACKER_DB_URL", raising=False)
    assert load_settings().tracker_url == f"sqlite:///{ROOT / 'var' / 'rasa.db'}"
    assert DEFAULT_SQLITE_PATH == ROOT / "var" / "rasa.db"
    monkeypatch.setenv("TRACKER_DB_URL", "postgres://u:p@db:5432/rasa")
    assert load_settings().tracker_url == "postgresql://u:p@db:5432/rasa"


def test_secure_delete_is_on_for_every_connection(store):
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_connections_are_pooled_and_commits_use_the_wal(store, db_path):
    opened = []
    sqlalchemy.event.listen(store.engine, "connect", lambda *_: opened.append(1))
    for i in range(5):
        run(store.save(conversation(f"user{i}")))
        assert run(store.retrieve(f"user{i}")) is not None
    assert len(opened) <= 1  # one pooled connection, not one per load and save
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    assert Path(f"{db_path}-wal").stat().st_size > 0  # turns went to the WAL


def test_persists_redacted_copy_and_leaves_the_live_tracker_intact(store, db_path):
    tracker = conversation()
    run(store.save(tracker))

    stored = rows(db_path)
    assert len(stored) == len(tracker.events)
    blob = json.dumps(stored, ensure_ascii=False)
    for raw in RAW:
        assert raw not in blob
    user_row = json.loads(next(r["data"] for r in stored if r["type_name"] == "user"))
    assert user_row["text"].startswith("身份证[身份证号]，手机[手机号]，卡号[银行卡号]，邮箱[邮箱]，欠了43000元")
    assert user_row["parse_data"]["entities"][0]["value"] == "[手机号]"
    assert user_row["metadata"] == {"contact": "tel:[手机号]"}
    assert next(r for r in stored if r["type_name"] == "user")["intent_name"] == "inform"

    # the bot can still use the facts during this turn
    assert tracker.get_slot("phone") == PHONE
    assert PHONE in tracker.latest_message.text

    restored = run(store.retrieve("alice"))
    assert restored.get_slot("phone") == "[手机号]"
    assert restored.get_slot("amount") == 43000.0
    assert restored.latest_message.text.startswith("身份证[身份证号]")


def test_later_turns_append_only_new_events(store, db_path):
    tracker = conversation()
    run(store.save(tracker))
    tracker = run(store.retrieve("alice"))
    tracker.update(user("谢谢"))
    tracker.update(ActionExecuted("utter_thank"))
    run(store.save(tracker))
    assert len(rows(db_path, "alice")) == len(conversation().events) + 2


def test_long_user_text_is_stored_truncated(db_path, monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "50")
    store = RedactingTrackerStore(domain=DOMAIN)
    tracker = DialogueStateTracker.from_events("bob", [user("很" * 5000)], slots=DOMAIN.slots)
    run(store.save(tracker))
    data = json.loads(rows(db_path, "bob")[0]["data"])
    assert len(data["text"]) == 50 and len(data["parse_data"]["text"]) == 50


def test_delete_my_data_removes_the_conversation_from_the_file(store, db_path):
    other = conversation("bob")
    run(store.save(other))
    tracker = conversation("alice")
    run(store.save(tracker))
    assert MARKER.encode() in stored_bytes(db_path)

    tracker = run(store.retrieve("alice"))
    delete_turn(tracker)
    run(store.save(tracker))

    assert rows(db_path, "alice") == []
    assert run(store.retrieve("alice")) is None
    assert len(rows(db_path, "bob")) == len(other.events)  # other users untouched
    assert store.delete_conversation("bob") == len(other.events)
    content = stored_bytes(db_path)
    assert MARKER.encode() not in content  # secure_delete overwrote the freed pages
    for raw in RAW:
        assert raw.encode() not in content
    wal = Path(f"{db_path}-wal")  # the pre-deletion page images were checkpointed away
    assert not wal.exists() or wal.stat().st_size == 0


def test_saving_the_deleting_tracker_again_stores_nothing(store, db_path):
    tracker = conversation()
    run(store.save(tracker))
    delete_turn(tracker)
    run(store.save(tracker))
    run(store.save(tracker))
    assert rows(db_path, "alice") == []


def test_a_new_conversation_after_the_deletion_is_kept(store, db_path):
    tracker = conversation()
    delete_turn(tracker)
    tracker.update(user("你好"))
    tracker.update(ActionExecuted("utter_greet"))
    run(store.save(tracker))
    kept = [(r["type_name"], r["action_name"]) for r in rows(db_path, "alice")]
    assert kept == [("action", "action_listen"), ("user", None), ("action", "utter_greet")]


def test_new_conversation_after_deletion_starts_fresh(store):
    tracker = conversation()
    run(store.save(tracker))
    delete_turn(tracker)
    run(store.save(tracker))
    fresh = run(store.get_or_create_tracker("alice", append_action_listen=False))
    assert fresh.events == type(fresh.events)() and fresh.get_slot("phone") is None


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.published.append(event)


def test_event_broker_receives_redacted_events(db_path):
    broker = RecordingBroker()
    store = RedactingTrackerStore(domain=DOMAIN, event_broker=broker)
    run(store.save(conversation()))
    assert broker.published and all(event["sender_id"] == "alice" for event in broker.published)
    blob = json.dumps(broker.published, ensure_ascii=False)
    for raw in RAW:
        assert raw not in blob


def test_action_name_matches_the_sdk_action(tracker_factory):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.advice.dialogue_kb import load_dialogue
    from actions.privacy_actions import ActionDeleteMyData

    action = ActionDeleteMyData()
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_factory("删除我的数据", "delete_my_data"), {}))
    assert action.name() == DELETE_ACTION_NAME
    assert [m["text"] for m in dispatcher.messages] == [load_dialogue().messages["data_deleted"]]
    assert [e["event"] for e in events] == ["restart"]


def test_importing_the_store_does_no_work(tmp_path):
    """No patch to Rasa or logging and no database appears on import (the hooks come from entry points)."""
    script = (
        "import logging, sys; logging.basicConfig(); import addons.stores.tracker_store, addons.stores.lock_store; "
        "from addons import server_hooks; sys.exit(bool(server_hooks.installed()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"TRACKER_DB_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "x.db").exists()


# ---- long sessions are stored in segments (addons/stores/tracker_segments.py) ----------------------------

SEGMENT_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform, ask_lawsuit]
slots:
  amount:
    type: any
    mappings: [{type: custom}]
  requested_slot:
    type: any
    mappings: [{type: custom}]
  script:
    type: text
    mappings: [{type: custom}]
  last_buttons:
    type: any
    mappings: [{type: custom}]
forms:
  plan_form:
    required_slots: [amount]
"""
)


def _turn(tracker: DialogueStateTracker, text: str, buttons=None) -> None:
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}, [], {"text": text}))
    tracker.update(ActionExecuted("action_give_guidance"))
    tracker.update(BotUttered("答复", data={"buttons": buttons} if buttons else {}))
    tracker.update(ActionExecuted("action_listen"))


@pytest.fixture
def segmented(db_path, monkeypatch) -> RedactingTrackerStore:
    monkeypatch.setenv("TRACKER_SEGMENT_TURNS", "5")
    return RedactingTrackerStore(domain=SEGMENT_DOMAIN)


def test_a_long_session_is_closed_at_a_turn_boundary_and_reloaded_short(segmented, db_path):
    from rasa.shared.core.events import ActiveLoop

    tracker = DialogueStateTracker.from_events(
        "long",
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        slots=SEGMENT_DOMAIN.slots,
    )
    offer = [{"title": "记录骚扰并生成投诉", "payload": "/start_incident_log"}]
    for i in range(4):
        _turn(tracker, f"問題{i}")
        run(segmented.save(tracker))
    assert not any(r["type_name"] == "session_started" for r in rows(db_path)[3:])  # not yet: 4 turns
    tracker.update(ActiveLoop("plan_form"))
    tracker.update(SlotSet("amount", 43000))
    tracker.update(SlotSet("requested_slot", "amount"))
    _turn(tracker, "好", buttons=offer)  # the fifth turn closes the segment
    run(segmented.save(tracker))

    stored = rows(db_path)
    assert [r["type_name"] for r in stored].count("session_started") == 2
    loaded = run(segmented.retrieve("long"))
    assert sum(isinstance(e, UserUttered) for e in loaded.events) == 0  # the new segment only
    assert loaded.active_loop_name == "plan_form"
    assert loaded.get_slot("amount") == 43000 and loaded.get_slot("requested_slot") == "amount"
    assert loaded.get_slot("script") == "traditional"  # from 問題…, though "好" has no script
    assert loaded.get_slot("last_buttons") == offer
    assert isinstance(loaded.events[-1], ActionExecuted) and loaded.events[-1].action_name == "action_listen"

    _turn(loaded, "第六轮")
    run(segmented.save(loaded))  # the next turn appends to the new segment
    again = run(segmented.retrieve("long"))
    assert sum(isinstance(e, UserUttered) for e in again.events) == 1 and again.get_slot("amount") == 43000


def test_segments_are_all_deleted_on_request(segmented, db_path):
    tracker = DialogueStateTracker.from_events("gone", [ActionExecuted("action_listen")], slots=SEGMENT_DOMAIN.slots)
    for i in range(12):
        _turn(tracker, f"第{i}轮")
        run(segmented.save(tracker))
        tracker = run(segmented.retrieve("gone"))
    assert [r["type_name"] for r in rows(db_path, "gone")].count("session_started") == 2
    assert segmented.delete_conversation("gone") > 0
    assert rows(db_path, "gone") == []


def test_segments_can_be_turned_off(db_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SEGMENT_TURNS", "0")
    store = RedactingTrackerStore(domain=SEGMENT_DOMAIN)
    tracker = DialogueStateTracker.from_events("whole", [ActionExecuted("action_listen")], slots=SEGMENT_DOMAIN.slots)
    for i in range(30):
        _turn(tracker, f"第{i}轮")
    run(store.save(tracker))
    assert not any(r["type_name"] == "session_started" for r in rows(db_path, "whole"))
