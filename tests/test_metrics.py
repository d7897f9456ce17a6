"""Each metric against values computed by hand on tiny cases."""
import math

import numpy as np
import pytest

from shared import metrics

L2 = lambda r: 1 / math.log2(r + 2)  # noqa: E731  discount at 0-based rank r


def test_ranking_metrics_by_hand():
    recs = np.array([[5, 1, 7, 2], [3, 4, 6, 8], [9, -1, -1, -1]])
    targets = [np.array([1, 2]), np.array([0]), np.array([9, 5, 6])]
    at4 = metrics.ranking(recs, targets, 4)
    # query 0: hits at ranks 1 and 3 (0-based) of 2 relevant
    assert at4["recall"][0] == pytest.approx(1.0)
    assert at4["ndcg"][0] == pytest.approx((L2(1) + L2(3)) / (L2(0) + L2(1)))
    assert at4["mrr"][0] == pytest.approx(1 / 2) and at4["hit_rate"][0] == 1
    # query 1: no hit
    assert at4["recall"][1] == 0 and at4["ndcg"][1] == 0 and at4["mrr"][1] == 0 and at4["hit_rate"][1] == 0
    # query 2: a short list (one item) still counts; 1 of 3 relevant found at rank 0
    assert at4["recall"][2] == pytest.approx(1 / 3)
    assert at4["ndcg"][2] == pytest.approx(L2(0) / (L2(0) + L2(1) + L2(2)))
    at2 = metrics.ranking(recs, targets, 2)
    assert at2["recall"][0] == pytest.approx(0.5)
    assert at2["ndcg"][0] == pytest.approx(L2(1) / (L2(0) + L2(1)))


def test_empty_list_scores_zero_and_empty_target_is_refused():
    out = metrics.ranking(np.full((1, 3), -1), [np.array([4])], 3)
    assert all(v[0] == 0 for v in out.values())
    with pytest.raises(ValueError, match="non-empty target"):
        metrics.ranking(np.array([[1, 2]]), [np.array([], dtype=int)], 2)


def test_item_minus_one_never_matches_a_target():
    assert not metrics.hit_matrix(np.array([[-1, 3]]), [np.array([3])])[0, 0]


def test_coverage_novelty_diversity_by_hand():
    recs = np.array([[0, 1, 2], [0, 1, -1]])
    assert metrics.coverage(recs, 3, 10) == pytest.approx(0.3)
    assert metrics.coverage(recs, 1, 10) == pytest.approx(0.1)
    info = metrics.self_information(np.array([50, 25, 0, 100]), 100)
    assert info.tolist() == pytest.approx([1.0, 2.0, math.log2(100), 0.0])
    nov = metrics.novelty(recs, 3, info)
    assert nov[0] == pytest.approx((1 + 2 + math.log2(100)) / 3) and nov[1] == pytest.approx(1.5)
    cats = np.array([0, 0, 1, 2])
    div = metrics.diversity(recs, 3, cats)
    assert div[0] == pytest.approx(2 / 3)  # pairs (0,1) same, (0,2) and (1,2) differ
    assert div[1] == pytest.approx(0.0)
    assert np.isnan(metrics.diversity(np.array([[3, -1, -1]]), 3, cats)[0])


def test_bootstrap_interval_contains_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small = rng.random(100)
    big = rng.random(10_000)
    m, lo, hi = metrics.bootstrap_ci(small, 500, seed=1)
    assert lo < m < hi and m == pytest.approx(small.mean())
    _, lo2, hi2 = metrics.bootstrap_ci(big, 500, seed=1)
    assert hi2 - lo2 < (hi - lo) / 5
    # the standard error of a mean of uniforms is sqrt(1/12/n): the 95% interval is about 4 of them wide
    assert hi2 - lo2 == pytest.approx(3.92 * math.sqrt(1 / 12 / 10_000), rel=0.15)
    assert metrics.bootstrap_ci(np.array([np.nan, 1.0, 1.0]))[0] == 1.0


def test_paired_bootstrap_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    a = rng.random(2000)
    shifted = metrics.paired_bootstrap(a + 0.05, a + rng.normal(0, 0.01, 2000), 500, seed=2)
    assert shifted["diff"] == pytest.approx(0.05, abs=0.002) and shifted["p_value"] < 0.01
    assert shifted["ci_low"] > 0
    same = metrics.paired_bootstrap(a, a[rng.permutation(2000)], 500, seed=2)
    assert same["p_value"] > 0.05
    with pytest.raises(ValueError, match="same queries"):
        metrics.paired_bootstrap(a, a[:10])


def test_too_few_queries_give_no_interval_and_no_verdict():
    from shared.report import p_text, versus

    one = metrics.paired_bootstrap(np.array([0.5]), np.array([0.0]), 100, seed=0)
    assert one["n"] == 1 and np.isnan(one["p_value"]) and np.isnan(one["ci_low"])  # was p = 0, a zero-width interval
    mean, low, high = metrics.bootstrap_ci(np.ones(metrics.MIN_QUERIES - 1))
    assert mean == 1.0 and np.isnan(low) and np.isnan(high)
    assert "too few queries" in p_text(one["p_value"])
    import pandas as pd

    table = versus(pd.DataFrame([{"task": "t", "metric": "ndcg@10", "model_a": "a", "model_b": "b", **one}]), "b")
    assert table["verdict"].tolist() == ["too few queries to judge"]
