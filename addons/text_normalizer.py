"""Rasa NLU component: normalise Chinese text before tokenisation.

Traditional → Simplified (OpenCC), full-width → half-width, control characters
dropped, spaces next to Chinese characters removed (JiebaTokenizer would emit
whitespace tokens). Entity offsets of training examples are remapped. At
prediction time empty/junk input is flagged and over-long input cut.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.guidance.script import is_traditional, to_simplified
from addons.settings import load_settings

TEXT_SCRIPT = "text_script"
INPUT_TRUNCATED = "input_truncated"
INPUT_EMPTY = "input_empty"
EMPTY_PLACEHOLDER = "?"  # stands in for an empty or emoji-only message
_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _half_width(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def _keep(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category.startswith("C") and char not in "\n\t") and category != "So"


def normalise(text: str) -> Tuple[str, List[int]]:
    """Return the normalised text and, for each input index, its output index."""
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # a phrase mapping changed the length
        simplified = "".join(to_simplified(c) or c for c in text)
    out: List[str] = []
    index_map: List[int] = []
    for position, char in enumerate(simplified):
        char = _half_width(char)
        index_map.append(len(out))
        if not _keep(char):
            continue
        if char.isspace():
            previous = out[-1] if out else ""
            following = simplified[position + 1] if position + 1 < len(simplified) else ""
            if not previous or previous == " " or _CJK.match(previous) or not following or _CJK.match(following) or following.isspace():
                continue
            char = " "
        out.append(char)
    index_map.append(len(out))
    return "".join(out).strip(), index_map


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ChineseTextNormalizer(GraphComponent):
    """Rewrites the message text so that the tokenizer sees one canonical form."""

    def __init__(self, max_chars: Optional[int] = None) -> None:
        self._max_chars = max_chars

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseTextNormalizer":
        return cls(load_settings().max_message_chars)

    def _guard_input(self, message: Message) -> None:
        """At prediction time: flag empty/junk input and cut over-long messages."""
        text = message.get(TEXT) or ""
        if not _MEANINGFUL.search(text):
            message.set(INPUT_EMPTY, True, add_to_output=True)
            if not text.strip():  # no token at all would crash the featurisers
                message.set(TEXT, EMPTY_PLACEHOLDER)
        if self._max_chars and len(text) > self._max_chars:
            message.set(TEXT, text[: self._max_chars])
            message.set(INPUT_TRUNCATED, True, add_to_output=True)

    def _normalise_message(self, message: Message) -> None:
        text: Optional[str] = message.get(TEXT)
        if not text:
            return
        normalised, index_map = normalise(text)
        message.set(TEXT_SCRIPT, "traditional" if is_traditional(text) else "simplified", add_to_output=True)
        for entity in message.get(ENTITIES) or []:
            start, end = entity["start"], entity["end"]
            entity["start"] = index_map[start]
            entity["end"] = index_map[end - 1] + 1 if end > start else index_map[start]
            entity["end"] = min(entity["end"], len(normalised))
        message.set(TEXT, normalised)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalise_message(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise_message(message)
            self._guard_input(message)
        return messages
