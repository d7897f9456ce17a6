"""The whole chain on the default profile, on the local standalone Spark cluster (``engine=spark``) or with
pandas, timed per notebook with the peak memory of the driver and of the executors.

    .venv/bin/python benchmarks/spark_cluster.py                  # engine=spark on scripts/spark-cluster (about an hour)
    .venv/bin/python benchmarks/spark_cluster.py --engine pandas  # the same harness, pandas engine (about 20 minutes)

-> ``reports/benchmarks/chain_<engine>.csv`` (one row per notebook) and, for Spark,
``reports/benchmarks/chain_leaderboard.csv``: every leaderboard value next to the pandas engine's, from
``--reference`` (default ``reports/latest``, what ``make report`` wrote) for every model but ALS, which must
match exactly. Spark's ALS has only Hu, Koren and Volinsky's confidence 1 + alpha * w, so its pandas
reference is ALS with ``als_confidence=hkv``, tuned by the same sweep and evaluated on the Spark run's own
cleaned lines (a few minutes after the run); it must agree within the README's tolerance.

The cluster (two workers of one core and 2 GB, executors of 1 GB) is started by ``scripts/spark-cluster up``
if it is not running, and stopped again afterwards if this script started it. While ``python -m shared run``
runs, every process is polled twice a second and its resident memory is added to one of three groups, per
notebook (read from the runner's ``[i/n] name ...`` lines):

- ``driver_python_mb``: the runner and the notebook kernel (pandas, torch, the evaluation);
- ``driver_jvm_mb``: the Spark driver's JVM, a child of the kernel;
- ``executors_mb``: the executors' JVMs (``CoarseGrainedExecutorBackend``, children of the workers) and any
  Python workers they start. The master and worker daemons themselves are not counted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

from shared.runner.memory import PeakMemory

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
RUNS = ROOT / "reports" / "benchmark-runs"
CLUSTER = ROOT / "scripts" / "spark-cluster"
STEP = re.compile(r"^\[\d+/\d+\] (\S+) \.\.\.$")
EXECUTOR = "CoarseGrainedExecutorBackend"


class Sampler(PeakMemory):
    """:class:`shared.runner.memory.PeakMemory`'s polling thread, measuring more: the run's process tree split into
    Python and JVM, and the cluster's executors; keeps each group's peak per notebook."""

    def __init__(self, runner: psutil.Process, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.runner = runner
        self.notebook = "start"
        self.peaks: dict[str, dict[str, float]] = {}

    @staticmethod
    def _rss(process: psutil.Process) -> int:
        try:
            return process.memory_info().rss
        except psutil.Error:
            return 0

    def sample(self) -> dict[str, float]:
        python = jvm = executors = 0
        try:
            tree = [self.runner, *self.runner.children(recursive=True)]
        except psutil.Error:
            tree = []
        for process in tree:
            try:
                name = process.name()
            except psutil.Error:
                continue
            if name == "java":
                jvm += self._rss(process)
            else:
                python += self._rss(process)
        for process in psutil.process_iter(["cmdline"]):
            if EXECUTOR in " ".join(process.info.get("cmdline") or []):
                executors += self._rss(process)
                try:
                    executors += sum(self._rss(c) for c in process.children(recursive=True))
                except psutil.Error:
                    pass
        mb = 2 ** 20
        return {"driver_python_mb": python / mb, "driver_jvm_mb": jvm / mb, "executors_mb": executors / mb}

    def _poll(self) -> None:
        while not self._stop.is_set():
            now = self.sample()
            peak = self.peaks.setdefault(self.notebook, dict.fromkeys(now, 0.0))
            for key, value in now.items():
                peak[key] = max(peak[key], value)
            peak["total_mb"] = max(peak.get("total_mb", 0.0), sum(now.values()))
            self._stop.wait(self.interval)


def cluster(command: str, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPARK_CLUSTER_PORT": str(port)}
    return subprocess.run([sys.executable, str(CLUSTER), command], env=env, capture_output=True, text=True)


def run_chain(engine: str, port: int, extra: list[str]) -> tuple[Path, pd.DataFrame, float]:
    out = RUNS / f"default-{engine}"
    overrides = ["-p", f"engine={engine}"]
    if engine == "spark":
        overrides += ["-p", f"spark_master=spark://127.0.0.1:{port}", "-p", "spark_executor_memory=1g"]
    for item in extra:
        overrides += ["-p", item]
    RUNS.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "shared", "run", "--profile", "default", "--out", str(out), *overrides]
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    log = (RUNS / f"default-{engine}.log").open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    with Sampler(psutil.Process(proc.pid)) as sampler:
        for line in proc.stdout:
            log.write(line)
            log.flush()
            print(line, end="", flush=True)
            match = STEP.match(line.strip())
            if match:
                sampler.notebook = match.group(1)
        code = proc.wait()
    log.close()
    wall = time.perf_counter() - started
    if code != 0:
        sys.exit(f"the {engine} run failed (exit {code}); its log: {log.name}")
    manifest = json.loads((out / "manifest.json").read_text())
    rows = []
    for notebook in manifest["notebooks"]:
        peak = sampler.peaks.get(notebook["name"], {})
        rows.append({"engine": engine, "notebook": notebook["name"], "seconds": notebook["seconds"],
                     **{key: round(value) for key, value in peak.items()}})
    return out, pd.DataFrame(rows), wall


def pandas_als_reference(spark_run: Path) -> pd.DataFrame:
    """ALS as the pandas engine gives it with Spark's objective (``als_confidence=hkv``), on the Spark run's own
    cleaned lines: the same validation sweep, then the test evaluation, exactly as notebooks 03 and 05 do."""
    from shared import config, evaluate, report, tuning

    params = {**config.for_notebook(spark_run, {}), "engine": "pandas", "als_confidence": "hkv"}
    lines, catalogue = report.read_lines(spark_run), report.read_catalogue(spark_run)
    _, best = tuning.validation_sweep(lines, catalogue, params, "als", params["als_grid"])
    print(f"pandas ALS (hkv) chose {best} on validation", flush=True)
    return evaluate.evaluate(lines, catalogue, {**params, **best}, ["als"]).leaderboard


def compare_leaderboards(spark_run: Path, reference: Path) -> pd.DataFrame:
    """Every leaderboard value of the Spark run next to the pandas engine's: ``reference`` (a default-profile
    pandas run) for every model but ALS, :func:`pandas_als_reference` for ALS."""
    keys = ["model", "task", "metric", "k"]
    spark_board = pd.read_csv(spark_run / "leaderboard.csv")
    pandas_board = pd.read_csv(reference / "leaderboard.csv")
    pandas_board = pd.concat([pandas_board[pandas_board["model"] != "als"], pandas_als_reference(spark_run)])
    both = pandas_board[keys + ["value"]].merge(spark_board[keys + ["value"]], on=keys, how="outer",
                                                suffixes=("_pandas", "_spark"))
    both["difference"] = both["value_spark"] - both["value_pandas"]
    return both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("spark", "pandas"), default="spark")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SPARK_CLUSTER_PORT") or 7077))
    parser.add_argument("-p", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                        help="a further parameter of the run")
    parser.add_argument("--reference", type=Path, default=ROOT / "reports" / "latest",
                        help="a pandas run of the default profile to compare the Spark run's leaderboard with "
                             "(default: reports/latest, what make report wrote)")
    args = parser.parse_args()
    if args.engine == "spark":
        manifest = json.loads((args.reference / "manifest.json").read_text())
        if manifest["profile"] != "default" or manifest["parameters"]["engine"] != "pandas":
            sys.exit(f"--reference {args.reference}: not a pandas run of the default profile")
    started_cluster = False
    if args.engine == "spark" and cluster("status", args.port).returncode != 0:
        up = cluster("up", args.port)
        if up.returncode != 0:
            sys.exit(f"cannot start the cluster: {up.stderr.strip() or up.stdout.strip()}")
        started_cluster = True
    try:
        run, table, wall = run_chain(args.engine, args.port, args.extra)
    finally:
        if started_cluster:
            cluster("down", args.port)
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / f"chain_{args.engine}.csv", index=False)
    print(table.to_string(index=False))
    print(f"wall time {wall / 60:.1f} min; written {OUT / f'chain_{args.engine}.csv'}")
    if args.engine == "spark":
        both = compare_leaderboards(run, args.reference)
        both.to_csv(OUT / "chain_leaderboard.csv", index=False)
        als = both["model"] == "als"
        for label, rows in (("every model but ALS", both[~als]),
                            ("ALS, NDCG and recall", both[als & both["metric"].isin(["ndcg", "recall"])])):
            worst = rows.loc[rows["difference"].abs().idxmax()]
            print(f"{label}: largest difference {worst['difference']:+.4f} "
                  f"({worst['model']} {worst['task']} {worst['metric']}@{worst['k']})")
        print(f"written {OUT / 'chain_leaderboard.csv'}")


if __name__ == "__main__":
    main()
