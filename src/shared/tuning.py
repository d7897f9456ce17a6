"""The one validation sweep every model is tuned by (docs/architecture.md, "Evaluation protocol").

:func:`validation_sweep` fits a model on the train weeks with every setting of a grid, scores it on the
validation queries with :func:`shared.evaluate.evaluate` (the same tasks, metric and full-catalogue ranking
as the final evaluation), and picks the setting with the best mean ``metric@k`` over the tasks. The test
weeks are never read while choosing. :func:`tune_and_evaluate` is notebook 05: every model of the run tuned
that way, then all of them judged on the test weeks.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import models
from .evaluate import Evaluation, evaluate, inapplicable_models, paired_tests


#: parameters that change the fit-period vocabulary, the queries or the split: a grid over one of them needs
#: an evaluation per setting
DATA_PARAMETERS = {"min_item_count", "kcore", "max_queries", "seed", "split_method", "test_weeks", "validation_weeks",
                   "test_fraction", "validation_fraction", "max_basket_size", "item_level", "k_values"}


def validation_sweep(
    lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any], model: str,
    grid: Mapping[str, Sequence[Any]], metric: str = "ndcg", k: int = 10, progress: bool = True,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit ``model`` on train with every combination of ``grid`` (on top of ``fixed`` settings, e.g. fewer
    epochs) and score it on the validation queries.

    Returns the table (one row per setting and task, with the interval and the seconds it took) and the
    setting with the best mean ``metric@k`` over the tasks. A model trained with several seeds
    (``n_seeds``) is tuned with the first (the run's ``seed``).
    """
    return validation_sweeps(lines, catalogue, params, {model: grid}, metric, k, progress, fixed)[model]


def validation_sweeps(
    lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any],
    grids: Mapping[str, Mapping[str, Sequence[Any]]], metric: str = "ndcg", k: int = 10, progress: bool = True,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """:func:`validation_sweep` of several models at once (model -> its grid; each sweep as if alone): one
    evaluation holds every setting of every model whose grid leaves the queries alone, so the validation
    queries are built once and all the settings run side by side in ``eval_workers`` processes; a grid over a
    parameter that changes the vocabulary or the queries (:data:`DATA_PARAMETERS`) gets an evaluation per
    setting. Returns model -> (table, best setting)."""
    # a trained model is tuned with its first training seed: a choice, not a verdict (the test weeks judge every seed)
    quick = {**params, **(fixed or {}), "metrics": [metric], "n_seeds": 1,
             "bootstrap_samples": max(10, min(params["bootstrap_samples"], 200))}
    settings = {model: [dict(zip(grid, values)) for values in itertools.product(*grid.values())] for model, grid in grids.items()}
    labels = {model: [f"{model} {setting}" for setting in sets] for model, sets in settings.items()}
    by_data = {model for model, grid in grids.items() if set(grid) & DATA_PARAMETERS}  # settings change the queries
    together = {label: (model, setting) for model, sets in settings.items() if model not in by_data
                for label, setting in zip(labels[model], sets)}
    parts = [evaluate(lines, catalogue, quick, [], target="validation", progress=progress, variants=together)] if together else []
    for model in (m for m in settings if m in by_data):  # one evaluation per setting, in the grids' order
        parts += [evaluate(lines, catalogue, {**quick, **setting}, [], target="validation", progress=progress,
                           variants={label: (model, {})}) for label, setting in zip(labels[model], settings[model])]
    board = pd.concat([r.leaderboard for r in parts], ignore_index=True)
    timings = pd.concat([r.timings for r in parts], ignore_index=True)
    failures = {label: error for r in parts for label, error in r.failures.items()}
    seconds = pd.Series(dtype=float)
    if len(timings):  # a setting's fit (repeated on each task's row) once, plus its scoring of every task
        per_fit = timings.groupby(["model", "seed"]).agg(fit_s=("fit_s", "first"), score_s=("score_s", "sum"))
        seconds = per_fit.sum(axis=1).groupby(level="model").sum()
    swept = {}
    for model, sets in settings.items():
        keys, rows = list(grids[model]), []
        for label, setting in zip(labels[model], sets):
            if label in failures:
                raise RuntimeError(f"{model} failed on validation with {setting}: {failures[label]}")
            for row in board[(board["model"] == label) & (board["metric"] == metric) & (board["k"] == k)].itertuples():
                rows.append({**setting, "task": row.task, f"{metric}@{k}": row.value, "ci_low": row.ci_low,
                             "ci_high": row.ci_high, "seconds": round(float(seconds.get(label, np.nan)), 1)})
        table = pd.DataFrame(rows)
        mean = table.groupby(keys, sort=False)[f"{metric}@{k}"].mean()
        best = mean.idxmax()
        best = dict(zip(keys, best if isinstance(best, tuple) else (best,)))
        swept[model] = table, {k: v.item() if isinstance(v, np.generic) else v for k, v in best.items()}
    return swept


