"""Ranking and beyond-accuracy metrics, bootstrap intervals and the paired bootstrap test.

Conventions (every function works on all queries at once):

- ``recs``: an int array (queries x K) of recommended item indices, best first; ``-1`` pads a list that is
  shorter than K (a model that returns nothing for a query has a row of -1 and scores zero there).
- ``targets``: one int array of relevant item indices per query, never negative; an index no model can
  recommend (an item outside the fit-period vocabulary) is a target that counts as a miss.

Per-query definitions, with ``hits@k`` the number of relevant items among the first k:

- ``recall@k   = hits@k / |target|``
- ``ndcg@k     = sum over ranks r < k of rel(r) / log2(r + 2), divided by the same sum for the ideal list
  (min(|target|, k) relevant items first)``
- ``hit_rate@k = 1 if hits@k > 0 else 0``
- ``mrr@k      = 1 / (rank of the first relevant item + 1), or 0 if none is in the first k``
- ``novelty@k  = mean over the recommended items of -log2(share of training baskets with the item)``
- ``diversity@k = share of pairs of recommended items in different categories (intra-list diversity)``

and over the whole run: ``coverage@k`` = distinct recommended items / catalogue size.
A query with an empty target is undefined for recall and ndcg: callers drop such queries first.

For planning an online test, :func:`customers_per_arm` and :func:`ab_sample_size` give the customers each arm
of a two-arm A/B test needs to detect a difference of means (two-sided, normal approximation).

Models trained with several seeds (``n_seeds``) are judged on the mean over seeds: :func:`seeded_bootstrap_ci`
and :func:`seeded_paired_bootstrap` widen the bootstrap over queries by the seed mean's error, and reduce to
:func:`bootstrap_ci` and :func:`paired_bootstrap` for one seed.
"""
from __future__ import annotations

import functools
import math
import warnings
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np

#: Fewer queries than this give no interval and no test: the report says "too few queries to judge".
MIN_QUERIES = 30

RANKING_METRICS = ("recall", "ndcg", "hit_rate", "mrr")
BEYOND_ACCURACY = ("coverage", "novelty", "diversity")
METRICS = RANKING_METRICS + BEYOND_ACCURACY


