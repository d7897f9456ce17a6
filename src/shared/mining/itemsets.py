"""Frequent itemsets and association rules with the statistics that make rules trustworthy.

Two public functions (a contract: benchmarks and outside checks call them):

- :func:`frequent_itemsets` ``(baskets, min_support, max_len=None, engine="fim")`` -> ``itemset`` (frozenset),
  ``support``, ``count``;
- :func:`association_rules` ``(itemsets, n_baskets, min_confidence=0.0, ...)`` -> one row per rule with a
  single-item consequent: ``antecedent``, ``consequent`` (frozensets), ``support``, ``confidence``, ``lift``,
  ``leverage``, ``conviction``, ``jaccard``, ``zhang``, ``count``, ``p_value`` (one-sided Fisher exact test of
  positive association), ``p_adjusted`` (Benjamini-Hochberg or Holm over every rule tested) and ``redundant``
  (R arules' sense: a more general rule, same consequent and an antecedent that is a proper subset, is at
  least as confident).

Engines, all giving identical itemsets and counts:

- ``fim`` (default): Christian Borgelt's FP-growth in C (PyPI ``pyfim``, MIT licence), in :mod:`.pandas_engines`;
- ``rusket``: FP-growth in Rust (PyPI ``rusket``, MIT licence) on a sparse basket matrix of the frequent items
  (:mod:`.pandas_engines`): about 4x faster than ``fim`` on Complete Journey (``benchmarks/mining.py``), but a
  young package (first release 2025, version 0.1), so ``fim`` stays the default;
- ``mlxtend_fpgrowth``, ``mlxtend_hmine``, ``mlxtend_apriori`` (``low_memory=True``): mlxtend on a sparse
  basket matrix of the *frequent items only*, so memory follows the frequent items, not the catalogue
  (:mod:`.pandas_engines`);
- ``spark``: ``pyspark.ml.fpm.FPGrowth`` (:mod:`.spark_fpgrowth`), chosen by the run's ``engine: spark``.

This module is the shared part and the dispatcher (thresholds, the explosion guard, rules and their
statistics); the engines sit beside it.

An itemset is frequent when its basket count is at least ``max(ceil(min_support * n_baskets), min_count)``;
``min_count`` (default 10) is a privacy floor: nothing rarer is ever returned. Empty baskets are skipped and
counted (``result.attrs["empty_baskets"]``); supports are shares of the non-empty baskets.

Before mining, a cheap exact count of frequent pairs (a sparse matrix product) and of candidate triples
(triangles among frequent pairs) decides whether the run could blow up: then mining goes level by level and
stops at ``max_itemsets`` with :class:`TooManyItemsets`, whose message suggests a support that fits.

``min_support: auto`` (:func:`auto_support`, used by :class:`Mined` and :func:`frequent_pairs`) walks the ladder
:data:`AUTO_SUPPORTS` upwards and keeps the first support whose itemsets stay under ``max_itemsets`` (by the
same guard, then by the mined count). The ladder starts at 0.001, the support the default profile always
used, so where 0.001 fits (Complete Journey at product level) ``auto`` gives exactly the 0.001 result; it
never goes lower, since lower supports mostly add pairs of a handful of baskets that the ``min_count``
privacy floor would drop anyway.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ..spark_session import SparkSettings
from . import pandas_engines, spark_fpgrowth
from .pandas_engines import SENTINEL
from .variants import collapse_variants, variant_text

ENGINES = ("fim", "rusket", "mlxtend_fpgrowth", "mlxtend_hmine", "mlxtend_apriori", "spark")
RULE_COLUMNS = [
    "antecedent", "consequent", "support", "confidence", "lift", "leverage", "conviction", "jaccard", "zhang",
    "count", "p_value", "p_adjusted", "redundant",
]


class TooManyItemsets(RuntimeError):
    """Mining stopped at the ``max_itemsets`` cap; the message suggests a support that fits."""


#: ``min_support: auto`` tries these supports in turn, lowest first (see the module docstring).
AUTO_SUPPORTS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
AUTO = "auto"


def is_auto(min_support: Any) -> bool:
    """Whether ``min_support`` is the string ``auto`` (any case, surrounding blanks ignored)."""
    return isinstance(min_support, str) and min_support.strip().lower() == AUTO


def auto_support(
    baskets: Sequence[Sequence[Any]],
    max_len: int | None = None,
    engine: str = "fim",
    min_count: int = 10,
    max_itemsets: int = 2_000_000,
    seed: int = 0,
    spark: SparkSettings | None = None,
    ladder: Sequence[float] = AUTO_SUPPORTS,
) -> tuple[float, pd.DataFrame]:
    """The lowest support of ``ladder`` whose frequent itemsets stay under ``max_itemsets``, and those
    itemsets (``attrs['min_support']`` is the support used, ``attrs['min_support_auto']`` True). A rung that
    would explode is refused by the explosion guard's level counts before it is mined; the next one is tried.
    When even the last rung is too many, its :class:`TooManyItemsets` is raised."""
    tracts = baskets if hasattr(baskets, "sparkSession") else [list(b) for b in baskets]
    for i, support in enumerate(ladder):
        try:
            found = frequent_itemsets(tracts, support, max_len=max_len, engine=engine, min_count=min_count,
                                      max_itemsets=max_itemsets, seed=seed, spark=spark)
        except TooManyItemsets:
            if i == len(ladder) - 1:
                raise
            continue
        found.attrs.update({"min_support": support, "min_support_auto": True})
        return support, found
    raise ValueError("min_support auto: the ladder of supports is empty")


def _check(min_support: float, min_count: int, engine: str, max_len: int | None) -> None:
    if not isinstance(min_support, (int, float)) or not 0 < min_support <= 1:
        raise ValueError(f"parameter 'min_support': must be in (0, 1], got {min_support!r}")
    if not isinstance(min_count, (int, np.integer)) or min_count < 0:
        raise ValueError(f"parameter 'min_count': must be a non-negative integer, got {min_count!r}")
    if engine not in ENGINES:
        raise ValueError(f"parameter 'engine': unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if max_len is not None and max_len < 1:
        raise ValueError(f"parameter 'max_len': must be at least 1, got {max_len!r}")


class BasketMatrix:
    """Baskets encoded once: a CSR 0/1 matrix (non-empty baskets x items) and the item labels."""

    def __init__(self, baskets: Sequence[Sequence[Any]]):
        lengths = np.fromiter((len(b) for b in baskets), dtype=np.int64, count=len(baskets))
        if len(baskets) and all(isinstance(b, np.ndarray) for b in baskets):
            flat = np.concatenate(baskets) if lengths.sum() else np.zeros(0, dtype=object)
        else:
            flat = [item for basket in baskets for item in basket]
        codes, labels = pd.factorize(pd.Series(flat, dtype=object), sort=True)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        matrix = sparse.csr_matrix((np.ones(len(codes), np.int8), (rows, codes)), shape=(len(lengths), len(labels)))
        matrix.sum_duplicates()
        matrix.data[:] = 1
        self.empty = int((lengths == 0).sum())
        self.matrix = matrix[lengths > 0]
        self.labels = np.asarray(labels, dtype=object)

    @property
    def n_baskets(self) -> int:
        return self.matrix.shape[0]


def baskets_of(lines: pd.DataFrame, column: str = "item_id") -> list[list[Any]]:
    """The items of each basket in ``lines`` as lists (fast: one sort, no per-basket Python groupby)."""
    ordered = lines.sort_values("basket_id", kind="stable")
    keys = ordered["basket_id"].to_numpy()
    items = ordered[column].to_numpy(dtype=object).tolist()
    cuts = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist(), len(items)]
    return [items[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def frequent_itemsets(
    baskets: Iterable[Iterable[Any]],
    min_support: float,
    max_len: int | None = None,
    engine: str = "fim",
    min_count: int = 10,
    max_itemsets: int = 2_000_000,
    seed: int = 0,
    spark: SparkSettings | None = None,
) -> pd.DataFrame:
    """All itemsets in at least ``max(ceil(min_support * n), min_count)`` of the ``n`` non-empty baskets.

    ``baskets`` is a sequence of baskets (lists of items) or, with ``engine="spark"``, also a Spark DataFrame
    with one array column ``items`` per basket, which is never collected whole. ``spark`` starts the Spark
    session (needed with ``engine="spark"``)."""
    _check(min_support, min_count, engine, max_len)
    if hasattr(baskets, "sparkSession"):
        if engine != "spark":
            raise ValueError(f"a Spark DataFrame of baskets needs engine='spark', not {engine!r}")
        frame = baskets.filter("size(items) > 0").persist()
        n_all, n = baskets.count(), frame.count()
        if n == 0:
            raise ValueError("no non-empty baskets to mine")
        threshold = count_threshold(min_support, n, min_count)
        scale = _guard_scale(threshold, n)
        _guard_sample(spark_fpgrowth.sample_baskets(frame, scale, seed), scale, threshold, n, max_len, max_itemsets, min_support)
        found = spark_fpgrowth.frequent_itemsets(frame, n, threshold, max_len, _spark_settings(spark))
        frame.unpersist()
    else:
        tracts = [b if isinstance(b, (list, tuple)) else list(b) for b in baskets]
        n_all = len(tracts)
        tracts = [b for b in tracts if len(b)]
        n = len(tracts)
        if n == 0:
            raise ValueError("no non-empty baskets to mine")
        threshold = count_threshold(min_support, n, min_count)
        _guard(tracts, threshold, n, max_len, max_itemsets, min_support, seed)
        if engine == "fim":
            found = pandas_engines.mine_fim(tracts, threshold, max_len)
        elif engine == "spark":
            found = spark_fpgrowth.frequent_itemsets(tracts, n, threshold, max_len, _spark_settings(spark))
        elif engine == "rusket":
            data = BasketMatrix(tracts)
            found = pandas_engines.mine_rusket(data.matrix, data.labels, threshold, max_len)
        else:
            data = BasketMatrix(tracts)
            found = pandas_engines.mine_mlxtend(data.matrix, data.labels, threshold, max_len, engine.split("_", 1)[1])
    if len(found) > max_itemsets:
        counts = sorted((c for _, c in found), reverse=True)
        raise TooManyItemsets(_too_many_message(len(found), max_itemsets, min_support, (counts[max_itemsets - 1] + 1) / n))
    frame = pd.DataFrame(
        {
            "itemset": [frozenset(items) for items, _ in found],
            "count": np.fromiter((c for _, c in found), dtype=np.int64, count=len(found)),
        }
    )
    frame["support"] = frame["count"] / n
    frame["length"] = frame["itemset"].map(len)
    key = frame["itemset"].map(lambda s: "|".join(sorted(map(str, s))))
    frame = frame.assign(_key=key).sort_values(["length", "count", "_key"], ascending=[True, False, True], kind="stable")
    frame = frame.drop(columns=["_key"]).reset_index(drop=True)[["itemset", "support", "count", "length"]]
    frame.attrs.update({"n_baskets": n, "empty_baskets": n_all - n, "min_count_applied": threshold, "engine": engine,
                        "min_support": min_support, "min_support_auto": False})
    return frame


def _spark_settings(spark: SparkSettings | None) -> SparkSettings:
    if spark is None:
        raise ValueError("engine='spark' needs the Spark settings (spark=SparkSettings(...))")
    return spark


def count_threshold(min_support: float, n: int, min_count: int) -> int:
    """The basket count an itemset needs: ``max(ceil(min_support * n), min_count, 1)``."""
    return max(math.ceil(min_support * n - 1e-9), min_count, 1)


def engine_of(params: Mapping[str, Any]) -> str:
    """The itemset engine of a run: Spark's FP-growth under ``engine: spark``, else ``mining_engine``."""
    return "spark" if params["engine"] == "spark" else params["mining_engine"]


