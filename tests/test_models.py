"""The baselines on tiny hand-made baskets, the protocol's recommend, and recovery of planted pairs."""
import numpy as np
import pandas as pd
import pytest

from shared import config, models
from shared import mining
from shared.runner import preflight
from shared.models import item_knn
from shared.models.base import Interactions, recommend

DEFAULTS = config.load("default")

ITEMS = np.array(["a", "b", "c", "d", "e"])


def interactions(baskets):
    rows = [(f"b{i}", cust, item) for i, (cust, items) in enumerate(baskets) for item in items]
    lines = pd.DataFrame(rows, columns=["basket_id", "customer_id", "item_id"])
    return Interactions.from_lines(lines, ITEMS)


TRAIN = interactions([("u1", "ab"), ("u1", "ab"), ("u2", "abc"), ("u2", "c"), ("u3", "de"), ("u3", "a")])
IDX = {x: i for i, x in enumerate(ITEMS)}


def q(*items):
    return np.array([IDX[i] for i in items], dtype=np.int64)


def test_interactions_matrices():
    assert TRAIN.baskets.shape == (6, 5) and TRAIN.customers.shape == (3, 5)
    assert TRAIN.item_basket_counts.tolist() == [4, 3, 2, 1, 1]
    assert TRAIN.customers.toarray()[0].tolist() == [2, 2, 0, 0, 0]
    with pytest.raises(ValueError, match="no training interactions"):
        Interactions.from_lines(pd.DataFrame(columns=["basket_id", "customer_id", "item_id"]), ITEMS)


def test_popularity_ranks_by_basket_count_and_excludes_context():
    model = models.build("popularity", DEFAULTS).fit(TRAIN)
    recs = recommend(model, [q(), q()], [q(), q("a")], k=3)
    assert [ITEMS[r] for r in recs[0]] == ["a", "b", "c"]
    assert [ITEMS[r] for r in recs[1]] == ["b", "c", "d"]


def test_personal_frequency_uses_own_history_then_popularity():
    model = models.build("personal_frequency", DEFAULTS).fit(TRAIN)
    recs = recommend(model, [q("c", "c", "d")], [q()], k=4)
    assert [ITEMS[r] for r in recs[0]] == ["c", "d", "a", "b"]


def test_item_knn_cosine_by_hand():
    model = models.build("item_knn", {**DEFAULTS, "knn_weighting": "cosine", "knn_neighbours": 10}).fit(TRAIN)
    sim = model.similarity.toarray()
    # a and b together in 3 baskets; a in 4, b in 3: cosine 3 / sqrt(12)
    assert sim[IDX["a"], IDX["b"]] == pytest.approx(3 / np.sqrt(12))
    # pairs seen in only one basket are left out (min_pair_count = 2)
    assert sim[IDX["d"], IDX["e"]] == 0
    recs = recommend(model, [q()], [q("a")], k=1)
    assert ITEMS[recs[0, 0]] == "b"


def test_item_knn_lift_and_bad_settings():
    model = models.build("item_knn", {**DEFAULTS, "knn_weighting": "lift", "knn_neighbours": 10}).fit(TRAIN)
    assert model.similarity[IDX["a"], IDX["b"]] == pytest.approx(3 * 6 / (4 * 3))
    with pytest.raises(ValueError, match="knn_weighting"):
        item_knn.ItemKNN(weighting="jaccard")


def test_top_k_per_row_keeps_the_largest():
    from scipy import sparse

    m = sparse.csr_matrix(np.array([[0, 3, 1, 2], [5, 0, 0, 0]], dtype=float))
    kept = item_knn.top_k_per_row(m, 2).toarray()
    assert kept.tolist() == [[0, 3, 0, 2], [5, 0, 0, 0]]


def test_recommend_pads_with_minus_one_and_drops_non_finite():
    class Sparse:
        name = "sparse"

        def score(self, histories, contexts):
            s = np.full((len(histories), 5), -np.inf)
            s[:, 2] = 1.0
            s[:, 4] = np.nan
            return s

    recs = recommend(Sparse(), [q()], [q()], k=3)
    assert recs.tolist() == [[2, -1, -1]]


def test_top_k_is_the_sorted_brute_force_with_ties_in_item_order():
    """top_k against sorting every row by (-score, item index) with non-finite scores dropped: many ties (at the
    cut too), NaN, +-inf, rows with fewer finite scores than k, k above the catalogue size."""
    from shared.models.base import top_k

    rng = np.random.default_rng(3)
    for case in range(60):
        n_items = int(rng.integers(1, 40))
        scores = rng.integers(0, int(rng.choice([2, 5, 1000])), (int(rng.integers(1, 30)), n_items)).astype(np.float32)
        scores[rng.random(scores.shape) < 0.15] = np.nan
        scores[rng.random(scores.shape) < 0.1] = -np.inf
        scores[rng.random(scores.shape) < 0.05] = np.inf
        k = int(rng.choice([1, 3, 10, 50]))
        expected = np.full((len(scores), min(k, n_items)), -1)
        for r, row in enumerate(scores):
            finite = [i for i in np.lexsort((np.arange(n_items), -np.nan_to_num(row, nan=-np.inf, posinf=-np.inf)))
                      if np.isfinite(row[i])][:k]
            expected[r, : len(finite)] = finite
        assert np.array_equal(top_k(scores.copy(), k), expected), case


def test_unknown_model_is_a_parameter_error():
    with pytest.raises(config.ParameterError, match="unknown model 'magic'"):
        models.build("magic", DEFAULTS)
    with pytest.raises(config.ParameterError, match="parameter 'models'"):  # the runner checks names first
        preflight.check_names(config.load("smoke", overrides=["models=[popularity, magic]"]))


def test_highest_lift_pairs_recover_planted_pairs():
    from shared import synthetic

    gen = synthetic.generate(400, 200, 10, seed=5, noise=0.0)
    pairs = mining.frequent_pairs(gen.lines, 1e-9, min_count=10).head(40)
    found = {frozenset(p) for p in zip(pairs["item_a"], pairs["item_b"])}
    planted = [frozenset(items) for items in gen.patterns.loc[gen.patterns["kind"] == "pair", "items"]]
    assert sum(p in found for p in planted) / len(planted) >= 0.9


def test_rules_recommender_scores_by_the_best_matching_rule():
    # a -> b in 4 of 5 baskets with a; c -> d always; {a, c} never together
    baskets = [("u", "ab")] * 4 + [("u", "a")] + [("v", "cd")] * 3 + [("w", "e")] * 2
    train = interactions(baskets)
    model = models.build("rules", {**DEFAULTS, "rules_min_support": 0.1, "rules_min_confidence": 0.5, "min_count": 1}).fit(train)
    recs = recommend(model, [q(), q()], [q("a"), q("a", "c")], k=2)
    assert ITEMS[recs[0, 0]] == "b"  # confidence 0.8
    assert ITEMS[recs[1, 0]] == "d" and ITEMS[recs[1, 1]] == "b"  # 1.0 beats 0.8
    # next basket: no context, so the history's items are the antecedents
    recs = recommend(model, [q("c")], [q()], k=1)
    assert ITEMS[recs[0, 0]] == "d"
    with pytest.raises(ValueError, match="rules_score"):
        models.build("rules", {**DEFAULTS, "rules_score": "magic"})
