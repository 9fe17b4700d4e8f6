"""Read what the guidance engine needs out of a Rasa SDK tracker, and remember it.

Facts live in slots (their names are the fields of `Facts`). Scalar facts come from
entities through the domain's slot mappings (a later value replaces an earlier one).
List facts (relation, behavior) are merged over the turns here, and the facts the NLU
puts into the message's `derived_facts` (loan type, jurisdiction, court stage, the
total of several debts) are turned into slots by the action that reads them.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.advice.facts import DERIVED, FACT_KINDS, MAINLAND, MERGED, REMEMBERED_FACTS, TEXT, Facts, facts_from
from chinese_text.script import TRADITIONAL, script_of

MERGED_LISTS = facts_from(MERGED)
# banks, amount and amount_parts are derived too, from fields of their own (see fact_updates)
DERIVED_TEXT_FACTS = tuple(name for name in facts_from(DERIVED) if FACT_KINDS[name] == TEXT)
MAX_LIST = 12
SCRIPT_SLOT = "script"


def _merged(old: Any, new: List[str]) -> List[str]:
    items = list(old) if isinstance(old, (list, tuple)) else []
    return list(dict.fromkeys(items + new))[-MAX_LIST:]


def fact_updates(tracker: Tracker) -> Dict[str, Any]:
    """Slot values the latest message adds to the remembered facts (only what changes)."""
    latest = tracker.latest_message or {}
    entities = latest.get("entities") or []
    derived = latest.get("derived_facts") or {}
    updates: Dict[str, Any] = {}
    for name in MERGED_LISTS:
        new = [str(e["value"]) for e in entities if e.get("entity") == name and e.get("value")]
        if new:
            updates[name] = _merged(tracker.get_slot(name), new)
    if derived.get("amount_total"):
        updates["amount"] = derived["amount_total"]
        updates["amount_parts"] = list(derived.get("amount_parts") or [])
    elif any(e.get("entity") == "amount" for e in entities):
        updates["amount_parts"] = None  # one new amount replaces an earlier sum
    if derived.get("banks"):
        updates["banks"] = list(derived["banks"])
    for name in DERIVED_TEXT_FACTS:
        if derived.get(name):
            updates[name] = derived[name]
    if "jurisdiction" not in derived and any(e.get("entity") == "bank" for e in entities):
        updates["jurisdiction"] = MAINLAND  # a mainland lender named without a sign of elsewhere
    return {k: v for k, v in updates.items() if v != tracker.get_slot(k)}


def current_facts(tracker: Tracker) -> Tuple[Facts, List[Dict[str, Any]]]:
    """The facts of the conversation including this message, and the SlotSet events that remember them."""
    updates = fact_updates(tracker)
    values = {name: tracker.get_slot(name) for name in REMEMBERED_FACTS}
    values.update(updates)
    values["alerts"] = (tracker.latest_message or {}).get("alerts") or []
    return Facts.from_mapping(values), [SlotSet(k, v) for k, v in updates.items()]


def _user_texts_newest_first(tracker: Tracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            yield event.get("text") or ""


def wants_traditional(tracker: Tracker) -> bool:
    """The script of the newest user message that has one (好, 1, 38000 keep the conversation's);
    the `script` slot stands in when the events at hand hold no such message."""
    for text in _user_texts_newest_first(tracker):
        script = script_of(text)
        if script is not None:
            return script == TRADITIONAL
    return tracker.get_slot(SCRIPT_SLOT) == TRADITIONAL


def message_script(tracker: Tracker) -> Optional[str]:
    """Script of the latest message as the user typed it (the parse data holds the Simplified form)."""
    return script_of(next(_user_texts_newest_first(tracker), ""))


def script_update(tracker: Tracker) -> List[Dict[str, Any]]:
    """Remember the script of the latest message when it has one and it changed."""
    script = message_script(tracker)
    return [SlotSet(SCRIPT_SLOT, script)] if script and script != tracker.get_slot(SCRIPT_SLOT) else []


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""
