"""The cleaning ledger: one row per (step, reason), every dropped line kept with its step and reason.

The ledger has one row per (step, reason) with ``rows_in - rows_dropped == rows_out``, chained so that the
first row's ``rows_in`` is the raw line count and the last row's ``rows_out`` the clean one. Both engines
write into the same :class:`Ledger`, so their ledgers are identical.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

LEDGER_COLUMNS = ["step", "reason", "rows_in", "rows_dropped", "rows_out"]


@dataclass
class CleanResult:
    lines: pd.DataFrame
    catalogue: pd.DataFrame | None
    ledger: pd.DataFrame
    rejected: pd.DataFrame


class Ledger:
    """Collects ledger rows and rejected lines while the steps run."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.rejected: list[pd.DataFrame] = []

    def drop(self, lines: pd.DataFrame, mask: pd.Series | np.ndarray, step: str, reason: str) -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        n_drop = int(mask.sum())
        self.rows.append(
            {"step": step, "reason": reason, "rows_in": len(lines), "rows_dropped": n_drop, "rows_out": len(lines) - n_drop}
        )
        if n_drop:
            self.rejected.append(lines[mask].assign(step=step, reason=reason))
            lines = lines[~mask]
        return lines

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=LEDGER_COLUMNS)

    def rejected_frame(self, columns: list[str]) -> pd.DataFrame:
        if not self.rejected:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in [*columns, "step", "reason"]})
        out = pd.concat(self.rejected, ignore_index=True)
        for col in out.columns:  # parquet wants one type per column; IDs stay strings
            if out[col].dtype == object:
                out[col] = out[col].astype("str")
        return out


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 of each distinct ID (first 12 hex digits); missing IDs stay missing."""
    uniques = ids.dropna().unique()
    mapping = {u: "c" + hashlib.sha256(f"{salt}:{u}".encode()).hexdigest()[:12] for u in uniques}
    return ids.map(mapping).astype("str")


def finish(lines: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame | None:
    """The catalogue of the items that survived cleaning, sorted by item."""
    if catalogue is None:
        return None
    return catalogue[catalogue["item_id"].isin(lines["item_id"].unique())].sort_values("item_id").reset_index(drop=True)


