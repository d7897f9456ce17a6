"""One evaluation of every model on the same split, tasks and queries (docs/architecture.md, "Evaluation protocol").

``evaluate`` fits each model on the fit period (train, or train+validation when judging test), ranks the
full catalogue for every query of both tasks, and returns the leaderboard (long format, with 95% bootstrap
intervals over queries) plus the per-query values the figures and paired tests need. A model that raises in
``fit`` or ``score`` is reported as failed with its error; the others are still evaluated.

Trained neural models (:data:`shared.models.SEEDED_MODELS`) are fitted once per training seed
(:func:`shared.models.training_seeds`, ``n_seeds`` of them). Their leaderboard value is the mean over seeds, its
interval combines the bootstrap over queries with the spread between seeds
(:func:`shared.metrics.seeded_bootstrap_ci`), every seed's value is kept (``Evaluation.seed_board``, the run
folder's ``leaderboard_seeds.csv``), and paired tests pair the same seeds
(:func:`shared.metrics.seeded_paired_bootstrap`).
"""
from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import metrics, models
from .processes import shared_data, side_by_side
from .config import ParameterError
from .models import Interactions, Recommender, recommend
from .split import Queries, build_tasks, fit_lines, next_basket_reason, sequences_reason, vocabulary

LEADERBOARD_COLUMNS = ["model", "task", "k", "metric", "value", "ci_low", "ci_high", "seeds", "seed_sd", "note"]
SEED_BOARD_COLUMNS = ["model", "seed", "task", "k", "metric", "value"]
#: models that learn from each customer's sequence of baskets (SASRec and the models built on it)
SEQUENCE_MODELS = ("sasrec", "sasrec_text", "sasrec_repeat")


@dataclass
class Evaluation:
    item_ids: np.ndarray
    tasks: dict[str, Queries]
    train: Interactions
    leaderboard: pd.DataFrame
    #: (model, task, k) -> per-query metrics; for a model trained with several seeds, each query's mean over seeds
    per_query: dict[tuple[str, str, int], pd.DataFrame] = field(default_factory=dict)
    #: (model, task, k) -> the per-query metrics of each training seed, in seed order (one frame: no seeds)
    seed_per_query: dict[tuple[str, str, int], list[pd.DataFrame]] = field(default_factory=dict)
    #: every training seed's values of the seeded models: model, seed, task, k, metric, value
    seed_board: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SEED_BOARD_COLUMNS))
    #: (model, task) -> top-k lists (a seeded model's first seed)
    recommendations: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    timings: pd.DataFrame | None = None
    #: tasks left out because the data cannot pose them (task -> reason), e.g. next_basket without customers
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.leaderboard["model"]))


def inapplicable_models(lines: pd.DataFrame, names: Sequence[str], has_customer: bool = True,
                        target: str = "validation") -> dict[str, str]:
    """The models of ``names`` the data cannot train (model -> reason): the sequence models when no customer
    has two or more baskets in the fit period of ``target`` (notebook 04 trains on validation's)."""
    reason = sequences_reason(lines, target, has_customer)
    return {name: reason for name in names if reason and name in SEQUENCE_MODELS}


def check_metric_names(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in metrics.METRICS]
    if unknown:
        raise ParameterError(
            f"parameter 'metrics': unknown metric {', '.join(map(repr, unknown))} (known: {', '.join(metrics.METRICS)})"
        )


def item_categories(item_ids: np.ndarray, catalogue: pd.DataFrame | None) -> np.ndarray | None:
    """Integer category code per catalogue item (product_category, else department), or None."""
    if catalogue is None:
        return None
    for column in ("product_category", "department"):
        if column in catalogue and catalogue[column].notna().any():
            labels = pd.Series(item_ids).map(catalogue.set_index("item_id")[column]).fillna("(none)")
            return pd.factorize(labels)[0]
    return None


def fit_interactions(lines: pd.DataFrame, catalogue: pd.DataFrame | None, target: str, min_item_count: int,
                     kcore: int) -> Interactions:
    """The fit-period interactions for judging ``target``, over the fit-period vocabulary
    (:func:`shared.split.vocabulary`): the test weeks choose no item, and lines of items outside the
    vocabulary are not learned from."""
    item_ids = vocabulary(lines, target, min_item_count, kcore)
    if not len(item_ids):
        raise ValueError(f"no item is bought in {min_item_count}+ baskets of the fit period: lower 'min_item_count'")
    fit = fit_lines(lines, target)
    train = Interactions.from_lines(fit[fit["item_id"].isin(pd.Index(item_ids))], item_ids)
    train.categories = item_categories(item_ids, catalogue)
    return train


