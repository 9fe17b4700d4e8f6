"""`action_ask_<slot>`: each form question with its quick-reply buttons, from dialogue.yml.

Rasa forms call `action_ask_<slot>` when it exists; one small class per question in
dialogue.yml. `facts_confirmed` is the one-line review of what a flow re-uses from
earlier in the conversation ("你前面说：欠款约5万元；月收入约6000元。对吗？").
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.dialogue_kb import Dialogue, load_dialogue
from actions.advice.engine import wan_text
from actions.advice.facts import DAYS, UNKNOWN, YUAN, unit_of
from actions.flow_state import CONFIRM_SLOT, PREFILLED_SLOT
from actions.flows.collector_check import UNSURE
from actions.flows.flows_kb import load_flows
from actions.flows.planner import overdue_text
from actions.say import send

# The questions of dialogue.yml (a test checks they match it and the domain's forms): the SDK
# registers action classes at import, so the list cannot be read from the YAML then.
ASKED_SLOTS = (
    "collector_claims_to_be",
    "collector_showed_id",
    "collector_showed_authorisation",
    "collector_headcount",
    "visit_at_night",
    "collector_threat_kind",
    "collector_entry",
    "collector_third_party",
    "collector_demanded_personal_account",
    "amount",
    "monthly_income",
    "monthly_expense",
    "overdue_duration",
    "bank",
    "loan_type",
    "incident_behaviors",
    "incident_time",
    "incident_contacted",
    "incident_evidence",
)


class AbstractAskSlotAction(Action, metaclass=ABCMeta):
    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        question = load_dialogue().questions[self.slot]
        send(dispatcher, tracker, question.text, question.buttons)
        return []


def fact_phrase(slot: str, value: Any, dialogue: Dialogue) -> Optional[str]:
    """How the confirmation line says one known answer; None when there is nothing to say."""
    if value in (None, "", UNKNOWN, UNSURE, []):
        return None
    if slot in dialogue.confirm_values:
        return dialogue.confirm_values[slot].get(str(value))
    template = dialogue.confirm_slots.get(slot)
    if template is None:
        return None
    flows = load_flows()
    if unit_of(slot) == YUAN:
        shown = wan_text(int(value))
    elif unit_of(slot) == DAYS:
        shown = overdue_text(int(value), flows)
    elif slot == "incident_behaviors":  # the facts are in the user's voice (for the complaint): "我" -> "你"
        shown = flows.formats.list_sep.join(
            flows.incident.behaviors[b].fact.replace("我", "你") for b in value if b in flows.incident.behaviors
        )
    elif isinstance(value, list):
        shown = flows.formats.list_sep.join(str(v) for v in value if v != "none")
    else:
        shown = str(value)
    return template.format(value=shown) if shown else None


def known_facts_line(tracker: Tracker) -> str:
    dialogue = load_dialogue()
    phrases = [fact_phrase(slot, tracker.get_slot(slot), dialogue) for slot in tracker.get_slot(PREFILLED_SLOT) or []]
    return dialogue.confirm_joiner.join(p for p in phrases if p)


class ActionAskFactsConfirmed(Action):
    def name(self) -> Text:
        return f"action_ask_{CONFIRM_SLOT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        question = load_dialogue().questions[CONFIRM_SLOT]
        send(dispatcher, tracker, question.text.format(facts=known_facts_line(tracker)), question.buttons)
        return []


def _ask_class(slot: str) -> type:
    name = "ActionAsk" + "".join(part.title() for part in slot.split("_"))
    return type(name, (AbstractAskSlotAction,), {"slot": slot})


ASK_ACTIONS = {slot: _ask_class(slot) for slot in ASKED_SLOTS}
