"""The one train/validation/test split (DESIGN §5), and the evaluation tasks built from it.

Baskets are never cut: every line of a basket lands in the same part.

- ``temporal`` (default): global and by time. With timestamps the last ``test_weeks`` * 7 days are test and
  the ``validation_weeks`` before them validation; without timestamps the last ``test_fraction`` of baskets
  in sequence order is test and the ``validation_fraction`` before it validation. No line of a later part is
  ever earlier than a line of train, so no future data leaks into training.
- ``random``: per customer, a seeded random ``test_fraction`` of their baskets is test and
  ``validation_fraction`` validation (the stratified 75/25 split of published tables). It leaks time by
  design and is offered only for comparison with such tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")


@dataclass
class SplitInfo:
    method: str
    definition: str
    validation_start: Any = None
    test_start: Any = None


def split_lines(lines: pd.DataFrame, params: Mapping[str, Any]) -> tuple[pd.DataFrame, SplitInfo]:
    """Add a ``split`` column (train / validation / test) to the cleaned lines."""
    has_time = "timestamp" in lines
    if params["split_method"] == "random":
        return random_split(lines, params["test_fraction"], params["validation_fraction"], params["seed"])
    if has_time:
        return temporal_split(lines, params["test_weeks"], params["validation_weeks"])
    return sequence_split(lines, params["test_fraction"], params["validation_fraction"])


def _assign(lines: pd.DataFrame, basket_split: pd.Series) -> pd.DataFrame:
    split = lines["basket_id"].map(basket_split)
    out = lines.copy()
    out["split"] = pd.Categorical(split, categories=SPLITS)
    return out


def temporal_split(lines: pd.DataFrame, test_weeks: int, validation_weeks: int) -> tuple[pd.DataFrame, SplitInfo]:
    basket_time = lines.groupby("basket_id")["timestamp"].min()
    end = basket_time.max().normalize() + pd.Timedelta(days=1)
    test_start = end - pd.Timedelta(weeks=test_weeks)
    validation_start = test_start - pd.Timedelta(weeks=validation_weeks)
    if validation_start <= basket_time.min():
        raise ValueError(
            f"parameters 'test_weeks' + 'validation_weeks' ({test_weeks + validation_weeks} weeks) leave no "
            f"training period: the data spans {basket_time.min():%Y-%m-%d} to {basket_time.max():%Y-%m-%d}"
        )
    part = np.where(basket_time >= test_start, "test", np.where(basket_time >= validation_start, "validation", "train"))
    info = SplitInfo(
        method="temporal",
        definition=(
            f"Global temporal split: train before {validation_start:%Y-%m-%d}, validation "
            f"{validation_start:%Y-%m-%d} to {test_start - pd.Timedelta(days=1):%Y-%m-%d} ({validation_weeks} weeks), "
            f"test {test_start:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d} ({test_weeks} weeks). "
            "Whole baskets, by the time of the basket."
        ),
        validation_start=validation_start,
        test_start=test_start,
    )
    return _assign(lines, pd.Series(part, index=basket_time.index)), info


def sequence_split(lines: pd.DataFrame, test_fraction: float, validation_fraction: float) -> tuple[pd.DataFrame, SplitInfo]:
    basket_order = lines.groupby("basket_id")["sequence"].min().sort_values(kind="stable")
    n = len(basket_order)
    n_test, n_val = round(n * test_fraction), round(n * validation_fraction)
    position = np.arange(n)
    part = np.where(position >= n - n_test, "test", np.where(position >= n - n_test - n_val, "validation", "train"))
    info = SplitInfo(
        method="temporal",
        definition=(
            f"Global split by basket order (the data has no timestamps): the last {test_fraction:.0%} of baskets "
            f"are test, the {validation_fraction:.0%} before them validation, the rest train."
        ),
    )
    return _assign(lines, pd.Series(part, index=basket_order.index)), info


def random_split(
    lines: pd.DataFrame, test_fraction: float, validation_fraction: float, seed: int
) -> tuple[pd.DataFrame, SplitInfo]:
    baskets = lines.drop_duplicates("basket_id")[["basket_id", "customer_id"]].sort_values("basket_id", kind="stable")
    rng = np.random.default_rng(seed)
    baskets = baskets.assign(u=rng.random(len(baskets)))
    rank = baskets.groupby("customer_id")["u"].rank(method="first")
    n = baskets.groupby("customer_id")["u"].transform("size")
    n_test = np.floor(n * test_fraction + 0.5).where(n > 1, 0)
    n_val = np.floor((n - n_test) * validation_fraction + 0.5).where(n > 2, 0)
    part = np.where(rank > n - n_test, "test", np.where(rank > n - n_test - n_val, "validation", "train"))
    info = SplitInfo(
        method="random",
        definition=(
            f"Random split stratified by customer (seed {seed}): {test_fraction:.0%} of each customer's baskets "
            f"are test, {validation_fraction:.0%} of the rest validation. Future baskets can be in train: use "
            "only to compare with published tables."
        ),
    )
    return _assign(lines, pd.Series(part, index=baskets["basket_id"].to_numpy())), info


def split_summary(lines: pd.DataFrame) -> pd.DataFrame:
    """Size of each part: lines, baskets, customers, items, and what the later parts add that train lacks."""
    train = lines[lines["split"] == "train"]
    train_customers = set(train["customer_id"].unique())
    train_items = set(train["item_id"].unique())
    rows = []
    for part in SPLITS:
        sub = lines[lines["split"] == part]
        row = {
            "split": part,
            "lines": len(sub),
            "baskets": sub["basket_id"].nunique(),
            "customers": sub["customer_id"].nunique(),
            "items": sub["item_id"].nunique(),
            "customers_not_in_train": len(set(sub["customer_id"].unique()) - train_customers),
            "items_not_in_train": len(set(sub["item_id"].unique()) - train_items),
        }
        if "timestamp" in sub and len(sub):
            row["first"] = sub["timestamp"].min().strftime("%Y-%m-%d")
            row["last"] = sub["timestamp"].max().strftime("%Y-%m-%d")
        rows.append(row)
    return pd.DataFrame(rows)
