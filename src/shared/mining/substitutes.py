"""Substitutes and complements for merchandisers, from basket lift and item text similarity.

- **Substitutes** are bought *instead of* each other: their texts are alike (cosine of text embeddings at
  least ``min_similarity``) and they share fewer baskets than chance would give (lift < ``max_lift``, and,
  where basket counts are known, a one-sided Poisson test that the shared baskets are below the expected
  ``count_a * count_b / N`` at level ``alpha``). Frequent-pair tables hold few such pairs (pairs below chance
  are rarely frequent), so with ``baskets`` the candidates also include each reasonably popular item's
  ``neighbours`` nearest items by text (among items in at least ``min_item_baskets`` baskets), whose lift is
  counted from the basket matrix. Ranked by ``similarity * (1 - lift)``.
- **Complements** are bought together: lift at least ``min_complement_lift`` between items of different
  product types (different descriptions where the catalogue has no product type). Ranked by lift.

Both tables are tidy, one row per pair, with names: ``item_a, name_a, item_b, name_b, similarity, lift,
count, expected, p_value, source``. A pair shared by fewer than ``min_count`` baskets (the privacy floor of
every table the run shows) is in no table, the candidates included. Everything is vectorised (sparse column
products for the counts).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

PAIR_COLUMNS = ["item_a", "name_a", "item_b", "name_b", "similarity", "lift", "count", "expected", "p_value", "source"]


class Associations(NamedTuple):
    substitutes: pd.DataFrame
    complements: pd.DataFrame
    candidates: pd.DataFrame  # every pair considered, with its statistics (for plots and checks)


def pair_counts(baskets: sparse.spmatrix, a: np.ndarray, b: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """Number of baskets (rows of the 0/1 matrix ``baskets``) holding both items a[i] and b[i]."""
    matrix = sparse.csc_matrix(baskets, dtype=np.float32)
    matrix.data[:] = 1.0
    out = np.zeros(len(a), dtype=np.int64)
    for start in range(0, len(a), chunk):
        stop = min(start + chunk, len(a))
        both = matrix[:, a[start:stop]].multiply(matrix[:, b[start:stop]])
        out[start:stop] = np.asarray(both.sum(axis=0)).ravel().round().astype(np.int64)
    return out


def text_neighbour_pairs(embeddings: np.ndarray, candidates: np.ndarray, neighbours: int = 10,
                         min_similarity: float = 0.0, batch: int = 2048) -> pd.DataFrame:
    """Unordered pairs (a < b, indices) of each candidate with its ``neighbours`` most similar candidates by
    text, kept when the cosine is at least ``min_similarity``: columns a, b, similarity."""
    candidates = np.asarray(candidates, dtype=np.int64)
    emb = np.asarray(embeddings, dtype=np.float32)[candidates]
    k = min(neighbours, len(candidates) - 1)
    if k < 1:
        return pd.DataFrame({"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64), "similarity": np.zeros(0, np.float32)})
    rows, cols, sims = [], [], []
    for start in range(0, len(emb), batch):
        stop = min(start + batch, len(emb))
        s = emb[start:stop] @ emb.T
        s[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, stop), k))
        cols.append(top.ravel())
        sims.append(np.take_along_axis(s, top, axis=1).ravel())
    i, j, s = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    keep = s >= min_similarity
    a, b = candidates[np.minimum(i, j)[keep]], candidates[np.maximum(i, j)[keep]]
    frame = pd.DataFrame({"a": a, "b": b, "similarity": s[keep].astype(np.float32)})
    return frame.drop_duplicates(["a", "b"]).reset_index(drop=True)


def _names(item_ids: pd.Index, catalogue: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Display name and product type per item (the id where the catalogue has no name)."""
    names = np.asarray(item_ids, dtype=object)
    kinds = None
    if catalogue is not None and "item_id" in catalogue:
        table = catalogue.drop_duplicates("item_id")
        table = table.set_index(table["item_id"].astype("str")).reindex(item_ids)
        for column in ("name", "item_name", "product_type"):
            if column in table:
                names = table[column].astype("object").where(table[column].notna(), pd.Series(item_ids, index=item_ids)).to_numpy()
                break
        for column in ("product_type", "product_category"):
            if column in table and table[column].notna().any():
                kinds = table[column].astype("object").to_numpy()
                break
    return names, kinds


