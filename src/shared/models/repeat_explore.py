"""``repeat`` and ``repeat_explore``: rank what the customer bought before by a time-aware frequency, and mix
in items they never bought from an explore model.

``TimeAwareRepeat`` (name ``repeat``) follows the time-aware item weighting of TAIW (Romanov, Lashinin,
Ananyeva, Kolesnikov, "Time-Aware Item Weighting for the Next Basket Recommendations", RecSys 2023) and the
repeat/explore split of ReCANet and RepeatNet (Ariannezhad et al., SIGIR 2022; Ren et al., AAAI 2019), in a
closed form that needs no gradient training. With time measured in baskets (score time has basket order,
no timestamps), a previously bought item i scores

    repeat(u, i) = q_i ** item_weight * sum over u's baskets b holding i of decay ** (baskets ago of b)

(newest basket: 0 baskets ago, weight 1). ``decay = 1`` is personal_frequency. ``q_i`` is the item's
repurchase propensity learned at fit time: the share of the item's purchases that the same customer repeats
later, ``(purchases_i - buyers_i + s * q) / (purchases_i + s)``, smoothed by ``s = smoothing`` towards the
mean ``q`` over all purchases: milk is bought again, a barbecue grill is not. ``item_weight = 0`` switches
it off. Items the customer never bought rank below every repeat item, by popularity (as personal_frequency).

``cycle_weight`` > 0 adds a repurchase-cycle term (TAIW's per-item timing, in baskets): each item's typical
inter-purchase gap ``g_i`` is the geometric mean of the gaps (baskets between two consecutive purchases of
the item by one customer) in the fit period, smoothed by ``s = smoothing`` towards the geometric mean ``g``
over all items, ``g_i = exp((sum of log gaps_i + s * log g) / (gaps_i + s))``. A customer whose newest
purchase of i was ``a`` baskets ago reaches the next basket ``since = a + 1`` baskets after it, and

    repeat(u, i) *= 1 + cycle_weight * exp(-ln(since / g_i) ** 2 / (2 * cycle_width ** 2))

(boosted most when the next basket falls on the item's usual cycle). On the Complete Journey validation weeks
it did not help (next_basket NDCG@10 within +-0.001 for weights 0.25 to 2), so the default is 0 (off).

``RepeatExplore`` (name ``repeat_explore``) combines a repeat model with an explore model (e.g. item_knn or
the neighbour part of TIFU-KNN). Both score rows are scaled to a maximum of 1 per query, the repeat scores
kept only on the customer's history items; then

    score(i) = repeat_scaled(i) + explore_weight * explore_scaled(i)

with the explore term on every item (``explore_scope="all"``: it also reorders repeat items) or only on the
items the customer never bought (``"new"``). ``explore_weight`` is the mixing parameter, tuned on validation:
0 is the repeat model alone; a new item outranks a repeat item when its scaled explore score, times the
weight, beats the repeat item's scaled repeat score. Customers without history get the explore model.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import Interactions, Recommender, counts_matrix, popularity_tiebreak
from .tifu_knn import basket_positions, fit_histories

TIE = 1e-6


def repurchase_propensity(train: Interactions, smoothing: float = 10.0) -> np.ndarray:
    """Per item: smoothed share of its purchases (customer baskets) that the same customer repeats later."""
    customers = train.customers.tocsc()
    purchases = np.asarray(customers.sum(axis=0)).ravel().astype(np.float64)
    buyers = np.diff(customers.indptr).astype(np.float64)
    repeats = purchases - buyers
    prior = repeats.sum() / max(purchases.sum(), 1.0)
    return (repeats + smoothing * prior) / (purchases + smoothing)


def repurchase_gaps(train: Interactions, smoothing: float = 10.0) -> np.ndarray:
    """Per item: the smoothed geometric mean of its inter-purchase gaps in baskets (see the module docstring)."""
    _, histories, breaks = fit_histories(train)
    rows, items, ago, _ = basket_positions(histories, breaks)
    order = np.lexsort((ago, items, rows))
    rows, items, ago = rows[order], items[order], ago[order]
    same = (rows[1:] == rows[:-1]) & (items[1:] == items[:-1]) & (ago[1:] != ago[:-1])
    gaps, gap_items = (ago[1:] - ago[:-1])[same].astype(np.float64), items[1:][same]
    logs = np.log(gaps)
    prior = logs.mean() if len(logs) else 0.0
    n = np.bincount(gap_items, minlength=train.n_items)
    total = np.bincount(gap_items, logs, minlength=train.n_items)
    return np.exp((total + smoothing * prior) / (n + smoothing))


def _call(model: Recommender, histories, contexts, breaks) -> np.ndarray:
    if getattr(model, "uses_basket_breaks", False):
        return np.asarray(model.score(histories, contexts, breaks=breaks), dtype=np.float64)
    return np.asarray(model.score(histories, contexts), dtype=np.float64)


def _scale_rows(scores: np.ndarray) -> np.ndarray:
    """Non-finite and negative scores to 0, then each row divided by its maximum (rows of zeros stay 0): a new
    float64 array, computed in place in it (one copy, not one per step)."""
    out = np.array(scores, dtype=np.float64)
    out[~np.isfinite(out)] = 0.0
    np.maximum(out, 0.0, out=out)
    peak = out.max(axis=1, keepdims=True) if out.shape[1] else np.zeros((len(out), 1))
    out /= np.where(peak > 0, peak, 1.0)
    return out


def _scaled_entries(scores: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_scale_rows` of a sparse score matrix, as its entries (row, column, scaled value): every stored
    entry, the implicit zeros staying zero."""
    scores = scores.tocsr(copy=True)
    scores.sum_duplicates()
    coo = scores.tocoo()
    values = np.where(np.isfinite(coo.data), coo.data, 0.0)
    values = np.maximum(values, 0.0)
    peak = np.zeros(scores.shape[0])
    np.maximum.at(peak, coo.row, values)
    return coo.row, coo.col, values / np.where(peak > 0, peak, 1.0)[coo.row]


