"""Shared fixtures: the real domain, fresh SDK trackers built by a factory, the server hooks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def tracker_factory(domain):
    """Build a tracker whose slots are the domain's, with the given values and last message."""

    def make(
        text: str = "",
        intent: str = "",
        slots: Optional[Dict[str, Any]] = None,
        entities: Optional[List[Dict[str, Any]]] = None,
        ranking: Optional[List[Dict[str, Any]]] = None,
        history: Optional[List[str]] = None,
        active_loop: Optional[str] = None,
        slot_events: Optional[Dict[str, Any]] = None,
    ) -> Tracker:
        """`slot_events`: slots set by this message (what a form validator validates)."""
        all_slots = {name: None for name in domain["slots"]}
        all_slots.update(slots or {})
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "intent_ranking": ranking or [{"name": intent, "confidence": 1.0}],
        }
        events = [{"event": "user", "text": t} for t in (history or [])]
        events.append({"event": "user", "text": text, "parse_data": latest})
        for name, value in (slot_events or {}).items():
            all_slots[name] = value
            events.append({"event": "slot", "name": name, "value": value})
        loop = {"name": active_loop} if active_loop else {}
        return Tracker("test-user", all_slots, latest, events, False, None, loop, "action_listen")

    return make


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def server_hooks_installed() -> Iterator[None]:
    """The project's patches to Rasa installed as every entry point installs them (the NLG and the
    tracker store refuse to be built without them); the process is left as it was found."""
    from addons import server_hooks

    before = set(server_hooks.installed())
    server_hooks.install_all()
    yield
    for name in server_hooks.NAMES:
        if name not in before:
            server_hooks.uninstall(name)
