"""Thin SDK actions around the guidance engine: answer, legal basis, clarification."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance.engine import advise
from actions.guidance.kb import load_kb
from actions.guidance.render import OutMessage, render_advice, render_legal_basis
from actions.say import say
from actions.tracker_facts import facts_from_tracker, latest_intent, wants_traditional

INPUT_TRUNCATED = "input_truncated"  # set in parse data by the text normaliser
CLARIFY_OPTIONS = 3
DEFAULT_TOPICS = ("ask_how_to_respond", "report_harassment", "ask_installment_negotiation")


def _send(dispatcher: CollectingDispatcher, messages: List[OutMessage]) -> None:
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons or None)


class ActionGiveGuidance(Action):
    """Answer an advisory intent: direct answer, steps, cited basis, where to get help."""

    def name(self) -> Text:
        return "action_give_guidance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker)
        kb = load_kb()
        if intent not in kb.guidance:
            return await ActionClarify().run(dispatcher, tracker, domain)
        if tracker.latest_message.get(INPUT_TRUNCATED):
            say(dispatcher, tracker, "message_truncated")
        advice = advise(intent, facts_from_tracker(tracker), kb)
        first_time = not tracker.get_slot("disclaimer_shown")
        _send(dispatcher, render_advice(advice, wants_traditional(tracker), with_disclaimer=first_time, kb=kb))
        return [SlotSet("last_topic", intent), SlotSet("disclaimer_shown", True)]


class ActionShowLegalBasis(Action):
    """Every provision behind the last answer, quoted, in phone-sized messages."""

    def name(self) -> Text:
        return "action_show_legal_basis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        topic = tracker.get_slot("last_topic")
        kb = load_kb()
        if topic not in kb.guidance:
            say(dispatcher, tracker, "no_legal_basis_topic")
            return []
        advice = advise(topic, facts_from_tracker(tracker), kb)
        _send(dispatcher, render_legal_basis(advice.provisions, wants_traditional(tracker), kb))
        return []


class ActionClarify(Action):
    """Low confidence: offer the most likely topics as buttons instead of guessing."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = load_kb()
        ranking = tracker.latest_message.get("intent_ranking") or []
        topics = [r["name"] for r in ranking if r.get("name") in kb.guidance and kb.guidance[r["name"]].title]
        if not topics:  # nothing advisory is likely: show the main topics
            topics = list(DEFAULT_TOPICS)
        buttons = [{"title": kb.guidance[t].title, "payload": f"/{t}"} for t in topics[:CLARIFY_OPTIONS]]
        say(dispatcher, tracker, "clarify", buttons=buttons)
        return []
