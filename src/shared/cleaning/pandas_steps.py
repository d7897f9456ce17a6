"""The cleaning steps on pandas lines (``engine: pandas``); :mod:`.spark_steps` runs the same on Spark."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..data import Dataset, catalogue_at_level, normalise_ids
from .ledger import (
    EARLIEST, ID_REASON, IMPLAUSIBLE_STEP, CleanResult, Ledger, check_enough, finish, implausible_reason, pseudonymise,
)


def clean(data: Dataset, params: Mapping[str, Any]) -> CleanResult:
    """Run every cleaning step in order on pandas lines; see :mod:`shared.cleaning` for the contract."""
    level = params["item_level"]
    ledger = Ledger()
    lines = data.lines.reset_index(drop=True).copy()
    original_columns = list(lines.columns)
    now = pd.Timestamp.now()

    # 0. one spelling per ID (before pseudonyms, so " 1" and "1.0" are one customer): counted, nothing dropped
    for col in ("basket_id", "customer_id", "item_id"):
        if col in lines:
            normal = normalise_ids(lines[col])
            changed = lines[col].notna() & ~(normal == lines[col].astype("object")).fillna(False).astype(bool)
            ledger.rewrite(len(lines), int(changed.sum()), "id_normalisation", ID_REASON.format(column=col))
            lines[col] = normal
    lines["customer_id"] = pseudonymise(lines["customer_id"], params["salt"])

    # 1. missing values in the columns every analysis needs; times before 1970 or in the future
    for col in ("basket_id", "customer_id", "item_id", data.order_column, "quantity"):
        if col in lines:
            lines = ledger.drop(lines, lines[col].isna(), "missing_values", f"missing {col}")
    if "timestamp" in lines:
        ts = lines["timestamp"]
        lines = ledger.drop(lines, (ts < EARLIEST) | (ts > now), IMPLAUSIBLE_STEP, implausible_reason(now))

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

    lines = lines.sort_values([data.order_column, "basket_id", "item_id"], kind="stable").reset_index(drop=True)
    check_enough(data, len(lines), lines["basket_id"].nunique(), ledger.frame())
    return CleanResult(lines=lines, catalogue=finish(lines, catalogue), ledger=ledger.frame(),
                       rejected=ledger.rejected_frame(original_columns))


def _merge_repeated(lines: pd.DataFrame, ledger: Ledger, level: str) -> pd.DataFrame:
    repeated = lines.duplicated(["basket_id", "item_id"], keep="first")
    if repeated.any() and "quantity" in lines:
        totals = lines.groupby(["basket_id", "item_id"], sort=False)["quantity"].transform("sum")
        lines = lines.assign(quantity=totals)
    return ledger.drop(
        lines, repeated, "merge_repeated", f"another line of the same basket and {level} (quantities summed)"
    )
