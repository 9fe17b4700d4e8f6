"""Rasa featurizer: the question clause gets features of its own.

In a long story the background words (催收, 银行, 上门 …) outnumber the few words that
ask the question, and a bag-of-words classifier follows the background. This
featurizer finds the question clause (addons/components/question_focus.py) and adds sentence
features built only from it: jieba words and character 1–3-grams in a vocabulary of
their own, so "会不会影响房贷" weighs as much in a five-sentence story as in a
fragment. For a one-clause message the focus is the whole message.

Placed after the tokenizer and before the classifier in config.yml; trained on the
training data's focus clauses; its vocabulary is stored in the model archive.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.components.question_focus import focus_clause

logger = logging.getLogger(__name__)
VOCABULARY_FILE = "vectorizer.pkl"
FOCUS = "question_focus"  # parse-data key: the clause the featurizer focused on


def _analyzer(max_ngram: int):
    def analyze(text: str) -> List[str]:
        import jieba

        words = [f"w:{w}" for w in jieba.lcut(text) if w.strip()]
        chars = [f"c:{text[i : i + n]}" for n in range(1, max_ngram + 1) for i in range(len(text) - n + 1)]
        return words + chars

    return analyze


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class QuestionFocusFeaturizer(SparseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "max_ngram": 3,  # character n-grams 1..max_ngram
            "min_df": 1,
            "weight": 1.0,  # scale of the focus features against the whole-message ones
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Editing the clause rules (addons/components/question_focus.py) retrains the component."""
        import hashlib

        from addons.components import question_focus

        return hashlib.sha256(Path(question_focus.__file__).read_bytes()).hexdigest()

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("max_ngram", 3)) < 1 or float(config.get("weight", 1.0)) <= 0:
            raise ValueError("QuestionFocusFeaturizer: max_ngram >= 1 and weight > 0")

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, vectorizer: Optional[Any] = None
    ) -> None:
        super().__init__(self.__class__.__name__, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer = vectorizer

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionFocusFeaturizer":
        return cls(config, model_storage, resource)

    def _new_vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(
            analyzer=_analyzer(int(self._config["max_ngram"])), min_df=int(self._config["min_df"]), binary=True
        )

    def train(self, training_data: TrainingData) -> Resource:
        texts = [focus_clause(m.get(TEXT) or "") or "?" for m in training_data.training_examples if m.get(TEXT)]
        self._vectorizer = self._new_vectorizer()
        self._vectorizer.fit(texts)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_bytes(pickle.dumps(self._vectorizer.vocabulary_))
        logger.info(f"{self.__class__.__name__}: {len(self._vectorizer.vocabulary_)} focus features.")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "QuestionFocusFeaturizer":
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = pickle.loads((directory / VOCABULARY_FILE).read_bytes())
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: no trained vocabulary in the model; retrain.")
            return component
        vectorizer = component._new_vectorizer()
        vectorizer.vocabulary_ = vocabulary
        component._vectorizer = vectorizer
        return component

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text or self._vectorizer is None:
            return
        focus = focus_clause(text) or text
        features = self._vectorizer.transform([focus]).astype(float) * float(self._config["weight"])
        self.add_features_to_message(None, scipy.sparse.coo_matrix(features), TEXT, message)
        message.set(FOCUS, focus, add_to_output=False)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._featurize(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message)
        return messages
