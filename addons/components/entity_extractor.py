"""ChineseEntityExtractor: rule-based entities for the debt-collection assistant.

A Rasa 3.6 graph component. Add it to ``config.yml`` after the normaliser
(which converts Traditional to Simplified and full-width to half-width)::

    - name: addons.components.entity_extractor.ChineseEntityExtractor
      patterns_path: data/patterns

Entities (``value`` is always normalised):

* ``bank``, ``relation``, ``behavior`` -- canonical names from the spaCy
  EntityRuler patterns in ``data/patterns/*.jsonl`` (see
  :mod:`addons.components.entity_patterns`), e.g. 招行 -> 招商银行, 爸妈 -> 父母,
  说自己是警察 -> 冒充警察;
* ``amount``, ``monthly_income``, ``monthly_expense`` -- integer yuan, and
  ``overdue_duration`` -- integer days (see :mod:`chinese_text.quantities`).

Facts that are not entities go into the message attribute ``derived_facts``
(kept in the parse data, so actions read ``tracker.latest_message["derived_facts"]``),
a dict without the keys that are unknown:

* ``loan_type`` -- the first loan type mentioned (credit_card, bank_loan,
  online_lending, private_loan, illegal_loan), ``loan_types`` -- all of them in
  order, when there are several;
* ``jurisdiction`` -- taiwan / hong_kong when the debt is outside the mainland,
  ``jurisdictions`` -- every place in order when a mainland debt is named too;
* ``amount_parts`` / ``amount_total`` -- several debts (one per lender) and
  their sum, or the stated total;
* ``banks`` -- every lender named, in order, when there are two or more.

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
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
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

from addons.components import entity_patterns
from chinese_text import quantities

logger = logging.getLogger(__name__)

PATTERNS_PATH = "patterns_path"
EXTRACT_QUANTITIES = "extract_quantities"
DERIVED_FACTS = "derived_facts"


def _resolve(path: Text) -> Path:
    """Relative paths are taken from the working directory (the project root),
    as Rasa does for the other data paths."""
    return Path(path).expanduser()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
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
            # overdue_duration with chinese_text.quantities.
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
        :mod:`addons.components.entity_patterns`, which builds what is persisted, counts too.
        """
        folder = _resolve(config.get(PATTERNS_PATH, cls.get_default_config()[PATTERNS_PATH]))
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
            f"{self.name}: {len(rows)} patterns from '{folder}' for entities {entity_patterns.iter_labels(rows)}."
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
        """Adds the extracted entities and the ``derived_facts`` to each message."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            new, facts = self.analyse(text, [t.text for t in tokens] if tokens else None)
            if new:
                message.set(ENTITIES, list(message.get(ENTITIES, []) or []) + new, add_to_output=True)
            # keep what an earlier component derived; ours are about the same text
            earlier = message.get(DERIVED_FACTS)
            merged = {**earlier, **facts} if isinstance(earlier, dict) else facts
            message.set(DERIVED_FACTS, merged, add_to_output=True)
        return messages

    def analyse(
        self, text: Text, words: Optional[Sequence[Text]] = None
    ) -> Tuple[List[Dict[Text, Any]], Dict[Text, Any]]:
        """The entities of one (normalised) text, in Rasa's format, and its derived facts.
        ``words``: the tokenizer's jieba words of the text, if there are any.

        Equal (entity, value) pairs are reported once, at their first
        position, so that a repeated mention does not turn a slot into a list.
        """
        rules: List[entity_patterns.RuleEntity] = []
        if self._matcher is not None:
            try:
                rules = self._matcher.extract(text, words)
            except Exception:  # never fail a user message on a rule bug
                logger.exception(f"{self.name}: rule matching failed.")
        found = [r for r in rules if r.label not in entity_patterns.DERIVED_LABELS]
        # Numbers inside a name are not money ("360借条", "714高炮"); the words
        # of a loan type stay visible to the money classifier ("房贷三千").
        blocked = [
            (r.start, r.end)
            for r in rules
            if r.label not in entity_patterns.DERIVED_LABELS or any(c.isdigit() for c in text[r.start : r.end])
        ]
        numbers: List[Dict[Text, Any]] = []
        if self._config[EXTRACT_QUANTITIES]:
            numbers = quantities.extract_quantities(text, blocked=blocked)
        facts: Dict[Text, Any] = {}
        renames: Dict[Text, Text] = {}
        try:
            facts, renames = derive_facts(text, rules, numbers)
        except Exception:  # never fail a user message on a rule bug
            logger.exception(f"{self.name}: derived facts failed.")
        entities = [
            self._entity(r.label, renames.get(r.value, r.value) if r.label == "bank" else r.value, r.start, r.end)
            for r in found
        ]
        entities += [self._entity(q["entity"], q["value"], q["start"], q["end"]) for q in numbers]
        entities.sort(key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]))
        seen = set()
        unique = []
        for e in entities:
            key = (e[ENTITY_ATTRIBUTE_TYPE], e[ENTITY_ATTRIBUTE_VALUE])
            if key not in seen:
                seen.add(key)
                unique.append(e)
        return self.add_extractor_name(unique), facts

    @staticmethod
    def _entity(label: Text, value: Any, start: int, end: int) -> Dict[Text, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: label,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_START: start,
            ENTITY_ATTRIBUTE_END: end,
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        }


def derive_facts(
    text: Text,
    rules: Sequence[entity_patterns.RuleEntity],
    numbers: Sequence[Dict[Text, Any]],
) -> Tuple[Dict[Text, Any], Dict[Text, Text]]:
    """The ``derived_facts`` of a text from its rule matches and its quantities,
    and the bank values to rename in this jurisdiction (中信 in a Taiwan story
    is 中国信托)."""
    facts: Dict[Text, Any] = {}
    expense_starts = [q["start"] for q in numbers if q["entity"] == quantities.MONTHLY_EXPENSE]
    types = entity_patterns.loan_types(text, rules, expense_starts)
    if types:
        facts["loan_type"] = types[0]
        if len(types) > 1:
            facts["loan_types"] = types
    place = entity_patterns.jurisdiction(rules)
    renames = dict(place.bank_values)
    if place.place:
        facts["jurisdiction"] = place.place
        if place.places:
            facts["jurisdictions"] = list(place.places)
    stage = entity_patterns.court_stage(rules)
    if stage:
        facts["court_stage"] = stage
    ability = entity_patterns.can_pay(rules)
    if ability:
        facts["can_pay"] = ability
    lenders = [(r.start, r.end, renames.get(r.value, r.value)) for r in rules if r.label == "bank"]
    banks = list(dict.fromkeys(name for _, _, name in lenders))
    if len(banks) >= 2:
        facts["banks"] = banks
    generic = [
        (r.start, r.end, r.value)
        for r in rules
        if r.label == entity_patterns.LOAN_TYPE and r.value in entity_patterns.LOAN_TYPES
    ]
    amounts = [q for q in numbers if q["entity"] == quantities.AMOUNT]
    facts.update(quantities.summarise_debts(text, amounts, lenders, generic))
    return facts, renames
