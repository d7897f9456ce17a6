"""pandas vs Spark (local[2]) as the data grows: cleaning and mining at 1x, 4x and 16x Complete Journey's size.

    .venv/bin/python benchmarks/scale.py                 # -> reports/benchmarks/scale.csv and scale.png
    .venv/bin/python benchmarks/scale.py --scales 1 4    # a quicker look

The data: the synthetic source at Complete Journey's size (1,330 customers, 5,000 items, 52 weeks: 1.44M
lines in 86k baskets, with 2% dirty lines for cleaning to find), replicated 4 and 16 times under new customer
and basket IDs, so that each scale has the same shape and the same frequent itemsets, only more of everything. Each is written
once to parquet (data/bench/, row groups of 1M lines) and read back through ``source: file`` by both engines.

Each (engine, step, scale) runs in a fresh process; its wall time excludes starting Python and Spark (the
session start, about 8 s, is its own column) and its peak memory is the resident memory of the process and
every child (Spark's JVM included), polled every 0.1 s.

- ``clean``: read the parquet, every cleaning step with its ledger, write the cleaned lines to parquet;
- ``mine``: read the cleaned lines, group them into baskets, frequent itemsets at support 0.3% (about 6,700
  itemsets, as many as Complete Journey's products give at 0.05%; at least 10 baskets): pandas with the fim
  engine, Spark with pyspark.ml's FP-growth.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
DATA = ROOT / "data" / "bench"
MIN_SUPPORT = 0.003
CASE_TIMEOUT = 1800  # seconds per (engine, step, scale)
BASE = {"synthetic_customers": 1330, "synthetic_items": 5_000, "synthetic_weeks": 52, "synthetic_noise": 0.02}
COLUMNS = {"basket_id": "basket_id", "customer_id": "customer_id", "item_id": "item_id", "timestamp": "timestamp",
           "quantity": "quantity", "price": "price"}

CASE = r"""
import json, sys, time
from pathlib import Path
engine, step, source, work = sys.argv[1:5]
from shared import cleaning, config, data
from shared import mining as rules
from shared.spark_session import SparkSettings
params = config.load("default", overrides={"engine": engine, "source": "file", "path": source, "columns": COLUMNS,
                                           "spark_master": "local[2]", "spark_driver_memory": "8g",
                                           "spark_shuffle_partitions": 8, "min_item_count": 10})
row = {"engine": engine, "step": step}
started = time.perf_counter()
if engine == "spark":
    from shared import spark_session
    from shared.cleaning import spark_steps
    from shared.mining import spark_fpgrowth
    session = spark_session.session(SparkSettings.from_params(params))
    session.range(1).count()
row["startup_s"] = round(time.perf_counter() - started, 2)
t0 = time.perf_counter()
clean_path = Path(work) / f"clean-{engine}.parquet"
if step == "clean":
    dataset = data.load(params)
    if engine == "spark":
        result = spark_steps.clean(dataset, params, collect=False)
        result.lines.write.mode("overwrite").parquet(str(clean_path))
        row["lines_out"] = int(result.ledger["rows_out"].iloc[-1])
    else:
        result = cleaning.clean(dataset, params)
        result.lines.to_parquet(clean_path, index=False)
        row["lines_out"] = len(result.lines)
    row["lines_in"] = int(result.ledger["rows_in"].iloc[0])
else:
    if engine == "spark":
        baskets = spark_fpgrowth.baskets_of(session.read.parquet(str(clean_path)))
        itemsets = rules.frequent_itemsets(baskets, MIN_SUPPORT, engine="spark", min_count=10, spark=SparkSettings.from_params(params))
    else:
        import pandas as pd
        itemsets = rules.frequent_itemsets(rules.baskets_of(pd.read_parquet(clean_path)), MIN_SUPPORT, min_count=10)
    row["baskets"] = int(itemsets.attrs["n_baskets"])
    row["itemsets"] = len(itemsets)
