"""The one train/validation/test split, the fit-period vocabulary, and the evaluation tasks built from them
(docs/architecture.md, "Evaluation protocol").

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


# ----------------------------------------------------------------------------------------------------
# Evaluation tasks
# ----------------------------------------------------------------------------------------------------

TASKS = ("basket_completion", "next_basket")


@dataclass
class Queries:
    """The queries of one task; row i of every field belongs to query i. Items are catalogue indices."""

    task: str
    customer_id: np.ndarray
    basket_id: np.ndarray
    histories: list[np.ndarray]  # the customer's fit-period items, oldest first, one entry per basket line
    history_baskets: np.ndarray  # number of fit-period baskets of the customer
    contexts: list[np.ndarray]  # items already in the basket (empty for next_basket)
    targets: list[np.ndarray]  # the items to predict
    history_breaks: list[np.ndarray] | None = None  # positions in each history where a new basket starts
    #: every item a target may name: the vocabulary (indices below ``n_items``, what models rank) followed by
    #: the target-period items outside it (indices from ``n_items`` up: unreachable, never recommended)
    item_ids: np.ndarray | None = None
    n_items: int = 0
    dropped_context_items: int = 0  # context lines of items outside the vocabulary, dropped from contexts

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, index: np.ndarray) -> "Queries":
        index = np.asarray(index)
        pick = lambda xs: [xs[i] for i in index]  # noqa: E731
        return Queries(
            self.task, self.customer_id[index], self.basket_id[index], pick(self.histories),
            self.history_baskets[index], pick(self.contexts), pick(self.targets),
            pick(self.history_breaks) if self.history_breaks is not None else None,
            self.item_ids, self.n_items, self.dropped_context_items,
        )

    def unreachable(self) -> np.ndarray:
        """Per query, the share of its targets outside the vocabulary (no model can find them)."""
        return np.array([(t >= self.n_items).mean() if len(t) else 0.0 for t in self.targets])

    def repeat_mask(self) -> list[np.ndarray]:
        """Per query, which target items the customer bought in the fit period."""
        return [np.isin(t, h) for t, h in zip(self.targets, self.histories)]


def fit_parts(target: str) -> tuple[str, ...]:
    """The parts a model is fitted on when judged on ``target``: train for validation, train+validation for test."""
    if target not in ("validation", "test"):
        raise ValueError(f"target must be validation or test, not {target!r}")
    return ("train",) if target == "validation" else ("train", "validation")


def fit_lines(lines: pd.DataFrame, target: str) -> pd.DataFrame:
    """The lines a model may learn from when judged on ``target`` (see :func:`fit_parts`)."""
    return lines[lines["split"].isin(fit_parts(target))]


NO_CUSTOMER = "the data has no customer column, so every basket is its own customer"


def has_sequences(lines: pd.DataFrame, target: str) -> bool:
    """Whether some customer has two or more baskets in the fit period of ``target``: what a sequence model
    (SASRec and the models built on it) needs to learn what follows what."""
    fit = fit_lines(lines, target)
    return bool(len(fit)) and bool((fit.groupby("customer_id")["basket_id"].nunique() >= 2).any())


def sequences_reason(lines: pd.DataFrame, target: str, has_customer: bool = True) -> str | None:
    """Why sequence models are not applicable to ``lines`` (one line, for the report), or None when they are."""
    if has_sequences(lines, target):
        return None
    why = NO_CUSTOMER if not has_customer else "every customer has a single basket there"
    return f"no customer has two or more baskets in the fit period ({why}); sequence models cannot be trained"


def next_basket_reason(queries: "Queries", has_customer: bool = True) -> str | None:
    """Why the next_basket task is not applicable (no query has any history to predict from), or None."""
    if any(len(h) for h in queries.histories):
        return None
    why = f" ({NO_CUSTOMER})" if not has_customer else ""
    return f"no customer of the evaluated weeks has a basket before them{why}; there is no history to predict a next basket from"


def vocabulary(lines: pd.DataFrame, target: str, min_item_count: int, kcore: int = 0) -> np.ndarray:
    """The items a model may know when judged on ``target``, decided from fit-period lines alone: items in at
    least ``min_item_count`` fit-period baskets, then (``kcore`` > 0) the items left when customers and items
    with fewer than ``kcore`` fit-period baskets are removed in turn until nothing changes. Sorted IDs.

    No line of the target period (or later) can add or remove an item: that is the leakage-free catalogue.
    """
    fit = fit_lines(lines, target)[["basket_id", "customer_id", "item_id"]]
    counts = fit.groupby("item_id")["basket_id"].nunique()
    fit = fit[fit["item_id"].isin(counts.index[counts >= min_item_count])]
    if kcore > 0:
        for _ in range(100):
            before = len(fit)
            customers = fit.groupby("customer_id")["basket_id"].transform("nunique")
            items = fit.groupby("item_id")["basket_id"].transform("nunique")
            fit = fit[(customers >= kcore) & (items >= kcore)]
            if len(fit) == before:
                break
    return np.sort(fit["item_id"].unique())


def vocabulary_summary(lines: pd.DataFrame, item_ids: np.ndarray, target: str) -> dict[str, int]:
    """What the vocabulary leaves out: fit-period lines of unknown items (not learned from) and target-period
    lines of unknown items (unreachable: they stay in the targets and count as misses)."""
    fit = fit_lines(lines, target)
    part = lines[lines["split"] == target]
    known = pd.Index(item_ids)
    return {
        "items": int(len(item_ids)),
        "fit_lines": int(len(fit)),
        "fit_lines_unknown": int((~fit["item_id"].isin(known)).sum()),
        "target_lines": int(len(part)),
        "target_lines_unknown": int((~part["item_id"].isin(known)).sum()),
        "target_items_unknown": int(part.loc[~part["item_id"].isin(known), "item_id"].nunique()),
    }


def build_tasks(
    lines: pd.DataFrame, item_ids: np.ndarray, target: str, seed: int, max_queries: int = 0
) -> dict[str, Queries]:
    """``basket_completion`` and ``next_basket`` queries on the ``target`` part (validation or test).

    - basket_completion: every target-period basket with at least two items; one item, drawn with the
      seed, is hidden and must be predicted from the rest of the basket and the customer's history.
    - next_basket: every customer's first basket in the target period, predicted from history alone.

    Histories hold the customer's fit-period lines of vocabulary items (``item_ids``, see :func:`vocabulary`),
    oldest first. Targets keep every target-period item: one outside the vocabulary gets an index from
    ``len(item_ids)`` up, which no model can recommend, so it counts as a miss for every model. Contexts drop
    such items (counted in ``dropped_context_items``). This is the one place item IDs become indices for
    queries, and no index here is ever -1. ``max_queries`` > 0 keeps a seeded random sample of that many
    queries per task (for quick looks; reports use all).
    """
    order = "timestamp" if "timestamp" in lines else "sequence"
    item_ids = np.asarray(item_ids)
    index = pd.Index(item_ids)
    fit = fit_lines(lines, target)
    fit = fit[fit["item_id"].isin(index)].sort_values([order, "basket_id", "item_id"], kind="stable")
    fit_codes = index.get_indexer(fit["item_id"])
    fit_baskets = pd.factorize(fit["basket_id"])[0]
    groups = fit.groupby("customer_id", sort=False).indices
    histories = {c: fit_codes[idx] for c, idx in groups.items()}
    breaks = {c: np.flatnonzero(np.diff(fit_baskets[idx]) != 0) + 1 for c, idx in groups.items()}
    n_baskets = fit.groupby("customer_id")["basket_id"].nunique()
    empty = np.zeros(0, dtype=np.int64)

    part = lines[lines["split"] == target].sort_values([order, "basket_id", "item_id"], kind="stable")
    codes = index.get_indexer(part["item_id"])
    unknown = codes < 0
    unknown_ids = np.sort(part.loc[unknown, "item_id"].unique()).astype(item_ids.dtype if len(item_ids) else object)
    codes[unknown] = len(item_ids) + pd.Index(unknown_ids).get_indexer(part.loc[unknown, "item_id"])
    all_ids = np.concatenate([item_ids, unknown_ids]) if len(unknown_ids) else item_ids
    if (codes < 0).any() or (fit_codes < 0).any():  # the guard: no -1 ever reaches a model or a metric
        raise AssertionError("an item index of -1 in the queries")
    groups = part.groupby("basket_id", sort=False).indices
    basket_ids = np.array(list(groups.keys()), dtype=object)
    basket_customer = part["customer_id"].to_numpy()[[idx[0] for idx in groups.values()]]
    basket_items = [codes[idx] for idx in groups.values()]
    rng = np.random.default_rng(seed)

    def make(task: str, chosen: np.ndarray, contexts: list, targets: list) -> Queries:
        customers = basket_customer[chosen]
        known_contexts = [c[c < len(item_ids)] for c in contexts]
        return Queries(
            task=task,
            customer_id=customers,
            basket_id=basket_ids[chosen],
            histories=[histories.get(c, empty) for c in customers],
            history_baskets=n_baskets.reindex(customers).fillna(0).astype(int).to_numpy(),
            contexts=known_contexts,
            targets=targets,
            history_breaks=[breaks.get(c, empty) for c in customers],
            item_ids=all_ids,
            n_items=len(item_ids),
            dropped_context_items=int(sum(len(c) for c in contexts) - sum(len(c) for c in known_contexts)),
        )

    multi = np.array([i for i, items in enumerate(basket_items) if len(items) >= 2], dtype=int)
    hidden = [int(rng.integers(len(basket_items[i]))) for i in multi]
    completion = make(
        "basket_completion",
        multi,
        [np.delete(basket_items[i], h) for i, h in zip(multi, hidden)],
        [basket_items[i][h : h + 1] for i, h in zip(multi, hidden)],
    )
    _, first = np.unique(basket_customer, return_index=True)
    first = np.sort(first)
    next_basket = make("next_basket", first, [empty] * len(first), [basket_items[i] for i in first])
    tasks = {"basket_completion": completion, "next_basket": next_basket}
    if max_queries:
        for name, queries in tasks.items():
            if len(queries) > max_queries:
                keep = np.sort(np.random.default_rng(seed).choice(len(queries), max_queries, replace=False))
                tasks[name] = queries.subset(keep)
    return tasks
