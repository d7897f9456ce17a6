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
from dataclasses import dataclass
from pathlib import Path

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
def smoke_run(tmp_path_factory) -> Path:
    """One end-to-end run of every notebook on the smoke profile (papermill + nbconvert + index); what it printed
(stdout, then stderr) is kept beside it in ``smoke.log``."""
    out = tmp_path_factory.mktemp("runs") / "smoke"
    proc = run_cli("run", "--profile", "smoke", "--out", str(out))
    (out.parent / "smoke.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out


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


@pytest.fixture(scope="session")
def shop_file_run(tmp_path_factory) -> FileRun:
    """One full run of a user's file, as a user types it from the folder the file is in: ``path=`` relative,
    ``--out report`` relative, and ``report`` a run folder of an older version (no marker) to be replaced.
    The file is :func:`customer_day_shop`: customer-day baskets without repeats, late customers, payloads."""
    folder = tmp_path_factory.mktemp("shop")
    frame = customer_day_shop()
    csv = folder / PAYLOAD_FILE
    frame.to_csv(csv, index=False)
    report = folder / "report"
    report.mkdir()
    (report / "manifest.json").write_text('{"parameters": {}, "notebooks": []}')
    (report / "index.html").write_text("older run")
    proc = run_cli("run", "--profile", "smoke", "-p", "source=file", "-p", f"path={PAYLOAD_FILE}", "-p", f"columns={SHOP_COLUMNS}",
                   "-p", "min_item_count=1", "--out", "report", cwd=folder, timeout=1200)
    return FileRun(folder, csv, frame, report, proc)


#: a test that uses one of these fixtures (directly or through another fixture) must carry the marker
FIXTURE_MARKERS = {"smoke_run": "slow", "shop_file_run": "slow", "spark_params": "spark", "cluster": "spark", "browser": "browser"}


def pytest_collection_modifyitems(config, items):
    """Markers used consistently: ``make check`` selects by them, so a slow test without ``slow`` would slow it."""
    missing = [f"{item.nodeid} uses {fixture} but is not marked {marker}" for item in items
               for fixture, marker in FIXTURE_MARKERS.items()
               if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None]
    if missing:
        raise pytest.UsageError("tests without their marker:\n" + "\n".join(missing))
