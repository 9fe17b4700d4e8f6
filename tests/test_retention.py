"""Retention purge on a real SQLite store with back-dated events."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.stores.retention import main, purge_older_than
from addons.stores.tracker_store import RedactingTrackerStore

# The store is built as Rasa builds it in a server: in a process with the patches to Rasa.
pytestmark = pytest.mark.usefixtures("server_hooks_installed")

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0


def events_at(*days_ago: float):
    now = time.time()
    for index, age in enumerate(days_ago):
        stamp = now - age * DAY + index * 0.001  # keep order within a conversation
        yield (
            UserUttered(f"消息{index}", timestamp=stamp)
            if index % 2
            else ActionExecuted("action_listen", timestamp=stamp)
        )


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "rasa.db"
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{path}")
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    store = RedactingTrackerStore(domain=Domain.empty())
    conversations = {
        "stale": [200, 199, 190],
        "recent": [3, 2, 1],
        "came_back": [400, 300, 10],  # old start, recent last event: kept
        "just_over": [181, 180.5],
    }
    for sender, ages in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, list(events_at(*ages)))
        asyncio.run(store.save(tracker))
    return path


def senders(path: Path):
    with sqlite3.connect(path) as connection:
        return sorted(s for (s,) in connection.execute("SELECT DISTINCT sender_id FROM events"))


def test_purge_deletes_conversations_idle_longer_than_the_limit(db_path):
    store = RedactingTrackerStore(domain=Domain.empty())
    assert purge_older_than(store, 180) == 2
    assert senders(db_path) == ["came_back", "recent"]
    assert purge_older_than(store, 180) == 0


def test_purge_with_a_fixed_clock(db_path):
    store = RedactingTrackerStore(domain=Domain.empty())
    assert purge_older_than(store, 180, now=time.time() - 365 * DAY) == 0
    assert purge_older_than(store, 1, now=time.time() + 30 * DAY) == 4


def test_main_uses_retention_days_from_settings(db_path, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_DAYS", "5")
    assert main([]) == 0
    assert "Deleted 3 conversation(s)" in capsys.readouterr().out
    assert senders(db_path) == ["recent"]


def test_module_runs_from_the_command_line(db_path):
    env = {**os.environ, "TRACKER_DB_URL": f"sqlite:///{db_path}", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "addons.stores.retention", "--days", "180"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "Deleted 2 conversation(s) with no activity in the last 180 days." in result.stdout


def test_purged_text_is_gone_from_the_files(db_path):
    store = RedactingTrackerStore(domain=Domain.empty())
    old = time.time() - 300 * DAY
    events = [ActionExecuted("action_listen", timestamp=old), UserUttered("旧对话PURGEMARKER", timestamp=old + 1)]
    asyncio.run(store.save(DialogueStateTracker.from_events("old", events)))
    files = lambda: b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))  # noqa: E731
    assert "PURGEMARKER".encode() in files()
    assert purge_older_than(store, 180) == 3
    assert "PURGEMARKER".encode() not in files()  # neither in the database nor in its -wal file
