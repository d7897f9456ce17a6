"""The one writer (and reader) of a run folder's files (docs/architecture.md, "Run folder").

Layout of a run folder ``DIR``::

    index.html  manifest.json  params.json  ledger.csv  leaderboard.csv  leaderboard_seeds.csv  significance.csv  itemsets.csv
    rules.csv  pairs.csv  NN_name.ipynb  NN_name.html  figures/*.png
    data/lines.parquet  data/catalogue.parquet  data/rejected.parquet  data/summary.json  data/tuned.json
    data/per_customer.parquet ...
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import describe, fingerprint
from ..mining import itemsets_to_csv_frame, rules_to_csv_frame
from .tables import named_pairs

# ----------------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------------

def data_dir(run_dir: str | Path) -> Path:
    path = Path(run_dir) / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple, np.ndarray)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_json(obj: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=_json_default, sort_keys=False) + "\n")
    return path


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """CSV with a fixed float format, so identical tables give identical files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    return path


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def read_lines(run_dir: str | Path) -> pd.DataFrame:
    """The cleaned canonical lines of a run, with their ``split`` column."""
    path = Path(run_dir) / "data" / "lines.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no cleaned lines; run notebook 01_data_cleaning first")
    return pd.read_parquet(path)


def read_catalogue(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "data" / "catalogue.parquet"
    return pd.read_parquet(path) if path.exists() else None


def read_ground_truth(run_dir: str | Path) -> pd.DataFrame | None:
    """Planted patterns of the synthetic source (items ``|``-joined), or None for real data."""
    path = Path(run_dir) / "data" / "ground_truth.parquet"
    return pd.read_parquet(path) if path.exists() else None


def write_rules(run_dir: str | Path, mined) -> None:
    """itemsets.csv and rules.csv of the run (itemsets and rule sides as ``|``-joined item IDs)."""
    write_csv(itemsets_to_csv_frame(mined.itemsets), Path(run_dir) / "itemsets.csv")
    write_csv(rules_to_csv_frame(mined.rules), Path(run_dir) / "rules.csv")


def write_factors(run_dir: str | Path, name: str, model, item_ids: np.ndarray) -> Path:
    """A model's item factors as ``data/<name>_item_factors.parquet`` (item_id, f0, f1, ...)."""
    factors = pd.DataFrame(model.item_factors, columns=[f"f{i}" for i in range(model.item_factors.shape[1])])
    factors.insert(0, "item_id", item_ids)
    factors.insert(1, "cold", model.cold)
    return write_parquet(factors, data_dir(run_dir) / f"{name}_item_factors.parquet")


def read_csv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"item_id": str, "similar_item_id": str})


def checkpoint_path(run_dir: str | Path, name: str = "", seed: int | None = None) -> Path:
    """Notebook 04's SASRec checkpoints live in ``data/sasrec/`` (one file per fit period, variant and training
    seed, e.g. ``validation-seed42.pt``, ``test-seed43.pt``, ``text-test-seed44.pt``); without ``name``, the
    folder, which the recommender searches for the checkpoint of its catalogue, variant and seed."""
    folder = Path(run_dir) / "data" / "sasrec"
    if not name:
        return folder
    return folder / (f"{name}-seed{seed}.pt" if seed is not None else f"{name}.pt")


def text_vectors_path(run_dir: str | Path) -> Path:
    """The items' pretrained text vectors (written by notebook 03, read by text_knn and sasrec_text)."""
    return Path(run_dir) / "data" / "item_text_vectors.parquet"


def mf_fits_path(run_dir: str | Path) -> Path:
    """The ALS and BPR fits of a run (``mf_cache``): notebook 05 reads back the fits notebook 03 made."""
    return Path(run_dir) / "data" / "mf_fits"


def tuned_text_vectors_path(run_dir: str | Path, seed: int) -> Path:
    """Item text vectors of the encoder fine-tuned with training seed ``seed`` (notebook 03)."""
    return Path(run_dir) / "data" / f"item_text_vectors_tuned_seed{int(seed)}.parquet"


def tuned_seeds(run_dir: str | Path) -> list[int]:
    """The seeds notebook 03 fine-tuned the encoder with in its last run (``data/text_encoder.json``): files of
    another run's seeds left in the folder are never read."""
    path = Path(run_dir) / "data" / "text_encoder.json"
    return sorted(int(t["seed"]) for t in read_json(path).get("tuned", [])) if path.exists() else []


