"""Sentence-only count vectors: Rasa's sentence features, no per-token features."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Type

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.components.sentence_count_vectors import SentenceCountVectorsFeaturizer

TRAINING = [
    ("催收员上门了怎么办", "ask_visit_process"),
    ("他们打电话给我爸妈", "report_harassment"),
    ("会不会坐牢", "ask_criminal_risk"),
    ("征信会不会受影响", "ask_credit_report"),
]
NEW_TEXTS = ["催收打电话给我单位怎么办", "坐牢吗", "完全没见过的词语"]


def _tokenizer(storage: LocalModelStorage, context: ExecutionContext) -> JiebaTokenizer:
    return JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("jieba"), context)


def _featurize(cls: Type[CountVectorsFeaturizer], config: Dict[str, Any], tmp: Path) -> List[Message]:
    tmp.mkdir(parents=True)
    storage = LocalModelStorage(tmp)
    resource = Resource(f"train_{cls.__name__}")
    context = ExecutionContext(GraphSchema({}), "test-model")
    featurizer = cls.create({**cls.get_default_config(), **config}, storage, resource, context)
    tokenizer = _tokenizer(storage, context)
    training = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in TRAINING])
    featurizer.train(tokenizer.process_training_data(training))
    loaded = cls.load({**cls.get_default_config(), **config}, storage, resource, context)
    return loaded.process(tokenizer.process([Message(data={TEXT: t}) for t in NEW_TEXTS]))


@pytest.mark.parametrize("config", [{}, {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3}])
def test_same_sentence_features_as_rasa_and_no_sequence_features(tmp_path, config):
    ours = _featurize(SentenceCountVectorsFeaturizer, config, tmp_path / "ours")
    rasa = _featurize(CountVectorsFeaturizer, config, tmp_path / "rasa")
    for mine, theirs in zip(ours, rasa):
        sequence, sentence = mine.get_sparse_features(TEXT)
        rasa_sequence, rasa_sentence = theirs.get_sparse_features(TEXT)
        assert rasa_sequence is not None and sequence is None
        assert sentence is not None and sentence.features.shape == rasa_sentence.features.shape
        assert np.array_equal(sentence.features.toarray(), rasa_sentence.features.toarray())
    # the texts share words with the training data: the features are not all zero
    assert ours[0].get_sparse_features(TEXT)[1].features.sum() > 0
