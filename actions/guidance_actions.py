"""Thin SDK actions around the guidance engine: answer, legal basis, clarification."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.engine import EMERGENCY_INTENT, Advice, advise
from actions.advice.kb import KnowledgeBase, load_kb
from actions.advice.render import OutMessage, render_advice, render_legal_basis
from actions.flow_state import form_for_offer, start_flow_events
from actions.say import say
from actions.tracker_facts import current_facts, latest_intent, script_update, wants_traditional

INPUT_TRUNCATED = "input_truncated"  # set in parse data by the text normaliser
SECONDARY_INTENTS = "secondary_intents"  # set in parse data by the NLU: other worries in the message
MAX_ALSO = 1
MIN_ALSO_CONFIDENCE = 0.5
CLARIFY_OPTIONS = 3
DEFAULT_TOPICS = ("ask_how_to_respond", "report_harassment", "ask_installment_negotiation")
MAX_CASE_ADVICE = 12
MAX_CASE_CITATIONS = 4


def send_messages(dispatcher: CollectingDispatcher, messages: List[OutMessage]) -> None:
    for message in messages:
        extra = {"json_message": {"structured": message.structured}} if message.structured else {}
        dispatcher.utter_message(text=message.text, buttons=message.buttons or None, **extra)


def also_mentioned(tracker: Tracker, intent: str, kb: KnowledgeBase) -> List[str]:
    """Other advisory worries the NLU found in the message, most confident first."""
    found = []
    for item in (tracker.latest_message or {}).get(SECONDARY_INTENTS) or []:
        name = item.get("name")
        if name in kb.guidance and name not in (intent, EMERGENCY_INTENT) and name not in found:
            if float(item.get("confidence") or 0) >= MIN_ALSO_CONFIDENCE:
                found.append(name)
    return found[:MAX_ALSO]


def case_advice_entry(advice: Advice, kb: KnowledgeBase, today: date) -> Dict[str, Any]:
    """What the case summary keeps of an answer: the topic and what it cited."""
    return {
        "intent": advice.intent,
        "title": kb.guidance[advice.intent].title or advice.intent,
        "citations": [p.citation for p in advice.provisions[:MAX_CASE_CITATIONS]],
        "date": today.isoformat(),
    }


def remember_advice(tracker: Tracker, entry: Dict[str, Any]) -> List[Dict[str, Any]]:
    kept = [
        e for e in tracker.get_slot("case_advice") or [] if isinstance(e, dict) and e.get("intent") != entry["intent"]
    ]
    return [SlotSet("case_advice", (kept + [entry])[-MAX_CASE_ADVICE:])]


class ActionGiveGuidance(Action):
    """Answer an advisory intent: direct answer, steps, cited basis, where to get help.

    When the message asks outright for a guided flow ("我想投诉", "帮我算一下分期"), the
    flow starts instead of an answer about the topic.
    """

    def name(self) -> Text:
        return "action_give_guidance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker)
        kb = load_kb()
        if intent not in kb.guidance:
            return await ActionClarify().run(dispatcher, tracker, domain)
        facts, events = current_facts(tracker)
        events += script_update(tracker)
        if tracker.latest_message.get(INPUT_TRUNCATED):
            say(dispatcher, tracker, "message_truncated")
        form = self._requested_flow(tracker, intent, kb, facts.outside_mainland)
        if form is not None:  # "我想投诉": the complaint path itself, not an answer about it
            return events + start_flow_events(tracker, domain, form, facts) + [FollowupAction(form)]
        advice = advise(intent, facts, kb)
        first_time = not tracker.get_slot("disclaimer_shown")
        also = also_mentioned(tracker, intent, kb)
        send_messages(dispatcher, render_advice(advice, wants_traditional(tracker), first_time, kb, also))
        events += [SlotSet("last_topic", intent), SlotSet("disclaimer_shown", True)]
        if advice.provisions:
            events += remember_advice(tracker, case_advice_entry(advice, kb, date.today()))
        return events

    @staticmethod
    def _requested_flow(tracker: Tracker, intent: str, kb: KnowledgeBase, outside: bool) -> Optional[str]:
        if intent == EMERGENCY_INTENT or outside or tracker.active_loop.get("name"):
            return None  # safety first; no mainland documents abroad; never stack forms
        offer = kb.requested_flow((tracker.latest_message or {}).get("text") or "")
        return form_for_offer(offer) if offer else None


class ActionShowLegalBasis(Action):
    """Every provision behind the last answer, quoted, in phone-sized messages."""

    def name(self) -> Text:
        return "action_show_legal_basis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = tracker.get_slot("last_topic")
        kb = load_kb()
        if topic not in kb.guidance:
            say(dispatcher, tracker, "no_legal_basis_topic")
            return []
        facts, _ = current_facts(tracker)
        advice = advise(topic, facts.replace(alerts=()), kb)
        send_messages(dispatcher, render_legal_basis(advice.provisions, wants_traditional(tracker), kb))
        return []


class ActionClarify(Action):
    """Low confidence: offer the most likely topics as buttons instead of guessing."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = load_kb()
        ranking = tracker.latest_message.get("intent_ranking") or []
        topics = [r["name"] for r in ranking if r.get("name") in kb.guidance and kb.guidance[r["name"]].title]
        if not topics:  # nothing advisory is likely: show the main topics
            topics = list(DEFAULT_TOPICS)
        buttons = [{"title": kb.guidance[t].title, "payload": f"/{t}"} for t in topics[:CLARIFY_OPTIONS]]
        say(dispatcher, tracker, "clarify", buttons=buttons)
        return script_update(tracker)
