"""The Spark session of the ``engine: spark`` path: checks, session start and Arrow transfer.

This module is the bottom of the Spark engine; the Spark versions of each concern sit beside their pandas
twins (``data.spark_sources``, ``cleaning.spark_steps``, ``mining.spark_fpgrowth``,
``models.factorization.spark_als``), as ``docs/architecture.md`` describes. Spark runs the same code on a
laptop (``spark_master: local[*]``) and on a cluster (``spark://host:7077``, ``yarn``,
``k8s://https://host:port``).

Before anything starts, :func:`check` turns a missing pyspark, a missing or too old Java, or an unreachable
master into one :class:`SparkUnavailable` line instead of a JVM stack dump.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

import pandas as pd
import pyarrow as pa

MIN_JAVA = 17
LOG_CONFIG = Path(__file__).parent / "templates" / "spark" / "log4j2.properties"
_LOCAL = re.compile(r"^local(\[(\*|\d+)(,\d+)?\])?$|^local-cluster\[\d+,\d+,\d+\]$")


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark or Java missing, or the master unreachable. One line says which."""


@dataclass(frozen=True)
class SparkSettings:
    """Where and how big the Spark session is (the ``spark_*`` parameters)."""

    master: str
    driver_memory: str
    executor_memory: str
    shuffle_partitions: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SparkSettings":
        return cls(params["spark_master"], params["spark_driver_memory"], params["spark_executor_memory"],
                   params["spark_shuffle_partitions"])


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


def check(settings: SparkSettings) -> None:
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
    check_master(settings.master)


_SESSION = None


def session(settings: SparkSettings):
    """The Spark session of this process, started with ``settings`` on first use."""
    global _SESSION
    if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
        return _SESSION
    check(settings)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    master = settings.master
    builder = (
        SparkSession.builder.master(master).appName("basket-lab")
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.executor.memory", settings.executor_memory)
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
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
        # this must be shared storage: set it with sparkContext.setCheckpointDir)
        _SESSION.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="basket-lab-spark-"))
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


def blas_backends(spark) -> dict[str, Any]:
    """The BLAS and LAPACK that Spark's linear algebra (dev.ludovic.netlib) chose in the driver's JVM:
    JNIBLAS / JNILAPACK when the native libblas.so.3 / liblapack.so.3 loaded (Debian: libopenblas0), else the
    Java fallbacks VectorBLAS (or JavaBLAS) and F2jLAPACK. Executors choose for themselves at start and log it
    ("InstanceBuilder: Using dev.ludovic.netlib.blas.JNIBLAS")."""
    netlib = spark._jvm.dev.ludovic.netlib
    found: dict[str, Any] = {}
    for name, cls in (("blas", netlib.blas.BLAS), ("lapack", netlib.lapack.LAPACK)):
        try:
            found[name] = cls.getInstance().getClass().getSimpleName()
        except Exception as exc:  # py4j: the class is missing in this Spark
            found[name] = f"unknown ({type(exc).__name__})"
    found["native"] = found["blas"].startswith("JNI") and found["lapack"].startswith("JNI")
    return found


def engine_ready(settings: SparkSettings) -> bool:
    """Whether ``engine: spark`` can run here (for tests and benchmarks that skip without Java)."""
    try:
        check(settings)
        return True
    except SparkUnavailable:
        return False


