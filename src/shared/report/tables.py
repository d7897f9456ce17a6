"""Display tables for the notebooks: leaderboards, named item lists, side-by-side partners, paired tests, and
:func:`for_people`, the one way a notebook shows a table to a person."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import hashlib
import html
import re

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from ..metrics import MIN_QUERIES
from ..mining import collapse_variants, variant_keys, variant_text

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
    uses wherever data text reaches markdown; tables are escaped by :func:`for_people` and the index by ``html.escape``."""
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


def interval_text(value: float, low: float, high: float) -> str:
    """``value [low, high]`` with the decimals a metric needs: three below 10 (NDCG, recall, shares), one above
    (novelty in bits); the value alone where there is no interval."""
    if _missing(value):
        return MISSING
    form = "{:.1f}" if abs(value) >= 10 else "{:.3f}"
    if _missing(low) or _missing(high):
        return form.format(value)
    return f"{form.format(value)} [{form.format(low)}, {form.format(high)}]"


def leaderboard_table(board: pd.DataFrame, k: int = 10,
                      metrics: tuple[str, ...] = ("recall", "ndcg", "hit_rate", "mrr", "coverage", "novelty", "diversity")) -> pd.DataFrame:
    """Wide view of the leaderboard at one k: 'value [ci_low, ci_high]' per metric (:func:`interval_text`), a row
    per task and model (the index); show it with :func:`for_people`."""
    rows = board[(board["k"] == k) & board["metric"].isin(metrics)].copy()
    rows["cell"] = [interval_text(v, lo, hi) for v, lo, hi in zip(rows["value"], rows["ci_low"], rows["ci_high"])]
    wide = rows.pivot_table(index=["task", "model"], columns="metric", values="cell", aggfunc="first")
    wide.columns.name = None
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


def named_pairs(pairs: pd.DataFrame, catalogue: pd.DataFrame | None, variants: bool = False,
                same_category: bool = False) -> pd.DataFrame:
    """Item pairs with product names, for display (with ``same_category`` where the catalogue has categories,
    when asked). With ``variants``, the pairs of variants of one product (same product type and brand: sizes,
    flavours; :func:`shared.mining.collapse_variants`) are one line each, where the strongest of them was,
    saying how many pairs it stands for."""
    cols = ["product_a", "product_b", "baskets", "support", "confidence_a_to_b", "confidence_b_to_a", "lift"]
    out = named(pairs, catalogue)
    if variants:
        out = collapse_variants(out, variant_keys(catalogue), ("item_a", "item_b"))
        variant = out["variant_of"].notna().to_numpy()
        out.loc[variant, "product_a"] = [f"one {product} product" for product in out.loc[variant, "variant_of"]]
        out.loc[variant, "product_b"] = [
            variant_text(count, "pair") for count in out.loc[variant, "variants"]]
    if same_category and "same_category" in out:
        cols.append("same_category")
    return out[cols].reset_index(drop=True)


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
    out = pd.DataFrame(rows)
    out.attrs.update({key: value for key, value in tests.attrs.items() if key == "p_floor"})
    return out




# ----------------------------------------------------------------------------------------------------
# tables for people
# ----------------------------------------------------------------------------------------------------

#: p-values below this read "< 1e-10": Fisher's tail underflows (``0.000000e+00``, ``2.780746e-311``) long
#: before anything a reader decides changes. A bootstrap p-value cannot go below ``1 / samples``: tables of
#: paired bootstrap tests carry their own floor in ``attrs["p_floor"]`` (:func:`shared.evaluate.paired_tests`).
P_FLOOR = 1e-10
#: what an empty cell reads
MISSING = "–"
#: column headers in words; any other header has its underscores read as spaces
HEADERS = {"p_value": "p", "p_adjusted": "p (adjusted)", "ci_low": "95% interval from", "ci_high": "to",
           "confidence_a_to_b": "confidence a → b", "confidence_b_to_a": "confidence b → a"}
KINDS = ("p", "lift", "percent", "count", "number", "yes/no", "text")
_P_NAMES = {"p", "p_value", "p_adjusted", "pvalue", "p-value"}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not missing
        return False


