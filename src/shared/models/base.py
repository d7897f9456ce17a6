"""The model protocol (docs/architecture.md, "Model protocol"), the training data every model is fitted on, and ``recommend``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import sparse


@dataclass
class Interactions:
    """Fit-period lines encoded over the run's item catalogue (all items of the cleaned data).

    ``baskets`` is a baskets x items 0/1 matrix, ``customers`` a customers x items matrix of basket counts.
    """

    item_ids: np.ndarray
    customer_ids: np.ndarray
    baskets: sparse.csr_matrix
    customers: sparse.csr_matrix
    basket_customer: np.ndarray  # customer index of each basket row
    lines: pd.DataFrame
    categories: np.ndarray | None = None  # integer category code per item, where the catalogue has one

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def item_basket_counts(self) -> np.ndarray:
        return np.asarray(self.baskets.sum(axis=0)).ravel()

    @classmethod
    def from_lines(cls, lines: pd.DataFrame, item_ids: np.ndarray) -> "Interactions":
        if lines.empty:
            raise ValueError("no training interactions: the fit period has no lines")
        items = pd.Index(item_ids).get_indexer(lines["item_id"])
        if (items < 0).any():
            raise ValueError("fit lines hold items outside the catalogue")
        basket_codes, basket_ids = pd.factorize(lines["basket_id"], sort=True)
        customer_codes, customer_ids = pd.factorize(lines["customer_id"], sort=True)
        ones = np.ones(len(lines), dtype=np.float32)
        baskets = sparse.csr_matrix((ones, (basket_codes, items)), shape=(len(basket_ids), len(item_ids)))
        baskets.data[:] = 1.0  # one line per (basket, item) after cleaning; guard anyway
        customers = sparse.csr_matrix((ones, (customer_codes, items)), shape=(len(customer_ids), len(item_ids)))
        basket_customer = np.zeros(len(basket_ids), dtype=np.int64)
        basket_customer[basket_codes] = customer_codes
        return cls(np.asarray(item_ids), np.asarray(customer_ids), baskets, customers, basket_customer, lines)


class Recommender(Protocol):
    name: str

    def fit(self, train: Interactions) -> "Recommender": ...

    def score(self, histories: Sequence[np.ndarray], contexts: Sequence[np.ndarray]) -> np.ndarray:
        """One row of item scores per query (higher is better; -inf or NaN: never recommend)."""
        ...


def counts_matrix(rows: Sequence[np.ndarray], n_items: int) -> sparse.csr_matrix:
    """queries x items matrix counting how often each item appears in each row (history or context)."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    cols = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if lengths.sum() else np.zeros(0, np.int64)
    data = np.ones(len(cols), dtype=np.float32)
    return sparse.csr_matrix((data, (np.repeat(np.arange(len(rows)), lengths), cols)), shape=(len(rows), n_items))


def popularity_tiebreak(train: Interactions) -> np.ndarray:
    """Item popularity scaled into [0, 1): added to a score, it breaks ties by popularity and nothing else."""
    counts = train.item_basket_counts.astype(np.float64)
    return (counts / (counts.max() + 1.0)).astype(np.float32)


def recommend(
    model: Recommender,
    histories: Sequence[np.ndarray],
    contexts: Sequence[np.ndarray],
    k: int,
    exclude_context: bool = True,
    batch_size: int = 1024,
    breaks: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Top-k item indices per query (queries x k, -1 where fewer than k items have a finite score).

    Items already in the query's context are never recommended; items of the history may be (repeat
    purchases are most of grocery shopping). Scoring runs in batches of ``batch_size`` queries. Models that
    read basket boundaries (``uses_basket_breaks``) get ``breaks``: where each history's baskets start.
    """
    with_breaks = getattr(model, "uses_basket_breaks", False)
    if with_breaks and breaks is None:
        raise ValueError(f"{model.name} needs the basket boundaries of the histories (breaks)")
    n = len(histories)
    out = np.full((n, k), -1, dtype=np.int64)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if with_breaks:
            raw = model.score(histories[start:stop], contexts[start:stop], breaks=breaks[start:stop])
        else:
            raw = model.score(histories[start:stop], contexts[start:stop])
        scores = np.array(raw, dtype=np.float32, copy=True)
        if scores.ndim != 2 or scores.shape[0] != stop - start:
            raise ValueError(f"{model.name}.score returned shape {scores.shape} for {stop - start} queries")
        if exclude_context:
            ctx = counts_matrix(contexts[start:stop], scores.shape[1]).tocoo()
            scores[ctx.row, ctx.col] = -np.inf
        top = top_k(scores, k)
        out[start:stop, : top.shape[1]] = top
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row of ``scores`` (queries x items, a writable float32 array, changed in place: non-finite values become -inf): the
    indices of the ``k`` highest finite scores, best first, equal scores in item order (also at the cut: of
    several items tied for the last place, the lowest indices are kept); -1 after a row's finite scores run
    out. ``torch.topk`` finds each row's k-th score (8x faster than a NumPy partition); the items above it, and
    as many as there are places left of those equal to it, are then read off in item order."""
    n, m = scores.shape
    kk = min(k, m)
    out = np.full((n, kk), -1, dtype=np.int64)
    if kk == 0 or n == 0:
        return out
    table = torch.from_numpy(scores).nan_to_num_(nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
    cut = torch.topk(table, kk, dim=1).values[:, -1:]  # each row's kk-th highest score
    above_rows, above_cols = (t.numpy() for t in (table > cut).nonzero(as_tuple=True))
    # a row whose kk-th score is -inf has fewer finite scores than places: nothing at its cut is taken
    at_rows, at_cols = (t.numpy() for t in (table == torch.where(cut == -np.inf, np.nan, cut)).nonzero(as_tuple=True))
    places = kk - np.bincount(above_rows, minlength=n)
    rank = np.arange(len(at_rows)) - np.searchsorted(at_rows, np.arange(n))[at_rows]  # in item order within a row
    kept = rank < places[at_rows]
    rows = np.concatenate([above_rows, at_rows[kept]])
    cols = np.concatenate([above_cols, at_cols[kept]])
    order = np.lexsort((cols, -scores[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    out[rows, np.arange(len(rows)) - np.searchsorted(rows, np.arange(n))[rows]] = cols
    return out