def _too_many_message(found: int, cap: int, min_support: float, suggest: float) -> str:
    return (
        f"mining stopped: more than {cap:,} frequent itemsets (about {found:,}) at min_support {min_support:g}; "
        f"raise 'min_support' to about {max(suggest, min_support * 1.5):.2g} or more, lower 'max_len', "
        "or raise 'max_itemsets'"
    )


def _spectrum(tracts: list, threshold: int, max_len: int | None, stop_above: float) -> int:
    """Number of frequent itemsets, counted level by level without storing any (pattern spectrum), stopping
    as soon as the running total passes ``stop_above``."""
    import fim

    total, size = 0, 1
    while max_len is None or size <= max_len:
        spectrum = fim.fpgrowth(tracts + [SENTINEL], supp=-threshold, zmin=size, zmax=size, report="#")
        level = int(sum(spectrum.values())) if spectrum else 0
        if level == 0:
            break
        total += level
        if total > stop_above:
            break
        size += 1
    return total


def _guard_scale(threshold: int, n: int) -> float:
    """Share of baskets the guard samples: 10% or more, so that the sample's threshold stays at 5 baskets or
    more; all of them when there are few."""
    scale = min(1.0, max(0.1, 5.0 / threshold))
    return scale if n > 20_000 else 1.0


