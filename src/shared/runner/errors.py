"""The runner's errors: what the CLI turns into one ``error:`` line and an exit code (docs/architecture.md)."""
from __future__ import annotations

from .. import config

#: Exceptions that, raised in a notebook cell, mean bad input or parameters rather than a broken notebook.
INPUT_ERRORS = ("DataError", "ParameterError", "SparkUnavailable")


class RunError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


class InputError(RunError):
    """A notebook stopped on bad input or parameters (a DataError or ParameterError in a cell): exit 2, not 1."""


class OutputError(config.ParameterError):
    """``--out`` cannot be written: not a run folder, a protected folder, unwritable, or in use by another run."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl+C's KeyboardInterrupt so that a run cleans up the same way."""
