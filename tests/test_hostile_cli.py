"""Hostile input to ``python -m shared run``: what ``--out`` may replace, the lock, SIGTERM, bad ``--params``,
relative paths, and bad data inside a notebook. Errors are one ``error:`` line, exit 2, and nothing the tool
did not write is ever deleted.

Most checks are refused before any work starts and take a second (``run_main``: the CLI's ``main`` in this
process); the ``slow`` ones run notebooks (one that stops in the first notebook, one that is terminated
there, and tests/conftest.py's ``shop_file_run``, shared with other files: a relative CSV path from the
caller's folder replacing an older run). A refusal that does
not happen would run the whole chain and then replace its ``--out``: every such target here is a throwaway
folder under ``tmp_path``; the repository and ``/`` are checked in-process only.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from shared import config
from shared.runner import out_folder, preflight, signals
from shared.__main__ import main

from .conftest import REPO, run_main

MARKER = ".basket-lab-run"


def one_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    """The single ``error:`` line of a refused run (nothing else on stderr, no traceback)."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    return lines[0]


def no_traceback_of_ours(stderr: str) -> bool:
    """No traceback from the CLI. The notebook kernel shares stderr, and ipykernel may log one of its own
    while its sockets close after a failed or interrupted cell: that is not the CLI's error report."""
    return not any(f"shared{os.sep}{name}" in stderr for name in ("__main__.py", f"runner{os.sep}"))


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def marked(folder: Path, files: dict[str, str] | None = None) -> Path:
    """A run folder as the tool leaves it: the marker and some files."""
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(json.dumps({"tool": "basket-lab", "version": "0", "created": "2020-01-01T00:00:00"}))
    for name, text in (files or {"index.html": "earlier run"}).items():
        (folder / name).write_text(text)
    return folder


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- 1. --out: only a run folder the tool wrote (or a new path) is replaced, refused before any work --------------

def _user_dir(tmp: Path) -> Path:
    (tmp / "data").mkdir()
    (tmp / "data" / "sales.csv").write_text("b,i\n1,x\n")
    return tmp / "data"


def _user_file(tmp: Path) -> Path:
    (tmp / "sales.csv").write_text("b,i\n1,x\n")
    return tmp / "sales.csv"


def _only_index(tmp: Path) -> Path:  # not the old run layout: no manifest.json
    (tmp / "site").mkdir()
    (tmp / "site" / "index.html").write_text("my web site")
    return tmp / "site"


@pytest.mark.parametrize("make, message", [
    (_user_file, "is a file, not a run folder"),
    (_user_dir, "is not a basket-lab run folder"),
    (_only_index, "is not a basket-lab run folder"),
    (lambda tmp: _user_file(tmp) / "run", "is a file, not a folder"),
])
def test_out_refuses_what_the_tool_did_not_write(tmp_path, make, message):
    target = make(tmp_path)
    before = snapshot(tmp_path)
    error = one_error(run_main("run", "--profile", "smoke", "--out", str(target)))
    assert message in error
    assert snapshot(tmp_path) == before  # untouched, and no lock or partial folder left beside it


def test_out_refuses_the_current_folder_and_the_home_folder_even_with_a_marker(tmp_path):
    home = marked(tmp_path / "home")
    cwd = marked(tmp_path / "work" / "here")
    before = snapshot(tmp_path)
    assert "is the current folder" in one_error(run_main("run", "--profile", "smoke", "--out", ".", cwd=cwd))
    assert "contains the current folder" in one_error(run_main("run", "--profile", "smoke", "--out", "..", cwd=cwd))
    error = one_error(run_main("run", "--profile", "smoke", "--out", str(home), env={"HOME": str(home)}))
    assert "is the home folder" in error
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith(("home/.cache", "home/.config"))}  # matplotlib
    assert after == before


def test_out_empty_proc_and_bad_paths_are_one_line(tmp_path):
    # from tmp_path: where an unrefused "" would mean the current folder, it must not be the repository
    assert "--out: empty path" in one_error(run_main("run", "--profile", "smoke", "--out", "", cwd=tmp_path))
    assert "--out: empty path" in one_error(run_main("run", "--profile", "smoke", "--out", "  ", cwd=tmp_path))
    if Path("/proc/self").exists():
        for out in ("/proc/basket-lab-hostile", "/proc/basket-lab-hostile/run", "/proc/self/status", "/proc"):
            one_error(run_main("run", "--profile", "smoke", "--out", out))


