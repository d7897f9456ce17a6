"""New products: who will buy a product nobody (or almost nobody) has bought yet, and which new products to
show a customer. The question where what a language model knows about products is the only knowledge there is.

Every model of the main evaluation ranks the fit-period vocabulary (items in ``min_item_count``+ fit baskets):
a product first sold in the test weeks, or sold a handful of times before, is out of its reach. Here:

- :func:`new_product_sets` picks the products. *Targeted products*: products with fewer than
  ``cold_max_baskets`` fit-period baskets (none at all: a *launch*) bought by at least ``min_buyers``
  customers with a fit-period history in the target weeks. *Launch pool*: every catalogue product without a
  fit-period basket, the list a retailer knows before the products sell; the recommendation direction ranks it.
- :func:`score_matrix` scores customers x products by one of :data:`SCORERS`:
  ``heavy_buyers`` (the customer's fit-period baskets: who buys most buys anything),
  ``category_affinity`` (the customer's share of fit-period lines in the product's category),
  ``type_brand_affinity`` (share in the product's product type and brand),
  ``text`` (the sum, over the customer's fit-period lines, of the cosine between the product's text vector and
  the line's item's: how much of what they buy reads like the product; frozen or fine-tuned vectors. Chosen
  on the validation weeks over the cosine with the customer's unit-length profile: recall@100 0.149 against
  0.091, AUC 0.718 against 0.651, frozen encoder, 231 products),
  ``text_to_factors`` (a ridge map from warm products' text vectors to their ALS item factors, applied to the
  new product and scored against the customer's ALS vector). Ties go to the more active customer.
- :func:`targeting` (direction 1): per product, all customers ranked; recall@k of its buyers (k = 50, 100) and
  the AUC (ties count half), averaged over products with bootstrap intervals over products, and paired tests
  against ``category_affinity``.
- :func:`launch_recommendation` (direction 2): per customer who bought a launch in the target weeks, the launch
  pool ranked; recall@k of the launches they bought (k = 10, 20). Models of the main evaluation rank the
  vocabulary only: their recall here is 0 by construction.
- :func:`seed_verdicts` says whether the fine-tuned encoder beat the frozen one (and the category baseline),
  a verdict only where every fine-tuning seed agrees in sign and is significant.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import rankdata

from . import metrics, mining, text, text_tuning
from .evaluate import bootstrap_tests, fit_interactions
from .models import training_seeds
from .models.base import Interactions
from .split import fit_lines

#: Customer x product scorers, in the order tables show them.
SCORERS = ("heavy_buyers", "category_affinity", "type_brand_affinity", "text", "text_to_factors")
REFERENCE = "category_affinity"
TARGETING_K = (50, 100)
LAUNCH_K = (10, 20)
TEST_COLUMNS = ["metric", "model_a", "model_b", "diff", "ci_low", "ci_high", "p_value", "n"]


@dataclass
class NewProductData:
    """The fit period and the new products of one split (``target``: test or validation)."""

    train: Interactions                 # fit period over the vocabulary (customers with a fit history = rows)
    product_ids: np.ndarray             # targeted products (str)
    product_fit_baskets: np.ndarray     # their fit-period basket counts (0: launch)
    buyers: list[np.ndarray]            # per targeted product: customer rows that bought it in the target weeks
    launch_ids: np.ndarray              # the launch pool (str): catalogue products without a fit-period basket
    launch_customers: np.ndarray        # customer rows that bought a launch in the target weeks
    launch_targets: list[np.ndarray]    # per such customer: positions in launch_ids they bought
    catalogue: pd.DataFrame | None
    target: str = "test"

    def customer_factors(self, als: Any) -> np.ndarray:
        """Every customer's ALS vector (folded in from their fit-period counts), computed once per fitted model:
        each text-to-factor model of both directions scores against the same vectors."""
        kept = getattr(self, "_customer_factors", None)
        if kept is None or kept[0] is not als:
            kept = (als, als.customer_vectors(self.train.customers))
            self._customer_factors = kept
        return kept[1]

    @property
    def activity(self) -> np.ndarray:
        """Fit-period baskets per customer row."""
        return np.bincount(self.train.basket_customer, minlength=len(self.train.customer_ids)).astype(float)


def new_product_sets(lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any],
                     target: str = "test") -> NewProductData:
    """The targeted products and the launch pool of ``target`` (see the module docstring)."""
    train = fit_interactions(lines, catalogue, target, params["min_item_count"], params["kcore"])
    fit = fit_lines(lines, target)
    fit_baskets = fit.groupby(fit["item_id"].astype("str"))["basket_id"].nunique()
    later = lines[lines["split"] == target]
    later = later.assign(item=later["item_id"].astype("str"))
    rows = pd.Index(train.customer_ids).get_indexer(later["customer_id"])
    later = later[rows >= 0].assign(row=rows[rows >= 0])
    cold_max = int(params["cold_max_baskets"])
    counts = fit_baskets.reindex(later["item"]).fillna(0).to_numpy()
    # new: rarely sold before, and outside the vocabulary (whatever cold_max_baskets and min_item_count say)
    new = later[(counts < cold_max) & ~later["item"].isin(pd.Index(train.item_ids).astype("str"))]
    buyers = new.groupby("item")["row"].unique()
    buyers = buyers[buyers.map(len) >= int(params["new_product_min_buyers"])]
    product_ids = np.asarray(sorted(buyers.index), dtype=object)
    # the launch pool is the catalogue's products without a fit-period basket; without a catalogue there is no
    # list known before the products sell (the lines' items would be the products sold later): no launch pool
    known = catalogue["item_id"].astype("str") if catalogue is not None else pd.Series([], dtype="str")
    launch_ids = np.asarray(sorted(set(known) - set(fit_baskets.index)), dtype=object)
    position = pd.Index(launch_ids)
    bought = later[later["item"].isin(position)]
    per_customer = bought.groupby("row")["item"].unique()
    return NewProductData(
        train=train, product_ids=product_ids,
        product_fit_baskets=fit_baskets.reindex(product_ids).fillna(0).astype(int).to_numpy(),
        buyers=[np.sort(buyers[p]).astype(np.int64) for p in product_ids],
        launch_ids=launch_ids, launch_customers=per_customer.index.to_numpy(np.int64),
        launch_targets=[np.sort(position.get_indexer(items)).astype(np.int64) for items in per_customer],
        catalogue=catalogue, target=target)


def items_to_embed(data: NewProductData) -> np.ndarray:
    """Every item whose text vector the evaluation reads: the vocabulary, the targeted products, the launches."""
    return np.asarray(list(dict.fromkeys([*map(str, data.train.item_ids), *data.product_ids, *data.launch_ids])), dtype=object)


@dataclass
class ProductText:
    """The run's item text: descriptions, frozen and fine-tuned vectors (one set per training seed)."""

    item_ids: np.ndarray
    descriptions: pd.Series
    frozen: np.ndarray
    tuned: dict[int, np.ndarray]
    pairs: pd.DataFrame
    info: dict[str, Any]


