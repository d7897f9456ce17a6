"""Cleaning, split and baseline evaluation on all of Complete Journey: wall time and peak memory per stage.

    .venv/bin/python benchmarks/pipeline.py      # -> reports/benchmarks/pipeline.csv

Each stage runs in a fresh process so its peak memory (max RSS) is its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"

STAGE = r"""
import json, resource, sys, tempfile, time
from shared import cleaning, config, data, evaluate, split
params = config.load("default")
stage = sys.argv[1]
t0 = time.perf_counter()
dataset = data.load(params)
t_load = time.perf_counter() - t0
result = cleaning.clean(dataset, params)
lines, _ = split.split_lines(result.lines, params)
t_clean = time.perf_counter() - t0
row = {"stage": stage, "lines_in": len(dataset.lines), "lines_out": len(lines), "load_s": round(t_load, 2),
       "clean_split_s": round(t_clean, 2)}
if stage == "evaluate":
    t1 = time.perf_counter()
    ev = evaluate.evaluate(lines, result.catalogue, params, progress=False)
    row["evaluate_s"] = round(time.perf_counter() - t1, 2)
    row["queries"] = sum(len(q) for q in ev.tasks.values())
row["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(row))
"""


def main() -> None:
    rows = []
    for stage in ("clean", "evaluate"):
        proc = subprocess.run([sys.executable, "-c", STAGE, stage], capture_output=True, text=True, check=True, cwd=ROOT)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1])
    OUT.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(OUT / "pipeline.csv", index=False)
    print(f"written {OUT / 'pipeline.csv'}")


if __name__ == "__main__":
    main()
