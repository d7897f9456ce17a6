"""Fit and scoring time of every recommender on the default profile (Complete Journey, product level).

    .venv/bin/python benchmarks/models.py [--models popularity tifu_knn ...]   # -> reports/benchmarks/models.csv

Each model is fitted on the train + validation weeks (the fit period for test) with the default parameters
and scores every test query of both tasks, as notebook 05 does (SASRec models train for ``sasrec_epochs``
unless a checkpoint is given with ``--sasrec-checkpoint``). Times are wall-clock seconds on this machine;
``peak_mb`` is the process's maximum resident memory so far (models run one after the other).
"""
from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import pandas as pd

from shared import cleaning, config, data, evaluate, split
from shared.models import build, recommend

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
DEFAULT_MODELS = ["popularity", "personal_frequency", "item_knn", "rules", "als", "bpr", "repeat", "tifu_knn", "repeat_explore"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--sasrec-checkpoint", default=None, help="a checkpoint file or folder (notebook 04's data/sasrec)")
    args = parser.parse_args()
    params = config.load("default")
    if args.sasrec_checkpoint:
        params["sasrec_checkpoint"] = args.sasrec_checkpoint
    result = cleaning.clean(data.load(params), params)
    lines, _ = split.split_lines(result.lines, params)
    train = evaluate.fit_interactions(lines, result.catalogue, "test", params["min_item_count"], params["kcore"])
    tasks = split.build_tasks(lines, train.item_ids, "test", params["seed"])
    rows = []
    for name in args.models:
        started = time.perf_counter()
        model = build(name, params).fit(train)
        fit_s = time.perf_counter() - started
        for task, queries in tasks.items():
            t0 = time.perf_counter()
            recommend(model, queries.histories, queries.contexts, 20, breaks=queries.history_breaks)
            rows.append({"model": name, "task": task, "queries": len(queries), "fit_s": round(fit_s, 2),
                         "score_s": round(time.perf_counter() - t0, 2),
                         "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                         "items": train.n_items, "machine": f"{platform.machine()}, {platform.python_version()}"})
            print(rows[-1], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT / "models.csv", index=False)
    print(f"written: {OUT / 'models.csv'}")


if __name__ == "__main__":
    main()
