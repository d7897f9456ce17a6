"""Display tables for the notebooks: leaderboards, named item lists, side-by-side partners, paired tests."""
from __future__ import annotations

from typing import Sequence

import html
import re

import numpy as np
import pandas as pd

from ..metrics import MIN_QUERIES

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~])")  # inline markup; '<' and '>' are HTML-escaped

#: The one mapping from a model's code name to the words a merchandiser reads (the index page, the leaderboard
#: figure); a model missing here is shown by its code name.
MODEL_NAMES = {
    "popularity": "bestsellers",
    "category_popularity": "category bestsellers",
    "personal_frequency": "buy it again",
    "item_knn": "bought with it (item neighbours)",
    "rules": "association rules",
    "als": "shoppers like you (ALS)",
    "bpr": "shoppers like you (BPR)",
    "repeat": "time-aware repeat",
    "tifu_knn": "repeat + similar shoppers",
    "repeat_explore": "time-aware repeat + neighbours",
    "text_knn": "similar product descriptions (AI text)",
    "sasrec": "AI sequence model (Transformer)",
    "sasrec_text": "AI sequence model + product text",
    "sasrec_repeat": "AI sequence model + repeat",
}
#: The AI models: the Transformers (trained, with seeds) and the pretrained text encoder's neighbours.
AI_MODELS = ("sasrec", "sasrec_text", "sasrec_repeat", "text_knn")
#: The incumbent list every other list is measured against: what the customer always buys.
INCUMBENT = "personal_frequency"


def model_name(code: object) -> str:
    """A model's name in words (:data:`MODEL_NAMES`), or its code name where it has none. Plain text: escape it
    where it reaches HTML or markdown."""
    return MODEL_NAMES.get(str(code), str(code))