def evaluate(
    lines: pd.DataFrame,
    catalogue: pd.DataFrame | None,
    params: Mapping[str, Any],
    model_names: Sequence[str] | None = None,
    target: str = "test",
    factories: Mapping[str, Callable[[Mapping[str, Any]], Recommender]] | None = None,
    progress: bool = True,
    workers: int | None = None,
    variants: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
) -> Evaluation:
    """Evaluate ``model_names`` (default ``params['models']``) on ``target`` (test or validation).

    ``factories`` may add or replace model builders (name -> callable(params) -> model), e.g. to compare
    settings of one model on validation. ``workers`` (default ``params['eval_workers']``) > 1 fits and ranks
    the models (every training seed a job) in that many one-thread processes side by side; the metrics are
    computed here, the same way either way. ``variants`` (label -> (model name, parameter overrides)) adds
    models under their own labels, e.g. every setting of a validation sweep, judged on the same queries.
    """
    names = list(model_names if model_names is not None else params["models"])
    factories = dict(factories or {})
    spec = {name: (name, {}) for name in names}  # label -> (model name, parameter overrides)
    spec.update(variants or {})
    names = list(spec)
    models.check_names([model for model, _ in spec.values() if model not in factories])
    check_metric_names(params["metrics"])
    wanted = set(params["metrics"])
    ks = sorted(params["k_values"])
    n_boot, seed = params["bootstrap_samples"], params["seed"]
    workers = params.get("eval_workers", 1) if workers is None else workers
    if params.get("engine") == "spark":
        workers = 1  # Spark's models share the run's one Spark session: never one session per process

    train = fit_interactions(lines, catalogue, target, params["min_item_count"], params["kcore"])
    item_ids = train.item_ids
    tasks = build_tasks(lines, item_ids, target, seed, params["max_queries"])
    reason = next_basket_reason(tasks["next_basket"])
    dropped = {"next_basket": reason} if reason and len(tasks["basket_completion"]) else {}
    tasks = {task: queries for task, queries in tasks.items() if task not in dropped}
    information = metrics.self_information(train.item_basket_counts, train.baskets.shape[0])
    categories = train.categories

    rows: list[dict[str, Any]] = []
    seed_rows: list[dict[str, Any]] = []
    evaluation = Evaluation(item_ids=item_ids, tasks=tasks, train=train, leaderboard=pd.DataFrame(), not_applicable=dropped)
    timings = []
    seeds_of = {name: models.training_seeds(spec[name][0], params) for name in names}
    jobs = [(name, *spec[name], training_seed) for name in names for training_seed in seeds_of[name]]
    outcomes = _run_jobs(jobs, train, tasks, params, factories, max(ks), workers, progress, target)
    for name in names:
        seeds = seeds_of[name]
        per_seed: list[dict[str, np.ndarray]] = []  # one task -> recs per training seed
        failure = None
        for training_seed in seeds:
            outcome = outcomes[(name, training_seed)]
            if isinstance(outcome, str):
                failure = outcome
                break
            recs, fit_seconds, score_seconds = outcome
            timings.extend({"model": name, "seed": training_seed, "task": task, "fit_s": round(fit_seconds, 2),
                            "score_s": round(score_seconds[task], 2), "queries": len(tasks[task])} for task in tasks)
            per_seed.append(recs)
        if failure is not None:  # a broken model must not stop the others
            evaluation.failures[name] = failure
            for task in tasks:
                rows.append({"model": name, "task": task, "k": np.nan, "metric": "failed", "value": np.nan,
                             "ci_low": np.nan, "ci_high": np.nan, "seeds": len(seeds), "seed_sd": np.nan,
                             "note": failure.splitlines()[0]})
            continue
        for task, queries in tasks.items():
            evaluation.recommendations[(name, task)] = per_seed[0][task]
            for k in ks:
                frames, summaries = zip(*(_task_metrics(recs[task], queries, k, train, information, categories, wanted)
                                          for recs in per_seed))
                evaluation.seed_per_query[(name, task, k)] = list(frames)
                evaluation.per_query[(name, task, k)] = _mean_over_seeds(frames)
                for metric, values in summaries[0].items():
                    by_seed = [summary[metric] for summary in summaries]
                    rows.append({"model": name, "task": task, "k": k, "metric": metric,
                                 **_summarise(by_seed, n_boot, seed), "note": ""})
                    if spec[name][0] in models.SEEDED_MODELS:
                        seed_rows.extend({"model": name, "seed": s, "task": task, "k": k, "metric": metric,
                                          "value": float(np.nanmean(v)) if isinstance(v, np.ndarray) else v}
                                         for s, v in zip(seeds, by_seed))
    evaluation.leaderboard = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
    evaluation.seed_board = pd.DataFrame(seed_rows, columns=SEED_BOARD_COLUMNS)
    evaluation.timings = pd.DataFrame(timings)
    return evaluation


