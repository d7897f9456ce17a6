"""``als`` and ``bpr``: matrix factorization of the customer x item matrix with ``implicit`` (CPU or GPU).

- Training matrix: each customer's basket count per item from the fit period, weighted by ``mf_weighting``:
  ``raw`` counts, ``log`` (log1p of counts) or ``bm25`` (term frequency saturated with k1 = 100, b = 0.8
  against the customer's history length, times the item's inverse document frequency), with the idf and
  average length learned on the training customers so that queries are weighted the same way.
- Queries are folded in, so customers first seen in the test period are served: the history (and, counted
  ``context_weight`` times, the items already in the basket) become a row of the same weighted matrix. ALS
  solves the user's least-squares problem exactly (:func:`fold_in`, the normal equations of implicit's
  ``recalculate_user``); BPR runs a
  few hundred vectorised SGD steps of its own loss on the user vector with the item factors frozen.
- Cold items, bought in fewer than ``mf_min_item_count`` training baskets, have no reliable factors: they are
  ranked below every warm item, among themselves by the popularity of their category (fallback).
- A query with nothing to fold in (no history and no context, or only cold items) gets ALS's zero user
  vector, which ties every item at 0: ALS ranks it by popularity instead, like every other model
  (``popularity_tiebreak``). BPR's folded-in user keeps its item-bias column, so BPR ranks it by that bias.
- With ``cache`` (``mf_cache``: the run folder's ``data/mf_fits/``), a fit is kept under a hash of the weighted
  training matrix and every setting (:func:`fit_key`) and read back instead of refitted: notebook 05's ALS and
  BPR, fitted on the same weeks with the settings notebook 03 chose, are notebook 03's fits, number for number.
- BLAS is limited to one thread around fits (threadpoolctl), as implicit's documentation advises; the GPU is
  used only when ``mf_use_gpu`` asks for it and CUDA is present. BPR trains on one thread: implicit's
  multi-threaded BPR is lock-free (Hogwild) SGD, so two runs would not give the same tables.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats
from threadpoolctl import threadpool_limits

from ...config import ParameterError
from ...files import write_atomically
from ..base import Interactions, counts_matrix, popularity_tiebreak

WEIGHTINGS = ("raw", "log", "bm25")
CONFIDENCES = ("implicit", "hkv")


class Weighting:
    """Confidence weighting of count matrices, with statistics learned on the training matrix."""

    def __init__(self, kind: str, k1: float = 100.0, b: float = 0.8):
        if kind not in WEIGHTINGS:
            raise ParameterError(f"parameter 'mf_weighting': unknown weighting {kind!r} (choose from {', '.join(WEIGHTINGS)})")
        self.kind, self.k1, self.b = kind, k1, b

    def fit(self, counts: sparse.csr_matrix) -> "Weighting":
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf = np.log(n / (1.0 + df)).clip(min=0.0).astype(np.float32)
        self.avg_length = float(np.asarray(counts.sum(axis=1)).mean()) or 1.0
        return self

    def __call__(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        counts = counts.tocsr().astype(np.float32)
        if self.kind == "raw":
            return counts
        if self.kind == "log":
            counts.data = np.log1p(counts.data)
            return counts
        length = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_length)
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        tf = counts.data * (self.k1 + 1.0) / (norm[rows] + counts.data)
        counts.data = (tf * self.idf[counts.indices]).astype(np.float32)
        counts.eliminate_zeros()
        return counts


def _gpu_available() -> bool:
    try:
        import implicit.gpu

        return bool(implicit.gpu.HAS_CUDA)
    except Exception:  # pragma: no cover - depends on the build
        return False


class MatrixFactorization:
    """Shared parts of ``als`` and ``bpr``: weighting, fold-in batches, cold-item fallback."""

    name = "mf"
    popularity_when_empty = False  # rank a query with nothing to fold in by popularity (its user vector says nothing)

    def __init__(self, factors: int, regularization: float, iterations: int, weighting: str = "bm25",
                 min_item_count: int = 5, context_weight: float = 3.0, seed: int = 42, use_gpu: bool = False,
                 cache: str | None = None):
        if not isinstance(factors, (int, np.integer)) or factors < 1:
            raise ParameterError(f"parameter '{self.name}_factors': must be a positive integer, got {factors!r}")
        if iterations < 1:
            raise ParameterError(f"parameter '{self.name}_iterations': must be at least 1, got {iterations!r}")
        if regularization < 0:
            raise ParameterError(f"parameter '{self.name}_regularization': must be non-negative, got {regularization!r}")
        if use_gpu and not _gpu_available():
            raise ParameterError("parameter 'mf_use_gpu': CUDA is not available to implicit on this machine")
        self.factors, self.regularization, self.iterations = int(factors), regularization, int(iterations)
        self.weighting = Weighting(weighting)
        self.min_item_count, self.context_weight, self.seed, self.use_gpu = min_item_count, context_weight, seed, use_gpu
        self.curve: list[tuple] = []
        self.cache, self.from_cache = cache, False

    # -- fitting -------------------------------------------------------------------------------
    def _prepare(self, train: Interactions) -> sparse.csr_matrix:
        if train.customers.nnz == 0:
            raise ParameterError("no training interactions after filtering: check 'min_item_count', 'kcore' and the split")
        self.n_items = train.n_items
        counts = train.item_basket_counts
        self.cold = counts < self.min_item_count
        category_pop = np.zeros(self.n_items, dtype=np.float32)
        if train.categories is not None:
            per_category = np.bincount(train.categories, weights=counts, minlength=train.categories.max() + 1)
            category_pop = (per_category[train.categories] / max(per_category.max(), 1)).astype(np.float32)
        self.cold_fallback = category_pop
        self.popularity = popularity_tiebreak(train)
        self.weighting.fit(train.customers)
        return self.weighting(train.customers)

    def _implicit_model(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _training_matrix(self, weights: sparse.csr_matrix) -> sparse.csr_matrix:
        """What the library is fitted on, from the weighted counts (ALS: confidences)."""
        return weights

    def settings(self) -> dict[str, Any]:
        """Everything a fit depends on besides the training matrix (the cache key's settings)."""
        return {"model": self.name, "factors": self.factors, "regularization": self.regularization,
                "iterations": self.iterations, "seed": self.seed, "gpu": bool(self.use_gpu)}

    def _restore(self, kept: Mapping[str, Any]) -> None:
        """After the item factors are read back: what scoring needs besides them (scoring folds users in from
        the item factors alone; the library's model is not kept)."""
        self.model = None

    def _kept(self) -> dict[str, Any]:
        """What a kept fit holds besides the item factors and the curve (overridden)."""
        return {}

    def _fit_factors(self, user_items: sparse.csr_matrix) -> None:
        """Fit ``item_factors`` (and the curve) on the training matrix: implicit's model, one BLAS thread."""
        with threadpool_limits(1, "blas"):
            self.model = self._implicit_model()
            self.model.fit(user_items, show_progress=False, callback=self._record)
        if self.use_gpu:
            self.model = self.model.to_cpu()
        self.item_factors = np.asarray(self.model.item_factors)

    def fit(self, train: Interactions) -> "MatrixFactorization":
        user_items = self._training_matrix(self._prepare(train))
        self.curve = []
        path = Path(self.cache) / f"{fit_key(user_items, self.settings())}.npz" if self.cache else None
        self.from_cache = path is not None and path.exists()
        if self.from_cache:
            with np.load(path) as kept:
                self.item_factors = kept["item_factors"]
                self.curve = [tuple(row) for row in kept["curve"].tolist()]
                self._restore(kept)
            return self
        self._fit_factors(user_items)
        if path is not None:
            curve = np.asarray(self.curve, dtype=float).reshape(len(self.curve), -1) if self.curve else np.zeros((0, 0))
            extra = self._kept()
            write_atomically(path, lambda partial: np.savez(partial, item_factors=self.item_factors, curve=curve, **extra))
        return self

    def _record(self, iteration: int, elapsed: float, *values: float) -> None:
        """implicit's per-iteration callback: ALS passes the training loss, BPR (correct, skipped) counts."""
        self.curve.append((iteration + 1, float(elapsed), *map(float, values)))

    # -- scoring -------------------------------------------------------------------------------
    def _query_matrix(self, histories: Sequence[np.ndarray], contexts: Sequence[np.ndarray]) -> sparse.csr_matrix:
        counts = counts_matrix(histories, self.n_items) + self.context_weight * counts_matrix(contexts, self.n_items)
        return self._weighted(counts.tocsr())

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Basket counts (rows x items) as the weighted rows user vectors are folded in from; cold items carry
        no signal into the user vector."""
        counts = counts @ sparse.diags((~self.cold).astype(np.float32))
        counts.eliminate_zeros()
        return self.weighting(counts)

    def customer_vectors(self, counts: sparse.csr_matrix) -> np.ndarray:
        """User vectors of customers given as basket counts over the model's items (rows x items)."""
        return self.user_vectors(self._weighted(sparse.csr_matrix(counts, dtype=np.float32)))

    def user_vectors(self, rows: sparse.csr_matrix) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def score(self, histories: Sequence[np.ndarray], contexts: Sequence[np.ndarray]) -> np.ndarray:
        rows = self._query_matrix(histories, contexts)
        users = self.user_vectors(rows)
        scores = users @ self.item_factors.T
        if self.cold.any():
            floor = scores[:, ~self.cold].min(axis=1, keepdims=True) if (~self.cold).any() else np.zeros((len(scores), 1))
            scores[:, self.cold] = floor - 1.0 + self.cold_fallback[self.cold]
        if self.popularity_when_empty:
            scores[np.diff(rows.indptr) == 0] = self.popularity
        return scores

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` warm items whose factors are most similar (cosine) to ``item``'s."""
        factors = self.item_factors
        norms = np.linalg.norm(factors, axis=1)
        norms[norms == 0] = 1.0
        sims = (factors @ factors[item]) / (norms * norms[item])
        sims[self.cold] = -np.inf
        sims[item] = -np.inf
        top = np.argsort(-sims, kind="stable")[:n]
        return top, sims[top]


class ALS(MatrixFactorization):
    """Implicit-feedback ALS with preference 1 where the weighted count ``w > 0`` and confidence ``c``:

    - ``confidence="implicit"`` (default): ``c = alpha * w``, implicit's own convention; the better one on
      Complete Journey's validation weeks (NDCG@10 0.050 vs 0.037 for basket completion, 0.136 vs 0.104 for
      next basket, each at its best alpha);
    - ``confidence="hkv"``: ``c = 1 + alpha * w``, Hu, Koren and Volinsky's, and the only one Spark has.

    The confidence matrix is built here and implicit's own alpha is left at 1 (it would multiply)."""

    name = "als"
    popularity_when_empty = True

    def __init__(self, alpha: float = 0.1, confidence: str = "implicit", **kwargs: Any):
        super().__init__(**kwargs)
        if alpha <= 0:
            raise ParameterError(f"parameter 'als_alpha': must be positive, got {alpha!r}")
        if confidence not in CONFIDENCES:
            raise ParameterError(f"parameter 'als_confidence': {confidence!r} is not one of {', '.join(CONFIDENCES)}")
        self.alpha, self.confidence = alpha, confidence

    def _training_matrix(self, weights: sparse.csr_matrix) -> sparse.csr_matrix:
        confidence = weights.tocsr(copy=True)
        scaled = self.alpha * confidence.data
        confidence.data = (scaled if self.confidence == "implicit" else 1.0 + scaled).astype(np.float32)
        return confidence

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "alpha": self.alpha, "confidence": self.confidence}

    def _implicit_model(self):
        from implicit.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=self.factors, regularization=self.regularization, alpha=1.0, iterations=self.iterations,
            calculate_training_loss=True, random_state=self.seed, use_gpu=self.use_gpu,
        )

    def user_vectors(self, rows: sparse.csr_matrix) -> np.ndarray:
        """Each row's exact least-squares user vector against the item factors (:func:`fold_in`: the normal
        equations implicit's ``recalculate_user`` solves, shared with Spark's ALS; no library model needed, so a
        fit read back from ``mf_cache`` scores as it is)."""
        with threadpool_limits(1, "blas"):  # many small solves: BLAS threads only contend
            return fold_in(self._training_matrix(rows), self.item_factors, self.regularization)


class BPR(MatrixFactorization):
    name = "bpr"

    def __init__(self, learning_rate: float = 0.01, fold_in_steps: int = 300, fold_in_rate: float = 0.05, **kwargs: Any):
        kwargs.setdefault("iterations", 100)
        kwargs.setdefault("regularization", 0.01)
        super().__init__(**kwargs)
        if learning_rate <= 0:
            raise ParameterError(f"parameter 'bpr_learning_rate': must be positive, got {learning_rate!r}")
        self.learning_rate, self.fold_in_steps, self.fold_in_rate = learning_rate, fold_in_steps, fold_in_rate

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "learning_rate": self.learning_rate}

    def _implicit_model(self):
        from implicit.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=self.factors, learning_rate=self.learning_rate, regularization=self.regularization,
            iterations=self.iterations, random_state=self.seed, use_gpu=self.use_gpu,
            # one thread: implicit's multi-threaded BPR is Hogwild SGD, and runs would differ
            **({} if self.use_gpu else {"num_threads": 1}),
        )

    def user_vectors(self, rows: sparse.csr_matrix) -> np.ndarray:
        """BPR's own SGD on each user vector (last component fixed at 1: the item-bias column)."""
        items = self.item_factors  # (n_items, factors + 1), last column the item bias
        n, width = rows.shape[0], items.shape[1]
        users = np.zeros((n, width), dtype=np.float32)
        users[:, -1] = 1.0
        lengths = np.diff(rows.indptr)
        active = np.flatnonzero(lengths > 0)
        if len(active) == 0:
            return users
        rng = np.random.default_rng(self.seed)
        warm = np.flatnonzero(~self.cold)
        for _ in range(self.fold_in_steps):
            pick = rows.indptr[active] + (rng.random(len(active)) * lengths[active]).astype(np.int64)
            pos = rows.indices[pick]
            neg = warm[rng.integers(0, len(warm), len(active))]
            diff = items[pos] - items[neg]
            x = np.einsum("ij,ij->i", users[active], diff)
            grad = (1.0 / (1.0 + np.exp(np.clip(x, -30, 30))))[:, None] * diff
            step = self.fold_in_rate * (grad - self.regularization * users[active])
            step[:, -1] = 0.0
            users[active] += step
        return users


def fold_in(confidence: sparse.csr_matrix, item_factors: np.ndarray, regularization: float,
            per_rating: bool = False) -> np.ndarray:
    """User vectors that solve implicit ALS's normal equations with the item factors Y fixed, one row of
    ``confidence`` (users x items, c > 0 where the user has the item, preference 1 there, 0 elsewhere) each:
    (Y'Y + sum_i (c_i - 1) y_i y_i' + lambda' I) x = sum_i c_i y_i, with lambda' = ``regularization``, times
    the user's number of rated items when ``per_rating`` (Spark's convention). An empty row gets the zero
    vector. The per-user sums in float32 (as implicit's own solver), Y'Y and the solve in float64: on Complete
    Journey's 2,460 customers x 18,981 items, 128 factors, 1.0 s against 1.3 s for implicit's
    ``recalculate_user``, the same vectors to 1e-6. Call it with BLAS on one thread (many small solves)."""
    rows = confidence.tocsr()
    y = np.asarray(item_factors, dtype=np.float32)
    gram = y.T.astype(np.float64) @ y.astype(np.float64)
    eye = np.eye(y.shape[1])
    out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
    for u in range(rows.shape[0]):
        start, end = rows.indptr[u], rows.indptr[u + 1]
        if start == end:
            continue
        yi, c = y[rows.indices[start:end]], rows.data[start:end].astype(np.float32)
        lam = regularization * (end - start) if per_rating else regularization
        a = gram + (yi * (c - 1.0)[:, None]).T @ yi + lam * eye
        out[u] = np.linalg.solve(a, (yi.T @ c).astype(np.float64))
    return out


def fit_key(weights: sparse.csr_matrix, settings: dict[str, Any]) -> str:
    """The name a fit is kept under: a hash of the weighted matrix (shape, structure, values) and the settings."""
    digest = hashlib.sha256(json.dumps({"shape": list(weights.shape), **settings}, sort_keys=True).encode())
    for array in (weights.indptr, weights.indices, weights.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:32]


def cold_queries(model: MatrixFactorization, queries) -> dict[str, int]:
    """How many queries the cold-item fallback touched: a cold item among the targets or in the context; and
    how many have a target outside the vocabulary (no model can rank it: shared.split.build_tasks)."""
    cold = model.cold
    return {
        "task": queries.task,
        "queries": len(queries),
        "cold_target": int(sum(cold[t[t < len(cold)]].any() for t in queries.targets)),
        "unreachable_target": int(sum((t >= len(cold)).any() for t in queries.targets)),
        "cold_context": int(sum(len(c) > 0 and cold[c].any() for c in queries.contexts)),
    }


def cosine(model: MatrixFactorization, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the item factors of pairs (a[i], b[i])."""
    fa, fb = model.item_factors[a], model.item_factors[b]
    norms = np.linalg.norm(fa, axis=1) * np.linalg.norm(fb, axis=1)
    return np.where(norms > 0, np.einsum("ij,ij->i", fa, fb) / np.where(norms > 0, norms, 1), 0.0)


def agreement_with_lift(model: MatrixFactorization, pairs: pd.DataFrame, item_ids: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Embedding cosine next to rule lift for item pairs (columns item_a, item_b, lift), and their rank
    correlation (Spearman) over the pairs whose items are both warm."""
    index = pd.Index(item_ids)
    a, b = index.get_indexer(pairs["item_a"]), index.get_indexer(pairs["item_b"])
    keep = (a >= 0) & (b >= 0)
    keep[keep] &= ~(model.cold[a[keep]] | model.cold[b[keep]])
    out = pairs[keep].copy()
    out["cosine"] = cosine(model, a[keep], b[keep])
    if len(out) > 2:
        rho, p = stats.spearmanr(out["cosine"], out["lift"])
    else:
        rho, p = float("nan"), float("nan")
    return out, {"pairs": int(len(out)), "spearman": float(rho), "p_value": float(p)}


def factor_map(model: MatrixFactorization, top: np.ndarray) -> np.ndarray:
    """2-D coordinates (first two principal components) of the item factors of the items ``top``."""
    factors = model.item_factors[top].astype(np.float64)
    if factors.shape[1] > model.factors:  # BPR keeps an item-bias column last
        factors = factors[:, : model.factors]
    centred = factors - factors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T