def test_check_out_protects_root_repository_and_accepts_run_folders(tmp_path):
    for place in (Path("/"), config.REPO_ROOT, config.REPO_ROOT / "notebooks", config.REPO_ROOT.parent):
        with pytest.raises(config.ParameterError):
            out_folder.check_out(place)
    assert out_folder.check_out(tmp_path / "new" / "run") == (tmp_path / "new" / "run").resolve()
    run = marked(tmp_path / "run")
    assert out_folder.check_out(run) == run.resolve()
    # a run folder from before the marker existed (reports/latest of older versions): manifest.json + index.html
    legacy = tmp_path / "latest"
    legacy.mkdir()
    (legacy / "manifest.json").write_text(json.dumps({"parameters": {}, "notebooks": []}))
    (legacy / "index.html").write_text("old run")
    assert out_folder.check_out(legacy) == legacy.resolve()
    # ... but not any web site with a manifest.json (a web app manifest) beside its index.html
    (legacy / "manifest.json").write_text(json.dumps({"name": "my app", "icons": []}))
    with pytest.raises(config.ParameterError, match="not a basket-lab run folder"):
        out_folder.check_out(legacy)
    # a marker that is not ours does not count
    (run / MARKER).write_text("whatever")
    with pytest.raises(config.ParameterError):
        out_folder.check_out(run)


# --- 2. the lock ----------------------------------------------------------------------------------------------

def test_second_run_into_a_busy_folder_is_refused(tmp_path):
    out = marked(tmp_path / "report")
    lock = tmp_path / ".report.lock"
    holder = subprocess.Popen(["sleep", "120"])
    try:
        lock.write_text(f"{holder.pid}\n")
        before = snapshot(tmp_path)
        error = one_error(run_main("run", "--profile", "smoke", "--out", str(out)))
        assert "another run" in error and str(holder.pid) in error
        assert snapshot(tmp_path) == before  # the lock is the other run's: left as it is
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_is_taken_over_and_released(tmp_path):
    dest = tmp_path / "report"
    lock = tmp_path / ".report.lock"
    lock.write_text(f"{dead_pid()}\n")
    with out_folder.out_lock(dest):
        assert lock.read_text().split() == [str(os.getpid())]
        with pytest.raises(config.ParameterError, match="another run"):  # held: a second taker is refused
            live = subprocess.Popen(["sleep", "120"])
            try:
                other = tmp_path / "other"
                (tmp_path / ".other.lock").write_text(f"{live.pid}\n")
                with out_folder.out_lock(other):
                    pass
            finally:
                live.kill()
                live.wait()
    assert not lock.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.lock"]


# --- 4. --params ----------------------------------------------------------------------------------------------

def test_params_folder_missing_or_binary_file_exit_2(tmp_path):
    binary = tmp_path / "params.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    for path, message in ((tmp_path, "is a folder"), (tmp_path / "nope.yaml", "does not exist"),
                          (binary, "binary"), (tmp_path / "nope.yaml" / "x.yaml", "does not exist")):
        error = one_error(run_main("run", "--profile", "smoke", "--params", str(path), "--out", str(tmp_path / "never")))
        assert str(path) in error and message in error
    assert not (tmp_path / "never").exists()


# --- 5. relative path parameters --------------------------------------------------------------------------------

def test_relative_path_is_made_absolute_urls_are_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = {"source": "file", "path": "shop.csv"}
    preflight._resolve_path_parameter(params)
    assert params["path"] == str(tmp_path / "shop.csv")
    params = {"source": "file", "path": "hdfs://cluster/shop.csv"}
    preflight._resolve_path_parameter(params)
    assert params["path"] == "hdfs://cluster/shop.csv"


# --- 7. <out>.failed ------------------------------------------------------------------------------------------

def test_failed_folder_is_replaced_only_if_the_tool_wrote_it(tmp_path):
    dest = tmp_path / "report"
    mine = tmp_path / "report.failed"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    work = marked(tmp_path / ".report.partial-1", {"01_data_cleaning.ipynb": "{}"})
    kept = out_folder.keep_failed(work, dest)
    assert kept != mine and kept.name.startswith("report.failed-") and (kept / "01_data_cleaning.ipynb").exists()
    assert snapshot(mine) == {"notes.txt": b"mine"}
    again = marked(tmp_path / ".report.partial-2", {"02_market_basket.ipynb": "{}"})
    assert out_folder.keep_failed(again, dest) == kept  # the tool's own earlier failed run is replaced
    assert (kept / "02_market_basket.ipynb").exists() and not (kept / "01_data_cleaning.ipynb").exists()


