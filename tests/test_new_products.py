"""The new-product evaluation (shared.new_products): which products and customers it takes, the metrics
against brute force, every baseline by hand, a planted text structure the text scorer finds, the text-to-factor
map, and the seed rule of its verdicts."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from shared import new_products

PARAMS = {"min_item_count": 2, "kcore": 0, "cold_max_baskets": 2, "new_product_min_buyers": 2}


def _lines(rows):
    frame = pd.DataFrame(rows, columns=["basket_id", "customer_id", "item_id", "split"])
    frame["timestamp"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(frame["basket_id"], unit="D")
    frame["quantity"], frame["price"] = 1, 1.0
    return frame


def _shop():
    """Customers c1-c4; in the fit period milk (m1, m2) and pizza (p1, p2) are known; in the test weeks, the new
    milk n_milk is bought by c1 and c2 (milk buyers), the new pizza n_pizza by c3 only; slow (one fit basket)
    is bought again by c1 and c4."""
    rows = []
    b = 0
    for customer, items in (("c1", ["m1", "m2", "slow"]), ("c2", ["m1", "m2"]), ("c3", ["p1", "p2"]), ("c4", ["p1", "m1"])):
        for _ in range(2):
            b += 1
            rows += [(b, customer, i, "train") for i in items if not (i == "slow" and _ > 0)]
    for customer, items in (("c1", ["n_milk", "slow"]), ("c2", ["n_milk"]), ("c3", ["n_pizza"]), ("c4", ["slow"])):
        b += 1
        rows += [(b, customer, i, "test") for i in items]
    catalogue = pd.DataFrame({
        "item_id": ["m1", "m2", "p1", "p2", "slow", "n_milk", "n_pizza", "never"],
        "product_type": ["milk", "milk", "pizza", "pizza", "soup", "milk", "pizza", "tea"],
        "product_category": ["dairy", "dairy", "frozen", "frozen", "canned", "dairy", "frozen", "drinks"],
        "department": "grocery",
        "brand": ["national", "private", "national", "national", "national", "private", "national", "national"],
    })
    return _lines(rows), catalogue


def test_new_product_sets_take_the_right_products_and_customers():
    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, PARAMS)
    customers = list(data.train.customer_ids)
    assert sorted(map(str, data.train.item_ids)) == ["m1", "m2", "p1", "p2"]  # slow has one fit basket
    # targeted: fewer than 2 fit baskets and 2+ test buyers: n_milk (0 baskets: a launch) and slow (1 basket)
    assert list(data.product_ids) == ["n_milk", "slow"]
    assert data.product_fit_baskets.tolist() == [0, 1]
    assert [sorted(customers[r] for r in rows) for rows in data.buyers] == [["c1", "c2"], ["c1", "c4"]]
    # the launch pool: catalogue products without a fit-period basket, whether or not anyone bought them later
    assert list(data.launch_ids) == ["n_milk", "n_pizza", "never"]
    bought = {customers[r]: sorted(data.launch_ids[t]) for r, t in zip(data.launch_customers, data.launch_targets)}
    assert bought == {"c1": ["n_milk"], "c2": ["n_milk"], "c3": ["n_pizza"]}
    assert set(new_products.items_to_embed(data)) == {"m1", "m2", "p1", "p2", "n_milk", "slow", "n_pizza", "never"}


def test_baselines_by_hand():
    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, PARAMS)
    row = {c: i for i, c in enumerate(data.train.customer_ids)}
    category = new_products.score_matrix("category_affinity", data, ["n_milk", "n_pizza"])
    # c4 bought p1 and m1 in each of 2 baskets: half its lines are dairy, half frozen
    assert category[row["c4"], 0] == pytest.approx(0.5, abs=1e-5) and category[row["c1"], 0] == pytest.approx(1.0, abs=1e-5)
    assert category[row["c1"], 1] == pytest.approx(0.0, abs=1e-5) and category[row["c3"], 1] == pytest.approx(1.0, abs=1e-5)
    typed = new_products.score_matrix("type_brand_affinity", data, ["n_milk"])  # private milk: m2 only
    assert typed[row["c1"], 0] == pytest.approx(0.5, abs=1e-5) and typed[row["c4"], 0] == pytest.approx(0.0, abs=1e-5)
    heavy = new_products.score_matrix("heavy_buyers", data, ["n_milk"])
    assert heavy[:, 0].tolist() == [2.0, 2.0, 2.0, 2.0]
    assert new_products.score_matrix("text", data, ["n_milk"], None) is None  # no text, no text score
    with pytest.raises(ValueError, match="unknown new-product scorer"):
        new_products.score_matrix("oracle", data, ["n_milk"], {})


def test_targeting_metrics_against_brute_force():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(30, 6)).astype(float)  # many ties
    buyers = [np.sort(rng.choice(30, size=n, replace=False)) for n in (1, 3, 5, 8, 2, 29)]
    got = new_products.targeting_metrics(scores, buyers, ks=(5, 10))
    for j, positives in enumerate(buyers):
        order = sorted(range(30), key=lambda r: (-scores[r, j], r))
        for k in (5, 10):
            assert got.loc[j, f"recall@{k}"] == pytest.approx(len(set(order[:k]) & set(positives)) / len(positives))
        negatives = [r for r in range(30) if r not in set(positives)]
        pairs = [(1.0 if scores[p, j] > scores[q, j] else 0.5 if scores[p, j] == scores[q, j] else 0.0)
                 for p, q in itertools.product(positives, negatives)]
        assert got.loc[j, "auc"] == pytest.approx(np.mean(pairs))


def test_recommendation_metrics_by_hand():
    scores = np.array([[0.9, 0.1, 0.5, 0.3], [0.2, 0.2, 0.8, 0.1]])
    got = new_products.recommendation_metrics(scores, [np.array([2, 3]), np.array([1])], ks=(1, 2))
    assert got["recall@1"].tolist() == [0.0, 0.0]
    # row 2: 0.8 first, then 0.2 twice: the tie goes to the lower position, 0, so target 1 is missed
    assert got["recall@2"].tolist() == [0.5, 0.0]
    assert new_products.recommendation_metrics(scores, [np.array([2, 3]), np.array([0])], ks=(2,))["recall@2"].tolist() == [0.5, 1.0]


def test_planted_text_finds_the_buyers_and_the_factor_map_is_linear():
    """Text vectors that put the new milk beside the milks: the text scorer ranks the milk buyers first, while
    the activity baseline cannot tell anyone apart; a planted linear map from text to factors is recovered."""
    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, PARAMS)
    milk, pizza = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    vectors = {"m1": milk, "m2": milk, "p1": pizza, "p2": pizza, "n_milk": milk, "slow": np.array([0.0, 0.0, 1.0]),
               "n_pizza": pizza, "never": np.array([0.6, 0.8, 0.0])}
    text_scores = new_products.score_matrix("text", data, data.product_ids, vectors)
    got = new_products.targeting_metrics(text_scores, data.buyers, ks=(2,))
    assert got.loc[0, "recall@2"] == 1.0 and got.loc[0, "auc"] == 1.0
    heavy = new_products.targeting_metrics(new_products.score_matrix("heavy_buyers", data, data.product_ids), data.buyers, ks=(2,))
    assert heavy.loc[0, "auc"] == 0.5

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6))
    w = rng.normal(size=(6, 3))
    mapping = new_products.text_to_factor_map(x, x @ w, np.ones(200, bool), ridge=1e-6)
    assert np.allclose(mapping, w, atol=1e-4)


def test_evaluate_new_products_tables_and_the_seed_rule():
    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, PARAMS)
    vectors = {i: v for i, v in zip(["m1", "m2", "p1", "p2", "n_milk", "slow", "n_pizza", "never"], np.eye(8))}
    found = new_products.evaluate_new_products(data, {"frozen": vectors}, None, 50, 0)
    assert set(found["targeting"]["model"]) == {"heavy_buyers", "category_affinity", "type_brand_affinity", "text (frozen)"}
    assert "heavy_buyers" not in set(found["launches"]["model"])  # one score for every launch: no ranking
    assert found["targeting"]["products"].tolist() == [2] * 4 and found["launches"]["customers"].tolist() == [3] * 3

    tests = pd.DataFrame({"metric": "auc", "model_a": ["text (tuned seed 1)", "text (tuned seed 2)", "text (tuned seed 3)"],
                          "model_b": "text (frozen)", "diff": [0.02, 0.03, 0.01], "p_value": [0.001, 0.01, 0.02]})
    assert new_products.tuned_seeds_of([*tests["model_a"], "text_to_factors (tuned seed 9)", "text (frozen)"], "text") == [1, 2, 3]
    assert new_products.seed_verdicts(tests, [1, 2, 3], "auc", "text (frozen)")["verdict"] == "better"
    weak = tests.assign(p_value=[0.001, 0.2, 0.01])
    assert new_products.seed_verdicts(weak, [1, 2, 3], "auc", "text (frozen)")["verdict"] == "no difference we can detect"
    split = tests.assign(diff=[0.02, -0.03, 0.01])
    assert new_products.seed_verdicts(split, [1, 2, 3], "auc", "text (frozen)")["verdict"].startswith("seeds disagree")
    assert new_products.seed_verdicts(tests.assign(diff=-tests["diff"]), [1, 2, 3], "auc", "text (frozen)")["verdict"] == "worse"


def test_results_print_the_new_product_tables_and_verdicts(tmp_path):
    """``python -m shared results``' new-product block: every model's targeting recall@100 and AUC and launch
    recall@20 with intervals, from the run folder's files, and the verdicts in words with the seed rule."""
    from shared.report import results

    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, {**PARAMS, "new_product_min_buyers": 1})
    vectors = {i: v for i, v in zip(["m1", "m2", "p1", "p2", "n_milk", "slow", "n_pizza", "never"], np.eye(8))}
    found = new_products.evaluate_new_products(data, {"frozen": vectors, "tuned seed 1": vectors}, None, 50, 0,
                                               extra_tests=[("text (tuned seed 1)", "text (frozen)")])
    found["targeting"].to_csv(tmp_path / "new_product_targeting.csv", index=False)
    found["launches"].to_csv(tmp_path / "new_product_launches.csv", index=False)
    pd.concat([found["targeting_tests"].assign(direction="targeting"), found["launches_tests"].assign(direction="launches")],
              ignore_index=True).to_csv(tmp_path / "new_product_tests.csv", index=False)
    text = "\n".join(results._new_products(tmp_path))
    table = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| model")]
    assert len(table) == len(found["targeting"])
    for line in table:
        model, recall, auc, launch = [c.strip() for c in line.strip("|").split("|")]
        row = found["targeting"].set_index("model").loc[model]
        assert recall.startswith(f"{row['recall@100']:.3f}") and auc.startswith(f"{row['auc']:.3f}")
        assert launch == "not applicable" if model == "heavy_buyers" else launch.startswith(
            f"{found['launches'].set_index('model').loc[model, 'recall@20']:.3f}")
    assert "**New products.**" in text and "fine-tuned against frozen, text: **too few to judge**" in text

    empty = new_products.evaluate_new_products(new_products.new_product_sets(lines, catalogue, {**PARAMS, "new_product_min_buyers": 9}),
                                               {}, None, 50, 0)
    assert empty["targeting"].empty and "recall@100 low" in empty["targeting"] and "p_value" in empty["targeting_tests"]
    empty["targeting"].to_csv(tmp_path / "new_product_targeting.csv", index=False)
    assert results._new_products(tmp_path) == ["New products: none bought by enough customers in the test weeks to evaluate.", ""]


def test_text_to_factors_folds_customers_in_once_per_model():
    """The text-to-factor scores: customers' ALS vectors times the mapped product vectors; the customers are
    folded in once per fitted model and reused by every later call."""
    from shared import config
    from shared.models import build

    lines, catalogue = _shop()
    data = new_products.new_product_sets(lines, catalogue, PARAMS)
    als = build("als", {**config.load("smoke"), "als_factors": 2, "mf_min_item_count": 1}).fit(data.train)
    vectors = {i: v for i, v in zip(["m1", "m2", "p1", "p2", "n_milk", "slow", "n_pizza", "never"], np.eye(8))}
    got = new_products.score_matrix("text_to_factors", data, data.product_ids, vectors, als)
    users = als.customer_vectors(data.train.customers)
    mapping = new_products.text_to_factor_map(new_products.lookup(vectors, data.train.item_ids), als.item_factors, ~als.cold)
    tie = (data.activity / data.activity.max())[:, None] * 1e-6
    np.testing.assert_allclose(got, users @ (new_products.lookup(vectors, data.product_ids) @ mapping).T + tie, rtol=1e-5, atol=1e-7)
    assert data.customer_factors(als) is data.customer_factors(als)
