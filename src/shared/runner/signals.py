"""SIGINT and SIGTERM during a run: SIGTERM raises like Ctrl+C, the cleanup is not interrupted again, and a
swap of folders is never cut in half."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

from .errors import Terminated

#: While a folder swap runs (:func:`deferred`): the SIGINT/SIGTERM that arrived, raised after it.
_deferred: list[int] | None = None


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated("terminated (SIGTERM)") if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def deferred():
    """SIGINT and SIGTERM (as handled by :func:`interrupts_raise_once`) wait until the block is done:
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
def interrupts_raise_once():
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
