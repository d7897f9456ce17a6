"""Cleaning: each step drops (or merges) lines for one reason and records it in the ledger.

Cleaning holds only data-quality steps (missing values, duplicates, returns, unknown products, outlier
baskets), taken on all lines. Vocabulary decisions (rare items, k-core) are not cleaning: they are taken from
the fit period only, by :func:`shared.split.vocabulary`, so the test weeks decide nothing.
Every dropped line is kept in ``rejected`` with its step and reason, so nothing is lost silently. Customer
IDs are pseudonymised before anything else, so rejected lines carry no raw IDs either. :func:`clean`
dispatches to the pandas steps (:mod:`.pandas_steps`) or their Spark twins (:mod:`.spark_steps`); both write
into the same :class:`Ledger` (:mod:`.ledger`), so the ledgers are identical.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..data import Dataset
from . import pandas_steps, spark_steps
from .ledger import LEDGER_COLUMNS, CleanResult, Ledger, finish, pseudonymise


def clean(data: Dataset, params: Mapping[str, Any]) -> CleanResult:
    """Run every cleaning step in order with the run's engine."""
    if params["engine"] == "spark":
        return spark_steps.clean(data, params)
    return pandas_steps.clean(data, params)


__all__ = ["LEDGER_COLUMNS", "CleanResult", "Ledger", "clean", "finish", "pseudonymise"]
