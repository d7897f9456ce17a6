"""Shared fixtures: small generated data, one smoke run of the whole CLI and one Spark session, both shared
by every test of the session.

Markers (pyproject.toml): ``slow`` for every test that runs notebooks (a chain run through the CLI, or a
fixture that does), ``spark`` for every test that starts Spark, ``browser`` for headless Chromium. ``make check``
runs the rest: lint, layers and the unit tests, in about a minute.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared import config, spark_session, synthetic
from shared.__main__ import main

REPO = config.REPO_ROOT


def run_cli(*args: str, timeout: int = 600, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """``python -m shared ...`` in a subprocess from ``cwd``, as a user would run it (``env`` adds variables)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shared", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def run_main(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m shared ...`` in this process (``shared.__main__.main``, as the fuzz cases do): the same exit
    code and output as :func:`run_cli` for everything refused before a notebook starts, without a new
    interpreter importing torch each time. ``cwd`` and ``env`` apply for the call only."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        if cwd is not None:
            patch.chdir(cwd)
        code = main(list(args))
    return subprocess.CompletedProcess(["python", "-m", "shared", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def smoke_params() -> dict:
    return config.load("smoke")


@pytest.fixture(scope="session")
def smoke_run(chain_runs) -> Path:
    """One end-to-end run of every notebook on the smoke profile (papermill + nbconvert + index); what it printed
    is its ``ChainRun.proc`` (and ``chain-logs/smoke.log`` in pytest's temporary folder)."""
    return chain_runs.wait("smoke").out


@pytest.fixture(scope="session")
def smoke_rerun(chain_runs) -> Path:
    """A second smoke run with the same parameters, into another folder (the same tables, byte for byte)."""
    return chain_runs.wait("smoke_again").out


def sales_csv(params: dict, path: Path) -> dict:
    """A small synthetic shop written as a CSV with its own column names and one "NA" quantity (pandas reads
    it as missing, and so must Spark); returns ``params`` pointing the ``file`` source at it."""
    from shared.data import pandas_sources

    lines = pandas_sources.load_synthetic(dict(params, synthetic_customers=80)).lines
    raw = lines.rename(columns={"basket_id": "ticket", "item_id": "sku", "quantity": "qty"})[["ticket", "sku", "qty"]]
    raw = raw.astype("object")
    raw.iloc[3, 2] = "NA"
    raw.to_csv(path, index=False)
    columns = {"basket_id": "ticket", "item_id": "sku", "quantity": "qty"}
    return dict(params, source="file", path=str(path), columns=columns, min_item_count=2)


def require_spark(params: dict) -> dict:
    """``params`` if Spark can run with them; else skip, or fail where BASKET_LAB_REQUIRE_SPARK is set (CI)."""
    try:
        spark_session.check(spark_session.SparkSettings.from_params(params))
    except spark_session.SparkUnavailable as exc:
        if os.environ.get("BASKET_LAB_REQUIRE_SPARK"):
            pytest.fail(f"Spark is required here (BASKET_LAB_REQUIRE_SPARK is set): {exc}")
        pytest.skip(f"Spark cannot run on this machine: {exc}")
    return params


@pytest.fixture(scope="session")
def spark_params(smoke_params) -> dict:
    """The smoke profile on Spark in ``local[2]``: one Spark session (one JVM) for every Spark test of the test
    session, stopped at its end. Skips without Java, or fails where BASKET_LAB_REQUIRE_SPARK is set (CI)."""
    params = require_spark(dict(smoke_params, engine="spark", spark_master="local[2]", spark_shuffle_partitions=4,
                                spark_driver_memory="1g"))
    yield params
    spark_session.stop()


# --- one run of a user's file, shared by the tests of the file source, hostile paths and injection -----------------

#: HTML/JavaScript in item IDs, item names, a column header and the file name (tests/test_injection.py checks
#: that none of it is alive in any page).
PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>")
PAYLOAD_HEADER = "<script>alert(5)</script>"
PAYLOAD_FILE = "<img src=x onerror=alert(6)>.csv"
SHOP_COLUMNS = (f"{{basket_id: receipt, customer_id: '{PAYLOAD_HEADER}', item_id: sku, timestamp: sold_at, quantity: qty, "
                "item_name: item_name}")


def customer_day_shop(n_customers: int = 150, n_items: int = 120, n_weeks: int = 12, seed: int = 7) -> pd.DataFrame:
    """A shop file shaped like the public events file that once crashed notebook 05: one basket per customer
    per day, no customer ever buys the same item twice, every tenth customer first seen in the last three
    weeks (validation and test), and the last basket of the validation weeks and of the test weeks bought by a
    customer never seen before, so the last query of a batch has no history at all (what broke
    ``tifu_knn.basket_positions``). Clean:
    nothing in it is dropped. Columns as a user's file names them, payloads in IDs, names and a header."""
    lines = synthetic.generate(n_customers, n_items, n_weeks, seed=seed, noise=0.0).lines
    day = lines["timestamp"].dt.floor("D")
    lines = lines.assign(basket_id=lines["customer_id"] + "-" + day.dt.strftime("%Y%m%d"), timestamp=day)
    lines = lines.drop_duplicates(["customer_id", "item_id"])  # the first purchase of each item only
    late = lines["customer_id"].drop_duplicates().iloc[::10]
    cutoff = lines["timestamp"].max() - pd.Timedelta(weeks=3)
    lines = lines[~(lines["customer_id"].isin(late) & (lines["timestamp"] <= cutoff))]
    last = lines["timestamp"].max()  # smoke split: test from last - 13 days, validation the two weeks before
    newcomers = [lines[lines["timestamp"] == day].head(3).assign(basket_id=f"newcomer-{name}", customer_id=f"newcomer-{name}",
                                                                  timestamp=day + pd.Timedelta(hours=23))
                 for name, day in (("validation", last - pd.Timedelta(days=14)), ("test", last))]
    lines = pd.concat([lines, *newcomers], ignore_index=True)
    renamed = dict(zip(lines["item_id"].value_counts().index[:len(PAYLOADS)], PAYLOADS))
    lines = lines.assign(item_id=lines["item_id"].map(lambda i: renamed.get(i, i)))
    lines = lines.assign(item_name=lines["item_id"].map(lambda i: f"{i} <b onmouseover=alert(4)>name</b>"))
    frame = lines.rename(columns={"basket_id": "receipt", "customer_id": PAYLOAD_HEADER, "item_id": "sku",
                                  "timestamp": "sold_at", "quantity": "qty", "price": "unit_price"})
    return frame.reset_index(drop=True)


@dataclass
class FileRun:
    folder: Path  # the caller's working folder: the file and the run folder ``report``
    csv: Path
    frame: pd.DataFrame  # the file as written
    out: Path
    proc: subprocess.CompletedProcess


def start_shop_run(folder: Path) -> tuple[FileRun, tuple[str, ...]]:
    """The user's file and an older run folder in ``folder``, and the CLI arguments of the run (``ChainRuns``
    runs it, from ``folder``)."""
    frame = customer_day_shop()
    csv = folder / PAYLOAD_FILE
    frame.to_csv(csv, index=False)
    report = folder / "report"
    report.mkdir()
    (report / "manifest.json").write_text('{"parameters": {}, "notebooks": []}')
    (report / "index.html").write_text("older run")
    args = ("run", "--profile", "smoke", "-p", "source=file", "-p", f"path={PAYLOAD_FILE}", "-p", f"columns={SHOP_COLUMNS}",
            "-p", "min_item_count=1", "--out", "report")
    return FileRun(folder, csv, frame, report, subprocess.CompletedProcess(args, -1)), args


@pytest.fixture(scope="session")
def shop_file_run(chain_runs) -> FileRun:
    """One full run of a user's file, as a user types it from the folder the file is in: ``path=`` relative,
    ``--out report`` relative, and ``report`` a run folder of an older version (no marker) to be replaced.
    The file is :func:`customer_day_shop`: customer-day baskets without repeats, late customers, payloads."""
    return chain_runs.wait("shop").file_run


# --- receipts: baskets only ---------------------------------------------------------------------------------------

RECEIPT_COLUMNS = "{basket_id: receipt, item_id: department}"


def receipts(path: Path, n_receipts: int = 4500, n_departments: int = 200, seed: int = 7) -> Path:
    """Receipts of 3-15 departments (skewed popularity), half of them with a planted pair: the barest file
    there is, receipt and department (no customer, no time, no catalogue)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_departments + 1) ** 0.8
    weights /= weights.sum()
    rows = []
    for r in range(n_receipts):
        items = rng.choice(n_departments, size=int(rng.integers(3, 15)), replace=False, p=weights)
        if rng.random() < 0.5:
            items = np.unique(np.r_[items, [5, 17]])
        rows += [(f"R{r:05d}", f"dept_{i:03d}") for i in items]
    pd.DataFrame(rows, columns=["receipt", "department"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def receipts_run(chain_runs) -> Path:
    """One full run of :func:`receipts` (sequence parts not applicable)."""
    return chain_runs.wait("receipts").out


# --- the chain runs, in the background ----------------------------------------------------------------------------

@dataclass
class ChainRun:
    out: Path
    proc: subprocess.CompletedProcess
    file_run: FileRun | None = None


class ChainRuns:
    """The test session's runs of the whole chain through the CLI, each started once, one after the other in a
    background thread, from the moment the tests that need them are collected: while the unit tests and the
    in-process Spark tests run in the foreground (one core), a chain runs beside them (the other). The slow
    tests come last (:func:`pytest_collection_modifyitems`) and wait for their run. A run no test planned
    (selected with ``-k``, say) starts when first asked for."""

    ORDER = ("smoke", "shop", "smoke_again", "receipts")
    FIXTURES = {"smoke_run": "smoke", "smoke_rerun": "smoke_again", "shop_file_run": "shop", "receipts_run": "receipts"}

    def __init__(self, config: pytest.Config):
        self.config = config
        self.results: dict[str, ChainRun | BaseException] = {}
        self.events: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        # the environment as it is before any test runs: a test's monkeypatched variable (a pseudonym key, a
        # config folder) must never leak into a run started meanwhile (it made two smoke runs differ)
        self.environment = {**os.environ, "PYTHONWARNINGS": "ignore"}

    @property
    def basetemp(self) -> Path:
        """pytest's temporary folder of the session (its factory is not thread-safe: asked once, here, on the
        main thread, before any run starts; the runs make their folders inside it with ``tempfile``)."""
        if not hasattr(self, "_basetemp"):
            self._basetemp = self.config._tmp_path_factory.getbasetemp()
        return self._basetemp

    def plan(self, names: set[str]) -> None:
        todo = [n for n in self.ORDER if n in names]
        self.basetemp  # noqa: B018 - before the thread starts
        with self.lock:
            for name in todo:
                self.events.setdefault(name, threading.Event())
        self.thread = threading.Thread(target=lambda: [self._run(n) for n in todo], daemon=True, name="chain-runs")
        self.thread.start()

    def wait(self, name: str) -> ChainRun:
        with self.lock:
            planned = name in self.events
            event = self.events.setdefault(name, threading.Event())
        if not planned:
            self._run(name)
        event.wait()
        result = self.results[name]
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def _run(self, name: str) -> None:
        try:
            self.results[name] = self._execute(name)
        except BaseException as exc:  # raised in the test that waits for it
            self.results[name] = exc
        finally:
            self.events[name].set()

    def _execute(self, name: str) -> ChainRun:
        file_run, cwd = None, REPO
        base = self.basetemp
        if name in ("smoke", "smoke_again"):
            out = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base)) / "smoke"
            args = ("run", "--profile", "smoke", "--out", str(out))
        elif name == "shop":
            file_run, args = start_shop_run(Path(tempfile.mkdtemp(prefix="shop-", dir=base)))
            out, cwd = file_run.out, file_run.folder
        elif name == "receipts":
            folder = Path(tempfile.mkdtemp(prefix="receipts-", dir=base))
            out = folder / "run"
            args = ("run", "--profile", "smoke", "-p", "source=file", "-p", f"path={receipts(folder / 'receipts.csv')}",
                    "-p", f"columns={RECEIPT_COLUMNS}", "--out", str(out))
        else:
            raise KeyError(f"no chain run named {name!r}")
        self.process = subprocess.Popen([sys.executable, "-m", "shared", *args], cwd=cwd, env=self.environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = self.process.communicate(timeout=1800)
        proc = subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)
        log = base / "chain-logs" / f"{name}.log"  # beside no run: the shop's folder stays as a user's
        log.parent.mkdir(exist_ok=True)
        log.write_text(stdout + stderr)
        if file_run is not None:
            file_run.proc = proc
        elif proc.returncode != 0:
            raise AssertionError(f"the {name} run failed (exit {proc.returncode}):\n{stderr[-5000:]}")
        return ChainRun(out, proc, file_run)


@pytest.fixture(scope="session")
def chain_runs(request) -> ChainRuns:
    return request.config.stash[CHAIN_RUNS]


#: a test that uses one of these fixtures (directly or through another fixture) must carry the marker
FIXTURE_MARKERS = {**{fixture: "slow" for fixture in ChainRuns.FIXTURES}, "spark_params": "spark", "cluster": "spark",
                   "browser": "browser"}
CHAIN_RUNS = pytest.StashKey[ChainRuns]()


def pytest_configure(config):
    config.stash[CHAIN_RUNS] = ChainRuns(config)


def pytest_collection_modifyitems(config, items):
    """Markers used consistently (``make check`` selects by them: a slow test without ``slow`` would slow it),
    and the slow and Spark tests last, while the chain runs go on in the background: first the rest, then
    Spark, then slow, then slow Spark tests; a file with Spark tests keeps them together (its fixtures, the
    cluster say, start once) at the rank of its heaviest."""
    missing = [f"{item.nodeid} uses {fixture} but is not marked {marker}" for item in items
               for fixture, marker in FIXTURE_MARKERS.items()
               if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None]
    if missing:
        raise pytest.UsageError("tests without their marker:\n" + "\n".join(missing))
    def rank(item) -> int:
        return 2 * (item.get_closest_marker("slow") is not None) + (item.get_closest_marker("spark") is not None)

    spark_files: dict[Path, int] = {}  # a file with Spark tests keeps its tests together (the cluster starts once)
    for item in items:
        if item.get_closest_marker("spark") is not None or item.path in spark_files:
            spark_files[item.path] = max(spark_files.get(item.path, 0), rank(item))
    items.sort(key=lambda item: spark_files.get(item.path, rank(item)))  # stable: within a rank, pytest's order


def pytest_collection_finish(session):
    """Start the chain runs the selected tests need, in the background (see :class:`ChainRuns`)."""
    needed = {run for item in session.items for fixture, run in ChainRuns.FIXTURES.items()
              if fixture in getattr(item, "fixturenames", ())}
    if needed:
        session.config.stash[CHAIN_RUNS].plan(needed)


def pytest_unconfigure(config):
    if CHAIN_RUNS in config.stash:
        config.stash[CHAIN_RUNS].stop()
