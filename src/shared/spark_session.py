"""The Spark session of the ``engine: spark`` path: checks, session start and Arrow transfer.

This module is the bottom of the Spark engine; the Spark versions of each concern sit beside their pandas
twins (``data.spark_sources``, ``cleaning.spark_steps``, ``mining.spark_fpgrowth``,
``models.factorization.spark_als``), as ``docs/architecture.md`` describes. Spark runs the same code on a
laptop (``spark_master: local[*]``) and on a cluster (``spark://host:7077``, ``yarn``,
``k8s://https://host:port``).

Before anything starts, :func:`check` turns a missing pyspark, a missing or too old Java, an unreachable
master, or a standalone cluster with no worker that can host one executor into one :class:`SparkUnavailable`
line instead of a JVM stack dump or an application that waits for executors forever; a session on a standalone
master that still gets no executor within ``spark_executor_wait_s`` stops with that line too.
"""
from __future__ import annotations

import logging
import os
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
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
#: Spark's size suffixes (JavaUtils.byteStringAsMb); a number alone is MiB, as for spark.executor.memory
_SIZE = re.compile(r"^\s*(\d+)(b|k|kb|m|mb|g|gb|t|tb|p|pb)?\s*$", re.IGNORECASE)
_MB_PER_UNIT = {"b": 2**-20, "k": 2**-10, "m": 1, "g": 2**10, "t": 2**20, "p": 2**30}
#: The standalone master's web UI (its JSON status at /json/): scripts/spark-cluster puts it on the port after
#: the master's, Spark's own default is 8080
_WEBUI_DEFAULT = 8080


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark or Java missing, or the master unreachable. One line says which."""


@dataclass(frozen=True)
class SparkSettings:
    """Where and how big the Spark session is (the ``spark_*`` parameters)."""

    master: str
    driver_memory: str
    executor_memory: str
    shuffle_partitions: int
    executor_wait_s: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SparkSettings":
        return cls(params["spark_master"], params["spark_driver_memory"], params["spark_executor_memory"],
                   params["spark_shuffle_partitions"], params["spark_executor_wait_s"])


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


def megabytes(size: str) -> int | None:
    """A Spark memory size (``4g``, ``512m``, ``2048``: MiB) in MiB, or None when Spark's syntax does not read it."""
    found = _SIZE.match(size)
    if not found:
        return None
    return int(int(found.group(1)) * _MB_PER_UNIT[(found.group(2) or "m")[0].lower()])


def standalone_status(master: str, timeout: float = 3.0) -> dict | None:
    """The JSON status of the standalone master ``spark://host:port`` (workers, their free cores and memory),
    read from its web UI: on the next port (scripts/spark-cluster) or Spark's default 8080. Only the status of
    the ALIVE master on that very port counts (not a standby, not another cluster's); None when none answers."""
    for host in master[len("spark://"):].split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            continue
        for webui in dict.fromkeys((int(port) + 1, _WEBUI_DEFAULT)):
            try:
                with urllib.request.urlopen(f"http://{name}:{webui}/json/", timeout=timeout) as response:
                    state = json.load(response)
            except (OSError, ValueError):
                continue
            if (isinstance(state, dict) and state.get("status") == "ALIVE" and isinstance(state.get("workers"), list)
                    and str(state.get("url", "")).rsplit(":", 1)[-1] == port):
                return state
    return None


def check_capacity(settings: SparkSettings, state: Mapping[str, Any]) -> None:
    """Refuse executors that no ALIVE worker of a standalone master (``state``: its JSON status) can host
    now: the application would wait for them forever. One executor needs ``executor_memory`` and a core."""
    wanted = megabytes(settings.executor_memory)
    if wanted is None:  # Spark says what it cannot read
        return
    alive = [w for w in state["workers"] if isinstance(w, dict) and w.get("state") == "ALIVE"]
    if not alive:
        raise SparkUnavailable(f"the Spark master {settings.master} has no worker alive: no executor can start there "
                               "(start the workers, or use another spark_master)")
    with_core = [w for w in alive if int(w.get("coresfree", 0)) >= 1]
    if not with_core:
        raise SparkUnavailable(f"no worker of {settings.master} has a free core ({len(alive)} alive, their cores held by other "
                               "applications): no executor can start there now; wait for them to finish, or use another spark_master")
    largest = max(with_core, key=lambda w: int(w.get("memoryfree", 0)))
    free = int(largest.get("memoryfree", 0))
    if free < wanted:
        half = free // 2
        example = f"{half // 1024}g" if half >= 1024 else f"{max(half, 1)}m"
        raise SparkUnavailable(
            f"parameter 'spark_executor_memory': an executor of {settings.executor_memory} ({wanted:,} MB) fits no worker of "
            f"{settings.master}: the largest has {free:,} MB free ({int(largest.get('memory', free)):,} MB in all); "
            f"give executors less, e.g. -p spark_executor_memory={example}"
        )


def check_runtime(settings: SparkSettings) -> None:
    """What any Spark session needs, checked in a second: pyspark, Java >= 17, a reachable master."""
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


def check(settings: SparkSettings) -> None:
    """Everything ``engine: spark`` needs, before a run: :func:`check_runtime`, and on a standalone master
    (``spark://``) a worker with room for one executor now (when the master's status can be read). A session
    started later (each notebook's) checks only the runtime and waits for its executors (:func:`wait_for_executors`):
    the application of the notebook before may still hold the workers for a moment."""
    check_runtime(settings)
    if settings.master.startswith("spark://"):
        state = standalone_status(settings.master)
        if state is not None:
            check_capacity(settings, state)


def wait_for_executors(spark, settings: SparkSettings, poll: float = 0.5) -> None:
    """On a standalone master, wait until an executor registered (the driver alone cannot run a task); after
    ``executor_wait_s`` seconds without one, stop the session and raise :class:`SparkUnavailable`."""
    context = spark.sparkContext
    if context.getConf().get("spark.dynamicAllocation.enabled", "false").lower() == "true":
        return  # executors start with the first job
    deadline = time.monotonic() + settings.executor_wait_s
    while context._jsc.sc().getExecutorMemoryStatus().size() < 2:  # the driver counts as one
        if time.monotonic() > deadline:
            stop()
            raise SparkUnavailable(
                f"no executor started on {settings.master} within {settings.executor_wait_s} s (parameter 'spark_executor_wait_s'): "
                f"no worker has room for an executor of {settings.executor_memory} and a core, or other applications "
                "hold them; lower spark_executor_memory, or wait longer"
            )
        time.sleep(poll)


_SESSION = None


def session(settings: SparkSettings):
    """The Spark session of this process, started with ``settings`` on first use."""
    global _SESSION
    if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
        return _SESSION
    check_runtime(settings)
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
    if master.startswith("spark://"):
        wait_for_executors(_SESSION, settings)
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