def encode_products(lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any], data: NewProductData,
                    cache_dir: Any, fingerprint: str, progress: bool = True) -> ProductText:
    """Describe and encode every item of :func:`items_to_embed`, and fine-tune the encoder on the fit period's
    co-purchase pairs (every pair in ``min_count``+ baskets, :func:`shared.mining.frequent_pairs`), once per
    training seed (``text_tune_steps`` 0: frozen vectors only). Raises :class:`shared.text.NoItemText`
    without item text."""
    ids = items_to_embed(data)
    descriptions = text.describe_items(catalogue, ids)
    # every pair of vocabulary items above the privacy floor (the count threshold decides, not a support), in the
    # fit period of data's target: nothing the target weeks select
    every_pair = mining.frequent_pairs(fit_lines(lines, data.target), 1e-12, params["min_count"])
    vocabulary = pd.Index(data.train.item_ids).astype("str")
    every_pair = every_pair[every_pair["item_a"].astype("str").isin(vocabulary) & every_pair["item_b"].astype("str").isin(vocabulary)]
    pairs = text_tuning.description_pairs(every_pair, dict(zip(map(str, ids), descriptions)))
    settings = ([text_tuning.TuneSettings.from_params(params, seed) for seed in training_seeds("sasrec", params)]
                if params["text_tune_steps"] > 0 and len(pairs) else [])
    frozen, tuned, info = text_tuning.tuned_vectors(descriptions.tolist(), pairs, settings, cache_dir, fingerprint,
                                                    progress=progress)
    info["columns"] = text.text_columns(catalogue)
    info["items"] = int(len(ids))
    return ProductText(ids, descriptions, frozen, tuned, pairs, info)