def notebook_artefacts(run_dir: str | Path, seed: int | None = None) -> dict[str, Any]:
    """Parameters that point notebooks at what earlier ones wrote: SASRec checkpoints (04), item text vectors
    (03: the fine-tuned encoder's of training seed ``seed`` where there are, else the frozen ones), and the
    folder of ALS and BPR fits (03 writes it, 05 reads it)."""
    found: dict[str, Any] = {"mf_cache": str(mf_fits_path(run_dir))}
    if checkpoint_path(run_dir).is_dir():
        found["sasrec_checkpoint"] = str(checkpoint_path(run_dir))
    tuned = tuned_text_vectors_path(run_dir, seed) if seed is not None and seed in tuned_seeds(run_dir) else None
    if tuned is not None and tuned.exists():  # the text models read the fine-tuned encoder's vectors
        found["text_embeddings"] = str(tuned)
    elif text_vectors_path(run_dir).exists():
        found["text_embeddings"] = str(text_vectors_path(run_dir))
    return found


def pretrained_models(run_dir: str | Path) -> list[dict[str, Any]]:
    """The pretrained models a run used (name, package, weights' sha256), for the manifest."""
    path = Path(run_dir) / "data" / "text_encoder.json"
    if not path.exists():
        return []
    info = read_json(path)
    base = {k: info.get(k) for k in ("model", "package", "weights_sha256", "unique_texts", "seconds", "cache_hit")}
    tuned = [{"model": f"{info.get('model')} fine-tuned on the baskets (seed {t['seed']})", "base_weights_sha256": info.get("weights_sha256"),
              **{k: t.get(k) for k in ("weights_file", "weights_sha256", "steps", "first_loss", "last_loss", "seconds", "cache_hit")}}
             for t in info.get("tuned", [])]
    return [base, *tuned]


def tuned_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "data" / "tuned.json"


def write_tuned(run_dir: str | Path, values: dict[str, Any]) -> None:
    """Merge parameters chosen on validation into ``data/tuned.json`` (read by notebook 05)."""
    current = read_tuned(run_dir)
    current.update(values)
    write_json(current, tuned_path(run_dir))


def read_tuned(run_dir: str | Path) -> dict[str, Any]:
    path = tuned_path(run_dir)
    return read_json(path) if path.exists() else {}


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "data" / "summary.json"
    return read_json(path) if path.exists() else {}


def write_cleaned(run_dir: str | Path, dataset, result, lines: pd.DataFrame, split_info, split_table: pd.DataFrame) -> dict[str, Any]:
    """Write notebook 01's artefacts: data/*.parquet, ledger.csv, the split table and data/summary.json."""
    folder = data_dir(run_dir)
    write_parquet(lines, folder / "lines.parquet")
    write_parquet(result.rejected, folder / "rejected.parquet")
    if result.catalogue is not None:
        write_parquet(result.catalogue, folder / "catalogue.parquet")
    if dataset.ground_truth is not None:
        write_parquet(dataset.ground_truth.assign(items=dataset.ground_truth["items"].map("|".join)), folder / "ground_truth.parquet")
    write_csv(result.ledger, Path(run_dir) / "ledger.csv")
    write_csv(split_table, folder / "split.csv")
    summary = {
        "source": dataset.source,
        "description": dataset.description,
        "notes": dataset.notes,
        "has_customer": dataset.has_customer,
        "has_timestamp": dataset.has_timestamp,
        "has_catalogue": result.catalogue is not None,
        "facts": describe(lines),
        "split_method": split_info.method,
        "split_definition": split_info.definition,
        "source_fingerprint": dataset.fingerprint,
        "data_fingerprint": fingerprint(lines),
    }
    write_json(summary, folder / "summary.json")
    return summary