def _guard(tracts: list, threshold: int, n: int, max_len: int | None, cap: int, min_support: float, seed: int) -> None:
    """Estimate the number of frequent itemsets on a sample of baskets, level by level without storing any,
    and stop before mining if the estimate passes ``cap``, suggesting a support that fits."""
    scale = _guard_scale(threshold, n)
    if scale < 1:
        rng = np.random.default_rng(seed)
        sample = [tracts[i] for i in np.sort(rng.choice(n, int(n * scale), replace=False))]
    else:
        sample = tracts
    _guard_sample(sample, scale, threshold, n, max_len, cap, min_support)


def _guard_sample(sample: list, scale: float, threshold: int, n: int, max_len: int | None, cap: int, min_support: float) -> None:
    estimate = _spectrum(sample, max(1, int(threshold * scale)), max_len, cap)
    if estimate <= cap:
        return
    support = min_support
    for _ in range(20):
        support *= 2
        if support >= 1 or _spectrum(sample, max(1, int(math.ceil(support * n) * scale)), max_len, cap) <= cap:
            break
    raise TooManyItemsets(_too_many_message(estimate, cap, min_support, min(support, 1.0)))


# ----------------------------------------------------------------------------------------------------
# rules
# ----------------------------------------------------------------------------------------------------

def adjust_p(p_values: np.ndarray, method: str = "bh") -> np.ndarray:
    """Benjamini-Hochberg (``bh``, false discovery rate) or Holm (``holm``, family-wise error) adjustment."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    elif method == "holm":
        adjusted = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        raise ValueError(f"parameter 'p_adjust': unknown method {method!r} (bh or holm)")
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def association_rules(
    itemsets: pd.DataFrame,
    n_baskets: int,
    min_confidence: float = 0.0,
    p_adjust: str = "bh",
    min_count: int = 10,
) -> pd.DataFrame:
    """Rules ``antecedent -> consequent`` (one consequent item) from frequent itemsets.

    Every split of every frequent itemset of two or more items is *tested* (Fisher's exact test, one-sided,
    positive association) and adjusted over all of them; rules below ``min_confidence`` or ``min_count``
    baskets are then left out of the result.
    """
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"parameter 'min_confidence': must be in [0, 1], got {min_confidence!r}")
    if min_count < 0:
        raise ValueError(f"parameter 'min_count': must be non-negative, got {min_count!r}")
    count_of = dict(zip(itemsets["itemset"], itemsets["count"]))
    ante, cons, n_ac, n_a, n_c = [], [], [], [], []
    for itemset, count in count_of.items():
        if len(itemset) < 2:
            continue
        for item in itemset:
            antecedent = itemset - {item}
            consequent = frozenset((item,))
            if antecedent not in count_of or consequent not in count_of:
                raise ValueError("itemsets are not downward closed: pass every frequent itemset, not a filtered subset")
            ante.append(antecedent)
            cons.append(consequent)
            n_ac.append(count)
            n_a.append(count_of[antecedent])
            n_c.append(count_of[consequent])
    if not ante:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RULE_COLUMNS})
    n = float(n_baskets)
    n_ac, n_a, n_c = (np.asarray(x, dtype=np.float64) for x in (n_ac, n_a, n_c))
    s_ac, s_a, s_c = n_ac / n, n_a / n, n_c / n
    confidence = n_ac / n_a
    with np.errstate(divide="ignore", invalid="ignore"):
        conviction = np.where(confidence < 1, (1 - s_c) / (1 - confidence), np.inf)
        zhang = (s_ac - s_a * s_c) / np.maximum(s_ac * (1 - s_a), s_a * (s_c - s_ac))
    p_value = stats.hypergeom.sf(n_ac - 1, n_baskets, n_a, n_c)
    rules = pd.DataFrame(
        {
            "antecedent": ante,
            "consequent": cons,
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
            "leverage": s_ac - s_a * s_c,
            "conviction": conviction,
            "jaccard": n_ac / (n_a + n_c - n_ac),
            "zhang": np.nan_to_num(zhang, nan=0.0),
            "count": n_ac.astype(np.int64),
            "p_value": p_value,
            "p_adjusted": adjust_p(p_value, p_adjust),
        }
    )
    rules["redundant"] = _redundant(rules)
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["count"] >= min_count)]
    # ties broken by the items' names: frozenset order follows string hashes, which differ between runs
    keys = {"_a": rules["antecedent"].map(lambda x: "|".join(sorted(map(str, x)))),
            "_c": rules["consequent"].map(lambda x: "|".join(sorted(map(str, x))))}
    rules = rules.assign(**keys).sort_values(["lift", "count", "_a", "_c"], ascending=[False, False, True, True], kind="stable")
    rules = rules.drop(columns=list(keys)).reset_index(drop=True)
    rules.attrs.update({"n_baskets": n_baskets, "tested": len(p_value), "p_adjust": p_adjust})
    return rules[RULE_COLUMNS]


def _redundant(rules: pd.DataFrame) -> np.ndarray:
    """True where a rule with the same consequent and a proper-subset antecedent is at least as confident."""
    conf = dict(zip(zip(rules["antecedent"], rules["consequent"]), rules["confidence"]))
    best_general: dict[tuple[frozenset, frozenset], float] = {}
    order = np.argsort(rules["antecedent"].map(len).to_numpy(), kind="stable")
    out = np.zeros(len(rules), dtype=bool)
    antecedents, consequents, confidences = rules["antecedent"].to_numpy(), rules["consequent"].to_numpy(), rules["confidence"].to_numpy()
    for i in order:
        a, c = antecedents[i], consequents[i]
        best = -np.inf
        if len(a) > 1:
            for item in a:
                sub = (a - {item}, c)
                best = max(best, conf.get(sub, -np.inf), best_general.get(sub, -np.inf))
        best_general[(a, c)] = best
        out[i] = best >= confidences[i]
    return out


def rules_to_csv_frame(rules: pd.DataFrame) -> pd.DataFrame:
    out = rules.copy()
    for col in ("antecedent", "consequent"):
        out[col] = out[col].map(lambda s: "|".join(sorted(map(str, s))))
    return out


def itemsets_to_csv_frame(itemsets: pd.DataFrame) -> pd.DataFrame:
    out = itemsets.copy()
    out["itemset"] = out["itemset"].map(lambda s: "|".join(sorted(map(str, s))))
    return out


def filter_funnel(rules: pd.DataFrame, n_itemsets: int, alpha: float = 0.05, min_confidence: float = 0.0) -> pd.DataFrame:
    """How many rules survive each filter in turn: support (all candidate rules), confidence, significance,
    non-redundancy. ``rules`` must be the unfiltered result (``min_confidence=0``)."""
    steps = [("frequent itemsets (support, count floor)", n_itemsets), ("candidate rules", len(rules))]
    kept = rules[rules["confidence"] >= min_confidence]
    steps.append((f"confidence >= {min_confidence:g}", len(kept)))
    kept = kept[kept["p_adjusted"] < alpha]
    steps.append((f"significant (adjusted p < {alpha:g})", len(kept)))
    kept = kept[~kept["redundant"]]
    steps.append(("non-redundant", len(kept)))
    return pd.DataFrame(steps, columns=["filter", "remaining"])


def level_lift_matrix(baskets_level: Sequence[np.ndarray], top: int = 20, min_count: int = 10) -> pd.DataFrame:
    """Lift between the ``top`` most common labels (e.g. categories) from basket co-occurrence; pairs seen
    in fewer than ``min_count`` baskets are NaN (privacy floor)."""
    data = BasketMatrix(baskets_level)
    counts = np.asarray(data.matrix.sum(axis=0)).ravel()
    keep = np.argsort(-counts, kind="stable")[:top]
    sub = data.matrix[:, keep].astype(np.float64).tocsc()
    both = (sub.T @ sub).toarray()
    n = data.n_baskets
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = both * n / np.outer(counts[keep], counts[keep])
    lift[both < min_count] = np.nan
    np.fill_diagonal(lift, np.nan)
    labels = data.labels[keep]
    return pd.DataFrame(lift, index=labels, columns=labels)


def strong_itemsets(rules: pd.DataFrame, alpha: float = 0.05, min_lift: float = 3.0) -> set[frozenset]:
    """Itemsets whose every rule (each item as the consequent of the others) is significant with lift >=
    ``min_lift``, kept only when no larger such itemset contains them. A popular item that merely rides
    along with a real pair fails the rule pair -> popular item (lift near 1), so it is not reported."""
    good = (rules["p_adjusted"] < alpha) & (rules["lift"] >= min_lift)
    itemset = [a | c for a, c in zip(rules["antecedent"], rules["consequent"])]
    table = pd.DataFrame({"itemset": itemset, "good": good.to_numpy()})
    all_good = table.groupby("itemset")["good"].agg(["all", "size"])
    found = {s for s, row in all_good.iterrows() if row["all"] and row["size"] == len(s)}
    return {s for s in found if not any(s < other for other in found)}


def recover_planted(rules: pd.DataFrame, planted: Iterable[Iterable[Any]], alpha: float = 0.05,
                    min_lift: float = 3.0) -> dict[str, Any]:
    """Precision and recall of planted associations (synthetic ground truth) among :func:`strong_itemsets`.

    ``rules`` must be unfiltered (every rule of every frequent itemset, ``min_confidence=0``)."""
    found = strong_itemsets(rules, alpha, min_lift)
    truth = {frozenset(p) for p in planted}
    hits = found & truth
    return {
        "planted": len(truth),
        "discovered": len(found),
        "recovered": len(hits),
        "precision": len(hits) / len(found) if found else 0.0,
        "recall": len(hits) / len(truth) if truth else 1.0,
        "missed": sorted("|".join(sorted(map(str, p))) for p in truth - found),
        "spurious": sorted("|".join(sorted(map(str, p))) for p in found - truth),
    }


class Mined:
    """Itemsets and rules of one level, mined with the run's parameters, and the views the report needs."""

    def __init__(self, baskets: Sequence[Sequence[Any]], min_support: float | str, params: Mapping[str, Any]):
        self.params = params
        options = dict(max_len=params["max_len"] or None, engine=engine_of(params), min_count=params["min_count"],
                       max_itemsets=params["max_itemsets"], seed=params["seed"], spark=SparkSettings.from_params(params))
        if is_auto(min_support):
            _, self.itemsets = auto_support(baskets, **options)
        else:
            self.itemsets = frequent_itemsets(baskets, min_support, **options)
        #: the support mined at: the number given, or the one ``auto`` chose
        self.min_support: float = self.itemsets.attrs["min_support"]
        self.auto_support: bool = self.itemsets.attrs["min_support_auto"]
        self.n_baskets = self.itemsets.attrs["n_baskets"]
        self.rules = association_rules(self.itemsets, self.n_baskets, 0.0, params["p_adjust"], params["min_count"])
        alpha, min_confidence = params["alpha"], params["min_confidence"]
        self.rules["trusted"] = (
            (self.rules["confidence"] >= min_confidence) & (self.rules["p_adjusted"] < alpha) & ~self.rules["redundant"]
        )
        self.funnel = filter_funnel(self.rules, len(self.itemsets), alpha, min_confidence)

    def support_text(self) -> str:
        """The support used, in words, for the report: ``0.001`` or ``0.005 (auto: the lowest support of ...)``."""
        if not self.auto_support:
            return f"{self.min_support:g}"
        return (f"{self.min_support:g} (min_support auto: the lowest of {', '.join(f'{s:g}' for s in AUTO_SUPPORTS)} "
                f"that stays under max_itemsets = {self.params['max_itemsets']:,} itemsets)")

    @property
    def trusted(self) -> pd.DataFrame:
        return self.rules[self.rules["trusted"]].reset_index(drop=True)

    def top(self, names: pd.Series | None = None, n: int = 15, categories: pd.Series | None = None,
            variants: pd.Series | None = None) -> pd.DataFrame:
        """The strongest trustworthy rules by lift, with names, for display. With ``categories`` (item ->
        category), only rules whose consequent is in a category none of the antecedent's items share:
        cross-category suggestions rather than flavours of one product. With ``variants`` (item -> the product
        it is a variant of, :func:`~shared.mining.variants.variant_keys`), the rules between variants of one
        product (sizes, flavours) are one line each, where the strongest of them was, saying how many rules it
        stands for (:func:`~shared.mining.variants.collapse_variants`): the first screen is about different
        products."""
        top = self.trusted
        if categories is not None:
            other = [categories.get(next(iter(c))) not in {categories.get(i) for i in a}
                     for a, c in zip(top["antecedent"], top["consequent"])]
            top = top[np.asarray(other, dtype=bool)]
        if variants is not None:
            top = collapse_variants(top, variants)
        top = top.head(n).copy()
        label = (lambda s: " + ".join(str(names.get(i, i)) for i in sorted(s))) if names is not None else (lambda s: " + ".join(map(str, sorted(s))))
        top.insert(0, "if the basket has", top["antecedent"].map(label))
        top.insert(1, "it also has", top["consequent"].map(label))
        if variants is not None:
            variant = top["variant_of"].notna().to_numpy()
            top.loc[variant, "if the basket has"] = [f"one {product} product" for product in top.loc[variant, "variant_of"]]
            top.loc[variant, "it also has"] = [variant_text(count, "rule") for count in top.loc[variant, "variants"]]
        return top[["if the basket has", "it also has", "count", "support", "confidence", "lift", "p_adjusted"]]