def neighbour_shift(product_text: ProductText, item_ids: np.ndarray, basket_counts: np.ndarray, names: Mapping[str, str],
                    n: int = 8) -> pd.DataFrame:
    """For the ``n`` most bought items of ``item_ids``: the nearest other vocabulary item (another description) by
    the frozen vectors and by the first seed's fine-tuned ones, and the cosine to each."""
    if not product_text.tuned:
        return pd.DataFrame()
    frozen = text.align_vectors(product_text.item_ids, product_text.frozen, item_ids)
    tuned = text.align_vectors(product_text.item_ids, product_text.tuned[min(product_text.tuned)], item_ids)
    described = dict(zip(map(str, product_text.item_ids), product_text.descriptions))
    labels = np.array([described.get(str(i), "") for i in item_ids], dtype=object)
    rows = []
    for i in np.argsort(-np.asarray(basket_counts), kind="stable")[:n]:
        row = {"product": names.get(str(item_ids[i]), str(item_ids[i]))}
        for label, vectors in (("frozen", frozen), ("fine-tuned", tuned)):
            sims = vectors @ vectors[i]
            sims[labels == labels[i]] = -np.inf  # itself and products with the same description
            j = int(np.argmax(sims))
            row[f"nearest ({label})"] = names.get(str(item_ids[j]), str(item_ids[j]))
            row[f"cosine ({label})"] = float(sims[j])
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------------
# Scores
# ----------------------------------------------------------------------------------------------------

def _attribute(catalogue: pd.DataFrame | None, ids: Sequence[str], columns: Sequence[str]) -> pd.Series:
    """One label per item from ``columns`` joined (NA where the catalogue lacks any of them)."""
    if catalogue is None or not all(c in catalogue for c in columns):
        return pd.Series([pd.NA] * len(ids), dtype="object")
    table = catalogue.drop_duplicates("item_id")
    table = table.set_index(table["item_id"].astype("str"))
    parts = table[list(columns)].astype("string").reindex(list(map(str, ids)))
    joined = parts.iloc[:, 0]
    for c in parts.columns[1:]:
        joined = joined + "|" + parts[c]
    return joined.reset_index(drop=True)


def _share_scores(data: NewProductData, product_ids: Sequence[str], columns: Sequence[str]) -> np.ndarray | None:
    """customers x products: the customer's share of fit-period lines whose item has the product's ``columns``."""
    vocab_labels = _attribute(data.catalogue, data.train.item_ids, columns)
    product_labels = _attribute(data.catalogue, product_ids, columns)
    if vocab_labels.isna().all() or product_labels.isna().all():
        return None
    codes, uniques = pd.factorize(pd.concat([vocab_labels, product_labels], ignore_index=True))
    vocab_codes, product_codes = codes[: len(vocab_labels)], codes[len(vocab_labels):]
    known = vocab_codes >= 0
    by_label = sparse.csr_matrix((np.ones(int(known.sum())), (np.flatnonzero(known), vocab_codes[known])),
                                 shape=(len(vocab_codes), max(len(uniques), 1)))
    counts = (data.train.customers @ by_label).toarray()
    totals = np.asarray(data.train.customers.sum(axis=1)).ravel()
    share = counts / np.maximum(totals, 1)[:, None]
    out = np.zeros((share.shape[0], len(product_codes)))
    has = product_codes >= 0
    out[:, has] = share[:, product_codes[has]]
    return out


def customer_profiles(data: NewProductData, vocab_vectors: np.ndarray) -> np.ndarray:
    """Each customer's text profile: the sum of the text vectors of their fit-period lines (not normalised: its
    dot product with a product's unit vector is the sum of the lines' cosines with it)."""
    return np.asarray(data.train.customers @ vocab_vectors, dtype=np.float32)