def p_value_text(p: Any, floor: float = P_FLOOR) -> str:
    """A p-value in words a person reads: two significant digits (``0.032``, ``4.1e-05``), ``< 1e-10`` below
    ``floor`` (``< 0.001`` for a bootstrap of 1,000 samples), ``–`` where there is none."""
    if _missing(p):
        return MISSING
    p = float(p)
    if p < floor:
        return f"< {floor:.0e}".replace("e-0", "e-") if floor < 1e-4 else f"< {floor:g}"
    return f"{p:.2g}"


def percent_text(share: Any) -> str:
    """A share (0..1) in %: whole percents from 10%, one decimal from 1%, two significant digits below."""
    if _missing(share):
        return MISSING
    value = float(share) * 100
    if value == 0:
        return "0%"
    if abs(value) >= 10:
        return f"{value:.0f}%"
    if abs(value) >= 1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def lift_text(lift: Any) -> str:
    """Lift to one decimal (``12.3``); ``∞`` for an infinite one."""
    if _missing(lift):
        return MISSING
    return "∞" if np.isinf(lift) else f"{float(lift):,.1f}"


def count_text(count: Any) -> str:
    """A count with thousands separators (``12,345``)."""
    return MISSING if _missing(count) else f"{int(round(float(count))):,}"


def number_texts(values: Iterable[Any]) -> list[str]:
    """One column of numbers with the same decimals, as many as its size needs: whole numbers (beyond 0 and 1)
    with thousands separators, 2 decimals from 1, 3 below 1, two significant digits where every value is under 0.01."""
    values = list(values)
    finite = np.array([float(v) for v in values if not _missing(v) and np.isfinite(float(v))], dtype=float)
    if len(finite) and np.all(finite == np.round(finite)) and 1 < np.abs(finite).max() < 1e15:  # 0/1 stay numbers
        return [MISSING if _missing(v) else (count_text(v) if np.isfinite(float(v)) else str(v)) for v in values]
    top = np.abs(finite).max() if len(finite) else 0.0
    if top >= 100:
        form = "{:,.0f}"
    elif top >= 1:
        form = "{:,.2f}"
    elif top >= 0.01 or top == 0:
        form = "{:.3f}"
    else:
        form = "{:.2g}"
    return [MISSING if _missing(v) else (form.format(float(v)) if np.isfinite(float(v)) else str(v)) for v in values]


def column_kind(name: Any, values: pd.Series) -> str:
    """How :func:`for_people` shows a column, from its name and values: ``p`` (p-values), ``lift``,
    ``percent`` (support, confidence, shares), ``count`` (whole numbers), ``number``, ``yes/no``, ``text``."""
    key = str(name).strip().lower().replace(" ", "_")
    if pd.api.types.is_bool_dtype(values):
        return "yes/no"
    if not pd.api.types.is_numeric_dtype(values):
        present = [v for v in values if not _missing(v)]
        if present and all(isinstance(v, (bool, np.bool_)) for v in present):
            return "yes/no"
        return "text"
    if key in _P_NAMES or key.startswith("p_") or key.endswith("p_value"):
        return "p"
    if "lift" in key:
        return "lift"
    if any(word in key for word in ("support", "confidence", "share")):
        return "percent"
    if pd.api.types.is_integer_dtype(values):
        return "count"
    return "number"


def _texts(values: pd.Series, kind: str, p_floor: float) -> list[str]:
    if kind == "number":
        return number_texts(values)
    one = {"p": lambda v: p_value_text(v, p_floor), "lift": lift_text, "percent": percent_text, "count": count_text,
           "yes/no": lambda v: MISSING if _missing(v) else ("yes" if v else "no"),
           "text": lambda v: MISSING if _missing(v) else (", ".join(map(str, v)) if isinstance(v, (list, tuple, set, frozenset))
                                                          else str(v))}[kind]
    return [one(v) for v in values]


def _header(name: Any) -> str:
    if isinstance(name, tuple):
        name = " ".join(str(part) for part in name if str(part))
    name = str(name)
    return HEADERS.get(name, name.replace("_", " "))


