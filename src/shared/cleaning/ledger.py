"""The cleaning ledger: one row per (step, reason), every dropped line kept with its step and reason.

The ledger has one row per (step, reason) with ``rows_in - rows_dropped == rows_out``, chained so that the
first row's ``rows_in`` is the raw line count and the last row's ``rows_out`` the clean one. Both engines
write into the same :class:`Ledger`, so their ledgers are identical.

A step that rewrites lines without dropping any (``id_normalisation``) is a row with ``rows_dropped`` 0 whose
reason says how many lines it rewrote, so the balance and the chain hold.

Pseudonyms (:func:`pseudonymise`) are HMAC-SHA-256 under a per-machine secret key, see
:mod:`shared.data.pseudonyms`; the ``salt`` parameter is only a public context label mixed into the message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import DataError, Dataset, pseudonymise  # noqa: F401 (pseudonymise: re-exported, shared.cleaning)

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

    def rewrite(self, n_lines: int, n_rewritten: int, step: str, reason: str) -> None:
        """A step that changes lines without dropping any: ``reason`` is formatted with ``n`` (lines changed)."""
        self.rows.append({"step": step, "reason": reason.format(n=f"{n_rewritten:,}"), "rows_in": n_lines,
                          "rows_dropped": 0, "rows_out": n_lines})

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


ID_REASON = "{column}: {{n}} lines rewritten (surrounding whitespace stripped, whole numbers such as 1.0 written 1)"
IMPLAUSIBLE_STEP = "implausible_timestamp"
EARLIEST = pd.Timestamp("1970-01-01")


def implausible_reason(now: pd.Timestamp) -> str:
    return f"timestamp before {EARLIEST:%Y-%m-%d} or in the future (after {now:%Y-%m-%d})"


def check_enough(data: Dataset, n_lines: int, n_baskets: int, ledger: pd.DataFrame) -> None:
    """Stop with one line when cleaning left nothing, or one basket, to split and model."""
    dropped = ledger[ledger["rows_dropped"] > 0].groupby("step", sort=False)["rows_dropped"].sum()
    why = ", ".join(f"{step} {n:,}" for step, n in dropped.items()) or "none dropped"
    n_in = int(ledger["rows_in"].iat[0]) if len(ledger) else n_lines
    if n_lines == 0:
        raise DataError(f"{data.where}: no lines left after cleaning: all {n_in:,} lines dropped ({why})")
    if n_baskets < 2:
        raise DataError(f"{data.where}: only one basket: {n_lines:,} lines left of {n_in:,} after cleaning ({why}); "
                        "a split and a model need many baskets")


def finish(lines: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame | None:
    """The catalogue of the items that survived cleaning, sorted by item."""
    if catalogue is None:
        return None
    return catalogue[catalogue["item_id"].isin(lines["item_id"].unique())].sort_values("item_id").reset_index(drop=True)


