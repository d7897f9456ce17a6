"""``text_knn``: items whose text is like what the customer buys, for items nobody has bought yet.

Content-based, so it ranks cold items (new or rare products) as well as warm ones: each item has a text
embedding (:func:`shared.text.item_embeddings`, unit vectors; zero for an item without text). A query's
profile is

    profile = history_weight * unit(sum over history lines of decay ** age * e_item)  +  unit(mean e of context)

where ``age`` is how many baskets ago the line was bought (0 for the latest basket; with ``decay`` < 1 recent
baskets count more, and an item bought often counts as often: recency and frequency together). An item's
score is the cosine of its embedding with the profile, plus the popularity tie-break (items with the same
text, e.g. every "soft drinks; carbonated soft drinks; grocery", are ordered by training popularity).

Construction takes the embeddings and the item ids they are aligned to (any catalogue order; items of the
training catalogue without an embedding get a zero vector, i.e. only the tie-break). It never reads a
parameter dict. For :func:`shared.evaluate.evaluate`, build it once and pass a factory::

    vectors, info = text.item_embeddings(catalogue, catalogue["item_id"], run_dir / "data", fingerprint)
    evaluate(lines, catalogue, params, [..., "text_knn"],
             factories={"text_knn": lambda p: TextKNN(vectors, catalogue["item_id"])})
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .base import Interactions, counts_matrix, popularity_tiebreak


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class TextKNN:
    """Cosine of item text embeddings with a recency- and frequency-weighted profile of the customer."""

    name = "text_knn"
    uses_basket_breaks = True

    def __init__(self, embeddings: np.ndarray, item_ids: Sequence[str] | np.ndarray | pd.Index,
                 history_weight: float = 1.0, decay: float = 0.9, tiebreak_weight: float = 1e-4):
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[0] != len(item_ids):
            raise ValueError(
                f"text_knn: embeddings {embeddings.shape} do not match the {len(item_ids)} item ids they belong to"
            )
        if not 0 < decay <= 1:
            raise ValueError(f"text_knn: decay must be in (0, 1], got {decay!r}")
        if history_weight < 0:
            raise ValueError(f"text_knn: history_weight must be non-negative, got {history_weight!r}")
        self.source_embeddings = embeddings
        self.source_ids = pd.Index(pd.Series(list(item_ids), dtype="object").astype("str"))
        self.history_weight, self.decay, self.tiebreak_weight = float(history_weight), float(decay), float(tiebreak_weight)

    def fit(self, train: Interactions) -> "TextKNN":
        where = self.source_ids.get_indexer(pd.Index(train.item_ids).astype("str"))
        self.embeddings = np.zeros((train.n_items, self.source_embeddings.shape[1]), dtype=np.float32)
        self.embeddings[where >= 0] = self.source_embeddings[where[where >= 0]]
        self.missing = int((where < 0).sum())
        self.n_items = train.n_items
        self.tiebreak = popularity_tiebreak(train) * self.tiebreak_weight
        return self

    def history_weights(self, histories: Sequence[np.ndarray], breaks: Sequence[np.ndarray] | None = None) -> sparse.csr_matrix:
        """queries x items: each history line weighted by ``decay ** age`` (age in baskets, 0 = latest)."""
        rows, cols, vals = [], [], []
        for q, history in enumerate(histories):
            history = np.asarray(history, dtype=np.int64)
            if len(history) == 0:
                continue
            if breaks is not None and breaks[q] is not None and len(breaks[q]):
                basket = np.searchsorted(np.asarray(breaks[q]), np.arange(len(history)), side="right")
                age = basket[-1] - basket
            else:
                age = np.zeros(len(history), dtype=np.int64)
            rows.append(np.full(len(history), q))
            cols.append(history)
            vals.append(self.decay ** age.astype(np.float64))
        if not rows:
            return sparse.csr_matrix((len(histories), self.n_items), dtype=np.float32)
        return sparse.csr_matrix(
            (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(histories), self.n_items),
        )

    def profiles(self, histories, contexts, breaks=None) -> np.ndarray:
        """queries x dimension: the profile each query is scored against (zero when it has nothing)."""
        history = _unit_rows(np.asarray(self.history_weights(histories, breaks) @ self.embeddings))
        context = _unit_rows(np.asarray(counts_matrix(contexts, self.n_items) @ self.embeddings))
        return self.history_weight * history + context

    def score(self, histories, contexts, breaks=None) -> np.ndarray:
        return self.profiles(histories, contexts, breaks) @ self.embeddings.T + self.tiebreak


__all__ = ["TextKNN"]