def sweep_stages(names: Sequence[str]) -> list[list[str]]:
    """The models to tune, in stages: a model joins the first stage after every stage that tunes one of its
    parts (:data:`shared.models.COMPONENTS`), so a combined model sees its parts' tuned settings and the models
    of one stage are swept together (:func:`validation_sweeps`). Order within a stage is the given order."""
    listed = set(names)

    def stage(name: str) -> int:  # parts listed after the model count too (the grids' order is the user's)
        return 1 + max((stage(part) for part in models.COMPONENTS.get(name, ()) if part in listed), default=-1)

    stage_of = {name: stage(name) for name in names}
    return [[name for name in names if stage_of[name] == s] for s in range(max(stage_of.values(), default=-1) + 1)]


@dataclass
class Judged:
    """What notebook 05 shows: the test-weeks evaluation and how its models were chosen."""

    result: Evaluation
    params: dict[str, Any]  # the run's parameters with every setting tuned here, ``models`` the ones evaluated
    sweeps: dict[str, pd.DataFrame]  # model -> its validation sweep table
    tuned_here: dict[str, Any]  # the settings chosen by those sweeps
    not_applicable: dict[str, str]  # model or task -> why the data cannot pose it
    missing: list[str]  # models not evaluated because what they need is missing (item text vectors)
    tests: pd.DataFrame  # paired tests on NDCG@k
    new_tests: pd.DataFrame  # paired tests on NDCG@k over the items new to the customer


def tune_and_evaluate(lines: pd.DataFrame, catalogue: pd.DataFrame | None, params: Mapping[str, Any],
                      has_customer: bool = True, k: int = 10, progress: bool = True) -> Judged:
    """Tune every model of ``params['validation_grids']`` that the run evaluates by :func:`validation_sweep`,
    in stages (:func:`sweep_stages`: a combined model after its parts, and sees their tuned settings; the models
    of a stage swept together, :func:`validation_sweeps`), then evaluate
    every model of ``params['models']`` on the test weeks with paired tests on NDCG@``k``.

    Models the data cannot pose (sequence models without customers of two or more baskets) and models whose
    inputs are missing (:func:`shared.models.available`) are left out, each with its reason. ``params`` is
    not changed; the settings in force are ``Judged.params``."""
    params = dict(params)
    not_applicable = inapplicable_models(lines, params["models"], has_customer)
    params["models"] = [m for m in params["models"] if m not in not_applicable]
    sweeps: dict[str, pd.DataFrame] = {}
    tuned_here: dict[str, Any] = {}
    grids = {name: grid for name, grid in params["validation_grids"].items()
             if name in params["models"] and models.available(name, params)}
    for stage in sweep_stages(list(grids)):
        for name, (sweeps[name], best) in validation_sweeps(lines, catalogue, params, {n: grids[n] for n in stage},
                                                            progress=progress).items():
            params.update(best)
            tuned_here.update(best)
    missing = [m for m in params["models"] if not models.available(m, params)]
    params["models"] = [m for m in params["models"] if m not in missing]
    result = evaluate(lines, catalogue, params, progress=progress)
    not_applicable.update(result.not_applicable)
    tests = paired_tests(result, "ndcg", k, params["bootstrap_samples"], params["seed"])
    new_tests = paired_tests(result, "ndcg_new", k, params["bootstrap_samples"], params["seed"])
    return Judged(result, params, sweeps, tuned_here, not_applicable, missing, tests, new_tests)
