"""The numbered notebooks and their execution: papermill runs one in a fresh kernel (over IPC sockets, not
TCP), measures its time and peak memory, and turns a failed cell into one line (:class:`RunError`, or
:class:`InputError` for bad input); an interrupted notebook's kernel is killed, never left running."""
from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import psutil

from .. import config
from .errors import INPUT_ERRORS, InputError, RunError
from .memory import PeakMemory


@dataclass
class NotebookResult:
    name: str
    status: str
    seconds: float
    peak_mb: float


def notebook_paths(folder: Path = config.NOTEBOOKS_DIR) -> list[Path]:
    """The numbered notebooks ``NN_name.ipynb``, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("."))


def notebook_parameters(run_dir: Path) -> dict[str, Any]:
    """What papermill injects into a notebook's ``parameters`` cell: the run folder; the rest is params.json."""
    return {"run_dir": str(run_dir)}


def execute_notebook(path: Path, out_path: Path, parameters: Mapping[str, Any]) -> NotebookResult:
    """Run the notebook ``path`` into ``out_path`` with ``parameters`` injected, in a kernel of its own that
    talks over IPC sockets in a private temporary folder (not TCP on localhost, which ipykernel warns about)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    start = time.perf_counter()
    before = _children()
    with PeakMemory() as memory, tempfile.TemporaryDirectory(prefix="basket-lab-kernel-") as sockets:
        try:
            papermill.execute_notebook(
                str(path),
                str(out_path),
                parameters=dict(parameters),
                kernel_name="python3",
                language="python",
                progress_bar={"desc": path.stem, "leave": False, "file": sys.stderr},
                cwd=str(path.parent),
                config=Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}}),
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
