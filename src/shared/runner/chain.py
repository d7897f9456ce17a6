"""The chain: every check first, then the numbered notebooks run one after the other into a temporary folder
beside ``--out``, converted to HTML, with ``manifest.json`` and ``index.html``; the folder is swapped into
place only when every notebook succeeded (a failed run is kept as ``<out>.failed``)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .. import config, report
from ..spark_session import SparkSettings
from ..spark_session import check as check_spark
from . import html_export, out_folder, preflight, provenance, signals
from .errors import OutputError, RunError
from .notebooks import NotebookResult, execute_notebook, notebook_parameters, notebook_paths


def write_parameters(params: Mapping[str, Any], run_dir: Path) -> Path:
    """The resolved parameters as ``params.json``: every notebook reads them (``config.for_notebook``)."""
    return report.write_json(dict(params), run_dir / config.PARAMS_FILE)


def run(
    profile: str = "default",
    params_file: str | Path | None = None,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    notebooks: Iterable[Path] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Run the chain; return the run folder. Raises ParameterError (OutputError for ``out``) before anything
    runs, RunError on failure (InputError when a notebook stopped on bad input), KeyboardInterrupt
    (Terminated for SIGTERM) when interrupted; ``out`` is replaced only if it is a run folder (:func:`~shared.runner.out_folder.check_out`)."""
    params = preflight.resolve(profile, params_file, overrides)
    default_out = out is None
    dest = out_folder.check_out(out)
    if params["engine"] == "spark":  # Java, pyspark and the master, checked before any notebook starts
        check_spark(SparkSettings.from_params(params))
    elif params["source"] == "file":  # a user's file: bad or too little data stops here, before any notebook
        preflight.check_input(params)
    paths = list(notebooks) if notebooks is not None else notebook_paths()
    if not paths:
        raise RunError(f"no numbered notebooks (NN_name.ipynb) in {config.NOTEBOOKS_DIR}")
    out_folder.make_parent(dest)
    with signals.interrupts_raise_once(), out_folder.out_lock(dest):
        started = dt.datetime.now()
        work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
        if not out_folder.remove_run_folder(work):
            raise OutputError(f"--out {dest}: {work} is in the way and not a basket-lab run folder; move it away")
        work.mkdir()
        out_folder.write_marker(work)
        write_parameters(params, work)
        log(f"basket-lab: profile {profile}, source {params['source']}, {len(paths)} notebooks -> {dest}")
        results: list[NotebookResult] = []
        try:
            for i, path in enumerate(paths, 1):
                log(f"[{i}/{len(paths)}] {path.stem} ...")
                result = execute_notebook(path, work / path.name, notebook_parameters(work))
                html_export.to_html(work / path.name)
                results.append(result)
                log(f"[{i}/{len(paths)}] {path.stem}: ok in {result.seconds:.1f} s, kernel peak {result.peak_mb:,.0f} MB")

            manifest = provenance.manifest(params, profile, started, results, work)
            report.write_json(manifest, work / "manifest.json")
            report.write_index(work, manifest, [p.stem for p in paths])
            out_folder.replace_dir(work, dest)
        except BaseException:
            if work.exists():  # never left behind: kept for inspection as <dest>.failed
                try:
                    failed = out_folder.keep_failed(work, dest)
                    log(f"the previous run in {dest} is untouched; the failed run's notebooks are in {failed}")
                except OSError as exc:
                    log(f"the previous run in {dest} is untouched; the failed run stays in {work} ({exc})")
            raise
        if default_out:
            stamp = config.REPORTS_DIR / "runs" / f"{started:%Y%m%d-%H%M%S}-{profile}"
            stamp.parent.mkdir(parents=True, exist_ok=True)
            fresh = not stamp.exists()
            try:
                shutil.copytree(dest, stamp, dirs_exist_ok=True)
            except BaseException:
                if fresh:
                    shutil.rmtree(stamp, ignore_errors=True)
                raise
            log(f"copy kept in {stamp}")
    total = sum(r.seconds for r in results)
    log(f"done in {total:.0f} s: open {dest / 'index.html'}")
    return dest
