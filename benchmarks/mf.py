"""ALS and BPR on Complete Journey at product level: fit time per iteration and peak memory, with BLAS held
to one thread (as the project does) and with OpenBLAS's default threading.

    .venv/bin/python benchmarks/mf.py       # -> reports/benchmarks/mf.csv

Data: the default profile's customers x products matrix (train + validation weeks, bm25-weighted). Each
configuration runs in a fresh process; ``peak_mb`` is that process's maximum resident memory, and
``per_iteration_s`` the mean of implicit's own per-iteration timings.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"

RUN = r"""
import json, resource, sys, time
from contextlib import nullcontext
from threadpoolctl import threadpool_limits
from shared import cleaning, config, data, evaluate, split
from shared.models import build as make
model_name, blas = sys.argv[1], sys.argv[2]
params = config.load("default")
result = cleaning.clean(data.load(params), params)
lines, _ = split.split_lines(result.lines, params)
train = evaluate.fit_interactions(lines, result.catalogue, "test", params["min_item_count"], params["kcore"])
model = make(model_name, {**params, "als_factors": 64, "als_iterations": 15, "bpr_factors": 64, "bpr_iterations": 100})
weighted = model._prepare(train)
limit = threadpool_limits(1, "blas") if blas == "1" else nullcontext()
with limit:
    model.curve = []
    model.model = model._implicit_model()
    started = time.perf_counter()
    model.model.fit(weighted, show_progress=False, callback=model._record)
    seconds = time.perf_counter() - started
steps = [c[1] for c in model.curve]
print(json.dumps({"model": model_name, "blas_threads": "1" if blas == "1" else "default",
                  "customers": weighted.shape[0], "items": weighted.shape[1], "nnz": int(weighted.nnz),
                  "iterations": len(steps), "fit_s": round(seconds, 2),
                  "per_iteration_s": round(sum(steps) / max(len(steps), 1), 4),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def main() -> None:
    rows = []
    for model in ("als", "bpr"):
        for blas in ("1", "default"):
            proc = subprocess.run([sys.executable, "-c", RUN, model, blas], capture_output=True, text=True, cwd=ROOT)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT / "mf.csv", index=False)
    print(f"written {OUT / 'mf.csv'}")


if __name__ == "__main__":
    main()
