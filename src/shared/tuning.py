"""The one validation sweep every model is tuned by (docs/architecture.md, "Evaluation protocol").

:func:`validation_sweep` fits a model on the train weeks with every setting of a grid, scores it on the
validation queries with :func:`shared.evaluate.evaluate` (the same tasks, metric and full-catalogue ranking
as the final evaluation), and picks the setting with the best mean ``metric@k`` over the tasks. The test
weeks are never read while choosing.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .evaluate import evaluate


def validation_sweep(
    lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any], model: str,
    grid: Mapping[str, Sequence[Any]], metric: str = "ndcg", k: int = 10, progress: bool = True,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit ``model`` on train with every combination of ``grid`` (on top of ``fixed`` settings, e.g. fewer
    epochs) and score it on the validation queries.

    Returns the table (one row per setting and task, with the interval and the seconds it took) and the
    setting with the best mean ``metric@k`` over the tasks.
    """
    keys = list(grid)
    rows = []
    quick = {**params, **(fixed or {}), "metrics": [metric],
             "bootstrap_samples": max(10, min(params["bootstrap_samples"], 200))}
    for values in tqdm(list(itertools.product(*(grid[key] for key in keys))), desc=f"tuning {model}", disable=not progress):
        setting = dict(zip(keys, values))
        started = time.perf_counter()
        result = evaluate(lines, catalogue, {**quick, **setting}, [model], target="validation", progress=False)
        seconds = round(time.perf_counter() - started, 1)
        board = result.leaderboard
        if model in result.failures:
            raise RuntimeError(f"{model} failed on validation with {setting}: {result.failures[model]}")
        for row in board[(board["metric"] == metric) & (board["k"] == k)].itertuples():
            rows.append({**setting, "task": row.task, f"{metric}@{k}": row.value, "ci_low": row.ci_low,
                         "ci_high": row.ci_high, "seconds": seconds})
    table = pd.DataFrame(rows)
    mean = table.groupby(keys, sort=False)[f"{metric}@{k}"].mean()
    best = mean.idxmax()
    best = dict(zip(keys, best if isinstance(best, tuple) else (best,)))
    return table, {k: v.item() if isinstance(v, np.generic) else v for k, v in best.items()}
