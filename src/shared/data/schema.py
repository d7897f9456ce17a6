"""The data contract every source and engine shares (docs/architecture.md, "Data schema").

Canonical lines: ``basket_id``, ``customer_id``, ``item_id`` (strings), ``timestamp`` (datetime) or
``sequence`` (int), ``quantity`` and ``price`` (numeric) when the source has them. The catalogue is keyed by
``item_id`` with ``name`` and the category levels the source knows.
"""
from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..config import ITEM_LEVELS, ParameterError
from ..spark_session import to_pandas
from .pseudonyms import pseudonymise

ID_COLUMNS = ("basket_id", "customer_id", "item_id")
LINE_COLUMNS = ("basket_id", "customer_id", "item_id", "timestamp", "sequence", "quantity", "price")
CATALOGUE_COLUMNS = ("item_name", "product_type", "product_category", "department")
CANONICAL = LINE_COLUMNS + CATALOGUE_COLUMNS
REQUIRED = ("basket_id", "item_id")
#: What pandas' CSV reader takes for a missing value by default; the Spark engine reads CSVs the same way.
from pandas._libs.parsers import STR_NA_VALUES as CSV_NA_VALUES  # noqa: E402, F401


class DataError(ValueError):
    """Input data that cannot be used: the message names the file, the column and the problem."""


@dataclass
class Dataset:
    lines: pd.DataFrame
    catalogue: pd.DataFrame | None
    source: str
    description: str
    levels: tuple[str, ...] = ("product",)
    has_customer: bool = True
    has_timestamp: bool = True
    ground_truth: pd.DataFrame | None = None
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)
    #: the file a ``file`` source read (error messages name it); None for the built-in sources
    path: str | None = None

    @property
    def order_column(self) -> str:
        return "timestamp" if self.has_timestamp else "sequence"

    def preview(self, n: int = 5, salt: str = "") -> pd.DataFrame:
        """The first ``n`` lines as read (pandas, whichever engine holds them), with every customer ID
        replaced by its pseudonym (:mod:`.pseudonyms`; ``salt`` as in cleaning, so they match the clean lines):
        no raw customer ID is ever shown."""
        if isinstance(self.lines, pd.DataFrame):
            head = self.lines.head(n).copy()
        else:
            head = to_pandas(self.lines.limit(n).drop("_row"))
        if "customer_id" in head:
            head["customer_id"] = pseudonymise(head["customer_id"], salt)
        return head

    @property
    def where(self) -> str:
        """What error messages name: the file, or the source."""
        return self.path or f"source {self.source}"


def fingerprint(*frames: pd.DataFrame | None) -> str:
    """A stable content hash of data frames (row order and values), for the run manifest."""
    digest = hashlib.sha256()
    for frame in frames:
        if frame is None:
            continue
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _canonical_ids(lines: pd.DataFrame) -> pd.DataFrame:
    for col in ID_COLUMNS:
        if col in lines:
            ids = lines[col]
            lines[col] = ids.astype("str").where(ids.notna(), None).astype("str")
    return lines


#: Surrounding whitespace of an ID (the same characters on both engines: Java's \\s is ASCII only).
ID_SPACE_RE = r"^[ \t\n\r\f\x0b\xa0]+|[ \t\n\r\f\x0b\xa0]+$"
#: A whole number written with a decimal part of zeros ("1.0", "12.00"): the same ID as "1", "12".
ID_NUMBER_RE = r"^([+-]?[0-9]+)\.0+$"


def normalise_ids(ids: pd.Series) -> pd.Series:
    """An ID column with surrounding whitespace stripped, ``"1.0"`` written ``"1"``, empty IDs missing.
    Leading zeros are kept (``"007"`` is not ``"7"``: product codes often differ only by them)."""
    text = ids.astype("object")
    present = text.notna()
    out = text[present].astype(str).str.replace(ID_SPACE_RE, "", regex=True).str.replace(ID_NUMBER_RE, r"\1", regex=True)
    result = text.copy()
    result[present] = out.where(out != "", None)
    return result