def substitutes_and_complements(
    pairs: pd.DataFrame | None,
    item_ids: Sequence[str] | np.ndarray | pd.Index,
    embeddings: np.ndarray,
    catalogue: pd.DataFrame | None = None,
    baskets: sparse.spmatrix | None = None,
    *,
    n: int = 20,
    min_similarity: float = 0.8,
    max_lift: float = 1.0,
    alpha: float = 0.05,
    neighbours: int = 10,
    min_item_baskets: int = 50,
    min_complement_lift: float = 2.0,
    min_count: int = 10,
) -> Associations:
    """Substitutes and complements (the ``n`` best of each) from a pair table and text embeddings.

    ``pairs``: columns ``item_a``, ``item_b``, ``lift`` and optionally ``count`` (or ``baskets``) and
    ``support``, e.g. :func:`shared.mining.frequent_pairs` or :func:`shared.models.item_knn.top_pairs`; may be
    None when ``baskets`` is given. ``item_ids`` and ``embeddings`` are aligned (rows of
    :func:`shared.text.item_embeddings`). ``baskets``: the 0/1 baskets x items matrix over the same
    ``item_ids`` (``Interactions.baskets``), used to count every pair and to add text-neighbour candidates.
    No pair with ``count < min_count`` is returned (privacy floor and noise; pass the run's ``params['min_count']``);
    a pair whose count is unknown (a pair table without counts, and no ``baskets``) is kept."""
    ids = pd.Index(pd.Series(list(item_ids), dtype="object").astype("str"))
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.shape[0] != len(ids):
        raise ValueError(f"embeddings have {emb.shape[0]} rows for {len(ids)} item ids")
    if pairs is None and baskets is None:
        raise ValueError("substitutes_and_complements needs a pair table, a basket matrix, or both")
    if baskets is not None and baskets.shape[1] != len(ids):
        raise ValueError(f"the basket matrix has {baskets.shape[1]} item columns for {len(ids)} item ids")

    frames = []
    if pairs is not None and len(pairs):
        a = ids.get_indexer(pairs["item_a"].astype("str"))
        b = ids.get_indexer(pairs["item_b"].astype("str"))
        keep = (a >= 0) & (b >= 0) & (a != b)
        count_col = "count" if "count" in pairs else ("baskets" if "baskets" in pairs else None)
        frames.append(pd.DataFrame({
            "a": np.minimum(a, b)[keep], "b": np.maximum(a, b)[keep],
            "lift": pairs["lift"].to_numpy(dtype=float)[keep],
            "count": pairs[count_col].to_numpy(dtype=float)[keep] if count_col else np.nan,
            "source": "frequent pairs",
        }))
    if baskets is not None:
        counts = np.asarray(baskets.sum(axis=0)).ravel()
        popular = np.flatnonzero((counts >= min_item_baskets) & (np.abs(emb).sum(axis=1) > 0))
        near = text_neighbour_pairs(emb, popular, neighbours, min_similarity)
        frames.append(near[["a", "b"]].assign(lift=np.nan, count=np.nan, source="text neighbours"))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["a", "b", "lift", "count", "source"])
    table = table.drop_duplicates(["a", "b"], keep="first").reset_index(drop=True)
    a, b = table["a"].to_numpy(np.int64), table["b"].to_numpy(np.int64)
    table["similarity"] = np.einsum("ij,ij->i", emb[a], emb[b]) if len(table) else np.zeros(0, np.float32)

    if baskets is not None:
        n_baskets = baskets.shape[0]
        both = pair_counts(baskets, a, b)
        expected = counts[a].astype(float) * counts[b] / max(n_baskets, 1)
        table["count"] = both
        table["expected"] = expected
        with np.errstate(divide="ignore", invalid="ignore"):
            table["lift"] = np.where(expected > 0, both / expected, np.nan)
        below = stats.poisson.cdf(both, expected)  # P(X <= count): evidence of fewer shared baskets than chance
        above = stats.poisson.sf(both - 1, expected)  # P(X >= count): evidence of more
        table["p_value"] = np.where(table["lift"] < 1, below, above)
    else:
        table["expected"] = np.where(table["lift"] > 0, table["count"] / table["lift"], np.nan)
        table["p_value"] = np.nan
    table = table[~(table["count"] < min_count)].reset_index(drop=True)  # the privacy floor; NaN: count unknown
    a, b = table["a"].to_numpy(np.int64), table["b"].to_numpy(np.int64)

    names, kinds = _names(ids, catalogue)
    table["item_a"], table["item_b"] = ids.to_numpy()[a], ids.to_numpy()[b]
    table["name_a"], table["name_b"] = names[a], names[b]
    table["similarity"] = table["similarity"].astype(float).round(4)

    is_sub = (table["similarity"] >= min_similarity) & (table["lift"] < max_lift)
    if baskets is not None:
        is_sub &= table["p_value"] < alpha
    subs = table[is_sub].assign(_rank=lambda t: t["similarity"] * (1 - t["lift"]))
    subs = subs.sort_values(["_rank", "expected", "item_a", "item_b"], ascending=[False, False, True, True], kind="stable")

    if kinds is not None:
        different = pd.Series(kinds[a]).fillna("").to_numpy() != pd.Series(kinds[b]).fillna("").to_numpy()
    else:
        different = table["similarity"].to_numpy() < 0.999
    is_comp = (table["lift"] >= min_complement_lift) & different
    comps = table[is_comp].sort_values(["lift", "count", "item_a", "item_b"], ascending=[False, False, True, True], kind="stable")

    tidy = lambda t: t[PAIR_COLUMNS].head(n).reset_index(drop=True)  # noqa: E731
    return Associations(tidy(subs), tidy(comps), table[PAIR_COLUMNS].reset_index(drop=True))


__all__ = ["Associations", "substitutes_and_complements", "pair_counts", "text_neighbour_pairs"]
