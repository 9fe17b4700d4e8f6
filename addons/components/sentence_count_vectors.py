"""Rasa's CountVectorsFeaturizer, producing sentence features only.

Rasa computes two feature matrices per message: one row per token (sequence
features, read by DIET and TED) and one for the whole message (sentence
features). Nothing in this pipeline reads the sequence features: the logistic
regression classifier stacks the sentence features only, and there is no DIET
or TED. Counting every token as its own document cost as much as the sentence
itself, half the featurizer's time. Same vocabulary, same sentence features,
so the same predictions.
"""

from __future__ import annotations

from typing import List, Optional, Text, Tuple

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer without the per-token features (only sentence features are read here)."""

    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        if not self.vectorizers.get(attribute):
            return [None], [None]
        sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            sequence_features.append(None)
            if not tokens or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentence_features.append(None)
                continue
            # as Rasa's: the tokens joined by spaces, one document
            sentence = self.vectorizers[attribute].transform([" ".join(tokens)])
            sentence.sort_indices()
            sentence_features.append(sentence.tocoo())
        return sequence_features, sentence_features
