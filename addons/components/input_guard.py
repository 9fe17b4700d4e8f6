"""Rasa NLU component (last in the pipeline): junk or empty input -> intent `empty_message`.

The normaliser flags messages with no letter, digit or Chinese character; the
classifier must not guess a confident intent for them. Conversely a message
with words is never "empty": the classifier's empty_message becomes a fallback.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from addons.components.text_normalizer import INPUT_EMPTY

EMPTY_INTENT = "empty_message"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InputGuard(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "InputGuard":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(INPUT_EMPTY):
                intent = {"name": EMPTY_INTENT, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
                message.set(ENTITIES, [], add_to_output=True)
            elif (message.get(INTENT) or {}).get("name") == EMPTY_INTENT:
                # Words were there (e.g. "嗯？"): not empty, just unclear.
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMPTY_INTENT]
                confidence = (message.get(INTENT) or {}).get("confidence", 0.0)
                message.set(
                    INTENT, {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": confidence}, add_to_output=True
                )
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