def category_baskets(lines: pd.DataFrame, catalogue: pd.DataFrame | None) -> list[list[Any]] | None:
    """Baskets as sets of product categories, or None where the data has no finer level than categories."""
    if catalogue is None or "product_category" not in catalogue:
        return None
    category = lines["item_id"].map(catalogue.set_index("item_id")["product_category"])
    if category.isna().all() or (category == lines["item_id"]).all():
        return None
    return baskets_of(lines.assign(product_category=category).dropna(subset=["product_category"]), "product_category")


def pair_lifts(itemsets: pd.DataFrame, n_baskets: int) -> pd.DataFrame:
    """Every frequent pair with its basket count (``baskets``), support, confidence both ways and lift, from the frequent
    itemsets, strongest lift first: the one pair table of the project (rule partners, the stakeholder summary,
    the comparison with embeddings)."""
    count = dict(zip(itemsets["itemset"], itemsets["count"]))
    rows = []
    for itemset, c in count.items():
        if len(itemset) == 2:
            a, b = sorted(itemset, key=str)
            rows.append((a, b, c, count[frozenset((a,))], count[frozenset((b,))]))
    frame = pd.DataFrame(rows, columns=["item_a", "item_b", "baskets", "count_a", "count_b"])
    frame["support"] = frame["baskets"] / n_baskets
    frame["confidence_a_to_b"] = frame["baskets"] / frame["count_a"]
    frame["confidence_b_to_a"] = frame["baskets"] / frame["count_b"]
    frame["lift"] = frame["baskets"] * n_baskets / (frame["count_a"].astype(float) * frame["count_b"])
    frame = frame.sort_values(["lift", "baskets", "item_a", "item_b"], ascending=[False, False, True, True], kind="stable")
    return frame.drop(columns=["count_a", "count_b"]).reset_index(drop=True)


def frequent_pairs(lines: pd.DataFrame, min_support: float | str, min_count: int = 10,
                   max_itemsets: int = 2_000_000) -> pd.DataFrame:
    """Every pair of items in at least ``min_support`` of the baskets of ``lines`` (and ``min_count``),
    with :func:`pair_lifts`' columns. ``min_support`` ``auto``: see :func:`auto_support`."""
    if is_auto(min_support):
        _, itemsets = auto_support(baskets_of(lines), max_len=2, min_count=min_count, max_itemsets=max_itemsets)
    else:
        itemsets = frequent_itemsets(baskets_of(lines), min_support, max_len=2, min_count=min_count)
    pairs = pair_lifts(itemsets, itemsets.attrs["n_baskets"])
    pairs.attrs["min_support"] = itemsets.attrs["min_support"]
    return pairs
