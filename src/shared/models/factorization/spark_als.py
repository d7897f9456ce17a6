"""ALS on Spark (``engine: spark``), beside implicit's in :mod:`.implicit_mf`: the same weighted customer x
item matrix, ``pyspark.ml.recommendation.ALS`` with ``implicitPrefs``, and queries folded in with Spark's
own normal equations.

A fit is kept (``cache``, a folder: notebook 03 and 05 use the run folder's ``data/spark_als/``) under a key
made of the weighted training matrix and every setting, so notebook 05's ALS, fitted on the same weeks with
the settings notebook 03 chose, is read back instead of fitted again (docs/architecture.md, "Spark")."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import sparse
from threadpoolctl import threadpool_limits

from ...files import write_atomically
from ...spark_session import SparkSettings, blas_backends, session
from ..base import Interactions
from .implicit_mf import ALS


class SparkALS(ALS):
    """ALS fitted by Spark (``pyspark.ml.recommendation.ALS``, ``implicitPrefs``) on the same weights.

    Spark's confidence is always ``1 + alpha * w`` (``als_confidence: hkv``), whatever ``als_confidence``
    says. It also multiplies the regularisation by each customer's number
    of rated items (and each item's number of customers). So that ``als_regularization`` means the same on both
    engines, Spark gets it divided by the training customers' mean number of items: the regularisation of an
    average customer is then the same. Queries are folded in with Spark's own normal equations
    (:func:`als_fold_in`), exactly as a training customer. Spark reports no per-iteration loss."""

    def __init__(self, spark: SparkSettings, cache: str | None = None, **kwargs: Any):
        kwargs["use_gpu"] = False
        kwargs["confidence"] = "hkv"
        super().__init__(**kwargs)
        self.spark, self.cache = spark, cache
        self.from_cache = False

    def fit(self, train: Interactions) -> "SparkALS":
        weights = self._prepare(train)
        rated = max(int(np.count_nonzero(np.diff(weights.indptr))), 1)
        self.spark_regularization = self.regularization / max(weights.nnz / rated, 1.0)
        self.curve = []
        settings = {"factors": self.factors, "regularization": self.spark_regularization, "alpha": self.alpha,
                    "iterations": self.iterations, "seed": self.seed}
        path = Path(self.cache) / f"{fit_key(weights, settings)}.npz" if self.cache else None
        self.from_cache = path is not None and path.exists()
        if self.from_cache:
            with np.load(path) as kept:
                self.item_factors, self.blas = kept["item_factors"], json.loads(str(kept["blas"]))
            return self
        self.item_factors = als_item_factors(weights, spark=self.spark, **settings)
        self.blas = blas_backends(session(self.spark))  # which BLAS Spark's normal equations ran on
        if path is not None:
            write_atomically(path, lambda partial: np.savez(partial, item_factors=self.item_factors, blas=json.dumps(self.blas)))
        return self

    def user_vectors(self, rows: sparse.csr_matrix) -> np.ndarray:
        with threadpool_limits(1, "blas"):  # many small products: OpenBLAS's threads only contend (README, "Scaling out")
            return als_fold_in(rows, self.item_factors, self.spark_regularization, self.alpha)


def fit_key(weights: sparse.csr_matrix, settings: dict[str, Any]) -> str:
    """The name a fit is kept under: a hash of the weighted matrix (shape, structure, values) and the settings."""
    digest = hashlib.sha256(json.dumps({"shape": list(weights.shape), **settings}, sort_keys=True).encode())
    for array in (weights.indptr, weights.indices, weights.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:32]


def als_item_factors(user_items, factors: int, regularization: float, alpha: float, iterations: int, seed: int,
                     spark: SparkSettings) -> np.ndarray:
    """Spark ALS (implicit feedback) on a weighted customer x item matrix; item factors, zeros where an item
    has no interactions."""
    from pyspark.ml.recommendation import ALS as SparkALSEstimator

    spark_session = session(spark)
    coo = user_items.tocoo()
    ratings = spark_session.createDataFrame(pa.table({
        "user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32), "rating": coo.data.astype(np.float32),
    }))
    estimator = SparkALSEstimator(
        rank=factors, maxIter=iterations, regParam=regularization, alpha=alpha, implicitPrefs=True, seed=seed,
        userCol="user", itemCol="item", ratingCol="rating", nonnegative=False, checkpointInterval=5,
        numUserBlocks=max(2, spark_session.sparkContext.defaultParallelism),
        numItemBlocks=max(2, spark_session.sparkContext.defaultParallelism),
    )
    model = estimator.fit(ratings)
    table = model.itemFactors.toArrow()
    out = np.zeros((user_items.shape[1], factors), dtype=np.float32)
    ids = np.asarray(table.column("id").to_pylist(), dtype=np.int64)
    if len(ids):
        out[ids] = np.asarray(table.column("features").to_pylist(), dtype=np.float32)
    return out


def als_fold_in(rows, item_factors: np.ndarray, regularization: float, alpha: float) -> np.ndarray:
    """User vectors that solve Spark's implicit ALS normal equations with the item factors fixed:
    (Y'Y + sum_i alpha r_i y_i y_i' + lambda n_u I) x = sum_i (1 + alpha r_i) y_i over the user's rated items
    (Spark scales lambda by the user's number of ratings n_u). One small solve per user: call it with BLAS
    limited to one thread (as :class:`SparkALS` does)."""
    rows = rows.tocsr()
    y = item_factors.astype(np.float64)
    gram = y.T @ y
    eye = np.eye(y.shape[1])
    out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
    for u in range(rows.shape[0]):
        start, end = rows.indptr[u], rows.indptr[u + 1]
        if start == end:
            continue
        items, c = rows.indices[start:end], alpha * rows.data[start:end].astype(np.float64)
        yi = y[items]
        a = gram + (yi * c[:, None]).T @ yi + regularization * (end - start) * eye
        out[u] = np.linalg.solve(a, yi.T @ (1.0 + c))
    return out


def als_objective(weights, users: np.ndarray, items: np.ndarray, regularization: float, alpha: float) -> float:
    """The objective Spark's implicit ALS minimises (the one :func:`als_fold_in` solves for each user): the sum
    over every (user, item) of c (p - x'y)^2, with preference p = 1 and confidence c = 1 + alpha w where the
    weight w > 0, p = 0 and c = 1 elsewhere, plus lambda (sum_u n_u |x_u|^2 + sum_i m_i |y_i|^2), where n_u and
    m_i count the user's and the item's rated entries. In float64, with the whole users x items product."""
    weights = weights.tocsr()
    x, y = users.astype(np.float64), items.astype(np.float64)
    predicted = x @ y.T
    rows = np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr))
    rated = predicted[rows, weights.indices]
    confidence = 1.0 + alpha * weights.data.astype(np.float64)
    loss = float((predicted ** 2).sum() + (confidence * (1.0 - rated) ** 2 - rated ** 2).sum())
    n_u, m_i = np.diff(weights.indptr), np.bincount(weights.indices, minlength=weights.shape[1])
    return loss + regularization * float((n_u * (x ** 2).sum(axis=1)).sum() + (m_i * (y ** 2).sum(axis=1)).sum())
