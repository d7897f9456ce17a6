"""Frequent itemset mining on Complete Journey: wall time, peak memory and itemset counts per engine.

    .venv/bin/python benchmarks/mining.py [--engines fim_raw,fim,rusket]   # -> reports/benchmarks/mining.csv, mining.png

Data: every Complete Journey basket with a positive quantity and a known product (the ``full`` profile's
cleaning, no rarity filter), at product level (min support 0.5%, 0.1%, 0.05%) and product_type level (0.1%).
Engines: ``fim_raw`` (pyfim's fpgrowth called directly: the reference), ``shared.mining.frequent_itemsets``
with each of its engines (``--engines`` picks some: their rows replace the same engines' rows in the CSV).
``same_as_fim`` compares every itemset and its count with ``fim_raw`` (a digest of the sorted list), not
only how many there are. Each run is a fresh process that loads the pickled baskets, so ``peak_mb`` is its
own: ``baskets_mb`` is the resident memory with the baskets loaded (and the libraries imported),
``peak_mb`` the maximum while mining (polled every 5 ms) and ``mining_mb`` the difference.
"""
from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
CASES = [("product", 0.005), ("product", 0.001), ("product", 0.0005), ("product_type", 0.001)]
ENGINES = ["fim_raw", "fim", "rusket", "mlxtend_fpgrowth", "mlxtend_hmine", "mlxtend_apriori"]
TIMEOUT_S = 600

RUN = r"""
import gc, hashlib, json, math, pickle, sys, threading, time
import psutil
path, engine, support = sys.argv[1], sys.argv[2], float(sys.argv[3])
baskets = pickle.load(open(path, "rb"))
import fim
from shared import mining as rules
gc.collect()
me = psutil.Process()
base = me.memory_info().rss / 2**20
peak = [base]
done = threading.Event()
def poll():
    while not done.is_set():
        peak[0] = max(peak[0], me.memory_info().rss / 2**20)
        done.wait(0.005)
watcher = threading.Thread(target=poll, daemon=True)
watcher.start()
start = time.perf_counter()
if engine == "fim_raw":
    threshold = max(math.ceil(support * len(baskets) - 1e-9), 10)
    found = fim.fpgrowth(baskets, supp=-threshold, report="a")
    seconds = time.perf_counter() - start
    pairs = [(items, int(count)) for items, count in found]
else:
    found = rules.frequent_itemsets(baskets, support, engine=engine, min_count=10)
    seconds = time.perf_counter() - start
    pairs = list(zip(found["itemset"], found["count"]))
done.set()
watcher.join()
n = len(pairs)
digest = hashlib.sha1("\n".join(sorted("|".join(sorted(map(str, items))) + ":" + str(int(c)) for items, c in pairs)).encode()).hexdigest()[:12]
print(json.dumps({"itemsets": n, "digest": digest, "seconds": round(seconds, 3), "baskets_mb": round(base, 1),
                  "peak_mb": round(peak[0], 1), "mining_mb": round(peak[0] - base, 1)}))
"""


def prepare(folder: Path) -> dict[str, Path]:
    from shared import cleaning, config, data
    from shared import mining as rules

    params = config.load("full")
    dataset = data.load(params)
    paths = {}
    for level in sorted({level for level, _ in CASES}):
        clean = cleaning.clean(dataset, {**params, "item_level": level}).lines
        baskets = rules.baskets_of(clean)
        paths[level] = folder / f"{level}.pkl"
        pickle.dump(baskets, open(paths[level], "wb"))
        print(f"{level}: {len(baskets):,} baskets, {clean['item_id'].nunique():,} items")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines (fim_raw always runs)")
    engines = list(dict.fromkeys(["fim_raw", *parser.parse_args().engines.split(",")]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = prepare(Path(tmp))
        for level, support in CASES:
            for engine in engines:
                try:
                    proc = subprocess.run([sys.executable, "-c", RUN, str(paths[level]), engine, str(support)],
                                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT)
                    result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {"error": proc.stderr.strip().splitlines()[-1]}
                except subprocess.TimeoutExpired:
                    result = {"error": f"timeout after {TIMEOUT_S} s"}
                row = {"level": level, "min_support": support, "engine": engine, **result}
                rows.append(row)
                print(row, flush=True)
    frame = pd.DataFrame(rows)
    kept = OUT / "mining.csv"
    if kept.exists():  # the other engines' rows of an earlier run stay
        earlier = pd.read_csv(kept)
        frame = pd.concat([earlier[~earlier["engine"].isin(engines)], frame], ignore_index=True)
        frame["order"] = frame["engine"].map(ENGINES.index)
        frame = frame.sort_values(["level", "min_support", "order"], ascending=[True, False, True], kind="stable").drop(columns="order")
    reference = frame[frame["engine"] == "fim_raw"].set_index(["level", "min_support"])
    frame["same_as_fim"] = [
        r.digest == reference.loc[(r.level, r.min_support), "digest"] if isinstance(getattr(r, "digest", None), str) else None
        for r in frame.itertuples()
    ]
    frame["x_fim_time"] = [
        round(r.seconds / reference.loc[(r.level, r.min_support), "seconds"], 2) if pd.notna(getattr(r, "seconds", None)) else None
        for r in frame.itertuples()
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / "mining.csv", index=False)
    plot(frame, OUT / "mining.png")
    print(frame.to_string())


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cases = list(dict.fromkeys(zip(frame["level"], frame["min_support"])))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / len(ENGINES)
    for metric, ax in zip(("seconds", "peak_mb"), axes):
        for i, engine in enumerate(ENGINES):
            sub = frame[frame["engine"] == engine].set_index(["level", "min_support"])
            values = [sub[metric].get(case, np.nan) if metric in sub else np.nan for case in cases]
            ax.bar(np.arange(len(cases)) + i * width - 0.4 + width / 2, values, width, label=engine)
        ax.set_xticks(range(len(cases)), [f"{lvl}\n{s:.2%}" for lvl, s in cases])
        ax.set(yscale="log", ylabel="seconds (log)" if metric == "seconds" else "peak memory MB (log)",
               title="Mining wall time" if metric == "seconds" else "Peak memory of the mining process")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
