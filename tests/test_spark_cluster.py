"""The Spark engine on a real standalone cluster: a master and two one-core workers started by
``scripts/spark-cluster`` on free local ports, with executors in their own JVMs.

- a CSV file is read by the executors (the same machine: a local path works) into the pandas ledger;
- the smoke profile end to end on the cluster, with a worker killed (SIGKILL) while it runs: Spark
  reschedules its tasks on the other worker, and the run gives the pandas run's ledger, itemsets, rules and
  leaderboard (or, if it cannot, the run fails with one ``error:`` line and the previous run folder is
  untouched). It is the test suite's one chain on Spark (tests/test_spark.py checks the parts in-process).

Without Java (or pyspark) these tests are skipped with the reason; with ``BASKET_LAB_REQUIRE_SPARK=1`` (set
by ``.ci/run``) they fail instead, as in tests/test_spark.py. One run of the CLI (beside the shared pandas
``smoke_run``) and one in-process cleaning: a few minutes on two cores.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from shared import cleaning, data, spark_session
from shared.spark_session import SparkSettings

from .conftest import REPO, sales_csv

pytestmark = pytest.mark.spark

SCRIPT = REPO / "scripts" / "spark-cluster"
#: every Spark run here: as tests/test_spark.py, plus executors that fit a worker of the cluster (2g)
SPARK_PARAMS = {"engine": "spark", "spark_shuffle_partitions": 4, "spark_driver_memory": "1g", "spark_executor_memory": "1g"}
RUN_TIMEOUT = 1200


def spark_problem() -> str | None:
    """Why Spark cannot run here (pyspark or Java >= 17 missing), or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return "no Java runtime (JAVA_HOME or java on the PATH)"
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = (int(found.group(2) or 0) if found.group(1) == "1" else int(found.group(1))) if found else 0
    return None if major >= 17 else f"{java} is not Java 17 or newer"


