"""Domain responses in the user's script: Traditional when the user writes Traditional."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from addons import server_hooks
from chinese_text.script import prefers_traditional, to_traditional


def _user_texts_newest_first(tracker: DialogueStateTracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            yield event.text or ""


class ScriptAwareNLG(TemplatedNaturalLanguageGenerator):
    """Configured in endpoints.yml as `nlg: type: addons.script_nlg.ScriptAwareNLG`."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        # Built when Rasa loads the agent: a server without the patches fails here, loudly.
        server_hooks.require_installed(type(self).__name__)
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response and prefers_traditional(_user_texts_newest_first(tracker)):
            if response.get("text"):
                response["text"] = to_traditional(response["text"])
            for button in response.get("buttons") or []:
                button["title"] = to_traditional(button["title"])
        return response
