"""``personal_frequency``: what this customer always buys.

An item's score is the number of the customer's past baskets that hold it, backed off to global popularity:
the popularity term is below 1, so it only orders items the customer never bought (and breaks ties). A
strong baseline in grocery next-basket recommendation (Li et al. 2023).
"""
from __future__ import annotations

import numpy as np

from .base import Interactions, counts_matrix, popularity_tiebreak


class PersonalFrequency:
    name = "personal_frequency"

    def fit(self, train: Interactions) -> "PersonalFrequency":
        self.n_items = train.n_items
        self.backoff = popularity_tiebreak(train)
        return self

    def score(self, histories, contexts) -> np.ndarray:
        return counts_matrix(histories, self.n_items).toarray() + self.backoff