# --- runs of the notebooks ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_relative_csv_from_the_callers_folder_replaces_an_old_run(shop_file_run):
    """``path=<file>.csv`` and ``--out report`` from the caller's folder (conftest.shop_file_run); ``report`` was a
    run folder of an older version (no marker), which is replaced; the new one carries the marker."""
    folder, report = shop_file_run.folder, shop_file_run.out
    assert shop_file_run.proc.returncode == 0, shop_file_run.proc.stderr[-3000:]
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["parameters"]["path"] == str(shop_file_run.csv)
    assert len(pd.read_parquet(report / "data/lines.parquet")) == len(shop_file_run.frame)
    assert json.loads((report / MARKER).read_text())["tool"] == "basket-lab"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["report", shop_file_run.csv.name])  # no partial, old or lock left


@pytest.mark.slow
def test_bad_data_in_a_notebook_exits_2_and_keeps_what_is_not_ours(tmp_path, monkeypatch, capsys):
    # the runner refuses this file before any notebook (preflight.check_input); switched off here, the same bad
    # column is found inside notebook 01, and the CLI must still say so in one line and exit 2
    monkeypatch.setattr(preflight, "check_input", lambda params: {})
    previous = marked(tmp_path / "report")
    theirs = tmp_path / "report.failed"  # not written by the tool: must survive the failed run
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"b": [1, 2], "i": ["x", "y"], "q": ["1", "lots"], "t": ["2020-01-01", "2020-01-02"]}).to_csv(csv, index=False)
    before = snapshot(previous)
    returncode = main(["run", "--profile", "smoke", "-p", "source=file", "-p", f"path={csv}",
                       "-p", "columns={basket_id: b, item_id: i, quantity: q, timestamp: t}", "--out", str(previous)])
    stderr = capsys.readouterr().err
    assert returncode == 2, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and no_traceback_of_ours(stderr), stderr[-3000:]
    assert errors[0].startswith(f"error: {csv}: column 'q' must be numeric") and "01_data_cleaning" in errors[0]
    assert snapshot(previous) == before
    assert snapshot(theirs) == {"notes.txt": b"mine"}
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("report.failed-")]
    assert len(kept) == 1 and (kept[0] / "01_data_cleaning.ipynb").exists() and (kept[0] / MARKER).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_sigterm_cleans_up_like_ctrl_c(tmp_path):
    previous = marked(tmp_path / "report", {"index.html": "earlier run", "manifest.json": "{}"})
    old_failed = marked(tmp_path / "report.failed", {"junk.txt": "an earlier failed run"})
    before = snapshot(previous)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "shared", "run", "--profile", "smoke", "--out", str(previous)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        try:
            seen = ""
            while "[1/" not in seen:
                line = proc.stdout.readline()
                assert line, f"the run ended before its first notebook: {(tmp_path / 'stderr.txt').read_text()[-3000:]}"
                seen += line
            deadline = time.monotonic() + 120
            while not psutil.Process(proc.pid).children(recursive=True) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # the kernel is up and the first notebook is under way
            kernel = psutil.Process(proc.pid).children(recursive=True)
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode in (143, 130), stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and no_traceback_of_ours(stderr), stderr[-3000:]
    assert snapshot(previous) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no .partial-PID, no lock
    assert not (old_failed / "junk.txt").exists() and (old_failed / MARKER).exists()  # ours: replaced
    time.sleep(1)
    assert not [p for p in kernel if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]  # no orphan kernel


def test_sigterm_during_the_folder_swap_waits_for_it(tmp_path):
    """The swap of the new run into place is two renames: a SIGTERM between them must not leave ``--out``
    missing; it is raised (as Terminated, a KeyboardInterrupt) once the swap is done."""
    dest = marked(tmp_path / "report")
    work = marked(tmp_path / ".report.partial-1", {"index.html": "new run"})
    real_rename = os.rename

    def rename(src, dst):  # the signal arrives after the first rename, before the second
        real_rename(src, dst)
        if Path(dst).name.startswith(".report.old-"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # the handler has run by now

    with pytest.raises(KeyboardInterrupt):
        with signals.interrupts_raise_once():
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(os, "rename", rename)
                out_folder.replace_dir(work, dest)
    assert (dest / "index.html").read_text() == "new run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
