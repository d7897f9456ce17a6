"""``rules``: recommend what association rules say follows from the items at hand.

Fitting mines the training baskets (:mod:`shared.mining`, same support, count floor and engine as notebook
02) and keeps every rule above ``rules_min_confidence``. A query's items are its basket context, or, when
the context is empty (next_basket), the items of the customer's history. An item's score is the best
``confidence`` (or ``lift``, parameter ``rules_score``) among the rules whose antecedent lies inside the
query's items and whose consequent is the item; items no rule reaches are ordered by popularity below every
rule-backed item, so the list is always full.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np
from scipy import sparse

from .. import mining
from ..spark_session import SparkSettings
from .base import Interactions, counts_matrix, popularity_tiebreak


class RulesRecommender:
    name = "rules"

    def __init__(self, min_support: float, min_confidence: float, score: str, min_count: int, max_len: int,
                 engine: str = "fim", spark: SparkSettings | None = None):
        if score not in ("confidence", "lift"):
            raise ValueError(f"parameter 'rules_score': unknown score {score!r} (confidence or lift)")
        self.min_support, self.min_confidence, self.score_by = min_support, min_confidence, score
        self.min_count, self.max_len, self.engine, self.spark = min_count, max_len, engine, spark

    def fit(self, train: Interactions) -> "RulesRecommender":
        baskets = np.split(train.baskets.indices, train.baskets.indptr[1:-1])
        itemsets = mining.frequent_itemsets(
            [b.tolist() for b in baskets], self.min_support, max_len=self.max_len or None,
            engine=self.engine, min_count=self.min_count, spark=self.spark,
        )
        found = mining.association_rules(itemsets, itemsets.attrs["n_baskets"], self.min_confidence, min_count=self.min_count)
        self.n_rules = len(found)
        # rules grouped by antecedent: antecedent (tuple of items) -> (consequent items, scores)
        grouped: dict[tuple[int, ...], list[tuple[int, float]]] = defaultdict(list)
        for ante, cons, value in zip(found["antecedent"], found["consequent"], found[self.score_by]):
            grouped[tuple(sorted(ante))].append((next(iter(cons)), float(value)))
        self.rules = {a: (np.array([c for c, _ in v]), np.array([s for _, s in v], dtype=np.float32)) for a, v in grouped.items()}
        self.n_items = train.n_items
        top = max((float(s.max()) for _, s in self.rules.values()), default=1.0)
        # popularity below the weakest rule: rule scores are shifted up by 1 + top
        self.offset = 1.0 + top
        self.fallback = popularity_tiebreak(train)
        return self

    def score(self, histories: Sequence[np.ndarray], contexts: Sequence[np.ndarray]) -> np.ndarray:
        items = [c if len(c) else h for c, h in zip(contexts, histories)]
        present = (counts_matrix(items, self.n_items) > 0).tocsc()
        best = np.zeros((len(items), self.n_items), dtype=np.float32)
        for antecedent, (consequents, values) in self.rules.items():
            rows = _rows_with_all(present, antecedent)
            if len(rows):
                block = best[np.ix_(rows, consequents)]
                best[np.ix_(rows, consequents)] = np.maximum(block, values + self.offset)
        return best + self.fallback


def _rows_with_all(present: sparse.csc_matrix, items: tuple[int, ...]) -> np.ndarray:
    rows = present.indices[present.indptr[items[0]] : present.indptr[items[0] + 1]]
    for item in items[1:]:
        rows = np.intersect1d(rows, present.indices[present.indptr[item] : present.indptr[item + 1]], assume_unique=True)
    return rows
