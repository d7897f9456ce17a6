"""Shared fixtures: small generated data, and one smoke run of the whole CLI shared by the tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import config

REPO = config.REPO_ROOT


def run_cli(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m shared ...`` in a subprocess, as a user would run it (``env`` adds variables)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shared", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env
    )


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
    from shared import spark_session

    try:
        spark_session.check(spark_session.SparkSettings.from_params(params))
    except spark_session.SparkUnavailable as exc:
        if os.environ.get("BASKET_LAB_REQUIRE_SPARK"):
            pytest.fail(f"Spark is required here (BASKET_LAB_REQUIRE_SPARK is set): {exc}")
        pytest.skip(f"Spark cannot run on this machine: {exc}")
    return params
