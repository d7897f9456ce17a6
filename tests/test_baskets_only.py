"""Baskets-only data: a receipt file with no customer column, no timestamp and no catalogue (only ``receipt``
and ``department``, many departments per receipt). The run must finish: the sequence parts (SASRec in notebook
04, the sequence models and the next_basket task in notebook 05) say "not applicable" with the reason, and
everything else runs.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from shared import evaluate, split

from .conftest import receipts

def split_receipts(tmp_path: Path) -> pd.DataFrame:
    frame = pd.read_csv(receipts(tmp_path / "receipts.csv"), dtype=str)
    lines = frame.rename(columns={"receipt": "basket_id", "department": "item_id"})
    lines = lines.assign(customer_id=lines["basket_id"], sequence=pd.factorize(lines["basket_id"])[0])
    return split.split_lines(lines, {"split_method": "temporal", "test_fraction": 0.25, "validation_fraction": 0.1,
                                     "seed": 0})[0]


def test_no_sequences_without_customers(tmp_path):
    lines = split_receipts(tmp_path)
    assert not split.has_sequences(lines, "validation") and not split.has_sequences(lines, "test")
    reason = split.sequences_reason(lines, "validation", has_customer=False)
    assert "no customer has two or more baskets" in reason and "no customer column" in reason
    assert set(evaluate.inapplicable_models(lines, ["popularity", "sasrec", "sasrec_repeat", "sasrec_text"], False)) == {
        "sasrec", "sasrec_repeat", "sasrec_text"}
    two = lines.assign(customer_id="one customer")
    assert split.has_sequences(two, "validation") and split.sequences_reason(two, "validation") is None


@pytest.mark.slow
def test_two_column_receipts_run_end_to_end(receipts_run):
    """The barest file there is: receipt and department, nothing else (no customer, no time, no catalogue)."""
    out = receipts_run
    transformer = (out / "04_transformer.html").read_text()
    assert "Not applicable:" in transformer and "no customer has two or more baskets" in transformer
    assert not (out / "data" / "sasrec").exists()
    report = (out / "05_evaluation_report.html").read_text()
    assert "not applicable" in report.lower() and "history to predict a next basket" in report
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["task"]) == {"basket_completion"}
    assert {"popularity", "item_knn", "rules"} <= set(board["model"])
    assert not {"sasrec", "sasrec_repeat", "sasrec_text"} & set(board["model"])
    assert board.loc[board["metric"] == "ndcg", "value"].notna().all()
