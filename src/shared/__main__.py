"""Command line: ``python -m shared run|check|results|params|profiles``.

Errors print one line ``error: ...`` naming the parameter, file, column or notebook and cell, then exit
non-zero (2 for bad parameters or input, or Spark unable to start, 1 for a failed notebook). ``--traceback`` adds the traceback.
Bad input is exit 2 wherever it is found: a refused ``--out`` or ``--params``, a busy run folder, or a notebook
that stopped on a DataError. Ctrl+C exits 130, SIGTERM 143, both after cleaning up.
"""
from __future__ import annotations

import argparse
import sys
import traceback

from . import config
from .data import DataError
from .report.results import ResultsError, results_markdown, write_readme_results
from .runner import InputError, RunError, Terminated, check, run
from .spark_session import SparkUnavailable


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared", description="basket-lab: product association analysis")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the notebook chain and write a report folder")
    run.add_argument("--profile", default="default", help="parameter profile: " + ", ".join(config.profiles()))
    run.add_argument("--params", dest="params_file", help="YAML file of parameters (overrides the profile)")
    run.add_argument("-p", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override one parameter (value read as YAML); repeatable")
    run.add_argument("--out", help="run folder (default reports/latest, plus a timestamped copy in reports/runs/)")
    run.add_argument("--traceback", action="store_true", help="print the full traceback on errors")
    check = sub.add_parser("check", help="check the data and parameters as a run would, without running anything")
    check.add_argument("--profile", default="default", help="parameter profile: " + ", ".join(config.profiles()))
    check.add_argument("--params", dest="params_file", help="YAML file of parameters (overrides the profile)")
    check.add_argument("-p", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override one parameter (value read as YAML); repeatable")
    check.add_argument("--traceback", action="store_true", help="print the full traceback on errors")
    results = sub.add_parser("results", help="print a run folder's results as markdown (the README's tables come from here)")
    results.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder, e.g. reports/latest")
    results.add_argument("--readme", metavar="PATH", help="also write them between the results markers of this README")
    results.add_argument("--traceback", action="store_true", help="print the full traceback on errors")
    params = sub.add_parser("params", help="list the parameters, their defaults and meaning")
    params.add_argument("--profile", default="default")
    sub.add_parser("profiles", help="list the parameter profiles")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "profiles":
            print("\n".join(config.profiles()))
        elif args.command == "params":
            values = config.load(args.profile)
            for name, spec in config.PARAMETERS.items():
                print(f"{name:22s} {values[name]!r:32} {spec.help}")
        elif args.command == "run":
            run(args.profile, args.params_file, args.overrides, args.out)
        elif args.command == "results":
            text = results_markdown(args.run_dir)
            print(text, end="")
            if args.readme:
                write_readme_results(args.readme, text)
        elif args.command == "check":
            facts = check(args.profile, args.params_file, args.overrides)
            print("ok: " + ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in facts.items()))
        return 0
    except (config.ParameterError, DataError, SparkUnavailable, InputError, ResultsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "traceback", False):
            traceback.print_exc()
        return 2
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "traceback", False):
            traceback.print_exc()
        return 1
    except OSError as exc:  # the disk filled up, a folder became unwritable: still one line
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "traceback", False):
            traceback.print_exc()
        return 1
    except KeyboardInterrupt as exc:
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"error: {what}; the previous run folder is untouched", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
