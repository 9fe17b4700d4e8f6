"""ChineseEntityExtractor: rule-based entities for the debt-collection assistant.

A Rasa 3.6 graph component. Add it to ``config.yml`` after the normaliser
(which converts Traditional to Simplified and full-width to half-width)::

    - name: addons.entity_extractor.ChineseEntityExtractor
      patterns_path: data/patterns

Entities (``value`` is always normalised):

* ``bank``, ``relation``, ``behavior`` -- canonical names from the spaCy
  EntityRuler patterns in ``data/patterns/*.jsonl`` (see
  :mod:`addons.entity_patterns`), e.g. 招行 -> 招商银行, 爸妈 -> 父母,
  说自己是警察 -> 冒充警察;
* ``amount``, ``monthly_income``, ``monthly_expense`` -- integer yuan, and
  ``overdue_duration`` -- integer days (see :mod:`actions.guidance.quantities`).

Training builds ``spacy.blank("zh")`` with the jieba segmenter plus an
EntityRuler from the patterns folder and writes it into Rasa's model storage,
so it is packed into the model archive (unlike ``SpacyNLP``'s external model
folder). The patterns files' content is part of the component's fingerprint:
editing a pattern retrains the component.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.guidance import quantities
from addons import entity_patterns

logger = logging.getLogger(__name__)

PATTERNS_PATH = "patterns_path"
EXTRACT_QUANTITIES = "extract_quantities"


def _resolve(path: Text) -> Path:
    """Relative paths are taken from the working directory (the project root),
    as Rasa does for the other data paths."""
    return Path(path).expanduser()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class ChineseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts bank / relation / behavior and money / duration entities."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config."""
        return {
            # Folder with the EntityRuler patterns (*.jsonl), relative to the
            # working directory unless absolute.
            PATTERNS_PATH: "data/patterns",
            # Also extract amount / monthly_income / monthly_expense /
            # overdue_duration with actions.guidance.quantities.
            EXTRACT_QUANTITIES: True,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Chinese only."""
        return ["zh"]

    @staticmethod
    def required_packages() -> List[Text]:
        """Packages whose versions go into the fingerprint."""
        return ["spacy", "jieba", "cn2an"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Makes the patterns folder's content part of the fingerprint.

        Rasa's graph cache only looks at the config, the training data and the
        class source; without this, editing ``data/patterns/*.jsonl`` would
        reuse the cached (stale) ruler. The source of
        :mod:`addons.entity_patterns`, which builds what is persisted, counts too.
        """
        folder = _resolve(
            config.get(PATTERNS_PATH, cls.get_default_config()[PATTERNS_PATH])
        )
        digest = hashlib.sha256()
        digest.update(entity_patterns.patterns_fingerprint(folder).encode("utf-8"))
        digest.update(Path(entity_patterns.__file__).read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        matcher: Optional[entity_patterns.RuleMatcher] = None,
    ) -> None:
        """Creates the component (``matcher`` is set by ``train``/``load``)."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._matcher = matcher

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChineseEntityExtractor:
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Builds the ruler from the patterns folder and persists it.

        The training data is not used: the patterns are the model.
        """
        folder = _resolve(self._config[PATTERNS_PATH])
        rows = entity_patterns.load_patterns(folder)
        self._matcher = entity_patterns.RuleMatcher.from_rows(rows)
        logger.info(
            f"{self.name}: {len(rows)} patterns from '{folder}' for entities "
            f"{entity_patterns.iter_labels(rows)}."
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the spaCy pipeline into the model storage (model archive)."""
        if self._matcher is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            self._matcher.to_disk(Path(directory))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ChineseEntityExtractor:
        """Loads the persisted spaCy pipeline from the model storage."""
        matcher = None
        try:
            with model_storage.read_from(resource) as directory:
                matcher = entity_patterns.RuleMatcher.from_disk(Path(directory))
        except (ValueError, FileNotFoundError, OSError) as e:
            logger.warning(
                f"{cls.__name__}: could not load the trained rules from resource "
                f"'{resource.name}' ({e}); only money and duration entities will "
                f"be extracted. Retrain the model."
            )
        quantities.warm_up()  # at model load, not in the first message with a number
        return cls(config, model_storage, resource, matcher)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves the training data (and its gold entity annotations) alone."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the extracted entities to each message's entities."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            new = self.extract(text)
            if new:
                message.set(
                    ENTITIES, list(message.get(ENTITIES, []) or []) + new, add_to_output=True
                )
        return messages

    def extract(self, text: Text) -> List[Dict[Text, Any]]:
        """The entities of one (normalised) text, in Rasa's format.

        Equal (entity, value) pairs are reported once, at their first
        position, so that a repeated mention does not turn a slot into a list.
        """
        entities: List[Dict[Text, Any]] = []
        spans = []
        if self._matcher is not None:
            try:
                for ent in self._matcher.extract(text):
                    spans.append((ent.start, ent.end))
                    entities.append(
                        self._entity(ent.label, ent.value, ent.start, ent.end)
                    )
            except Exception:  # never fail a user message on a rule bug
                logger.exception(f"{self.name}: rule matching failed.")
        if self._config[EXTRACT_QUANTITIES]:
            for q in quantities.extract_quantities(text, blocked=spans):
                entities.append(
                    self._entity(q["entity"], q["value"], q["start"], q["end"])
                )
        entities.sort(key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]))
        seen = set()
        unique = []
        for e in entities:
            key = (e[ENTITY_ATTRIBUTE_TYPE], e[ENTITY_ATTRIBUTE_VALUE])
            if key not in seen:
                seen.add(key)
                unique.append(e)
        return self.add_extractor_name(unique)

    @staticmethod
    def _entity(label: Text, value: Any, start: int, end: int) -> Dict[Text, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: label,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_START: start,
            ENTITY_ATTRIBUTE_END: end,
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        }
