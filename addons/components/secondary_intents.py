"""Rasa NLU component: other worries in the same message ("…还说要去我单位找领导").

The classifier answers the question clause. This component looks at the other clauses
of the message: each is classified by a small model of its own (character n-grams and
jieba words, logistic regression, trained on the training examples' question clauses),
and an advisory intent other than the main one, found with good confidence, is added
to the parse data as `secondary_intents` ([{"name", "confidence", "clause"}]). Actions
read it from the tracker's latest message and add one line and a button for it.
Placed after the intent classifier.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.components.fast_logistic_regression import lay_out_for_prediction
from addons.components.question_focus import clauses, focus_clause, other_clauses
from addons.components.question_focus_featurizer import _analyzer

logger = logging.getLogger(__name__)
MODEL_FILE = "clause_model.pkl"
SECONDARY = "secondary_intents"
MIN_CLAUSE_CHARS = 4


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SecondaryIntents(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "threshold": 0.6,  # a clause's probability for the other intent
            "max_secondary": 2,
            # only these can be a second worry (conversation intents and emergencies cannot)
            "ignore_intents": [
                "inform",
                "greet",
                "goodbye",
                "affirm",
                "deny",
                "thank",
                "bot_challenge",
                "ask_capabilities",
                "request_human",
                "delete_my_data",
                "out_of_scope",
                "ask_legal_basis",
                "start_collector_check",
                "start_installment_plan",
                "start_incident_log",
                "cancel",
                "empty_message",
                "request_case_summary",
                "emergency_now",
                "nlu_fallback",
            ],
        }

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model: Optional[Any] = None
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model  # (vectorizer, classifier)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SecondaryIntents":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        from addons.components import question_focus

        return hashlib.sha256(Path(question_focus.__file__).read_bytes()).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts, labels = [], []
        for message in training_data.intent_examples:
            text = message.get(TEXT) or ""
            if text and message.get(INTENT):
                texts.append(focus_clause(text) or text)
                labels.append(message.get(INTENT))
        vectorizer = TfidfVectorizer(analyzer=_analyzer(3), sublinear_tf=True)
        classifier = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced", random_state=42)
        classifier.fit(vectorizer.fit_transform(texts), labels)
        self._model = (vectorizer, lay_out_for_prediction(classifier))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(pickle.dumps((vectorizer.vocabulary_, vectorizer.idf_, classifier)))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SecondaryIntents":
        from sklearn.feature_extraction.text import TfidfVectorizer

        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary, idf, classifier = pickle.loads((directory / MODEL_FILE).read_bytes())
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: no trained clause model; retrain.")
            return component
        vectorizer = TfidfVectorizer(analyzer=_analyzer(3), sublinear_tf=True)
        vectorizer.vocabulary_ = vocabulary
        vectorizer.idf_ = idf
        component._model = (vectorizer, lay_out_for_prediction(classifier))
        return component

    def secondary(self, text: str, main_intent: Optional[str]) -> List[Dict[str, Any]]:
        """Other advisory intents found in the clauses outside the question."""
        if self._model is None or len(clauses(text)) < 2:
            return []
        vectorizer, classifier = self._model
        candidates = [c for c in other_clauses(text) if sum(ch.isalnum() for ch in c) >= MIN_CLAUSE_CHARS]
        if not candidates:
            return []
        probabilities = classifier.predict_proba(vectorizer.transform(candidates))
        ignored = set(self._config["ignore_intents"]) | {main_intent}
        best: Dict[str, Dict[str, Any]] = {}
        for clause, row in zip(candidates, probabilities):
            index = int(row.argmax())
            name, confidence = str(classifier.classes_[index]), float(row[index])
            if name in ignored or confidence < float(self._config["threshold"]):
                continue
            if name not in best or confidence > best[name]["confidence"]:
                best[name] = {"name": name, "confidence": confidence, "clause": clause}
        ranked = sorted(best.values(), key=lambda item: -item["confidence"])
        return ranked[: int(self._config["max_secondary"])]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            main = (message.get(INTENT) or {}).get("name")
            found = self.secondary(message.get(TEXT) or "", main)
            message.set(SECONDARY, found, add_to_output=True)
        return messages
