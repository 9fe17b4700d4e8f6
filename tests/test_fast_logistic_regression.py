"""The classifier's coefficient layout: same predictions, no copy of coef_ per prediction."""
from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from addons.fast_logistic_regression import lay_out_for_prediction


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
