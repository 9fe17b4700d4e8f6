"""Rasa's logistic-regression intent classifier, with its coefficients laid out for prediction.

scikit-learn predicts with `X @ coef_.T`. For a sparse X, scipy needs the dense
right-hand side in C order; `coef_.T` of a C-ordered `coef_` is not, so every
prediction copied the whole (classes x features) matrix: 36 x 58k floats, about
4 ms per message, a third of the parse. Stored in Fortran order, `coef_.T` is
read in place. The arithmetic is the same, so the predictions are identical.

The feature matrix is also built with fewer scipy steps when a message has only
sparse sentence features (this pipeline has no dense featurizer): Rasa stacks
each row with an empty dense block, then stacks the rows.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def lay_out_for_prediction(classifier: Any) -> Any:
    """A fitted linear scikit-learn model whose `coef_.T` is C-contiguous (no copy per predict)."""
    if getattr(classifier, "coef_", None) is not None:
        classifier.coef_ = np.asfortranarray(classifier.coef_)
    return classifier


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Same training, same file in the model, same predictions; prediction without the copy."""

    def train(self, training_data: TrainingData) -> Resource:
        resource = super().train(training_data)
        lay_out_for_prediction(self.clf)
        return resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FastLogisticRegressionClassifier":
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        lay_out_for_prediction(component.clf)
        return component

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            if sparse is None or message.get_dense_features(attribute=TEXT)[1] is not None:
                return super()._create_X(messages)
            # what Rasa's hstack with an empty (1, 0) float block gives
            rows.append(scipy.sparse.csr_matrix(sparse.features, dtype=np.float64))
        if len(rows) == 1:
            return rows[0]
        return scipy.sparse.vstack(rows, format="csr")
