"""Rasa NLU component: someone claiming to be the police or a court and asking for money.

A message that names an authority (公安, 派出所, 法院, 执行局, 检察院 …) together with a
money demand (安全账户, 保证金, 资金核查, 转账 …) is a likely scam, whatever else it says:
the component adds the alert `fake_authority`, the behavior entities 冒充警察 / 冒充法院 and
转账私人账户 (unless already there), and, unless the classifier already chose an intent that
handles it, sets the intent to `ask_fake_documents`. A live emergency keeps its intent.
The phrases live in data/lexicons/fake_authority.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from addons.components.emergency_net import EMERGENCY_INTENT, add_alert, override_intent
from addons.components.text_normalizer import INPUT_EMPTY
from chinese_text import lexicon_files

FAKE_AUTHORITY = "fake_authority"
SCAM_INTENT = "ask_fake_documents"
# Intents whose answers already cover a fake authority: keep them.
KEEP_INTENTS = frozenset({EMERGENCY_INTENT, SCAM_INTENT, "ask_collector_legitimacy", "ask_criminal_risk"})
BEHAVIOR = "behavior"
PRIVATE_TRANSFER = "转账私人账户"
LEXICON_PATH = "lexicon_path"
DEFAULT_LEXICON = "data/lexicons/fake_authority.yml"


@dataclass(frozen=True)
class Finding:
    """What the detector found: (entity value, start, end) spans in the text."""

    authorities: Tuple[Tuple[str, int, int], ...]
    demand: Tuple[int, int]


class FakeAuthorityDetector:
    """Pure text logic (no Rasa)."""

    def __init__(self, authorities: Dict[str, Pattern[str]], recourse: Pattern[str], demand: Pattern[str]) -> None:
        self._authorities = authorities
        self._recourse = recourse
        self._demand = demand

    @classmethod
    def from_file(cls, path: str) -> "FakeAuthorityDetector":
        data = lexicon_files.load_yaml(path)
        authorities = data.get("authorities") or {}
        if not isinstance(authorities, dict) or not authorities:
            raise lexicon_files.LexiconError(f"{path}: 'authorities' must map entity values to patterns")
        return cls(
            {
                str(value): lexicon_files.compile_any(patterns, f"{path}: authorities.{value}")
                for value, patterns in authorities.items()
            },
            lexicon_files.compile_any(data.get("recourse"), f"{path}: recourse"),
            lexicon_files.compile_any(data.get("money_demand"), f"{path}: money_demand"),
        )

    def size(self) -> int:
        patterns = list(self._authorities.values()) + [self._recourse, self._demand]
        return sum(p.pattern.count("|") + 1 for p in patterns)

    def find(self, text: str) -> Optional[Finding]:
        if not text:
            return None
        demand = self._demand.search(text)
        if demand is None:
            return None
        # "我要去派出所报案" is the user's recourse: blank it out (same length keeps offsets).
        masked = self._recourse.sub(lambda m: "□" * len(m.group(0)), text)
        found = []
        for value, pattern in self._authorities.items():
            match = pattern.search(masked)
            if match:
                found.append((value, match.start(), match.end()))
        return Finding(tuple(found), (demand.start(), demand.end())) if found else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FakeAuthorityGuard(GraphComponent):
    """Flags a fake police / court money demand (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {LEXICON_PATH: DEFAULT_LEXICON}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return lexicon_files.fingerprint([config.get(LEXICON_PATH, DEFAULT_LEXICON)])

    def __init__(self, detector: FakeAuthorityDetector) -> None:
        self._detector = detector

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FakeAuthorityGuard":
        path = {**cls.get_default_config(), **config}[LEXICON_PATH]
        return cls(FakeAuthorityDetector.from_file(path))

    def _entity(self, value: str, start: int, end: int) -> Dict[str, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: BEHAVIOR,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_START: start,
            ENTITY_ATTRIBUTE_END: end,
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            EXTRACTOR: self.__class__.__name__,
        }

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if message.get(INPUT_EMPTY) or not isinstance(text, str):
                continue
            finding = self._detector.find(text)
            if finding is None:
                continue
            add_alert(message, FAKE_AUTHORITY)
            entities = list(message.get(ENTITIES) or [])
            present = {(e.get(ENTITY_ATTRIBUTE_TYPE), e.get(ENTITY_ATTRIBUTE_VALUE)) for e in entities}
            wanted = list(finding.authorities) + [(PRIVATE_TRANSFER, *finding.demand)]
            for value, start, end in wanted:
                if (BEHAVIOR, value) not in present:
                    entities.append(self._entity(value, start, end))
            message.set(ENTITIES, entities, add_to_output=True)
            if (message.get(INTENT) or {}).get("name") not in KEEP_INTENTS:
                override_intent(message, SCAM_INTENT)
        return messages
