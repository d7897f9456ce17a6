"""What a run checks before any notebook starts: parameters, the parameter file, paths, model and metric
names, Spark, and a file source's data (:func:`check_input`); ``python -m shared check`` is :func:`check`."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import cleaning, config, data, evaluate, metrics, models, split
from ..spark_session import SparkSettings
from ..spark_session import check as check_spark


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