def text_to_factor_map(text_vectors: np.ndarray, factors: np.ndarray, warm: np.ndarray, ridge: float = 1.0) -> np.ndarray:
    """Ridge regression (dim x factors) of ``factors`` on ``text_vectors`` over the ``warm`` rows with text."""
    rows = warm & (np.abs(text_vectors).sum(axis=1) > 0)
    x, y = text_vectors[rows].astype(np.float64), factors[rows].astype(np.float64)
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)


def lookup(vectors: Mapping[str, np.ndarray], item_ids: Sequence[Any]) -> np.ndarray:
    """Rows of ``vectors`` (item id -> vector) for ``item_ids``, a zero row where an item has none."""
    dim = len(next(iter(vectors.values())))
    zero = np.zeros(dim, dtype=np.float32)
    return np.stack([np.asarray(vectors.get(str(i), zero), dtype=np.float32) for i in item_ids]) if len(item_ids) else np.zeros((0, dim), np.float32)


def score_matrix(scorer: str, data: NewProductData, product_ids: Sequence[str], vectors: Mapping[str, np.ndarray] | None = None,
                 als: Any = None) -> np.ndarray | None:
    """customers x ``product_ids`` scores of ``scorer`` (None when the data cannot support it: no category, no
    text). ``vectors``: item id -> text vector lookup for the vocabulary and the products (``text`` and
    ``text_to_factors``); ``als``: a fitted ALS on ``data.train`` (``text_to_factors``). A tiny multiple of the
    customer's activity breaks ties."""
    if scorer not in SCORERS:
        raise ValueError(f"unknown new-product scorer {scorer!r}: choose from {', '.join(SCORERS)}")
    activity = data.activity
    tie = (activity / max(activity.max(), 1.0))[:, None] * 1e-6
    if scorer == "heavy_buyers":
        return np.repeat(activity[:, None], len(product_ids), axis=1).astype(float)
    if scorer == "category_affinity":
        base = _share_scores(data, product_ids, ["product_category"]) if data.catalogue is not None and "product_category" in data.catalogue else None
        base = base if base is not None else _share_scores(data, product_ids, ["department"])
        return None if base is None else base + tie
    if scorer == "type_brand_affinity":
        base = _share_scores(data, product_ids, ["product_type", "brand"])
        return None if base is None else base + tie
    if vectors is None or not len(vectors):
        return None
    vocab, products = lookup(vectors, data.train.item_ids), lookup(vectors, product_ids)
    if scorer == "text":
        return customer_profiles(data, vocab) @ products.T + tie
    if scorer == "text_to_factors":
        if als is None:
            return None
        mapping = text_to_factor_map(vocab, als.item_factors, ~als.cold)
        users = data.customer_factors(als)
        return users @ (products @ mapping).T.astype(np.float32) + tie
    raise AssertionError(scorer)  # pragma: no cover - every scorer is handled above


# ----------------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------------

def targeting_metrics(scores: np.ndarray, buyers: Sequence[np.ndarray], ks: Sequence[int] = TARGETING_K) -> pd.DataFrame:
    """Per product (column of ``scores``, customers x products): recall@k of its buyers among all customers
    ranked by score (ties to the lower row), and the AUC (ties count half)."""
    n = scores.shape[0]
    rows = []
    for j, positives in enumerate(buyers):
        column = scores[:, j]
        order = np.lexsort((np.arange(n), -column))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        row = {f"recall@{k}": float(np.mean(rank[positives] < k)) for k in ks}
        n_pos = len(positives)
        n_neg = n - n_pos
        if n_pos and n_neg:
            ranks = rankdata(column)  # ascending, ties averaged
            row["auc"] = float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
        else:
            row["auc"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=[*(f"recall@{k}" for k in ks), "auc"])


