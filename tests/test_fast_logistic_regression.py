"""The classifier's coefficient layout and feature matrix: same predictions, fewer copies per prediction."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from sklearn.linear_model import LogisticRegression

from addons.components.fast_logistic_regression import FastLogisticRegressionClassifier, lay_out_for_prediction


def fitted(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(200, 500, density=0.02, format="csr", random_state=seed)
    y = rng.integers(0, 5, size=200)
    return LogisticRegression(max_iter=500).fit(X, y), X


def test_predictions_are_identical_after_the_layout():
    model, X = fitted()
    before = model.predict_proba(X[:20])
    lay_out_for_prediction(model)
    assert np.array_equal(model.predict_proba(X[:20]), before)


def test_the_transposed_coefficients_are_read_in_place():
    model, _ = fitted()
    assert not model.coef_.T.flags["C_CONTIGUOUS"]  # scikit-learn's layout: ravel() would copy
    lay_out_for_prediction(model)
    assert model.coef_.T.flags["C_CONTIGUOUS"]
    assert np.shares_memory(model.coef_.T.ravel(), model.coef_)


def test_an_unfitted_model_is_left_alone():
    model = LogisticRegression()
    assert lay_out_for_prediction(model) is model and not hasattr(model, "coef_")


def _message(seed: int, dense: bool = False) -> Message:
    message = Message(data={TEXT: f"text {seed}"})
    for origin, width, dtype in (("words", 40, np.int64), ("chars", 70, np.float64)):
        block = scipy.sparse.random(1, width, density=0.2, format="coo", random_state=seed, dtype=np.float64)
        message.add_features(Features(block.astype(dtype), FEATURE_TYPE_SENTENCE, TEXT, origin))
    if dense:
        message.add_features(Features(np.ones((1, 3)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    return message


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("count", [1, 5])
def test_the_feature_matrix_is_rasas(tmp_path, count, dense):
    config = {**LogisticRegressionClassifier.get_default_config()}
    storage, resource = LocalModelStorage(tmp_path), Resource("lr")
    ours = FastLogisticRegressionClassifier(config, "lr", storage, resource)
    rasa = LogisticRegressionClassifier(config, "lr", storage, resource)
    messages = [_message(seed, dense) for seed in range(count)]
    mine, theirs = ours._create_X(messages), rasa._create_X(messages)
    assert mine.shape == theirs.shape == (count, 110 + (3 if dense else 0))
    assert mine.dtype == theirs.dtype
    assert np.array_equal(mine.toarray(), theirs.toarray())
