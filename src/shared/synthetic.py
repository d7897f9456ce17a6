"""A seeded generator of grocery baskets with planted associations and a known ground truth.

Each basket is the union of
- *background* items: drawn from a Zipf-like popularity long tail, or (repeat buying) from the customer's own
  small set of favourite items;
- *planted patterns*: disjoint pairs and triples of mid-popularity items; each pattern is switched on in a
  basket with its own small probability and then adds all of its items together.

Because pattern items are individually uncommon, the planted itemsets have a high lift (typically 5-50) that
association-rule mining should recover; :func:`generate` returns the patterns with their *measured* support,
confidence and lift on the generated (clean) baskets, so later notebooks can be checked against them.

A share ``noise`` of extra dirty lines is mixed in (exact duplicates, returns with negative quantity, items
missing from the catalogue, lines without a customer) so that cleaning has real work to do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEPARTMENTS = ("PRODUCE", "DAIRY", "MEAT", "BAKERY", "GROCERY", "FROZEN", "DRINKS", "HOUSEHOLD")
START = pd.Timestamp("2017-01-02")


@dataclass
class SyntheticData:
    lines: pd.DataFrame
    catalogue: pd.DataFrame
    patterns: pd.DataFrame  # pattern_id, kind, items (tuple), trigger_prob, count, support, confidence, lift


def _catalogue(n_items: int, rng: np.random.Generator) -> pd.DataFrame:
    ids = np.array([f"P{i:05d}" for i in range(n_items)])
    dept = rng.integers(0, len(DEPARTMENTS), n_items)
    n_categories = max(len(DEPARTMENTS), n_items // 12)
    category = rng.integers(0, n_categories, n_items)
    dept_names = np.array(DEPARTMENTS)[dept]
    cat_names = np.array([f"{d} C{c:03d}" for d, c in zip(dept_names, category)])
    type_names = np.array([f"{c} T{t}" for c, t in zip(cat_names, rng.integers(0, 3, n_items))])
    return pd.DataFrame(
        {
            "item_id": ids,
            "name": [f"{t.title()} #{i}" for i, t in enumerate(type_names)],
            "product_type": type_names,
            "product_category": cat_names,
            "department": dept_names,
            "price": np.round(rng.gamma(2.0, 1.5, n_items) + 0.3, 2),
        }
    )


def _plant_patterns(n_items: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray, float]]:
    """Disjoint pairs and triples among mid-popularity ranks, each with a trigger probability."""
    n_pairs = max(3, n_items // 40)
    n_triples = max(2, n_items // 100)
    lo, hi = int(n_items * 0.1), int(n_items * 0.6)
    pool = rng.permutation(np.arange(lo, hi))
    patterns, pos = [], 0
    for kind, size, count in (("pair", 2, n_pairs), ("triple", 3, n_triples)):
        for _ in range(count):
            if pos + size > len(pool):
                break
            items = np.sort(pool[pos : pos + size])
            pos += size
            patterns.append((kind, items, float(rng.uniform(0.015, 0.04))))
    return patterns


def generate(
    n_customers: int = 500,
    n_items: int = 400,
    n_weeks: int = 20,
    seed: int = 42,
    noise: float = 0.02,
    mean_basket_size: float = 6.0,
    repeat_share: float = 0.35,
    n_favourites: int = 12,
) -> SyntheticData:
    """Generate ``lines`` (canonical columns), a ``catalogue`` and the planted ``patterns``."""
    rng = np.random.default_rng(seed)
    catalogue = _catalogue(n_items, rng)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.05
    popularity /= popularity.sum()

    # baskets: each customer visits a Poisson number of times per week at their own rate
    rate = rng.gamma(2.0, 0.6, n_customers)
    visits = rng.poisson(np.repeat(rate[:, None], n_weeks, axis=1))  # customers x weeks
    cust_idx, week_idx = np.nonzero(visits)
    reps = visits[cust_idx, week_idx]
    basket_customer = np.repeat(cust_idx, reps)
    basket_week = np.repeat(week_idx, reps)
    n_baskets = len(basket_customer)
    seconds = rng.integers(7 * 3600, 22 * 3600, n_baskets) + 86400 * rng.integers(0, 7, n_baskets)
    basket_time = START + pd.to_timedelta(basket_week * 7 * 86400 + seconds, unit="s")

    # background items: repeat buying from favourites, or the global long tail
    favourites = rng.choice(n_items, size=(n_customers, n_favourites), p=popularity)
    sizes = 1 + rng.poisson(mean_basket_size - 1, n_baskets)
    slot_basket = np.repeat(np.arange(n_baskets), sizes)
    from_favourites = rng.random(len(slot_basket)) < repeat_share
    slot_item = rng.choice(n_items, size=len(slot_basket), p=popularity)
    fav_pick = favourites[basket_customer[slot_basket], rng.integers(0, n_favourites, len(slot_basket))]
    slot_item = np.where(from_favourites, fav_pick, slot_item)

    # planted patterns
    patterns = _plant_patterns(n_items, rng)
    trigger_probs = np.array([p for _, _, p in patterns])
    triggered = rng.random((n_baskets, len(patterns))) < trigger_probs
    b_idx, p_idx = np.nonzero(triggered)
    extra_basket = np.concatenate([np.full(len(patterns[p][1]), b) for b, p in zip(b_idx, p_idx)]) if len(b_idx) else np.array([], int)
    extra_item = np.concatenate([patterns[p][1] for p in p_idx]) if len(p_idx) else np.array([], int)

    pairs = pd.DataFrame(
        {"b": np.concatenate([slot_basket, extra_basket]), "i": np.concatenate([slot_item, extra_item])}
    ).drop_duplicates()
    pairs = pairs.sort_values(["b", "i"], kind="stable").reset_index(drop=True)
    b, i = pairs["b"].to_numpy(), pairs["i"].to_numpy()
    lines = pd.DataFrame(
        {
            "basket_id": pd.array([f"B{x:07d}" for x in b], dtype="str"),
            "customer_id": pd.array([f"C{x:05d}" for x in basket_customer[b]], dtype="str"),
            "item_id": catalogue["item_id"].to_numpy()[i],
            "timestamp": basket_time[b],
            "quantity": 1 + rng.poisson(0.3, len(b)),
            "price": catalogue["price"].to_numpy()[i],
        }
    )
    truth = _measure_patterns(patterns, b, i, n_baskets, catalogue["item_id"].to_numpy())
    lines = _add_noise(lines, noise, rng)
    return SyntheticData(lines=lines, catalogue=catalogue.drop(columns="price"), patterns=truth)


def _measure_patterns(patterns, basket_idx, item_idx, n_baskets, item_ids) -> pd.DataFrame:
    """Support, confidence (best single-item antecedent) and lift of each planted pattern, as generated."""
    from scipy import sparse

    n_items = len(item_ids)
    matrix = sparse.csc_matrix(
        (np.ones(len(basket_idx), dtype=np.int8), (basket_idx, item_idx)), shape=(n_baskets, n_items)
    )
    item_count = np.asarray(matrix.sum(axis=0)).ravel()
    rows = []
    for pid, (kind, items, prob) in enumerate(patterns):
        count = int((np.asarray(matrix[:, items].sum(axis=1)).ravel() == len(items)).sum())
        support = count / n_baskets
        marginals = item_count[items] / n_baskets
        rows.append(
            {
                "pattern_id": pid,
                "kind": kind,
                "items": tuple(item_ids[items]),
                "trigger_prob": prob,
                "count": count,
                "support": support,
                "confidence": count / item_count[items].max(),
                "lift": support / np.prod(marginals),
            }
        )
    return pd.DataFrame(rows)


def _add_noise(lines: pd.DataFrame, noise: float, rng: np.random.Generator) -> pd.DataFrame:
    """Mix in dirty lines: exact duplicates, returns, unknown items, missing customers (a quarter each)."""
    n = int(len(lines) * noise / 4)
    if n == 0:
        return lines
    dup = lines.iloc[rng.choice(len(lines), n, replace=False)].copy()
    returns = lines.iloc[rng.choice(len(lines), n, replace=False)].copy()
    returns["quantity"] = -returns["quantity"]
    unknown = lines.iloc[rng.choice(len(lines), n, replace=False)].copy()
    unknown["item_id"] = [f"X{x:05d}" for x in rng.integers(0, 10**5, n)]
    no_customer = lines.iloc[rng.choice(len(lines), n, replace=False)].copy()
    no_customer["customer_id"] = pd.NA
    no_customer["item_id"] = lines["item_id"].to_numpy()[rng.integers(0, len(lines), n)]
    noisy = pd.concat([lines, dup, returns, unknown, no_customer], ignore_index=True)
    order = rng.permutation(len(noisy))
    return noisy.iloc[order].reset_index(drop=True)
