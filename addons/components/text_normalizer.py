"""Rasa NLU component: normalise Chinese text before tokenisation.

The text itself is normalised by `chinese_text.normalise` (Traditional -> Simplified,
typos, full-width, emoji, spaces, pinyin); this component applies it to each
message, remaps the entity offsets of training examples, keeps the dropped symbols
aside for the safety net, and at prediction time flags empty/junk input and cuts
over-long input.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.settings import load_settings
from chinese_text import lexicon_files
from chinese_text.normalise import TypoTable, normalise, text_script

TEXT_SCRIPT = "text_script"
INPUT_TRUNCATED = "input_truncated"
INPUT_EMPTY = "input_empty"
DROPPED_SYMBOLS = "dropped_symbols"  # emoji removed from the text (not in the parse output)
EMPTY_PLACEHOLDER = "?"  # stands in for an empty or emoji-only message
TYPOS_PATH = "typos_path"
DEFAULT_TYPOS = "data/lexicons/typos.yml"
_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ChineseTextNormalizer(GraphComponent):
    """Rewrites the message text so that the tokenizer sees one canonical form."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {TYPOS_PATH: DEFAULT_TYPOS}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Editing the typo table changes the training texts: retrain."""
        return lexicon_files.fingerprint([config.get(TYPOS_PATH, DEFAULT_TYPOS)])

    def __init__(self, max_chars: Optional[int] = None, typos: Optional[TypoTable] = None) -> None:
        self._max_chars = max_chars
        self._typos = typos

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseTextNormalizer":
        path = {**cls.get_default_config(), **config}[TYPOS_PATH]
        return cls(load_settings().max_message_chars, TypoTable.from_file(path))

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
        message.set(TEXT_SCRIPT, text_script(text), add_to_output=True)
        if text.startswith(INTENT_MESSAGE_PREFIX):
            # A button payload (/inform{"choice": "police"}) is parsed by Rasa's RegexMessageHandler:
            # normalising it would turn the value into Chinese ("police" -> 警察) and the form would refuse it.
            return
        normalised, index_map = normalise(text, self._typos)
        symbols = "".join(c for c in text if unicodedata.category(c) == "So")
        if symbols:
            message.set(DROPPED_SYMBOLS, symbols)
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
