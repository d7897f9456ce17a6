"""ALS on Spark (``engine: spark``), beside implicit's in :mod:`.implicit_mf`: the same weighted customer x
item matrix, ``pyspark.ml.recommendation.ALS`` with ``implicitPrefs``, and queries folded in with Spark's
own normal equations.

A fit is kept (``cache``, a folder: notebook 03 and 05 use the run folder's ``data/spark_als/``) under a key
made of the weighted training matrix and every setting, so notebook 05's ALS, fitted on the same weeks with
the settings notebook 03 chose, is read back instead of fitted again (docs/architecture.md, "Spark")."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import sparse
from threadpoolctl import threadpool_limits

from ...spark_session import SparkSettings, blas_backends, session
from ..base import Interactions
from .implicit_mf import ALS, fold_in


class SparkALS(ALS):
    """ALS fitted by Spark (``pyspark.ml.recommendation.ALS``, ``implicitPrefs``) on the same weights.

    Spark's confidence is always ``1 + alpha * w`` (``als_confidence: hkv``), whatever ``als_confidence``
    says. It also multiplies the regularisation by each customer's number
    of rated items (and each item's number of customers). So that ``als_regularization`` means the same on both
    engines, Spark gets it divided by the training customers' mean number of items: the regularisation of an
    average customer is then the same. Queries are folded in with Spark's own normal equations
    (:func:`als_fold_in`), exactly as a training customer. Spark reports no per-iteration loss."""

    def __init__(self, spark: SparkSettings, **kwargs: Any):
        kwargs["use_gpu"] = False
        kwargs["confidence"] = "hkv"
        super().__init__(**kwargs)  # ``cache``: as for implicit's fits, the folder fits are kept in
        self.spark = spark

    def _prepare(self, train: Interactions) -> sparse.csr_matrix:
        weights = super()._prepare(train)
        rated = max(int(np.count_nonzero(np.diff(weights.indptr))), 1)
        self.spark_regularization = self.regularization / max(weights.nnz / rated, 1.0)
        return weights

    def _training_matrix(self, weights: sparse.csr_matrix) -> sparse.csr_matrix:
        return weights  # Spark builds the confidences (1 + alpha x weight) itself

    def settings(self) -> dict[str, Any]:
        return {"factors": self.factors, "regularization": self.spark_regularization, "alpha": self.alpha,
                "iterations": self.iterations, "seed": self.seed}

    def _fit_factors(self, user_items: sparse.csr_matrix) -> None:
        self.item_factors = als_item_factors(user_items, spark=self.spark, **self.settings())
        self.blas = blas_backends(session(self.spark))  # which BLAS Spark's normal equations ran on

    def _kept(self) -> dict[str, Any]:
        return {"blas": json.dumps(self.blas)}

    def _restore(self, kept) -> None:
        self.model = None
        self.blas = json.loads(str(kept["blas"]))

    def user_vectors(self, rows: sparse.csr_matrix) -> np.ndarray:
        with threadpool_limits(1, "blas"):  # many small products: OpenBLAS's threads only contend (README, "Scaling out")
            return als_fold_in(rows, self.item_factors, self.spark_regularization, self.alpha)


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
    (Spark scales lambda by the user's number of ratings n_u): :func:`.implicit_mf.fold_in` with confidence
    1 + alpha r. Call it with BLAS limited to one thread (as :class:`SparkALS` does)."""
    confidence = rows.tocsr(copy=True).astype(np.float64)
    confidence.data = 1.0 + alpha * confidence.data
    return fold_in(confidence, item_factors, regularization, per_rating=True)


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
