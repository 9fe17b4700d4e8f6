"""`action_ask_<slot>`: each form question with its quick-reply buttons, from dialogue.yml.

Rasa forms call `action_ask_<slot>` when it exists; one small class per slot.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.flow_actions import FLOW_SLOTS
from actions.guidance.dialogue_kb import load_dialogue
from actions.say import send

ASKED_SLOTS = tuple(slot for slots in FLOW_SLOTS.values() for slot in slots) + ("bank",)


class AbstractAskSlotAction(Action, metaclass=ABCMeta):
    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        question = load_dialogue().questions[self.slot]
        send(dispatcher, tracker, question.text, question.buttons)
        return []


def _ask_class(slot: str) -> type:
    name = "ActionAsk" + "".join(part.title() for part in slot.split("_"))
    return type(name, (AbstractAskSlotAction,), {"slot": slot})


ASK_ACTIONS = {slot: _ask_class(slot) for slot in ASKED_SLOTS}
