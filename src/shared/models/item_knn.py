"""``item_knn``: item-item co-occurrence in training baskets.

Similarity of items i and j from the number of baskets holding both, ``c_ij``, and each, ``c_i``, ``c_j``:
``cosine`` = c_ij / sqrt(c_i c_j), or ``lift`` = c_ij N / (c_i c_j) (N baskets; pairs seen in fewer than
``min_pair_count`` baskets are left out, lift being noisy there). Each item keeps its ``neighbours`` most
similar items. A query's score is ``(context + history_weight * history share) @ similarity``: the items
already in the basket count fully, the customer's history (counts divided by their maximum) less.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import Interactions, counts_matrix, popularity_tiebreak


def cooccurrence(baskets: sparse.csr_matrix) -> sparse.csr_matrix:
    """items x items: number of baskets holding both items (diagonal: baskets holding the item)."""
    b = baskets.astype(np.float32)
    return (b.T @ b).tocsr()


def top_k_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Keep the k largest entries of each row."""
    matrix = matrix.tocsr()
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    keep = np.zeros(len(data), dtype=bool)
    for row in range(matrix.shape[0]):
        lo, hi = indptr[row], indptr[row + 1]
        if hi - lo <= k:
            keep[lo:hi] = True
        else:
            keep[lo + np.argpartition(-data[lo:hi], k - 1)[:k]] = True
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(indptr))
    return sparse.csr_matrix((data[keep], (rows[keep], indices[keep])), shape=matrix.shape)


class ItemKNN:
    name = "item_knn"

    def __init__(self, weighting: str = "cosine", neighbours: int = 200, history_weight: float = 0.3, min_pair_count: int = 2):
        if weighting not in ("cosine", "lift"):
            raise ValueError(f"parameter 'knn_weighting': unknown weighting {weighting!r} (cosine or lift)")
        if neighbours < 1:
            raise ValueError("parameter 'knn_neighbours' must be at least 1")
        self.weighting = weighting
        self.neighbours = neighbours
        self.history_weight = history_weight
        self.min_pair_count = min_pair_count

    def fit(self, train: Interactions) -> "ItemKNN":
        co = cooccurrence(train.baskets).tocoo()
        counts = train.item_basket_counts.astype(np.float64)
        off = (co.row != co.col) & (co.data >= self.min_pair_count)
        rows, cols, both = co.row[off], co.col[off], co.data[off].astype(np.float64)
        if self.weighting == "cosine":
            sim = both / np.sqrt(counts[rows] * counts[cols])
        else:
            sim = both * train.baskets.shape[0] / (counts[rows] * counts[cols])
        full = sparse.csr_matrix((sim.astype(np.float32), (rows, cols)), shape=(train.n_items, train.n_items))
        self.similarity = top_k_per_row(full, self.neighbours)
        self.n_items = train.n_items
        self.tiebreak = popularity_tiebreak(train) * 1e-3
        return self

    def score(self, histories, contexts) -> np.ndarray:
        history = counts_matrix(histories, self.n_items)
        peak = np.asarray(history.max(axis=1).todense()).ravel()
        history = sparse.diags(1.0 / np.maximum(peak, 1.0)) @ history
        query = counts_matrix(contexts, self.n_items) + self.history_weight * history
        # scores[q, j] = sum_i query[q, i] * sim[i, j]
        return (query @ self.similarity).toarray() + self.tiebreak