def recommendation_metrics(scores: np.ndarray, targets: Sequence[np.ndarray], ks: Sequence[int] = LAUNCH_K) -> pd.DataFrame:
    """Per row of ``scores`` (queries x pool): recall@k of that row's ``targets`` (positions in the pool)."""
    k_max = max(ks)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k_max]
    rows = []
    for top, t in zip(order, targets):
        rows.append({f"recall@{k}": float(np.isin(t, top[:k]).mean()) if len(t) else np.nan for k in ks})
    return pd.DataFrame(rows, columns=[f"recall@{k}" for k in ks])


def _summarise(per_unit: Mapping[str, pd.DataFrame], n_boot: int, seed: int, unit: str, columns: Sequence[str],
               reference: str = REFERENCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model: the number of units and each metric's mean with its bootstrap interval (the same columns when
    there is nothing to evaluate); paired tests of every model against ``reference``."""
    rows, tests = [], []
    for name, frame in per_unit.items():
        row: dict[str, Any] = {"model": name, unit: len(frame)}
        for metric in frame.columns:
            mean, low, high = metrics.bootstrap_ci(frame[metric].to_numpy(), n_boot, seed)
            row.update({metric: mean, f"{metric} low": low, f"{metric} high": high})
        rows.append(row)
        if name != reference and reference in per_unit:
            for metric in frame.columns:
                test = metrics.paired_bootstrap(frame[metric].to_numpy(), per_unit[reference][metric].to_numpy(), n_boot, seed)
                tests.append({"metric": metric, "model_a": name, "model_b": reference, **test})
    table = pd.DataFrame(rows, columns=["model", unit, *(f"{m}{part}" for m in columns for part in ("", " low", " high"))])
    tests = bootstrap_tests(tests, n_boot)
    if tests.empty:  # nothing tested: the columns all the same
        tests = bootstrap_tests([], n_boot).reindex(columns=TEST_COLUMNS)
        tests.attrs["p_floor"] = 1 / n_boot
    return table, tests


def evaluate_new_products(data: NewProductData, text_vectors: Mapping[str, Mapping[str, np.ndarray]], als: Any,
                          n_boot: int, seed: int, extra_tests: Sequence[tuple[str, str]] = (),
                          ) -> dict[str, Any]:
    """Both directions for every scorer. ``text_vectors``: encoder name (e.g. ``frozen``, ``tuned seed 42``) ->
    item id -> vector; each gives a ``text (<name>)`` and a ``text_to_factors (<name>)`` model. ``extra_tests``:
    (model_a, model_b) pairs to test besides each model against the category baseline.

    Returns {"targeting": table, "targeting_tests", "targeting_per_unit": {model: per-product frame},
    "launches": table, "launches_tests", "launches_per_unit": {model: per-customer frame}}; the tables keep their
    columns when there is nothing to evaluate."""
    models: dict[str, tuple[str, Mapping[str, np.ndarray] | None]] = {s: (s, None) for s in SCORERS[:3]}
    for name, vectors in text_vectors.items():
        models[f"text ({name})"] = ("text", vectors)
        models[f"text_to_factors ({name})"] = ("text_to_factors", vectors)
    out: dict[str, Any] = {}
    for direction, ids, unit in (("targeting", data.product_ids, "products"), ("launches", data.launch_ids, "customers")):
        per_unit: dict[str, pd.DataFrame] = {}
        if len(ids) and (direction == "targeting" or len(data.launch_customers)):
            for name, (scorer, vectors) in models.items():
                if direction == "launches" and scorer == "heavy_buyers":
                    continue  # the same score for every launch: no ranking of products
                scores = score_matrix(scorer, data, ids, vectors, als)
                if scores is None:
                    continue
                if direction == "targeting":
                    per_unit[name] = targeting_metrics(scores, data.buyers)
                else:
                    per_unit[name] = recommendation_metrics(scores[data.launch_customers], data.launch_targets)
        columns = [f"recall@{k}" for k in TARGETING_K] + ["auc"] if direction == "targeting" else [f"recall@{k}" for k in LAUNCH_K]
        table, tests = _summarise(per_unit, n_boot, seed, unit, columns)
        extra = []
        for a, b in extra_tests:
            if a in per_unit and b in per_unit:
                for metric in per_unit[a].columns:
                    extra.append({"metric": metric, "model_a": a, "model_b": b,
                                  **metrics.paired_bootstrap(per_unit[a][metric].to_numpy(), per_unit[b][metric].to_numpy(), n_boot, seed)})
        if extra:
            tests = bootstrap_tests([*tests.to_dict("records"), *extra], n_boot)
        out[direction] = table
        out[f"{direction}_tests"] = tests
        out[f"{direction}_per_unit"] = per_unit
    return out


def tuned_seeds_of(models: Sequence[str], family: str) -> list[int]:
    """The fine-tuning seeds of ``family``'s models among ``models`` (names like ``text (tuned seed 42)``)."""
    pattern = re.compile(re.escape(family) + r" \(tuned seed (\d+)\)$")
    return sorted({int(found.group(1)) for name in models if (found := pattern.match(str(name)))})


