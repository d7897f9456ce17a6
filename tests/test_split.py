import numpy as np
import pandas as pd
import pytest

from shared import cleaning, config, data, split


@pytest.fixture(scope="module")
def clean_lines():
    params = config.load("smoke")
    return cleaning.clean(data.load(params), params).lines


def test_temporal_split_has_no_leakage(clean_lines):
    lines, info = split.temporal_split(clean_lines, test_weeks=2, validation_weeks=2)
    train, val, test = (lines[lines["split"] == s] for s in split.SPLITS)
    assert len(train) and len(val) and len(test)
    assert train["timestamp"].max() < val["timestamp"].min() <= val["timestamp"].max() < test["timestamp"].min()
    assert test["timestamp"].min() >= info.test_start
    # no test-period line is in train, and baskets are never cut
    assert not (train["timestamp"] >= info.test_start).any()
    assert (lines.groupby("basket_id")["split"].nunique() == 1).all()
    assert (test["timestamp"].max() - info.test_start) < pd.Timedelta(weeks=2)


def test_temporal_split_that_leaves_no_training_raises(clean_lines):
    with pytest.raises(ValueError, match="leave no training period"):
        split.temporal_split(clean_lines, test_weeks=10, validation_weeks=10)


def test_random_split_is_stratified_per_customer_and_seeded(clean_lines):
    a, info = split.random_split(clean_lines, 0.25, 0.1, seed=1)
    b, _ = split.random_split(clean_lines, 0.25, 0.1, seed=1)
    pd.testing.assert_frame_equal(a, b)
    baskets = a.drop_duplicates("basket_id")
    per_customer = baskets.groupby("customer_id")["split"].apply(lambda s: (s == "test").mean())
    n = baskets.groupby("customer_id").size()
    assert np.allclose(per_customer[n >= 8], 0.25, atol=0.07)
    assert "Random split" in info.definition


def test_sequence_split_without_timestamps():
    lines = pd.DataFrame({"basket_id": [f"b{i}" for i in range(10) for _ in range(2)],
                          "customer_id": "c", "item_id": ["x", "y"] * 10,
                          "sequence": np.repeat(np.arange(10)[::-1], 2)})
    out, info = split.split_lines(lines, {"split_method": "temporal", "test_fraction": 0.2, "validation_fraction": 0.1})
    test_baskets = set(out.loc[out["split"] == "test", "basket_id"])
    assert test_baskets == {"b0", "b1"}  # the highest sequence numbers
    assert set(out.loc[out["split"] == "validation", "basket_id"]) == {"b2"}
    assert "no timestamps" in info.definition


def test_split_summary_counts(clean_lines):
    lines, _ = split.temporal_split(clean_lines, 2, 2)
    table = split.split_summary(lines).set_index("split")
    assert table["lines"].sum() == len(lines)
    assert table["baskets"].sum() == lines["basket_id"].nunique()
    assert table.loc["train", "items_not_in_train"] == 0
