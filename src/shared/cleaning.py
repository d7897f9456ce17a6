"""Cleaning: each step drops (or merges) lines for one reason and records it in the ledger.

The ledger has one row per (step, reason) with ``rows_in - rows_dropped == rows_out``, chained so that the
first row's ``rows_in`` is the raw line count and the last row's ``rows_out`` the clean one. Every dropped
line is kept in ``rejected`` with its step and reason, so nothing is lost silently. Customer IDs are
pseudonymised with a salted hash before anything else, so rejected lines carry no raw IDs either.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .data import Dataset, catalogue_at_level

LEDGER_COLUMNS = ["step", "reason", "rows_in", "rows_dropped", "rows_out"]


@dataclass
class CleanResult:
    lines: pd.DataFrame
    catalogue: pd.DataFrame | None
    ledger: pd.DataFrame
    rejected: pd.DataFrame


class Ledger:
    """Collects ledger rows and rejected lines while the steps run."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.rejected: list[pd.DataFrame] = []

    def drop(self, lines: pd.DataFrame, mask: pd.Series | np.ndarray, step: str, reason: str) -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        n_drop = int(mask.sum())
        self.rows.append(
            {"step": step, "reason": reason, "rows_in": len(lines), "rows_dropped": n_drop, "rows_out": len(lines) - n_drop}
        )
        if n_drop:
            self.rejected.append(lines[mask].assign(step=step, reason=reason))
            lines = lines[~mask]
        return lines

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=LEDGER_COLUMNS)

    def rejected_frame(self, columns: list[str]) -> pd.DataFrame:
        if not self.rejected:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in [*columns, "step", "reason"]})
        out = pd.concat(self.rejected, ignore_index=True)
        for col in out.columns:  # parquet wants one type per column; IDs stay strings
            if out[col].dtype == object:
                out[col] = out[col].astype("str")
        return out


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 of each distinct ID (first 12 hex digits); missing IDs stay missing."""
    uniques = ids.dropna().unique()
    mapping = {u: "c" + hashlib.sha256(f"{salt}:{u}".encode()).hexdigest()[:12] for u in uniques}
    return ids.map(mapping).astype("str")


def clean(data: Dataset, params: Mapping[str, Any]) -> CleanResult:
    """Run every cleaning step in order; see the module docstring for the ledger's contract. With
    ``engine: spark`` the same steps run in Spark (:func:`shared.spark.clean`), with an identical ledger."""
    if params.get("engine", "pandas") == "spark":
        from . import spark

        return spark.clean(data, params)
    level = params["item_level"]
    ledger = Ledger()
    lines = data.lines.reset_index(drop=True).copy()
    original_columns = list(lines.columns)
    lines["customer_id"] = pseudonymise(lines["customer_id"], params["salt"])

    # 1. missing values in the columns every analysis needs
    for col in ("basket_id", "customer_id", "item_id", data.order_column, "quantity"):
        if col in lines:
            lines = ledger.drop(lines, lines[col].isna(), "missing_values", f"missing {col}")

    # 2. exact duplicate lines (same basket, item, time, quantity and price)
    lines = ledger.drop(lines, lines.duplicated(keep="first"), "exact_duplicates", "exact duplicate of an earlier line")

    # 3. returns and corrections
    if "quantity" in lines:
        lines = ledger.drop(lines, lines["quantity"] <= 0, "non_positive_quantity", "quantity <= 0 (return or correction)")

    # 4. items the catalogue does not know
    catalogue = data.catalogue
    if catalogue is not None:
        known = lines["item_id"].isin(catalogue["item_id"])
        lines = ledger.drop(lines, ~known, "unknown_item", "item not in the product catalogue")
        if level != "product":
            mapped = lines["item_id"].map(catalogue.set_index("item_id")[level])
            lines = ledger.drop(lines, mapped.isna(), "item_level", f"product has no {level} in the catalogue")
            lines["item_id"] = mapped[mapped.notna()].astype("str")
            catalogue = catalogue_at_level(catalogue, level)

    # 5. one line per (basket, item): merge repeated lines, summing quantities
    lines = _merge_repeated(lines, ledger, level)

    # 6. outlier baskets
    size = lines.groupby("basket_id")["item_id"].transform("size")
    lines = ledger.drop(
        lines, size > params["max_basket_size"], "outlier_baskets", f"basket has more than {params['max_basket_size']} items"
    )

    # 7. rare items
    count = lines.groupby("item_id")["basket_id"].transform("size")
    lines = ledger.drop(
        lines, count < params["min_item_count"], "rare_items", f"item in fewer than {params['min_item_count']} baskets"
    )

    # 8. optional k-core on customers and items (counted in baskets)
    if params.get("kcore", 0) > 0:
        lines = _kcore(lines, ledger, params["kcore"])

    lines = lines.sort_values([data.order_column, "basket_id", "item_id"], kind="stable").reset_index(drop=True)
    return CleanResult(lines=lines, catalogue=finish(lines, catalogue), ledger=ledger.frame(),
                       rejected=ledger.rejected_frame(original_columns))


def finish(lines: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame | None:
    """The catalogue of the items that survived cleaning, sorted by item."""
    if catalogue is None:
        return None
    return catalogue[catalogue["item_id"].isin(lines["item_id"].unique())].sort_values("item_id").reset_index(drop=True)


def _merge_repeated(lines: pd.DataFrame, ledger: Ledger, level: str) -> pd.DataFrame:
    repeated = lines.duplicated(["basket_id", "item_id"], keep="first")
    if repeated.any() and "quantity" in lines:
        totals = lines.groupby(["basket_id", "item_id"], sort=False)["quantity"].transform("sum")
        lines = lines.assign(quantity=totals)
    return ledger.drop(
        lines, repeated, "merge_repeated", f"another line of the same basket and {level} (quantities summed)"
    )


def _kcore(lines: pd.DataFrame, ledger: Ledger, k: int) -> pd.DataFrame:
    for _ in range(100):
        cust_baskets = lines.groupby("customer_id")["basket_id"].transform("nunique")
        item_baskets = lines.groupby("item_id")["basket_id"].transform("size")
        before = len(lines)
        lines = ledger.drop(lines, cust_baskets < k, "kcore", f"customer with fewer than {k} baskets (k-core)")
        item_baskets = item_baskets.loc[lines.index]
        lines = ledger.drop(lines, item_baskets < k, "kcore", f"item in fewer than {k} baskets (k-core)")
        if len(lines) == before:
            break
    return lines