def check_present(path: Path, wanted: list[str], present: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise DataError(
            f"{path}: column {', '.join(repr(m) for m in missing)} named in 'columns' is not in the file "
            f"(it has: {', '.join(map(str, present))})"
        )


def check_columns_mapping(columns: Any) -> None:
    """The ``columns`` parameter: a mapping from known canonical names, with basket_id and item_id."""
    if not isinstance(columns, Mapping):
        raise ParameterError("parameter 'columns': expected a mapping canonical name -> file column")
    unknown = [k for k in columns if k not in CANONICAL]
    if unknown:
        raise ParameterError(
            f"parameter 'columns': unknown canonical name {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(CANONICAL)})"
        )
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise ParameterError(f"parameter 'columns': a mapping for {', '.join(missing)} is required")



#: Notes every engine writes when the data lacks a column.
NO_CUSTOMER_NOTE = "no customer column: every basket is its own customer"
SEQUENCE_NOTE = "no timestamp: baskets are ordered by the sequence column"
FILE_ORDER_NOTE = "no timestamp: baskets are ordered as they first appear in the file"


def check_local_file(path: str | Path) -> None:
    """A local path must exist; a URL (``hdfs://``, ``s3a://``) is left to the engine that reads it."""
    if "://" not in str(path) and not Path(str(path)).exists():
        raise DataError(f"{path}: file does not exist")


def file_kind(path: str | Path) -> str:
    """``parquet``, ``csv`` or ``tsv`` from the file name; anything else is refused with one line."""
    suffix = "".join(Path(str(path).split("://")[-1]).suffixes[-2:]).lower()
    if suffix.endswith((".parquet", ".pq")):
        return "parquet"
    if suffix.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if ".tsv" in suffix:
        return "tsv"
    raise DataError(f"{path}: unsupported file type '{suffix or '(none)'}' (use .csv, .csv.gz, .tsv or .parquet)")


def csv_options(path: str | Path, encoding: str, delimiter: str | None) -> tuple[str, str]:
    """The encoding and field delimiter of a CSV (``delimiter`` None: tab for ``.tsv``, else comma); bad
    values are refused as parameters."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ParameterError(f"parameter 'encoding': unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    if delimiter is None:
        return encoding, "\t" if file_kind(path) == "tsv" else ","
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        raise ParameterError(f"parameter 'delimiter': expected one character (e.g. ';' or '\\t'), got {delimiter!r}")
    return encoding, delimiter


def decode_error(path: str | Path, encoding: str, detail: str) -> DataError:
    suggestion = "latin-1" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else "utf-8"
    return DataError(f"{path}: the file is not valid {encoding} text ({detail}); set the parameter encoding, "
                     f"e.g. -p encoding={suggestion}")


def read_error(path: str | Path, exc: BaseException) -> DataError:
    """One line for a reader's own exception: the file, the exception type and its first line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return DataError(f"{path}: cannot read the file ({type(exc).__name__}: {first})")


def bad_values_error(path: str | Path, column: str, n_bad: int, examples: Iterable[Any], problem: str) -> DataError:
    """One line for values that do not convert: ``problem`` reads like "must be numeric; {n} values are not"."""
    shown = ", ".join(repr(v) for v in list(examples)[:3])
    return DataError(f"{path}: column '{column}' {problem.format(n=f'{n_bad:,}')} (e.g. {shown})")


NUMERIC_PROBLEM = "must be numeric; {n} values are not"
TIMESTAMP_PROBLEM = "has {n} unparsable timestamps"


def whole_numbers_error(path: str | Path, column: str) -> DataError:
    return DataError(f"{path}: column '{column}' must hold whole numbers (an order number)")


def file_levels(columns: Iterable[str]) -> tuple[str, ...]:
    """The item levels a file offers: product, plus every category level it maps."""
    columns = set(columns)
    return ("product",) + tuple(level for level in ITEM_LEVELS[1:] if level in columns)


def file_description(path: str | Path, columns: Mapping[str, str], lines: str) -> str:
    return f"File {Path(str(path)).name}: {lines}, columns mapped as {dict(columns)}."


def check_item_level(level: str, dataset: "Dataset", source: str) -> None:
    if level not in dataset.levels:
        raise ParameterError(
            f"parameter 'item_level': {level!r} is not available for source {source} "
            f"(available: {', '.join(dataset.levels)})"
        )


def sample_note(n: int, seed: int) -> str:
    return f"random sample of {n:,} customers (seed {seed})"


def sampled_customer_ids(customers: np.ndarray, n: int, seed: int) -> np.ndarray | None:
    """The ``n`` customers a sample keeps (the same draw on every engine), or None when all are kept."""
    if n >= len(customers):
        return None
    return np.random.default_rng(seed).choice(np.sort(np.asarray(customers, dtype=object)), n, replace=False)


def catalogue_at_level(catalogue: pd.DataFrame | None, level: str) -> pd.DataFrame | None:
    """The catalogue re-keyed at an item level: one row per level value, its most common parent levels."""
    if catalogue is None or level == "product":
        return catalogue
    parents = [c for c in ITEM_LEVELS[ITEM_LEVELS.index(level) + 1 :] if c in catalogue]
    grouped = catalogue.dropna(subset=[level]).groupby(level, sort=True)
    out = pd.DataFrame({"item_id": grouped.size().index.astype("str")})
    out["name"] = out["item_id"].str.title()
    out[level] = out["item_id"]
    for parent in parents:
        out[parent] = grouped[parent].agg(lambda s: s.mode().iat[0] if s.notna().any() else None).to_numpy()
    return out


def describe(lines: pd.DataFrame) -> dict[str, Any]:
    """Headline facts about (cleaned) lines, for the reports and the run index."""
    baskets = lines.groupby("basket_id", observed=True)
    sizes = baskets.size()
    facts: dict[str, Any] = {
        "lines": int(len(lines)),
        "baskets": int(len(sizes)),
        "customers": int(lines["customer_id"].nunique()),
        "items": int(lines["item_id"].nunique()),
        "median_basket_size": float(sizes.median()),
        "mean_basket_size": round(float(sizes.mean()), 2),
        "median_baskets_per_customer": float(lines.groupby("customer_id")["basket_id"].nunique().median()),
    }
    if "timestamp" in lines:
        facts["first_day"] = lines["timestamp"].min().strftime("%Y-%m-%d")
        facts["last_day"] = lines["timestamp"].max().strftime("%Y-%m-%d")
    order = "timestamp" if "timestamp" in lines else "sequence"
    first_seen = lines.sort_values([order, "basket_id"], kind="stable").drop_duplicates(["customer_id", "item_id"])
    facts["repeat_line_share"] = round(1 - len(first_seen) / len(lines), 4)
    return facts
