"""Frequent itemsets on Spark (``engine: spark``): ``pyspark.ml.fpm.FPGrowth`` at exactly the basket-count
threshold of :mod:`.itemsets`, so both engines find identical itemsets and counts."""
from __future__ import annotations

import math
from typing import Any, Sequence

import pyarrow as pa

from ..spark_session import SparkSettings, session


def baskets_frame(spark, baskets: Sequence[Sequence[Any]]):
    """Baskets (lists of items) as a Spark DataFrame with one ``items`` array column."""
    return spark.createDataFrame(pa.table({"items": pa.array([list(dict.fromkeys(b)) for b in baskets])}))


def baskets_of(lines, column: str = "item_id"):
    """The baskets of Spark lines as a DataFrame with one ``items`` array column (distinct items)."""
    from pyspark.sql import functions as F

    return lines.groupBy("basket_id").agg(F.collect_set(column).alias("items")).select("items")


def sample_baskets(frame, fraction: float, seed: int) -> list[list[Any]]:
    """A seeded Bernoulli sample of a baskets DataFrame, collected as lists (all of them at fraction 1)."""
    sample = frame if fraction >= 1 else frame.sample(fraction=fraction, seed=seed)
    return sample.toArrow().column("items").to_pylist()


def frequent_itemsets(baskets, n: int, threshold: int, max_len: int | None, settings: SparkSettings) -> list[tuple[tuple, int]]:
    """Every itemset in at least ``threshold`` of the ``n`` baskets, by Spark's FP-growth: ``(items, count)``.

    ``baskets`` (all non-empty) is a Spark DataFrame with an ``items`` array column or a list of baskets.
    Spark keeps an itemset when its count >= ceil(minSupport * n); minSupport is set half a basket below
    ``threshold`` so that this is exactly ``threshold``. FP-growth has no length limit in Spark: longer
    itemsets are dropped after mining (:mod:`.itemsets` runs its explosion guard first)."""
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    spark = session(settings)
    frame = baskets if hasattr(baskets, "sparkSession") else baskets_frame(spark, baskets)
    parts = max(2, spark.sparkContext.defaultParallelism)
    model = FPGrowth(itemsCol="items", minSupport=threshold_support(threshold, n), minConfidence=1.0, numPartitions=parts).fit(frame)
    found = model.freqItemsets
    if max_len:
        found = found.filter(F.size("items") <= max_len)
    table = found.toArrow()
    items, counts = table.column("items").to_pylist(), table.column("freq").to_pylist()
    return [(tuple(i), int(c)) for i, c in zip(items, counts) if c >= threshold]


def threshold_support(threshold: int, n: int) -> float:
    """The Spark minSupport whose ceil(minSupport * n) is exactly ``threshold``: half a basket below it."""
    support = (threshold - 0.5) / n
    if math.ceil(support * n) != threshold:  # pragma: no cover - float rounding at astronomic n
        raise ValueError(f"cannot express a threshold of {threshold} baskets out of {n} as a Spark minSupport")
    return support