def _fit_and_rank(name: str, overrides: Mapping[str, Any], training_seed: int, train: Interactions,
                  tasks: Mapping[str, Queries], params: Mapping[str, Any],
                  factories: Mapping[str, Callable[[Mapping[str, Any]], Recommender]], k: int):
    """One model (its parameter ``overrides``, one training seed) fitted on ``train`` and its top-``k`` lists for
    every task, with the seconds of each step; or, if it raises, its error (first line: type and message) and a
    short traceback."""
    try:
        started = time.perf_counter()
        seeded = {**params, **overrides, "seed": training_seed}
        model = (factories[name](seeded) if name in factories else models.build(name, seeded)).fit(train)
        fit_seconds = time.perf_counter() - started
        recs, score_seconds = {}, {}
        for task, queries in tasks.items():
            t0 = time.perf_counter()
            recs[task] = recommend(model, queries.histories, queries.contexts, k, breaks=queries.history_breaks)
            score_seconds[task] = time.perf_counter() - t0
        return recs, fit_seconds, score_seconds
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=3)


def _worker_job(name: str, overrides: Mapping[str, Any], training_seed: int):
    """One job of :func:`_run_jobs` in a process of :func:`shared.processes.side_by_side`."""
    data = shared_data()
    return _fit_and_rank(name, overrides, training_seed, data["train"], data["tasks"], data["params"], {}, data["k"])


def _run_jobs(jobs: Sequence[tuple[str, str, Mapping[str, Any], int]], train: Interactions, tasks: Mapping[str, Queries],
              params: Mapping[str, Any], factories: Mapping[str, Callable[[Mapping[str, Any]], Recommender]], k: int,
              workers: int, progress: bool, target: str) -> dict[tuple[str, int], Any]:
    """Every (label, model, overrides, training seed) job fitted and ranked, here one after the other, or with
    ``workers`` > 1 side by side in that many one-thread processes (:func:`shared.processes.side_by_side`: the data
    sent once per process; models given as ``factories`` run here, they need not pickle). Each job's result
    depends on the job alone, never on the process or the order that ran it."""
    bar = tqdm(total=len(jobs), desc=f"evaluating on {target}", disable=not progress)
    outcomes: dict[tuple[str, int], Any] = {}
    remote = [job for job in jobs if job[1] not in factories] if workers > 1 and len(jobs) > 1 else []
    if remote:
        shared = {"train": train, "tasks": tasks, "params": params, "k": k}
        for i, future in side_by_side(_worker_job, [job[1:] for job in remote], workers, shared):
            label, _, _, training_seed = remote[i]
            try:
                outcomes[(label, training_seed)] = future.result()
            except Exception as exc:  # the process itself died (e.g. out of memory): that model failed
                outcomes[(label, training_seed)] = f"{type(exc).__name__}: {exc}\n"
            bar.set_postfix_str(label)
            bar.update()
    for label, name, overrides, training_seed in jobs:
        if (label, training_seed) not in outcomes:
            outcomes[(label, training_seed)] = _fit_and_rank(name, overrides, training_seed, train, tasks, params, factories, k)
            bar.update()
    bar.close()
    return outcomes


