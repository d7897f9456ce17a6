"""Matrix factorization on implicit feedback: ``implicit``'s ALS and BPR (:mod:`.implicit_mf`) and Spark's
ALS beside them (:mod:`.spark_als`)."""
from .implicit_mf import (
    ALS, BPR, CONFIDENCES, WEIGHTINGS, MatrixFactorization, Weighting, agreement_with_lift, cold_queries, cosine,
    factor_map,
)
from .spark_als import SparkALS, als_fold_in, als_item_factors, als_objective

__all__ = [
    "ALS", "BPR", "CONFIDENCES", "WEIGHTINGS", "MatrixFactorization", "SparkALS", "Weighting", "agreement_with_lift",
    "als_fold_in", "als_item_factors", "als_objective", "cold_queries", "cosine", "factor_map",
]