def free_base_port(n: int = 4) -> int:
    """A port p with p .. p+n-1 all free on 127.0.0.1 (the master, its web UI, one web UI per worker)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - n)
        try:
            socks = []
            for port in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports on 127.0.0.1")


class Cluster:
    def __init__(self, state_dir: Path) -> None:
        self.port = free_base_port()
        self.webui = self.port + 1
        self.url = f"spark://127.0.0.1:{self.port}"
        self.dir = state_dir
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ, "PYTHONWARNINGS": "ignore", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "SPARK_CLUSTER_PORT": str(self.port), "SPARK_CLUSTER_DIR": str(state_dir),
            "SPARK_LOCAL_IP": "127.0.0.1",  # the driver too: the cluster listens on loopback only
        }

    def script(self, command: str, timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(SCRIPT), command], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def state(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.webui}/json/", timeout=5) as response:
            return json.load(response)

    def pid(self, name: str) -> int | None:
        try:
            return int((self.dir / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-20:])
                         for p in sorted(self.dir.glob("*.log")))

    def cli(self, out: Path, *overrides: str) -> list[str]:
        params = {**SPARK_PARAMS, "spark_master": self.url}
        args = [a for k, v in params.items() for a in ("-p", f"{k}={v}")] + [a for o in overrides for a in ("-p", o)]
        return [sys.executable, "-m", "shared", "run", "--profile", "smoke", *args, "--out", str(out)]

    def run_cli(self, out: Path, *overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.cli(out, *overrides), cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    problem = spark_problem()
    if problem:
        if os.environ.get("BASKET_LAB_REQUIRE_SPARK"):
            pytest.fail(f"Spark is required here (BASKET_LAB_REQUIRE_SPARK is set): {problem}")
        pytest.skip(f"Spark cannot run on this machine: {problem}")
    c = Cluster(tmp_path_factory.mktemp("spark-cluster"))
    try:
        proc = c.script("up")
        assert proc.returncode == 0, proc.stdout + proc.stderr + c.logs()
        yield c
    finally:
        pids = [c.pid(n) for n in ("master", "worker-1", "worker-2")]
        down = c.script("down")
        assert down.returncode == 0, down.stderr
        assert not any(pid_alive(p) for p in pids), "spark-cluster down left processes running"
        assert not list(c.dir.glob("*.pid"))


def basket_lab_apps(state: dict, key: str) -> list[dict]:
    return [a for a in state.get(key, []) if a.get("name") == "basket-lab"]


def assert_same_results(expected: Path, got: Path) -> None:
    """tests/test_spark.py's comparison of a Spark run with the pandas run: identical ledger, itemsets, rules
    and leaderboard rows except ALS (Spark's own confidence 1 + alpha * w and sweep)."""
    for name in ("ledger.csv", "itemsets.csv", "rules.csv"):
        assert (got / name).read_bytes() == (expected / name).read_bytes(), name
    want, have = (pd.read_csv(d / "leaderboard.csv") for d in (expected, got))
    key = ["model", "task", "k", "metric"]
    assert have[key].equals(want[key])
    als = want["model"] == "als"
    pd.testing.assert_frame_equal(have[~als], want[~als])
    ranking = want["metric"].isin(["ndcg", "recall"]) & als
    assert (have.loc[ranking, "value"] > 0.5 * want.loc[ranking, "value"]).all()


def test_csv_read_by_the_executors_gives_the_pandas_ledger(cluster, smoke_params, tmp_path, monkeypatch):
    params = dict(smoke_params, **SPARK_PARAMS, spark_master=cluster.url)  # this process is the driver
    params = sales_csv(params, tmp_path / "sales.csv")
    pandas_params = dict(params, engine="pandas")
    expected = cleaning.clean(data.load(pandas_params), pandas_params)
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    spark_session.stop()  # never an earlier local[2] session of this process
    try:
        session = spark_session.session(SparkSettings.from_params(params))
        assert session.sparkContext.master == cluster.url
        got = cleaning.clean(data.load(params), params)
    finally:
        spark_session.stop()
    pd.testing.assert_frame_equal(got.ledger, expected.ledger)
    assert "missing quantity" in set(got.ledger.loc[got.ledger["rows_dropped"] > 0, "reason"])
    pd.testing.assert_frame_equal(got.lines.reset_index(drop=True)[["basket_id", "item_id", "quantity"]],
                                  expected.lines.reset_index(drop=True)[["basket_id", "item_id", "quantity"]],
                                  check_dtype=False)


def test_executors_that_fit_no_worker_are_refused_before_anything_runs(cluster, tmp_path):
    """The default 4g executors on 2g workers: one line naming both and the parameter, before notebook 01
    (Spark would wait for an executor forever), from ``run`` and ``check`` alike."""
    out = tmp_path / "refused"
    started = time.monotonic()
    proc = cluster.run_cli(out, "spark_executor_memory=4g")
    assert time.monotonic() - started < 60
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    assert "4g" in lines[0] and "2,048 MB free" in lines[0] and "-p spark_executor_memory=1g" in lines[0], lines[0]
    assert not out.exists() and "01_data_cleaning" not in proc.stdout
    args = cluster.cli(out, "spark_executor_memory=4g")[:-2]  # no --out
    args[args.index("run")] = "check"
    check = subprocess.run(args, cwd=REPO, env=cluster.env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 2 and check.stderr.strip() == lines[0], check.stderr[-3000:]


def test_a_session_that_gets_no_executor_stops_after_the_wait(cluster, smoke_params, monkeypatch):
    """Past the check (a session in a notebook checks only the runtime), an application whose executors fit no
    worker stops after ``spark_executor_wait_s`` with one SparkUnavailable line, and leaves the cluster."""
    params = {**smoke_params, **SPARK_PARAMS, "spark_master": cluster.url, "spark_executor_memory": "4g", "spark_executor_wait_s": 3}
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    spark_session.stop()
    started = time.monotonic()
    try:
        with pytest.raises(spark_session.SparkUnavailable, match=r"no executor started .* within 3 s .*'spark_executor_wait_s'"):
            spark_session.session(SparkSettings.from_params(params))
    finally:
        spark_session.stop()
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 20
    while basket_lab_apps(cluster.state(), "activeapps") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not basket_lab_apps(cluster.state(), "activeapps")


def test_capacity_check_reads_the_masters_workers():
    settings = SparkSettings("spark://127.0.0.1:7077", "1g", "4g", 4, 120)
    worker = {"state": "ALIVE", "cores": 1, "coresfree": 1, "memory": 2048, "memoryfree": 2048}
    spark_session.check_capacity(settings, {"workers": [worker, dict(worker, memoryfree=4096, memory=4096)]})
    with pytest.raises(spark_session.SparkUnavailable, match=r"4g \(4,096 MB\) fits no worker .* 2,048 MB free .*=1g"):
        spark_session.check_capacity(settings, {"workers": [worker, dict(worker, state="DEAD", memoryfree=8192)]})
    with pytest.raises(spark_session.SparkUnavailable, match="has a free core"):
        spark_session.check_capacity(settings, {"workers": [dict(worker, coresfree=0, memoryfree=8192)]})
    with pytest.raises(spark_session.SparkUnavailable, match="no worker alive"):
        spark_session.check_capacity(settings, {"workers": []})
    assert [spark_session.megabytes(v) for v in ("4g", "512m", "2048", "1t", "3GB", "3 g")] == [4096, 512, 2048, 2**20, 3072, None]


@pytest.mark.slow
def test_smoke_run_on_the_cluster_survives_a_lost_worker_and_matches_pandas(cluster, smoke_run, tmp_path):
    """The one Spark run of the chain in the test suite: the smoke profile on the cluster, with worker 2 killed
    a few seconds into notebook 01, gives the pandas run's results; every application ran on the cluster and
    finished. Last in this file: it kills worker 2 (and starts it again at the end)."""
    apps_before = len(basket_lab_apps(cluster.state(), "completedapps"))
    out = tmp_path / "fault"
    shutil.copytree(smoke_run, out)  # the "previous run": must stay as it was if this run fails
    previous = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    victim = cluster.pid("worker-2")
    assert pid_alive(victim)
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(cluster.cli(out), cwd=REPO, env=cluster.env, stdout=log, stderr=subprocess.PIPE, text=True)
    killed_in = None
    try:
        # the first application (notebook 01, cleaning) with executors on both workers, a few seconds into its work
        deadline, busy_since = time.time() + 600, None
        while time.time() < deadline and proc.poll() is None:
            state = cluster.state()
            apps = basket_lab_apps(state, "activeapps")
            if apps and state.get("coresused") == 2:
                busy_since = busy_since or time.time()
                if time.time() - busy_since >= 4:
                    os.kill(victim, signal.SIGKILL)
                    killed_in = apps[0]["id"]
                    break
            else:
                busy_since = None
            time.sleep(0.5)
        assert killed_in, "no Spark application ran on both workers"
        stderr = proc.communicate(timeout=RUN_TIMEOUT)[1]
        log.seek(0)
        stdout = log.read()
        state = cluster.state()
        # the master saw the worker die, and the application it hit went on to finish (or the run failed cleanly)
        assert state["aliveworkers"] == 1, state
        if proc.returncode != 0:
            lines = stderr.strip().splitlines()
            assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
            now = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
            assert now == previous, "a failed run changed the previous run folder"
            pytest.fail(f"the run did not survive a lost worker (it failed cleanly): {lines[0]}\n{stdout[-2000:]}")
        assert_same_results(smoke_run, out)
        notes = (out / "01_data_cleaning.ipynb").read_text()
        assert "read and cleaned by Spark" in notes and f"master {cluster.url}" in notes
        # the notebooks' Spark applications ran on the cluster and finished, the one that lost a worker too;
        # notebook 01's had executors on both workers
        apps = basket_lab_apps(state, "completedapps")
        assert len(apps) > apps_before and all(a.get("state") == "FINISHED" for a in apps), apps
        assert [a for a in apps if a["id"] == killed_in], killed_in
        assert list(cluster.dir.glob("work-1/app-*")) and list(cluster.dir.glob("work-2/app-*"))
        # the factorization fits are kept: notebook 03's sweep (4 Spark ALS settings), its final Spark ALS and
        # BPR, written before notebook 04 ran; notebook 05 reads the final ones back instead of refitting (a
        # rewrite would be newer than notebook 04's checkpoint), its new-product evaluation too
        kept = list((out / "data" / "mf_fits").glob("*.npz"))
        notebook_04 = min(f.stat().st_mtime for f in (out / "data" / "sasrec").glob("test-seed*.pt"))
        before = [f for f in kept if f.stat().st_mtime < notebook_04]
        assert len(before) == 6 and len(kept) == len(before), kept
    finally:
        if proc.poll() is None:  # never a run left behind
            proc.kill()
            proc.wait()
        log.close()
        if killed_in:  # worker 2 again: up starts only what is missing
            again = cluster.script("up")
            assert again.returncode == 0, again.stdout + again.stderr + cluster.logs()
            assert "master already running" in again.stdout and "started worker-2" in again.stdout
            assert cluster.script("status").returncode == 0
