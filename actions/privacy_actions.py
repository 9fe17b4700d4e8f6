"""`action_delete_my_data`: confirm, and mark the conversation for deletion.

The action server cannot delete what the Rasa server is about to save, so the
deletion itself happens in addons/stores/tracker_store.RedactingTrackerStore.save():
it sees this action's execution, deletes every stored event of the sender and
stores nothing of the turn. Restarted clears the slots for the rest of the turn.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.say import say


class ActionDeleteMyData(Action):
    def name(self) -> Text:
        return "action_delete_my_data"  # addons.stores.tracker_store.DELETE_ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "data_deleted")
        return [Restarted()]
