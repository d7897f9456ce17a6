import numpy as np
import pandas as pd

from shared import synthetic


def test_same_seed_same_data_other_seed_other_data():
    a = synthetic.generate(100, 80, 6, seed=1)
    b = synthetic.generate(100, 80, 6, seed=1)
    c = synthetic.generate(100, 80, 6, seed=2)
    pd.testing.assert_frame_equal(a.lines, b.lines)
    assert not a.lines.equals(c.lines)


def test_planted_patterns_have_high_measured_lift():
    gen = synthetic.generate(600, 300, 12, seed=3, noise=0.0)
    truth = gen.patterns
    assert len(truth) >= 5 and set(truth["kind"]) == {"pair", "triple"}
    assert (truth["lift"] > 3).all(), truth
    # recompute one pattern's support by brute force over the baskets
    row = truth.iloc[0]
    baskets = gen.lines.groupby("basket_id")["item_id"].agg(frozenset)
    count = sum(1 for items in baskets if set(row["items"]) <= items)
    assert count == row["count"]
    assert np.isclose(row["support"], count / len(baskets))


def test_long_tail_repeat_buying_and_noise():
    gen = synthetic.generate(400, 300, 10, seed=4, noise=0.04)
    lines = gen.lines
    counts = lines["item_id"].value_counts()
    assert counts.iloc[0] > 20 * counts.median()  # a long tail
    clean = lines.dropna(subset=["customer_id"])
    assert clean.duplicated(["customer_id", "item_id"]).mean() > 0.3  # customers rebuy items
    n_noise = (lines["quantity"] <= 0).sum()
    assert n_noise == int((len(lines) - 4 * n_noise) * 0.04 / 4) > 0
    assert lines.duplicated().sum() >= n_noise
    assert (~lines["item_id"].isin(gen.catalogue["item_id"])).sum() == n_noise
    assert lines["customer_id"].isna().sum() == n_noise