def write_evaluation(run_dir: str | Path, evaluation, tests: pd.DataFrame) -> Path:
    """Write notebook 05's artefacts: leaderboard.csv (a seeded model's mean over seeds),
    leaderboard_seeds.csv (every training seed's values of the seeded models), significance.csv, and under
    data/ the queries of each task and every model's top-k lists (a seeded model's first seed), from which any
    metric can be recomputed independently."""
    run_dir = Path(run_dir)
    folder = data_dir(run_dir)
    path = write_csv(evaluation.leaderboard, run_dir / "leaderboard.csv")
    write_csv(evaluation.seed_board, run_dir / "leaderboard_seeds.csv")
    write_csv(tests, run_dir / "significance.csv")
    ids = evaluation.item_ids
    for task, queries in evaluation.tasks.items():
        target_ids = queries.item_ids if queries.item_ids is not None else ids  # vocabulary + unreachable items
        write_parquet(
            pd.DataFrame(
                {
                    "query": np.arange(len(queries)),
                    "customer_id": queries.customer_id.astype(str),
                    "basket_id": queries.basket_id.astype(str),
                    "history_baskets": queries.history_baskets,
                    "context": [ids[c].tolist() for c in queries.contexts],
                    "target": [target_ids[t].tolist() for t in queries.targets],
                }
            ),
            folder / f"queries_{task}.parquet",
        )
    frames = []
    for (model, task), recs in evaluation.recommendations.items():
        q, rank = np.nonzero(recs >= 0)
        frames.append(pd.DataFrame({"model": model, "task": task, "query": q, "rank": rank + 1, "item_id": ids[recs[q, rank]]}))
    if frames:
        write_parquet(pd.concat(frames, ignore_index=True), folder / "recommendations.parquet")
    if evaluation.timings is not None:
        write_csv(evaluation.timings, folder / "eval_timings.csv")
    return path


def write_pairs(run_dir: str | Path, pairs: pd.DataFrame, catalogue: pd.DataFrame | None) -> Path:
    """``pairs.csv``: the fit period's frequent pairs with product names (and ``same_category`` where the catalogue
    has categories), strongest lift first: the cross-sell pairs the index page names."""
    return write_csv(named_pairs(pairs, catalogue, same_category=True), Path(run_dir) / "pairs.csv")


def write_substitutes(run_dir: str | Path, substitutes: pd.DataFrame) -> Path:
    """``substitutes.csv``: notebook 03's substitutes (products alike by their text, bought together less than
    chance: one or the other), the strongest first; the index page names them for range review."""
    return write_csv(substitutes, Path(run_dir) / "substitutes.csv")


def read_substitutes(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "substitutes.csv"
    return pd.read_csv(path, dtype={"item_a": str, "item_b": str, "name_a": str, "name_b": str}, keep_default_na=False) \
        if path.exists() else None


def read_new_products(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Notebook 05's new-product targeting table and its paired tests (None when the run has none)."""
    table, tests = Path(run_dir) / "new_product_targeting.csv", Path(run_dir) / "new_product_tests.csv"
    if not table.exists() or not tests.exists():
        return None
    return pd.read_csv(table), pd.read_csv(tests)


def read_pairs(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "pairs.csv"
    return pd.read_csv(path, dtype={"product_a": str, "product_b": str}, keep_default_na=False) if path.exists() else None


def write_per_customer(run_dir: str | Path, evaluation, k: int = 10, metric: str = "ndcg") -> Path:
    """``data/per_customer.parquet``: each test customer's mean ``metric@k`` over their queries of the test weeks,
    per task and model (columns task, metric, k, queries, then one per model; a seeded model: each query's mean
    over seeds); no customer ID. The spread of an online test's per-customer metric, for the index page's A/B plan."""
    frames = []
    for task, queries in evaluation.tasks.items():
        customers = pd.Series(np.asarray(queries.customer_id).astype(str))
        columns = {model: per_query[metric].to_numpy(dtype=float)
                   for (model, t, kk), per_query in evaluation.per_query.items() if t == task and kk == k and metric in per_query}
        if not columns or customers.empty:
            continue
        values = pd.DataFrame(columns).assign(customer=customers.to_numpy())
        grouped = values.groupby("customer", sort=True)
        frame = grouped.mean().reset_index(drop=True)
        frame.insert(0, "queries", grouped.size().to_numpy())
        frame.insert(0, "k", k)
        frame.insert(0, "metric", metric)
        frame.insert(0, "task", task)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["task", "metric", "k", "queries"])
    return write_parquet(table, data_dir(run_dir) / "per_customer.parquet")


def read_per_customer(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "data" / "per_customer.parquet"
    return pd.read_parquet(path) if path.exists() else None
