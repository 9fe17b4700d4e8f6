"""Read what the guidance engine needs out of a Rasa SDK tracker."""
from __future__ import annotations

from typing import Iterator

from rasa_sdk import Tracker

from actions.guidance.facts import Facts
from actions.guidance.script import prefers_traditional

FACT_SLOTS = ("bank", "amount", "monthly_income", "monthly_expense", "overdue_duration", "relation", "behavior")


def facts_from_tracker(tracker: Tracker) -> Facts:
    return Facts.from_mapping({name: tracker.get_slot(name) for name in FACT_SLOTS})


def _user_texts_newest_first(tracker: Tracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            yield event.get("text") or ""


def wants_traditional(tracker: Tracker) -> bool:
    return prefers_traditional(_user_texts_newest_first(tracker))


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""