def seed_verdicts(tests: pd.DataFrame, seeds: Sequence[int], metric: str, versus: str, alpha: float = 0.05,
                  model: str = "text (tuned seed {seed})") -> dict[str, Any]:
    """The fine-tuned model against ``versus`` on ``metric`` over ``seeds``: per seed the difference and p-value;
    ``verdict`` "better"/"worse" only when every seed agrees in sign and is significant, else "no difference
    we can detect" ("seeds disagree: no verdict" when the signs differ, "too few to judge" without a p-value)."""
    rows = []
    for seed in seeds:
        name = model.format(seed=seed)
        hit = tests[(tests["metric"] == metric) & (tests["model_a"] == name) & (tests["model_b"] == versus)] if len(tests) else tests
        if len(hit):
            rows.append({"seed": seed, "diff": float(hit.iloc[0]["diff"]), "p_value": float(hit.iloc[0]["p_value"])})
    if not rows:
        return {"verdict": "not tested", "seeds": rows}
    signs = {np.sign(r["diff"]) for r in rows}
    significant = all(r["p_value"] < alpha for r in rows)  # NaN (too few to judge) is never below alpha
    if any(np.isnan(r["p_value"]) for r in rows):
        word = "too few to judge"
    elif len(signs) > 1:
        word = "seeds disagree: no verdict"
    elif significant and signs == {1.0}:
        word = "better"
    elif significant and signs == {-1.0}:
        word = "worse"
    else:
        word = "no difference we can detect"
    return {"verdict": word, "seeds": rows, "mean_diff": float(np.mean([r["diff"] for r in rows]))}


def examples(data: NewProductData, scores: np.ndarray, vocab_vectors: np.ndarray, product_vectors: np.ndarray,
             names: Mapping[str, str], n: int = 5, neighbours: int = 3, top: int = 100) -> pd.DataFrame:
    """For the ``n`` launches (else targeted products) with the most buyers: the product, the known products its
    text vector sits closest to, and how many of the ``top`` customers the scores would target bought it."""
    order = np.lexsort((data.product_ids.astype(str), -np.array([len(b) for b in data.buyers]), data.product_fit_baskets > 0))
    rows = []
    for j in order[:n]:
        pid = str(data.product_ids[j])
        similarity = vocab_vectors @ product_vectors[j]
        similarity[np.asarray(data.train.item_ids).astype(str) == pid] = -np.inf  # not the product itself
        close = np.argsort(-similarity, kind="stable")[:neighbours]
        chosen = np.lexsort((np.arange(scores.shape[0]), -scores[:, j]))[:top]
        rows.append({"new product": names.get(pid, pid),
                     "fit-period baskets": int(data.product_fit_baskets[j]),
                     "placed beside": "; ".join(names.get(str(data.train.item_ids[i]), str(data.train.item_ids[i])) for i in close),
                     "buyers in the test weeks": len(data.buyers[j]),
                     f"bought it, of the {top} targeted": int(np.isin(chosen, data.buyers[j]).sum())})
    return pd.DataFrame(rows)


__all__ = ["SCORERS", "NewProductData", "ProductText", "new_product_sets", "items_to_embed", "encode_products",
           "neighbour_shift", "score_matrix", "customer_profiles",
           "text_to_factor_map", "lookup", "targeting_metrics", "recommendation_metrics", "evaluate_new_products",
           "seed_verdicts", "tuned_seeds_of", "examples"]
