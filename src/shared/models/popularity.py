"""``popularity``: the same list for everyone, the items in most training baskets first; and
``category_popularity``, the fallback for cold items: an item scores the popularity of its category (how
many training baskets hold any item of it), items inside a category by their own popularity."""
from __future__ import annotations

import numpy as np

from .base import Interactions, popularity_tiebreak


class Popularity:
    name = "popularity"

    def fit(self, train: Interactions) -> "Popularity":
        self.counts = train.item_basket_counts.astype(np.float32)
        return self

    def score(self, histories, contexts) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(histories), len(self.counts)))


class CategoryPopularity:
    name = "category_popularity"

    def fit(self, train: Interactions) -> "CategoryPopularity":
        counts = train.item_basket_counts.astype(np.float64)
        if train.categories is None:  # no category: plain popularity
            self.scores = counts.astype(np.float32)
            return self
        per_category = np.bincount(train.categories, weights=counts, minlength=train.categories.max() + 1)
        self.scores = (per_category[train.categories] / max(per_category.max(), 1.0) + popularity_tiebreak(train) * 1e-3).astype(np.float32)
        return self

    def score(self, histories, contexts) -> np.ndarray:
        return np.broadcast_to(self.scores, (len(histories), len(self.scores)))