def hit_matrix(recs: np.ndarray, targets: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean (queries x K): is the item at each rank relevant for its query?"""
    recs = np.asarray(recs)
    n, width = recs.shape
    sizes = np.fromiter((len(t) for t in targets), dtype=np.int64, count=n)
    if n == 0:
        return np.zeros((0, width), dtype=bool)
    # keys are query * big + item: a negative target would collide with the previous query's items
    if any(len(t) and int(np.min(t)) < 0 for t in targets):
        raise ValueError("a target item index is negative: queries must come from shared.split.build_tasks")
    if recs.size and int(recs.min()) < -1:
        raise ValueError("a recommended item index is below -1 (only -1 pads a short list)")
    big = np.int64(max(int(recs.max(initial=0)), max((int(t.max()) for t in targets if len(t)), default=0)) + 1)
    target_keys = np.repeat(np.arange(n, dtype=np.int64), sizes) * big + (
        np.concatenate([np.asarray(t, dtype=np.int64) for t in targets]) if sizes.sum() else np.zeros(0, np.int64)
    )
    rec_keys = np.arange(n, dtype=np.int64)[:, None] * big + recs.astype(np.int64)
    return np.isin(rec_keys, target_keys) & (recs >= 0)


def ranking(recs: np.ndarray, targets: Sequence[np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Per-query recall, ndcg, hit_rate and mrr at k."""
    hits = hit_matrix(np.asarray(recs)[:, :k], targets)
    sizes = np.array([len(t) for t in targets], dtype=float)
    if (sizes == 0).any():
        raise ValueError("ranking metrics need a non-empty target for every query")
    n_hits = hits.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    ideal = np.cumsum(discounts)[np.minimum(sizes, k).astype(int) - 1]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    return {
        "recall": n_hits / sizes,
        "ndcg": dcg / ideal,
        "hit_rate": (n_hits > 0).astype(float),
        "mrr": np.where(first >= 0, 1.0 / (np.maximum(first, 0) + 1), 0.0),
    }


def coverage(recs: np.ndarray, k: int, n_items: int) -> float:
    shown = np.asarray(recs)[:, :k]
    return len(np.unique(shown[shown >= 0])) / n_items


def self_information(item_basket_counts: np.ndarray, n_baskets: int) -> np.ndarray:
    """-log2 of each item's share of training baskets (unseen items count as seen once)."""
    return -np.log2(np.maximum(item_basket_counts, 1) / max(n_baskets, 1))


def novelty(recs: np.ndarray, k: int, information: np.ndarray) -> np.ndarray:
    """Per-query mean self-information of the recommended items (NaN for an empty list)."""
    shown = np.asarray(recs)[:, :k]
    valid = shown >= 0
    values = np.where(valid, information[np.where(valid, shown, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return values.sum(axis=1) / valid.sum(axis=1)


def diversity(recs: np.ndarray, k: int, categories: np.ndarray) -> np.ndarray:
    """Per-query share of recommended pairs whose categories differ (NaN for lists of fewer than 2)."""
    shown = np.asarray(recs)[:, :k]
    valid = shown >= 0
    cats = np.where(valid, categories[np.where(valid, shown, 0)], -1)
    same = (cats[:, :, None] == cats[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    n = valid.sum(axis=1)
    pairs = n * (n - 1)
    same_pairs = same.sum(axis=(1, 2)) - n  # drop the diagonal
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, 1.0 - same_pairs / pairs, np.nan)


def bootstrap_ci(values: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean and percentile bootstrap interval over queries (NaN values left out); with fewer than
    :data:`MIN_QUERIES` queries the interval is NaN: a bootstrap over a handful of queries means nothing."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    if len(values) < MIN_QUERIES:
        return (float(values.mean()), np.nan, np.nan)
    means = _resampled_means(values[None, :], n_boot, seed)[0]
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(values.mean()), float(low), float(high)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> dict[str, float]:
    """Difference of means ``a - b`` over the same queries, its interval, and a two-sided p-value
    (twice the share of resampled differences on the other side of zero). With fewer than
    :data:`MIN_QUERIES` paired queries there is no interval and no p-value (NaN): too few to judge."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired_bootstrap needs the two models' values on the same queries")
    keep = ~(np.isnan(a) | np.isnan(b))
    diff = a[keep] - b[keep]
    if len(diff) < MIN_QUERIES:
        return {"diff": float(diff.mean()) if len(diff) else np.nan, "ci_low": np.nan, "ci_high": np.nan,
                "p_value": np.nan, "n": int(len(diff))}
    means = _resampled_means(diff[None, :], n_boot, seed)[0]
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    observed = diff.mean()
    if observed == 0 and np.all(means == 0):
        p = 1.0
    else:
        p = min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean()))
    return {"diff": float(observed), "ci_low": float(low), "ci_high": float(high), "p_value": float(p), "n": int(len(diff))}


def seed_noise(seed_means: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Draws of the error of a mean over training seeds: ``t(n - 1) * sd(seed_means) / sqrt(n)`` for ``n``
    seeds (Student's t, because the spread is estimated from as few as 2 or 3 seeds); zeros for one seed.
    Drawn from their own stream, so adding them leaves the query resampling of the same ``seed`` unchanged."""
    seed_means = np.asarray(seed_means, dtype=float)
    seed_means = seed_means[~np.isnan(seed_means)]
    n = len(seed_means)
    if n < 2:
        return np.zeros(n_boot)
    spread = seed_means.std(ddof=1) / np.sqrt(n)
    return np.random.default_rng([seed, 7919]).standard_t(n - 1, n_boot) * spread


def seeded_bootstrap_ci(values: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean and interval of a model trained with several seeds: ``values`` is (seeds x queries), every seed
    on the same queries. The estimate is the mean over seeds and queries. Its interval combines both sources
    of chance: the percentile bootstrap over queries of each query's mean over seeds, with each resampled mean
    shifted by a draw of the seed mean's error (:func:`seed_noise`: the between-seed spread of the seeds' means,
    scaled by Student's t). With one seed it is :func:`bootstrap_ci`, number for number."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if len(values) == 1:
        return bootstrap_ci(values[0], n_boot, seed, alpha)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a query every seed leaves undefined stays NaN
        per_query = np.nanmean(values, axis=0)
        seed_means = np.nanmean(values, axis=1)
    per_query = per_query[~np.isnan(per_query)]
    if len(per_query) == 0:
        return (np.nan, np.nan, np.nan)
    if len(per_query) < MIN_QUERIES:
        return (float(per_query.mean()), np.nan, np.nan)
    means = _resampled_means(per_query[None, :], n_boot, seed)[0] + seed_noise(seed_means, n_boot, seed)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(per_query.mean()), float(low), float(high)


def seeded_paired_bootstrap(a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 0,
                            alpha: float = 0.05) -> dict[str, Any]:
    """:func:`paired_bootstrap` for models trained with several seeds. ``a`` and ``b`` are (seeds x queries):
    row s of both belongs to the same seed (a model without training has one row, compared with every seed
    of the other). The difference is taken per seed and query; the interval and p-value come from the
    bootstrap over queries of each query's mean difference, each resampled mean shifted by a draw of the seed
    mean's error (:func:`seed_noise`). Also returned: ``seeds``, the per-seed mean differences
    (``seed_diffs``, ';'-joined), their standard deviation (``seed_sd``, the seed spread) and whether every
    seed's difference has the sign of the mean (``seeds_agree``). With one seed each it is
    :func:`paired_bootstrap`, number for number, and ``seeds_agree`` is true."""
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    if a.shape[1] != b.shape[1]:
        raise ValueError("seeded_paired_bootstrap needs the two models' values on the same queries")
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        raise ValueError(f"seeded_paired_bootstrap pairs seeds: {len(a)} against {len(b)} rows")
    diffs = a - b  # broadcasts a model without seeds against every seed of the other
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        seed_diffs = np.array([np.nanmean(d) if (~np.isnan(d)).any() else np.nan for d in diffs])
    if len(diffs) == 1:
        test: dict[str, Any] = paired_bootstrap(a[0], b[0], n_boot, seed, alpha)
    else:
        keep = ~np.isnan(diffs).any(axis=0)
        per_query = diffs[:, keep].mean(axis=0)
        if len(per_query) < MIN_QUERIES:
            test = {"diff": float(per_query.mean()) if len(per_query) else np.nan, "ci_low": np.nan, "ci_high": np.nan,
                    "p_value": np.nan, "n": int(len(per_query))}
        else:
            means = _resampled_means(per_query[None, :], n_boot, seed)[0] + seed_noise(seed_diffs, n_boot, seed)
            low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
            observed = float(per_query.mean())
            p = 1.0 if observed == 0 and np.all(means == 0) else min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean()))
            test = {"diff": observed, "ci_low": float(low), "ci_high": float(high), "p_value": float(p), "n": int(len(per_query))}
    sign = np.sign(test["diff"]) if np.isfinite(test["diff"]) else 0.0
    test.update(seeds=len(diffs), seed_diffs=";".join(f"{d:.6g}" for d in seed_diffs),
                seed_sd=float(np.nanstd(seed_diffs, ddof=1)) if len(seed_diffs) > 1 else np.nan,
                seeds_agree=bool(sign != 0 and np.all(np.sign(seed_diffs) == sign)))
    return test


def _resampled_means(rows: np.ndarray, n_boot: int, seed: int, chunk: int = 50) -> np.ndarray:
    """Bootstrap means of each row of ``rows`` (same resampled indices for every row: paired): ``n`` draws with
    replacement per sample from ``default_rng(seed)``, in chunks of ``chunk`` samples, each sample's mean
    NumPy's own (the same numbers on every machine). Every call with the same number of queries, samples and
    seed draws the same indices, so up to :data:`CACHED_DRAWS` of them are kept (:func:`_resample_indices`)."""
    n = rows.shape[1]
    kept = _resample_indices(n, n_boot, seed, chunk) if n_boot * n <= CACHED_DRAWS else None
    rng = np.random.default_rng(seed) if kept is None else None
    out = np.empty((rows.shape[0], n_boot))
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        idx = kept[start:stop] if kept is not None else rng.integers(0, n, size=(stop - start, n))
        out[:, start:stop] = rows[:, idx].mean(axis=2)
    return out


#: the most resampled indices (samples x queries) kept per (queries, samples, seed): 128 MB as int32
CACHED_DRAWS = 2**25


@functools.lru_cache(maxsize=4)
def _resample_indices(n: int, n_boot: int, seed: int, chunk: int) -> np.ndarray:
    """(n_boot x n) resampled query indices, drawn as :func:`_resampled_means` draws them; read-only, cached."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.integers(0, n, size=(min(chunk, n_boot - start), n)) for start in range(0, n_boot, chunk)])
    idx = idx.astype(np.int32 if n < 2**31 else np.int64)
    idx.flags.writeable = False
    return idx


def customers_per_arm(delta: float, sd_a: float, sd_b: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Customers per arm that a two-sided test at level ``alpha`` needs to detect a difference of means
    ``delta`` with probability ``power``, for two independent arms whose per-customer metric has standard
    deviations ``sd_a`` and ``sd_b`` (normal approximation)::

        n = (z_{1 - alpha/2} + z_{power})^2 * (sd_a^2 + sd_b^2) / delta^2

    rounded up to a whole customer; ``inf`` when ``delta`` is zero or not a number (no test can detect it)."""
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie between 0 and 1, not {alpha} and {power}")
    if sd_a < 0 or sd_b < 0:
        raise ValueError("standard deviations cannot be negative")
    if not np.isfinite(delta) or delta == 0 or not (np.isfinite(sd_a) and np.isfinite(sd_b)):
        return math.inf
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return float(max(1, math.ceil(z * z * (sd_a ** 2 + sd_b ** 2) / delta ** 2)))


def ab_sample_size(a: np.ndarray, b: np.ndarray, alpha: float = 0.05, power: float = 0.8) -> dict[str, float]:
    """The A/B plan from offline per-customer values of two lists (``a``: the new list, ``b``: the incumbent,
    NaN left out): their means, standard deviations (ddof 1), the difference ``delta = mean(a) - mean(b)``
    assumed to carry over online, and the customers per arm (:func:`customers_per_arm`) to detect it."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError("ab_sample_size needs at least two customers' values per list")
    mean_a, mean_b = float(a.mean()), float(b.mean())
    sd_a, sd_b = float(a.std(ddof=1)), float(b.std(ddof=1))
    delta = mean_a - mean_b
    return {"mean_a": mean_a, "mean_b": mean_b, "sd_a": sd_a, "sd_b": sd_b, "delta": delta,
            "customers": int(min(len(a), len(b))), "per_arm": customers_per_arm(delta, sd_a, sd_b, alpha, power)}
