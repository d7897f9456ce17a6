"""The run folder ``--out``: the marker that makes a folder a run folder (:data:`RUN_MARKER`), the refusal of
anything else (:func:`check_out`), the lock that keeps two runs out of one folder (:func:`out_lock`), the
failed run kept beside it (:func:`keep_failed`), and the swap of a finished run into place (:func:`replace_dir`)."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

import psutil

from .. import config
from . import signals
from .errors import OutputError

#: Every run folder holds this small JSON file (tool, version, created); ``--out`` replaces only such folders.
RUN_MARKER = ".basket-lab-run"
TOOL = "basket-lab"


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


def make_parent(dest: Path) -> None:
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


def remove_run_folder(path: Path) -> bool:
    """Remove ``path`` if it is absent or a run folder this tool wrote; False (and untouched) otherwise."""
    if not (path.exists() or path.is_symlink()):
        return True
    if not is_run_folder(path):
        return False
    shutil.rmtree(path)
    return True


def keep_failed(work: Path, dest: Path) -> Path:
    """Move the failed run's folder to ``<dest>.failed``, replacing it only if this tool wrote it; else to
    ``<dest>.failed-<pid>`` (or a further free name): nothing the tool did not create is deleted."""
    names = [f"{dest.name}.failed", f"{dest.name}.failed-{os.getpid()}"]
    names += [f"{dest.name}.failed-{os.getpid()}-{n}" for n in range(1, 100)]
    for name in names:
        failed = dest.with_name(name)
        if remove_run_folder(failed):
            os.rename(work, failed)
            return failed
    return work


def replace_dir(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest``, replacing an existing ``dest`` with two renames (never half-written).
    SIGINT and SIGTERM wait until the swap is done: an interrupt never leaves ``dest`` missing."""
    backup = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    with signals.deferred():
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
