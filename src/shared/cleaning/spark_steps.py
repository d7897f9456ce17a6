"""The cleaning steps on Spark lines (``engine: spark``): those of :mod:`.pandas_steps`, as DataFrame
operations, written into the same :class:`~shared.cleaning.ledger.Ledger`."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from ..data import Dataset, catalogue_at_level, pseudonym_map
from ..data.schema import ID_NUMBER_RE, ID_SPACE_RE
from ..spark_session import SparkSettings, from_pandas, session, to_pandas
from .ledger import EARLIEST, ID_REASON, IMPLAUSIBLE_STEP, CleanResult, Ledger, check_enough, finish, implausible_reason


class _Steps:
    """Runs cleaning steps on Spark lines, writing each into the shared pandas Ledger.

    :meth:`drop` takes several checks at once: a line is dropped by the first check it fails, exactly as if
    the checks ran one after the other, but Spark reads the lines once. The flagged lines are cached while
    they are counted, and the next batch reads that cache."""

    def __init__(self, lines, ledger) -> None:
        from pyspark import StorageLevel

        self.level = StorageLevel.MEMORY_AND_DISK
        self.lines = lines
        self.cached = None
        self.count: int | None = None
        self.ledger = ledger
        self.columns = [c for c in lines.columns if c != "_row"]

    def drop(self, checks: Sequence[tuple[Any, str, str]]) -> None:
        from pyspark.sql import functions as F

        first = F.lit(None).cast("int")
        for i, (condition, _, _) in reversed(list(enumerate(checks))):
            first = F.when(F.coalesce(condition, F.lit(False)), F.lit(i)).otherwise(first)
        flagged = self.lines.withColumn("_drop", first).persist(self.level)
        counts = {row["_drop"]: int(row["count"]) for row in flagged.groupBy("_drop").count().collect()}
        rows_in = sum(counts.values())
        rejected = None
        if rows_in > counts.get(None, 0):
            rejected = to_pandas(flagged.filter(F.col("_drop").isNotNull()).orderBy("_row").select(*self.columns, "_drop"))
        for i, (_, step, reason) in enumerate(checks):
            n_drop = counts.get(i, 0)
            self.ledger.rows.append(
                {"step": step, "reason": reason, "rows_in": rows_in, "rows_dropped": n_drop, "rows_out": rows_in - n_drop}
            )
            if n_drop:
                part = rejected[rejected["_drop"] == i].drop(columns="_drop").reset_index(drop=True)
                self.ledger.rejected.append(part.assign(step=step, reason=reason))
            rows_in -= n_drop
        if self.cached is not None:
            self.cached.unpersist()
        self.cached, self.count = flagged, rows_in
        self.lines = flagged.filter(F.col("_drop").isNull()).drop("_drop")

    def replace(self, lines) -> None:
        self.lines = lines

    def close(self) -> None:
        if self.cached is not None:
            self.cached.unpersist()


def clean(dataset: Dataset, params: Mapping[str, Any], collect: bool = True) -> CleanResult:
    """The cleaning steps in Spark: the same steps, in the same order, with an identical ledger.

    The cleaned lines come back as pandas (through Arrow), or with ``collect=False`` as a sorted Spark
    DataFrame to write where the cluster can read it (the catalogue then lists every item of the level)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = session(SparkSettings.from_params(params))
    level = params["item_level"]
    ledger = Ledger()
    lines = dataset.lines
    original_columns = [c for c in lines.columns if c != "_row"]
    now = pd.Timestamp.now()

    # 0. one spelling per ID (the regular expressions of shared.data.normalise_ids), counted, nothing dropped
    ids = [c for c in ("basket_id", "customer_id", "item_id") if c in original_columns]
    normal = {}
    for col in ids:
        text = F.regexp_replace(F.regexp_replace(F.col(col), ID_SPACE_RE, ""), ID_NUMBER_RE, "$1")
        normal[col] = F.when(text != "", text)
    counts = lines.select(F.count(F.lit(1)).alias("_n"), *[
        F.sum(F.when(F.col(c).isNotNull() & ~F.col(c).eqNullSafe(normal[c]), 1).otherwise(0)).alias(c) for c in ids
    ]).first()
    for col in ids:
        ledger.rewrite(int(counts["_n"]), int(counts[col] or 0), "id_normalisation", ID_REASON.format(column=col))
    lines = lines.select(*[normal[c].alias(c) if c in normal else F.col(c) for c in lines.columns])
    # pseudonyms: HMAC under the machine's key, computed on the driver for the distinct customers, joined back
    customers = to_pandas(lines.select("customer_id").dropna().distinct())["customer_id"]
    mapping = pd.DataFrame(list(pseudonym_map(customers, params["salt"]).items()), columns=["customer_id", "_pseudonym"],
                           dtype=object).astype("str")
    lines = (lines.join(F.broadcast(from_pandas(spark, mapping)), "customer_id", "left")
             .withColumn("customer_id", F.col("_pseudonym")).select(*lines.columns))
    steps = _Steps(lines, ledger)
    kinds = dict(lines.dtypes)

    def missing(col: str):
        return F.col(col).isNull() | (F.isnan(col) if kinds[col] in ("double", "float") else F.lit(False))

    # 1. missing values; 2. exact duplicates (every copy after the first, in file order); 3. returns and
    # corrections; 4. items the catalogue does not know, then the item level. The steps are row by row once
    # the missing values are gone, so they run as two batches.
    first_checks = [(missing(col), "missing_values", f"missing {col}")
                    for col in ("basket_id", "customer_id", "item_id", dataset.order_column, "quantity") if col in kinds]
    if "timestamp" in kinds:
        ts = F.col("timestamp")
        first_checks.append(((ts < F.lit(str(EARLIEST)).cast("timestamp_ntz")) | (ts > F.lit(str(now)).cast("timestamp_ntz")),
                             IMPLAUSIBLE_STEP, implausible_reason(now)))
    steps.drop(first_checks)
    checks = [(F.row_number().over(Window.partitionBy(*steps.columns).orderBy("_row")) > 1,
               "exact_duplicates", "exact duplicate of an earlier line")]
    if "quantity" in kinds:
        checks.append((F.col("quantity") <= 0, "non_positive_quantity", "quantity <= 0 (return or correction)"))
    catalogue = dataset.catalogue
    if catalogue is not None:
        keep = ["item_id"] + ([level] if level != "product" else [])
        known = from_pandas(spark, catalogue[keep].drop_duplicates("item_id").assign(_known=True))
        steps.replace(steps.lines.join(F.broadcast(known), "item_id", "left"))
        checks.append((F.col("_known").isNull(), "unknown_item", "item not in the product catalogue"))
        if level != "product":
            checks.append((F.col(level).isNull(), "item_level", f"product has no {level} in the catalogue"))
    steps.drop(checks)
    if catalogue is not None:
        if level != "product":
            steps.replace(steps.lines.withColumn("item_id", F.col(level).cast("string")))
            catalogue = catalogue_at_level(catalogue, level)
        steps.replace(steps.lines.select(*steps.columns, "_row"))
    # 5. one line per (basket, item): quantities summed onto the first line
    pair = Window.partitionBy("basket_id", "item_id")
    merged = steps.lines.withColumn("_n", F.row_number().over(pair.orderBy("_row")))
    if "quantity" in kinds:
        merged = merged.withColumn("quantity", F.sum("quantity").over(pair))
    steps.replace(merged)
    steps.drop([(F.col("_n") > 1, "merge_repeated", f"another line of the same basket and {level} (quantities summed)")])
    steps.replace(steps.lines.drop("_n"))
    # 6. outlier baskets
    size = F.count(F.lit(1)).over(Window.partitionBy("basket_id"))
    steps.drop([(size > params["max_basket_size"], "outlier_baskets", f"basket has more than {params['max_basket_size']} items")])

    ordered = steps.lines.orderBy(dataset.order_column, "basket_id", "item_id").select(*original_columns)
    if not collect:
        check_enough(dataset, steps.count or 0, ordered.select("basket_id").distinct().limit(2).count(), ledger.frame())
        return CleanResult(lines=ordered, catalogue=catalogue, ledger=ledger.frame(), rejected=ledger.rejected_frame(original_columns))
    clean_lines = to_pandas(ordered)
    steps.close()
    check_enough(dataset, len(clean_lines), clean_lines["basket_id"].nunique(), ledger.frame())
    return CleanResult(lines=clean_lines, catalogue=finish(clean_lines, catalogue), ledger=ledger.frame(),
                       rejected=ledger.rejected_frame(original_columns))