def md_text(value: object) -> str:
    """Text from the data (IDs, names, file names, column headers, categories, error messages) made safe for
    markdown that is rendered to HTML: HTML-escaped (no tag or event handler can come alive) and markdown
    punctuation backslash-escaped (no link, emphasis or table can be injected). The one escaper the report
    uses wherever data text reaches markdown; tables are escaped by pandas and the index by ``html.escape``."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=True))

def similar_items_table(model, item_ids: np.ndarray, names: pd.Series, items: Sequence[int], n: int = 10) -> pd.DataFrame:
    """For each item index in ``items``, its ``n`` most similar items by factor cosine, with names."""
    rows = []
    for item in items:
        similar, sims = model.similar_items(item, n)
        for rank, (other, sim) in enumerate(zip(similar, sims), 1):
            rows.append({"item_id": item_ids[item], "name": names.get(item_ids[item], item_ids[item]), "rank": rank,
                         "similar_item_id": item_ids[other], "similar_name": names.get(item_ids[other], item_ids[other]),
                         "cosine": float(sim)})
    return pd.DataFrame(rows)


def partners_table(items: Sequence[int], item_ids: np.ndarray, names: pd.Series, n: int = 5,
                   pairs: pd.DataFrame | None = None, similar: pd.DataFrame | None = None,
                   raised: dict[int, list[tuple[int, float]]] | None = None) -> pd.DataFrame:
    """Side by side for each item index: its highest-lift rule partners (``pairs``: item_a, item_b, lift),
    its nearest items by ALS factors (``similar``: item_id, similar_item_id, cosine) and the items SASRec
    most raises as next purchase (``raised``: item index -> [(item index, log-probability gain)])."""
    def name(item_id):
        return names.get(item_id, item_id)

    rows = []
    for item in items:
        item_id = item_ids[item]
        columns: dict[str, list[str]] = {}
        if pairs is not None:
            mine = pairs[(pairs["item_a"] == item_id) | (pairs["item_b"] == item_id)].sort_values("lift", ascending=False).head(n)
            columns["top rule partner (lift)"] = [f"{name(b if a == item_id else a)} ({lift:.1f})"
                                                  for a, b, lift in zip(mine["item_a"], mine["item_b"], mine["lift"])]
        if similar is not None:
            near = similar[similar["item_id"].astype(str) == str(item_id)].head(n)
            columns["nearest by ALS factors (cosine)"] = [f"{name(o)} ({c:.2f})" for o, c in zip(near["similar_item_id"], near["cosine"])]
        if raised is not None:
            columns["SASRec raises most (log-prob gain)"] = [f"{name(item_ids[o])} ({g:+.1f})" for o, g in raised.get(int(item), [])[:n]]
        for rank in range(n):
            row = {"product": name(item_id) if rank == 0 else "", "rank": rank + 1}
            row.update({col: (values[rank] if rank < len(values) else "") for col, values in columns.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def prediction_table(top: np.ndarray, item_ids: np.ndarray, names: pd.Series, history: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """A top-k list with names: bought before by the customer? in the basket they actually bought next?"""
    shown = top[top >= 0]
    return pd.DataFrame({
        "rank": np.arange(1, len(shown) + 1),
        "product": [names.get(item_ids[i], item_ids[i]) for i in shown],
        "bought before": np.isin(shown, history),
        "in the actual next basket": np.isin(shown, target),
    })


def leaderboard_table(board: pd.DataFrame, k: int = 10,
                      metrics: tuple[str, ...] = ("recall", "ndcg", "hit_rate", "mrr", "coverage", "novelty", "diversity")) -> pd.DataFrame:
    """Wide view of the leaderboard at one k: 'value [ci_low, ci_high]' per metric, a row per task and model."""
    rows = board[(board["k"] == k) & board["metric"].isin(metrics)].copy()
    rows["cell"] = [
        f"{v:.4f}" if pd.isna(lo) else f"{v:.4f} [{lo:.4f}, {hi:.4f}]"
        for v, lo, hi in zip(rows["value"], rows["ci_low"], rows["ci_high"])
    ]
    wide = rows.pivot_table(index=["task", "model"], columns="metric", values="cell", aggfunc="first")
    return wide[[m for m in metrics if m in wide.columns]].rename(columns=lambda m: f"{m}@{k}")


def seed_table(seed_board: pd.DataFrame, k: int = 10, metric: str = "ndcg") -> pd.DataFrame:
    """The trained models' ``metric@k`` per training seed (a column per seed), with the mean and the standard
    deviation over seeds (the seed spread: how far a rerun on another machine can move the result)."""
    rows = seed_board[(seed_board["k"] == k) & (seed_board["metric"] == metric)]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.pivot_table(index=["task", "model"], columns="seed", values="value", aggfunc="first")
    wide.columns = [f"seed {c}" for c in wide.columns]
    values = wide.to_numpy(dtype=float)
    wide[f"mean {metric}@{k}"] = values.mean(axis=1)
    wide["seed spread (sd)"] = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.nan
    return wide.round(4)


def pct(x: float) -> str:
    return f"{x:.1%}" if pd.notna(x) else "n/a"


def item_names(catalogue: pd.DataFrame | None) -> pd.Series:
    """item_id -> display name; the ID is added where two items share a name (flavours, sizes)."""
    if catalogue is None or "name" not in catalogue:
        return pd.Series(dtype=str)
    names = catalogue.set_index("item_id")["name"].astype(str)
    shared = names.duplicated(keep=False)
    return names.where(~shared, names + " #" + names.index.astype(str))


def named(frame: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    names = item_names(catalogue)
    out = frame.copy()
    for col in ("item_a", "item_b"):
        out[col.replace("item", "product")] = out[col].map(names).fillna(out[col])
    if catalogue is not None and "product_category" in catalogue:
        category = catalogue.set_index("item_id")["product_category"]
        out["same_category"] = out["item_a"].map(category).eq(out["item_b"].map(category))
    return out


def p_text(p: float) -> str:
    if p is None or not np.isfinite(p):
        return f"too few queries to judge (fewer than {MIN_QUERIES})"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict(p: float, alpha: float = 0.05, significant: str = "a real difference",
            not_significant: str = "not distinguishable from chance") -> str:
    """The words for a paired test's p-value; never a difference claimed from too few queries."""
    if p is None or not np.isfinite(p):
        return "too few queries to judge"
    return significant if p < alpha else not_significant