row["seconds"] = round(time.perf_counter() - t0, 2)
print("RESULT " + json.dumps(row))
""".replace("COLUMNS", repr(COLUMNS)).replace("MIN_SUPPORT", repr(MIN_SUPPORT))


def dataset(scale: int) -> Path:
    """The synthetic lines at ``scale`` x Complete Journey, written once as parquet (1M-line row groups)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shared import config
    from shared.data import pandas_sources

    path = DATA / f"scale-{scale}x.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    base = pandas_sources.load_synthetic(config.load("default", overrides=BASE)).lines
    writer = None
    for copy in range(scale):
        part = base if copy == 0 else base.assign(
            basket_id=base["basket_id"] + f"-{copy}", customer_id=base["customer_id"].astype("str") + f"-{copy}"
        )
        table = pa.Table.from_pandas(part.astype({"customer_id": "str"}), preserve_index=False)
        writer = writer or pq.ParquetWriter(path.with_suffix(".tmp"), table.schema)
        writer.write_table(table, row_group_size=1_000_000)
    writer.close()
    path.with_suffix(".tmp").rename(path)
    return path


def run_case(engine: str, step: str, source: Path, work: Path) -> dict:
    from shared.runner.memory import PeakMemory

    with PeakMemory() as memory:
        started = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-c", CASE, engine, step, str(source), str(work)],
                                  capture_output=True, text=True, cwd=ROOT, timeout=CASE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"engine": engine, "step": step, "error": f"stopped after {CASE_TIMEOUT} s", "peak_mb": round(memory.peak / 2**20)}
        wall = time.perf_counter() - started
    result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not result:
        error = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"engine": engine, "step": step, "error": error[:300], "peak_mb": round(memory.peak / 2**20)}
    row = json.loads(result[0][len("RESULT "):])
    row.update(process_s=round(wall, 1), peak_mb=round(memory.peak / 2**20))
    return row


def figure(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = {"pandas": "#1f77b4", "spark": "#d62728"}
    for ax, (value, label) in zip(axes, (("seconds", "wall time (s)"), ("peak_mb", "peak memory (MB)"))):
        for (engine, step), group in frame.dropna(subset=[value]).groupby(["engine", "step"]):
            ax.plot(group["lines"], group[value], marker="o", color=colours[engine],
                    linestyle="-" if step == "clean" else "--", label=f"{engine} {step}")
        ax.set(xscale="log", yscale="log", xlabel="input lines, log scale (x Complete Journey's size)",
               ylabel=f"{label}, log scale")
        sizes = frame.drop_duplicates("scale")
        ax.set_xticks(sizes["lines"], [f"{s}x\n{n / 1e6:.1f}M" for s, n in zip(sizes["scale"], sizes["lines"])])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_title("Time: pandas vs Spark local[2] (2 cores)")
    axes[1].set_title("Peak memory (Spark: Python + JVM)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--engines", nargs="+", default=["pandas", "spark"])
    parser.add_argument("--plot-only", action="store_true", help="redraw scale.png from scale.csv")
    args = parser.parse_args()
    if args.plot_only:
        figure(pd.read_csv(OUT / "scale.csv"), OUT / "scale.png")
        return
    from shared import spark_session

    local = spark_session.SparkSettings("local[2]", "8g", "4g", 8, 120)
    engines = [e for e in args.engines if e != "spark" or spark_session.engine_ready(local)]
    if engines != args.engines:
        print("Spark cannot run here (no Java or pyspark): measuring pandas only")
    rows = []
    for scale in args.scales:
        source = dataset(scale)
        lines = pq.read_metadata(source).num_rows
        work = DATA / f"work-{scale}x"
        work.mkdir(parents=True, exist_ok=True)
        for engine in engines:
            for step in ("clean", "mine"):
                row = {"scale": scale, "lines": lines, **run_case(engine, step, source, work)}
                rows.append(row)
                print(row, flush=True)
        shutil.rmtree(work, ignore_errors=True)
    frame = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / "scale.csv", index=False)
    figure(frame, OUT / "scale.png")
    print(f"written {OUT / 'scale.csv'} and {OUT / 'scale.png'}")


if __name__ == "__main__":
    main()
