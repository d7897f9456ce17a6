"""The pandas (one-machine) itemset engines behind :func:`shared.mining.frequent_itemsets`, beside the Spark
one (:mod:`.spark_fpgrowth`): ``fim`` (Borgelt's FP-growth in C), ``rusket`` (FP-growth in Rust) and mlxtend's
``fpgrowth``, ``hmine`` and ``apriori``. Each takes baskets and a basket-count threshold already checked and
guarded by :mod:`.itemsets` and returns ``(items, count)`` pairs; they give identical itemsets and counts.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

# one extra transaction holding only this item keeps fim from dropping items that are in every basket
# (the explosion guard in :mod:`.itemsets` counts with it too)
SENTINEL = ("__basket_lab_sentinel__",)


def mine_fim(tracts: list, threshold: int, max_len: int | None) -> list[tuple[tuple[Any, ...], int]]:
    """Borgelt's FP-growth (``fim.fpgrowth``) on the non-empty baskets ``tracts``: every itemset in at least
    ``threshold`` of them, with its count."""
    import fim

    limit = {"zmax": max_len} if max_len else {}
    # the sentinel transaction keeps fim from dropping items that are in every basket
    found = fim.fpgrowth(tracts + [SENTINEL], supp=-threshold, report="a", **limit)
    return [(items, int(c)) for items, c in found if SENTINEL[0] not in items]


def frequent_columns(matrix: sparse.csr_matrix, threshold: int) -> np.ndarray:
    """The columns (items) of the 0/1 baskets x items ``matrix`` in at least ``threshold`` baskets."""
    return np.flatnonzero(np.asarray(matrix.sum(axis=0)).ravel() >= threshold)


def mine_rusket(matrix: sparse.csr_matrix, labels: np.ndarray, threshold: int, max_len: int | None) -> list[tuple[tuple[Any, ...], int]]:
    """rusket's FP-growth (Rust, ``rusket.mine``) on the 0/1 baskets x items ``matrix`` (non-empty baskets; item
    ``labels`` per column), cut to the frequent items as for mlxtend. It takes a support share: asked for half a
    basket under the threshold (so that no rounding of ``support * n`` drops an itemset at it), its counts are
    read back from the shares and cut at the threshold exactly."""
    import rusket

    n = matrix.shape[0]
    frequent = frequent_columns(matrix, threshold)
    if len(frequent) == 0:
        return []
    pruned = matrix[:, frequent].tocsr()
    result = rusket.mine(pruned, min_support=(threshold - 0.5) / n, max_len=max_len, method="fpgrowth", use_colnames=False)
    counts = np.rint(result["support"].to_numpy(dtype=np.float64) * n).astype(np.int64)
    labels = labels[frequent]
    return [(tuple(labels[list(s)]), int(c)) for s, c in zip(result["itemsets"], counts) if c >= threshold]


def mine_mlxtend(matrix: sparse.csr_matrix, labels: np.ndarray, threshold: int, max_len: int | None,
                 algorithm: str) -> list[tuple[tuple[Any, ...], int]]:
    """mlxtend's ``algorithm`` (fpgrowth, hmine or apriori) on the 0/1 baskets x items ``matrix`` (non-empty
    baskets; item ``labels`` per column), cut to the frequent items only (all baskets kept, so supports are right)."""
    from mlxtend import frequent_patterns as fp

    n = matrix.shape[0]
    frequent = frequent_columns(matrix, threshold)
    if len(frequent) == 0:
        return []
    pruned = matrix[:, frequent].tocsc()
    frame = pd.DataFrame.sparse.from_spmatrix(pruned.astype(bool), columns=np.arange(len(frequent)))
    support = threshold / n
    if algorithm == "fpgrowth":
        result = fp.fpgrowth(frame, min_support=support, use_colnames=True, max_len=max_len)
    elif algorithm == "hmine":
        result = fp.hmine(frame, min_support=support, use_colnames=True, max_len=max_len)
    else:
        result = fp.apriori(frame, min_support=support, use_colnames=True, max_len=max_len, low_memory=True)
    counts = np.rint(result["support"].to_numpy(dtype=np.float64) * n).astype(np.int64)
    labels = labels[frequent]
    return [(tuple(labels[list(s)]), int(c)) for s, c in zip(result["itemsets"], counts) if c >= threshold]