def judged(test, alpha: float = 0.05, better: str = "better", worse: str = "worse",
           no_difference: str = "no significant difference") -> str:
    """The words for one paired test (a row of :func:`shared.evaluate.paired_tests`, or a mapping with its
    ``diff``, ``p_value`` and, for models trained with several seeds, ``seeds``, ``seeds_agree``, ``seed_sd``):
    ``better`` or ``worse`` only when the test is significant **and** every seed's difference has the same sign;
    otherwise ``no_difference`` (with several seeds: "no difference we can detect", with the seed spread).
    Never a difference from too few queries."""
    get = test.get if hasattr(test, "get") else (lambda key, default=None: getattr(test, key, default))
    p, diff = get("p_value"), get("diff")
    if p is None or not np.isfinite(p):
        return "too few queries to judge"
    seeds = int(get("seeds", 1) if pd.notna(get("seeds", 1)) else 1)
    agree = bool(get("seeds_agree", True)) if seeds > 1 else True
    if p < alpha and agree:
        return better if diff > 0 else worse
    if seeds > 1:
        spread = get("seed_sd", np.nan)
        why = "; the seeds disagree in sign" if p < alpha else ""
        return f"no difference we can detect (seed spread {spread:.4f} over {seeds} seeds{why})"
    return no_difference


def named_pairs(pairs: pd.DataFrame, catalogue: pd.DataFrame | None, same_category: bool = False) -> pd.DataFrame:
    """Item pairs with product names, for display (with ``same_category`` where the catalogue has categories,
    when asked)."""
    cols = ["product_a", "product_b", "baskets", "support", "confidence_a_to_b", "confidence_b_to_a", "lift"]
    labelled = named(pairs, catalogue)
    if same_category and "same_category" in labelled:
        cols.append("same_category")
    return labelled[cols].reset_index(drop=True)


def cross_sell(labelled: pd.DataFrame, n: int = 3, min_lift: float = 2.0) -> pd.DataFrame:
    """The pairs to suggest as cross-sell, from named pairs (:func:`named` or :func:`named_pairs` with
    ``same_category``): at least ``min_lift`` times as likely together as by chance, from different categories
    where the catalogue says, the most reliable first (confidence first -> second)."""
    cross = labelled[labelled["lift"] >= min_lift]
    if "same_category" in cross:
        cross = cross[~cross["same_category"].astype(bool)]
    return cross.sort_values(["confidence_a_to_b", "lift"], ascending=False, kind="stable").head(n)


def versus(tests: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Every model against ``reference`` on each task: difference (model minus reference), interval, p-value,
    and the verdict by :func:`judged` (for models trained with several seeds: all seeds must agree in sign)."""
    rows = []
    for r in tests.itertuples():
        if reference not in (r.model_a, r.model_b):
            continue
        sign, other = (1, r.model_a) if r.model_b == reference else (-1, r.model_b)
        low, high = sorted((sign * r.ci_low, sign * r.ci_high))
        rows.append({"task": r.task, "metric": r.metric, "model": other, f"minus {reference}": sign * r.diff,
                     "ci_low": low, "ci_high": high, "p_value": r.p_value,
                     **({"seeds": r.seeds, "seeds_agree": r.seeds_agree} if hasattr(r, "seeds") else {}),
                     "verdict": judged({"p_value": r.p_value, "diff": sign * r.diff, "seeds": getattr(r, "seeds", 1),
                                        "seeds_agree": getattr(r, "seeds_agree", True), "seed_sd": getattr(r, "seed_sd", np.nan)})})
    return pd.DataFrame(rows)


