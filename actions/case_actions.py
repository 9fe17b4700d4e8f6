"""The conversation around the advice: facts noted, the case summary, a returning user's welcome."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.facts import ENTITY, facts_from
from actions.flow_state import FORM_OFFERS, UNFINISHED_SLOT
from actions.flows.case_summary import CASE_SLOTS, CaseRecords, case_summary
from actions.form_questions import fact_phrase
from actions.say import say, send_document
from actions.tracker_facts import current_facts, latest_intent, script_update
from chinese_text.offers import offers

NOTED_FACTS = facts_from(ENTITY)  # facts a message gives outside a flow, acknowledged by action_note_facts
# Slots that only make sense inside one session's turn.
NOT_CARRIED = ("requested_slot", "form_failures", "session_started_metadata", "last_buttons")
SESSION_START_INTENT = "session_start"


class ActionNoteFacts(Action):
    """A fact given outside a flow ("其实是六万"): remember it and say what was noted."""

    def name(self) -> Text:
        return "action_note_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        facts, events = current_facts(tracker)
        dialogue = load_dialogue()
        given = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        # the facts an entity of this message gave, in the order of dialogue.yml's confirmation phrases
        noted = [slot for slot in dialogue.confirm_slots if slot in given and slot in NOTED_FACTS]
        phrases = [p for p in (fact_phrase(slot, facts.get(slot), dialogue) for slot in noted) if p]
        if phrases:
            say(dispatcher, tracker, "facts_noted", facts=dialogue.confirm_joiner.join(phrases))
        else:
            say(dispatcher, tracker, "inform_ack")
        return events + script_update(tracker)


def _last_bot_buttons(tracker: Tracker) -> List[Dict[str, Any]]:
    """Buttons of the bot's last message with buttons before the user's latest message (at the start
    of a stored segment, the ones the segment break kept in the `last_buttons` slot)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return []
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            buttons = (event.get("data") or {}).get("buttons") or []
            if buttons:
                return list(buttons)
        elif event.get("event") == "session_started" and seen_user:
            break
    return list(tracker.get_slot("last_buttons") or [])


class ActionRespondAffirm(Action):
    """A yes outside a flow. One offer was taken before the NLU (addons/patches/offer_choice.py); with
    several, ask which one; with none, invite the user to describe their situation."""

    def name(self) -> Text:
        return "action_respond_affirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        choices = offers(_last_bot_buttons(tracker))
        if len(choices) > 1:
            say(dispatcher, tracker, "choose_offer", buttons=choices)
        else:
            say(dispatcher, tracker, "inform_ack")
        return script_update(tracker)


class ActionCaseSummary(Action):
    """ "生成我的情况摘要": one page with the facts, the incidents, the verdict, the plan and the advice."""

    def name(self) -> Text:
        return "action_case_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        facts, events = current_facts(tracker)
        records = CaseRecords.from_slots({name: tracker.get_slot(name) for name in CASE_SLOTS})
        say(dispatcher, tracker, "case_summary_intro")
        send_document(
            dispatcher, tracker, "case_summary", case_summary(facts.replace(alerts=()), records, date.today())
        )
        return events + script_update(tracker)


class ActionSessionStart(Action):
    """A new session keeps what the user told us; a returning user is offered the unfinished flow."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        carried = [
            SlotSet(name, value)
            for name, value in (tracker.slots or {}).items()
            if value is not None and name not in NOT_CARRIED
        ]
        unfinished = tracker.get_slot(UNFINISHED_SLOT)  # set only once a user has started a flow
        if unfinished in FORM_OFFERS and latest_intent(tracker) != SESSION_START_INTENT:
            dialogue = load_dialogue()
            offer = FORM_OFFERS[unfinished]
            buttons = [
                {"title": dialogue.buttons["resume"], "payload": f'/{offer}{{"choice": "resume"}}'},
                {"title": dialogue.buttons["not_now"], "payload": "/cancel"},
            ]
            say(dispatcher, tracker, "welcome_back", buttons=buttons, flow=dialogue.flow_names[unfinished])
            carried.append(SlotSet("last_buttons", buttons))  # "好" or "1" answers the welcome
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