def _masked(scores, keep: sparse.coo_matrix) -> np.ndarray:
    """``scores`` (float64) where ``keep`` has an entry, 0 elsewhere."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.zeros_like(scores)
    out[keep.row, keep.col] = scores[keep.row, keep.col]
    return out


class TimeAwareRepeat:
    name = "repeat"
    uses_basket_breaks = True

    def __init__(self, decay: float = 0.95, item_weight: float = 0.5, smoothing: float = 10.0,
                 cycle_weight: float = 0.0, cycle_width: float = 1.0):
        if not 0.0 < decay <= 1.0:
            raise ValueError("parameter 'repeat_decay' must be in (0, 1]")
        if item_weight < 0:
            raise ValueError("parameter 'repeat_item_weight' must be at least 0")
        if cycle_weight < 0:
            raise ValueError("parameter 'repeat_cycle_weight' must be at least 0")
        if cycle_width <= 0:
            raise ValueError("parameter 'repeat_cycle_width' must be above 0")
        self.decay, self.item_weight, self.smoothing = decay, item_weight, smoothing
        self.cycle_weight, self.cycle_width = cycle_weight, cycle_width

    def fit(self, train: Interactions) -> "TimeAwareRepeat":
        self.n_items = train.n_items
        self.popularity = popularity_tiebreak(train).astype(np.float64)
        self.propensity = repurchase_propensity(train, self.smoothing)
        self.item_factor = self.propensity ** self.item_weight
        self.gaps = repurchase_gaps(train, self.smoothing) if self.cycle_weight > 0 else None
        return self

    def repeat_scores(self, histories, breaks) -> sparse.csr_matrix:
        """queries x items: the time-decayed, propensity-weighted frequency (0 for items never bought)."""
        rows, items, ago, _ = basket_positions(histories, breaks)
        weight = self.decay ** ago.astype(np.float64) * self.item_factor[items]
        scores = sparse.csr_matrix((weight, (rows, items)), shape=(len(histories), self.n_items))
        if self.cycle_weight > 0 and len(items):
            keys, inverse = np.unique(rows * self.n_items + items, return_inverse=True)
            newest = np.full(len(keys), np.iinfo(np.int64).max)
            np.minimum.at(newest, inverse, ago)
            key_rows, key_items = keys // self.n_items, keys % self.n_items
            ratio = np.log((newest + 1.0) / self.gaps[key_items])
            boost = 1.0 + self.cycle_weight * np.exp(-ratio**2 / (2.0 * self.cycle_width**2))
            scores = scores.multiply(sparse.csr_matrix((boost, (key_rows, key_items)), shape=scores.shape)).tocsr()
        return scores

    def score(self, histories, contexts, breaks=None) -> np.ndarray:
        if breaks is None:
            raise ValueError("repeat needs the basket boundaries of the histories (breaks)")
        rows, items, scaled = _scaled_entries(self.repeat_scores(histories, breaks))
        # repeat items in [1, 2], then the others by popularity in [0, 1): written as the popularity of every
        # item, then the repeat items' entries (one dense pass, not a dense copy per step)
        out = np.repeat(self.popularity[None, :], len(histories), axis=0)
        seen = scaled > 0
        out[rows[seen], items[seen]] = (1.0 + scaled[seen]) + self.popularity[items[seen]] * TIE
        return out


class RepeatExplore:
    name = "repeat_explore"
    uses_basket_breaks = True

    def __init__(self, repeat: Recommender, explore: Recommender, explore_weight: float = 0.5,
                 explore_scope: str = "all"):
        if explore_weight < 0:
            raise ValueError("parameter 'repeat_explore_weight' must be at least 0")
        if explore_scope not in ("all", "new"):
            raise ValueError(f"parameter 'repeat_explore_scope': unknown {explore_scope!r} (all or new)")
        self.repeat, self.explore = repeat, explore
        self.explore_weight, self.explore_scope = explore_weight, explore_scope

    def fit(self, train: Interactions) -> "RepeatExplore":
        self.repeat.fit(train)
        self.explore.fit(train)
        self.n_items = train.n_items
        self.popularity = popularity_tiebreak(train).astype(np.float64)
        return self

    def score(self, histories, contexts, breaks=None) -> np.ndarray:
        if breaks is None:
            raise ValueError("repeat_explore needs the basket boundaries of the histories (breaks)")
        history = counts_matrix(histories, self.n_items).tocoo()  # the items each customer bought before
        if isinstance(self.repeat, TimeAwareRepeat):  # its scores live on history items only: kept sparse
            rows, items, rep = _scaled_entries(self.repeat.repeat_scores(histories, breaks))
        else:
            dense = _scale_rows(_masked(_call(self.repeat, histories, contexts, breaks), history))
            rows, items = np.nonzero(dense)
            rep = dense[rows, items]
        # rep + weight * explore + TIE * popularity, element by element as the dense formula adds them, in the
        # scaled explore scores' array
        out = _scale_rows(_call(self.explore, histories, contexts, breaks))
        if self.explore_scope == "new":
            out[history.row, history.col] = 0.0
        out *= self.explore_weight
        out[rows, items] = rep + out[rows, items]
        out += TIE * self.popularity
        return out