def people_frame(frame: pd.DataFrame | pd.Series | Sequence[Mapping[str, Any]], formats: Mapping[str, str] | None = None,
                 p_floor: float | None = None) -> pd.DataFrame:
    """``frame`` as the text a person reads (every cell a string, see :func:`for_people`): a meaningful index
    (named, or labels rather than row numbers) becomes columns, row numbers are dropped, headers are words.
    ``formats`` sets a column's kind by its name (one of :data:`KINDS`) where the name does not tell."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    elif not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(list(frame))
    floor = p_floor if p_floor is not None else frame.attrs.get("p_floor", P_FLOOR)
    index = frame.index
    meaningful = any(n is not None for n in index.names) or not pd.api.types.is_integer_dtype(index)
    if meaningful and len(frame.columns):
        frame = frame.reset_index(names=[n if n is not None else "" for n in index.names])
    formats = dict(formats or {})
    unknown = set(formats.values()) - set(KINDS)
    if unknown:
        raise ValueError(f"for_people: unknown format {sorted(unknown)[0]!r} (choose from {', '.join(KINDS)})")
    columns, kinds = {}, []
    for i, name in enumerate(frame.columns):
        values = frame.iloc[:, i].infer_objects()  # numbers held as objects (a transposed table) are numbers
        kinds.append(formats.get(name) or column_kind(name, values))
        columns[i] = _texts(values, kinds[-1], floor)
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    headers: list[str] = []
    for name in frame.columns:
        header = _header(name)
        while header in headers:  # one header per column: a table is read, and styled, by its headers
            header += " "
        headers.append(header)
    out.columns = headers
    out.attrs["kinds"] = kinds
    return out


class PeopleTable(Styler):
    """:func:`for_people`'s table: HTML where HTML is shown, and the same text as plain text elsewhere (a
    terminal, the notebook's ``text/plain`` output) instead of a Styler's address."""

    def __repr__(self) -> str:
        return self.data.to_string(index=False) if len(self.data) and len(self.data.columns) else "(no rows)"


def for_people(frame: pd.DataFrame | pd.Series | Sequence[Mapping[str, Any]], formats: Mapping[str, str] | None = None,
               p_floor: float | None = None) -> PeopleTable:
    """The one way a notebook shows a table to a person: whole product names (wrapped, never cut), numbers
    rounded to what matters (lift to one decimal, support, confidence and shares in %, counts with thousands
    separators, p-values to two significant digits and ``< 1e-10`` below that), no row numbers, headers in
    words. Every cell and header is HTML-escaped (data text never comes alive in the report), numbers are
    right-aligned. A pandas Styler: Jupyter and nbconvert's HTML show it as a table; ``.data`` holds the
    text (:func:`people_frame`)."""
    text = people_frame(frame, formats, p_floor)
    kinds = text.attrs.get("kinds", [])
    digest = hashlib.sha1(pd.util.hash_pandas_object(text, index=False).to_numpy().tobytes()
                          + "\x1f".join(text.columns).encode()).hexdigest()[:10]
    styler = PeopleTable(text, uuid=f"people_{digest}", cell_ids=False)
    styler = styler.format(escape="html", na_rep=MISSING).format_index(escape="html", axis=1).hide(axis="index")
    styles = [
        {"selector": "", "props": "border-collapse: collapse; table-layout: auto;"},
        {"selector": "th, td", "props": "white-space: normal; overflow-wrap: anywhere; vertical-align: top; "
                                        "text-align: left; max-width: 32em; padding: 0.25em 0.6em;"},
        {"selector": "th", "props": "font-weight: bold; border-bottom: 1px solid #888;"},
    ]
    styler = styler.set_table_styles(styles)
    numeric = {i: [{"selector": "td", "props": "text-align: right; white-space: nowrap;"},
                   {"selector": "th", "props": "text-align: right;"}]
               for i, kind in enumerate(kinds) if kind in ("p", "lift", "percent", "count", "number")}
    if numeric:
        styler = styler.set_table_styles({text.columns[i]: rules for i, rules in numeric.items()}, overwrite=False)
    return styler