def _mean_over_seeds(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Each query's mean over the seeds' per-query frames (NaN where every seed is undefined)."""
    if len(frames) == 1:
        return frames[0]
    stacked = np.stack([f.to_numpy(dtype=float) for f in frames])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.DataFrame(np.nanmean(stacked, axis=0), columns=frames[0].columns)


def _summarise(by_seed: Sequence[np.ndarray | float], n_boot: int, seed: int) -> dict[str, Any]:
    """Leaderboard value, interval and seed spread of one metric from each seed's per-query values (or, for a
    metric of the whole run such as coverage, each seed's single value: the mean, no interval)."""
    if not isinstance(by_seed[0], np.ndarray):
        values = np.asarray(by_seed, dtype=float)
        return {"value": float(values.mean()), "ci_low": np.nan, "ci_high": np.nan, "seeds": len(values),
                "seed_sd": float(values.std(ddof=1)) if len(values) > 1 else np.nan}
    matrix = np.stack(by_seed)
    mean, low, high = metrics.seeded_bootstrap_ci(matrix, n_boot, seed)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        seed_means = np.nanmean(matrix, axis=1)
    return {"value": mean, "ci_low": low, "ci_high": high, "seeds": len(matrix),
            "seed_sd": float(np.nanstd(seed_means, ddof=1)) if len(matrix) > 1 else np.nan}


def _task_metrics(recs, queries: Queries, k, train, information, categories, wanted
                  ) -> tuple[pd.DataFrame, dict[str, np.ndarray | float]]:
    """One model's (one seed's) lists on one task at k: the per-query metrics, and every leaderboard metric
    (metric -> per-query values, or the single value of a metric of the whole run such as coverage)."""
    per_query: dict[str, np.ndarray] = {}
    summary: dict[str, np.ndarray | float] = {}

    def add(metric: str, values: np.ndarray | None = None, value: float | None = None) -> None:
        if values is not None:
            per_query[metric] = values
            summary[metric] = np.asarray(values, dtype=float)
        else:
            summary[metric] = float(value)

    for metric, values in metrics.ranking(recs, queries.targets, k).items():
        if metric in wanted:
            add(metric, values)
    if "coverage" in wanted:
        add("coverage", value=metrics.coverage(recs, k, train.n_items))
    if "novelty" in wanted:
        add("novelty", metrics.novelty(recs, k, information))
    if "diversity" in wanted and categories is not None:
        add("diversity", metrics.diversity(recs, k, categories))
    if queries.task == "next_basket":
        repeat = queries.repeat_mask()
        for part, masks in (("repeat", repeat), ("new", [~m for m in repeat])):
            has = np.array([m.any() for m in masks])
            values = {m: np.full(len(queries), np.nan) for m in ("recall", "ndcg", "hit_rate")}
            if has.any():
                idx = np.flatnonzero(has)
                sub = metrics.ranking(recs[idx], [queries.targets[i][masks[i]] for i in idx], k)
                for m in values:
                    values[m][idx] = sub[m]
            for m, v in values.items():
                if m in wanted:
                    add(f"{m}_{part}", v)
        shown = recs[:, :k]
        in_history = np.array([np.isin(r[r >= 0], h).sum() for r, h in zip(shown, queries.histories)])
        n_shown = (shown >= 0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            add("repeat_share", np.where(n_shown > 0, in_history / n_shown, np.nan))
    return pd.DataFrame(per_query), summary


def paired_tests(evaluation: Evaluation, metric: str = "ndcg", k: int = 10, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Every pair of models on every task: difference of ``metric@k`` over the same queries, interval, p; for
    models trained with several seeds, the same seeds paired (a model without seeds against each of them), with
    the seed spread and whether every seed agrees in sign (:func:`shared.metrics.seeded_paired_bootstrap`)."""
    rows = []
    names = [m for m in evaluation.models if m not in evaluation.failures]
    for task in evaluation.tasks:
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                frames_a = evaluation.seed_per_query.get((a, task, k))
                frames_b = evaluation.seed_per_query.get((b, task, k))
                if frames_a is None or frames_b is None or metric not in frames_a[0] or metric not in frames_b[0]:
                    continue
                if len(frames_a) != len(frames_b) and 1 not in (len(frames_a), len(frames_b)):
                    continue  # different numbers of seeds: nothing to pair
                va = np.stack([f[metric].to_numpy(dtype=float) for f in frames_a])
                vb = np.stack([f[metric].to_numpy(dtype=float) for f in frames_b])
                test = metrics.seeded_paired_bootstrap(va, vb, n_boot, seed)
                rows.append({"task": task, "metric": f"{metric}@{k}", "model_a": a, "model_b": b, **test})
    return bootstrap_tests(rows, n_boot)


def bootstrap_tests(rows: Sequence[Mapping[str, Any]], n_boot: int) -> pd.DataFrame:
    """Paired bootstrap tests as a table that carries its p-value floor: a bootstrap of ``n_boot`` samples
    resolves no finer than 1 / ``n_boot`` (``attrs["p_floor"]``, shown as "< 0.001" for 1,000)."""
    tests = pd.DataFrame(rows)
    tests.attrs["p_floor"] = 1 / n_boot
    return tests


def by_history_length(evaluation: Evaluation, metric: str = "ndcg", k: int = 10,
                      edges: Sequence[int] = (0, 1, 5, 20, 50)) -> pd.DataFrame:
    """Mean ``metric@k`` by the customer's number of fit-period baskets (buckets from ``edges``)."""
    rows = []
    labels = [f"{lo}" if hi == lo + 1 else f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    for (model, task, kk), frame in evaluation.per_query.items():
        if kk != k or metric not in frame:
            continue
        bucket = np.digitize(evaluation.tasks[task].history_baskets, edges[1:])
        for b, label in enumerate(labels):
            values = frame[metric].to_numpy()[bucket == b]
            if len(values):
                rows.append({"model": model, "task": task, "history_baskets": label, "queries": len(values),
                             metric: float(np.nanmean(values))})
    return pd.DataFrame(rows)


def popularity_buckets(train: Interactions, hot_share: float = 0.5, warm_share: float = 0.4,
                       n_items: int | None = None) -> np.ndarray:
    """0 = tail, 1 = torso, 2 = head per item: head items make the first ``hot_share`` of training lines, the
    torso the next ``warm_share``, the tail the rest (including items never bought in training, and the ``n_items`` -
    catalogue-size items outside the vocabulary that targets may name)."""
    counts = np.zeros(max(n_items or 0, train.n_items))
    counts[: train.n_items] = train.item_basket_counts
    order = np.argsort(-counts, kind="stable")
    cumulative = np.cumsum(counts[order]) / max(counts.sum(), 1)
    bucket = np.zeros(len(counts), dtype=int)
    bucket[order[cumulative <= hot_share + 1e-12]] = 2
    bucket[order[(cumulative > hot_share + 1e-12) & (cumulative <= hot_share + warm_share + 1e-12)]] = 1
    bucket[counts == 0] = 0
    return bucket


def recall_by_popularity(evaluation: Evaluation, k: int = 10) -> pd.DataFrame:
    """Share of target items found in the top k, by the target item's popularity bucket (micro-average)."""
    names = ("tail", "torso", "head")
    bucket = popularity_buckets(evaluation.train, n_items=max(len(q.item_ids) for q in evaluation.tasks.values()))
    rows = []
    for (model, task), recs in evaluation.recommendations.items():
        queries = evaluation.tasks[task]
        hits = metrics.hit_matrix(recs[:, :k], queries.targets)
        found = [set(r[h]) for r, h in zip(recs[:, :k], hits)]
        target_items = np.concatenate(queries.targets) if len(queries) else np.zeros(0, int)
        target_found = np.concatenate([np.isin(t, list(f)) for t, f in zip(queries.targets, found)]) if len(queries) else np.zeros(0, bool)
        for b, label in enumerate(names):
            mask = bucket[target_items] == b
            if mask.any():
                rows.append({"model": model, "task": task, "bucket": label, "targets": int(mask.sum()),
                             "recall": float(target_found[mask].mean())})
    return pd.DataFrame(rows)


def repeat_new_shares(evaluation: Evaluation, k: int = 10) -> pd.DataFrame:
    """next_basket: share of recommended items that are repeats, next to the share among actual purchases."""
    queries = evaluation.tasks["next_basket"]
    actual = np.concatenate(queries.repeat_mask()).mean() if len(queries) else np.nan
    rows = [{"who": "actual next baskets", "repeat_share": float(actual)}]
    for (model, task, kk), frame in evaluation.per_query.items():
        if task == "next_basket" and kk == k and "repeat_share" in frame:
            rows.append({"who": model, "repeat_share": float(np.nanmean(frame["repeat_share"]))})
    return pd.DataFrame(rows)


def unreachable_targets(evaluation: Evaluation, k: int = 10) -> pd.DataFrame:
    """Per task: how many target items lie outside the fit-period vocabulary (no model can find them), and
    the best recall@k and NDCG@k any model could reach because of them (every known target ranked first)."""
    rows = []
    for task, queries in evaluation.tasks.items():
        if not len(queries):
            continue
        known = [t[t < queries.n_items] for t in queries.targets]
        # the best possible list: every known target first, in the first k
        ideal = np.full((len(queries), k), -1, dtype=np.int64)
        for i, t in enumerate(known):
            ideal[i, : min(len(t), k)] = t[:k]
        best = metrics.ranking(ideal, queries.targets, k)
        n_targets = int(sum(len(t) for t in queries.targets))
        n_unknown = n_targets - int(sum(len(t) for t in known))
        rows.append({"task": task, "queries": len(queries), "targets": n_targets, "unreachable": n_unknown,
                     "unreachable_share": n_unknown / max(n_targets, 1),
                     "queries_with_unreachable": int(sum(len(t) > len(kt) for t, kt in zip(queries.targets, known))),
                     f"recall@{k}_ceiling": float(best["recall"].mean()), f"ndcg@{k}_ceiling": float(best["ndcg"].mean()),
                     "context_items_dropped": queries.dropped_context_items})
    return pd.DataFrame(rows)
