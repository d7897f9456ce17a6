"""The runner: papermill over the numbered notebooks, nbconvert to code-free HTML, manifest and index.

A run is written into a temporary folder beside its destination and moved into place only when every
notebook succeeded, so a failed run leaves the previous run folder exactly as it was. The failed run's
executed notebooks are kept under ``<destination>.failed/`` for inspection.

Hostile input: every run folder carries a marker file (``out_folder.RUN_MARKER``), and ``--out`` replaces only
a folder holding it (``out_folder.check_out``), refusing anything else before any work starts; a lock file
beside the destination (``out_folder.out_lock``) keeps two runs out of one folder; SIGTERM cleans up like Ctrl+C.

One job per module, each importing only those below it (the ``shared.runner`` contract in pyproject.toml):

- ``chain``: :func:`run`, the whole run from the checks to the swap of the finished folder into place;
- ``preflight``: the checks before any notebook (parameters, names, Spark, a file source's data), :func:`check`;
- ``notebooks``: the numbered notebooks, one executed by papermill in its own kernel;
- ``html_export``: a notebook as code-free HTML;
- ``provenance``: git commit, package versions, ``manifest.json``;
- ``out_folder``: the run folder's marker, the refusal of other folders, the lock, the swap, ``<out>.failed``;
- ``signals``: SIGTERM like Ctrl+C, cleanup not interrupted, swaps not cut in half;
- ``memory``: the kernel's peak memory; ``errors``: what the CLI turns into its exit codes.
"""
from .chain import run
from .errors import InputError, OutputError, RunError, Terminated
from .preflight import check

__all__ = ["InputError", "OutputError", "RunError", "Terminated", "check", "run"]
