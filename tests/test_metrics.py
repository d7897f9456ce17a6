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


# --- several training seeds ------------------------------------------------------------------------------------

def test_one_seed_gives_the_plain_bootstrap_number_for_number():
    rng = np.random.default_rng(3)
    a, b = rng.random(500), rng.random(500)
    assert metrics.seeded_bootstrap_ci(a[None, :], 300, seed=4) == metrics.bootstrap_ci(a, 300, seed=4)
    seeded = metrics.seeded_paired_bootstrap(a[None, :], b[None, :], 300, seed=4)
    plain = metrics.paired_bootstrap(a, b, 300, seed=4)
    assert {key: seeded[key] for key in plain} == plain
    assert seeded["seeds"] == 1 and seeded["seeds_agree"] and np.isnan(seeded["seed_sd"])


def test_seed_interval_without_query_noise_is_students_t_by_hand():
    # every query of a seed has the same value: the interval is the seed mean's alone, 0.2 +- t(2) * 0.1 / sqrt(3)
    values = np.repeat(np.array([[0.1], [0.2], [0.3]]), 400, axis=1)
    mean, low, high = metrics.seeded_bootstrap_ci(values, 40_000, seed=1)
    half = 4.302653 * 0.1 / math.sqrt(3)  # t(2) at 0.975
    assert mean == pytest.approx(0.2)
    assert mean - low == pytest.approx(half, rel=0.03) and high - mean == pytest.approx(half, rel=0.03)


def test_seed_spread_widens_the_interval_and_the_mean_is_over_seeds():
    rng = np.random.default_rng(5)
    base = rng.random(2000)
    same = np.stack([base, base, base])
    spread = np.stack([base - 0.02, base, base + 0.02])
    m0, lo0, hi0 = metrics.seeded_bootstrap_ci(same, 20_000, seed=2)
    m1, lo1, hi1 = metrics.seeded_bootstrap_ci(spread, 20_000, seed=2)
    assert m0 == pytest.approx(base.mean()) and m1 == pytest.approx(base.mean())
    assert (hi0 - lo0) == pytest.approx(np.subtract(*metrics.bootstrap_ci(base, 20_000, seed=2)[2:0:-1]))
    # queries' and seeds' errors combine: wider than the seeds' t interval alone (+-0.0497), narrower than the sum
    seeds_alone = 2 * 4.302653 * 0.02 / math.sqrt(3)
    assert 0.9 * seeds_alone > hi0 - lo0 and seeds_alone < hi1 - lo1 < seeds_alone + (hi0 - lo0)


def test_a_difference_needs_every_seed_to_agree_in_sign():
    from shared.report import judged

    rng = np.random.default_rng(6)
    b = rng.random(3000)
    # seeds 0.03, 0.03, 0.04 above: significant and agreeing
    agree = metrics.seeded_paired_bootstrap(np.stack([b + 0.03, b + 0.03, b + 0.04]), b[None, :], 2000, seed=1)
    assert agree["seeds"] == 3 and agree["seeds_agree"] and agree["p_value"] < 0.05
    assert agree["seed_diffs"] == "0.03;0.03;0.04" and agree["seed_sd"] == pytest.approx(np.std([0.03, 0.03, 0.04], ddof=1))
    assert judged(agree, better="helped", worse="hurt") == "helped"
    # one seed below: the seeds disagree, so nothing is stated, whatever the p-value
    split = metrics.seeded_paired_bootstrap(np.stack([b + 0.05, b + 0.05, b - 0.001]), b[None, :], 2000, seed=1)
    assert not split["seeds_agree"] and split["diff"] > 0
    assert judged(split, better="helped", worse="hurt") == "no difference we can detect (seed spread 0.0294 over 3 seeds)"
    significant_but_split = {"diff": 0.03, "p_value": 0.001, "seeds": 3, "seeds_agree": False, "seed_sd": 0.02}
    assert judged(significant_but_split) == "no difference we can detect (seed spread 0.0200 over 3 seeds; the seeds disagree in sign)"
    assert judged({**significant_but_split, "seeds": 1}) == "better"  # one seed: the p-value alone decides
    # seeds paired row by row: a shift that is the same for both models' seed cancels out
    offsets = np.array([[-0.2], [0.0], [0.2]])
    paired = metrics.seeded_paired_bootstrap(b + offsets + 0.01, b + offsets, 500, seed=1)
    assert paired["diff"] == pytest.approx(0.01) and paired["seed_sd"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="pairs seeds"):
        metrics.seeded_paired_bootstrap(np.stack([b, b, b]), np.stack([b, b]))


def test_customers_per_arm_by_hand():
    """n = (z_{1-a/2} + z_{1-b})^2 (s_a^2 + s_b^2) / delta^2 per arm, with z_0.975 = 1.959964 and z_0.8 = 0.841621
    from a normal table: (2.801585)^2 = 7.848879."""
    z2 = (1.959964 + 0.841621) ** 2
    assert metrics.customers_per_arm(0.02, 0.3, 0.25) == math.ceil(z2 * (0.3 ** 2 + 0.25 ** 2) / 0.02 ** 2) == 2993
    assert metrics.customers_per_arm(1.0, 1.0, 1.0) == 16  # Lehr's rule: 16 / d^2 per arm for an effect of one sd
    assert metrics.customers_per_arm(-0.02, 0.3, 0.25) == 2993  # two-sided: the sign does not matter
    assert metrics.customers_per_arm(0.0, 0.3, 0.25) == math.inf
    z2_90 = (1.959964 + 1.281552) ** 2  # power 90%
    assert metrics.customers_per_arm(0.1, 0.5, 0.5, power=0.9) == math.ceil(z2_90 * 0.5 / 0.01)
    with pytest.raises(ValueError):
        metrics.customers_per_arm(0.1, 0.5, 0.5, alpha=1.5)


def test_ab_sample_size_from_per_customer_values():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.55, 0.3, 5000), rng.normal(0.5, 0.25, 4000)
    b[:10] = np.nan  # left out
    plan = metrics.ab_sample_size(a, b)
    assert plan["customers"] == 3990
    assert plan["delta"] == pytest.approx(a.mean() - np.nanmean(b))
    assert plan["sd_a"] == pytest.approx(a.std(ddof=1)) and plan["sd_b"] == pytest.approx(np.nanstd(b, ddof=1))
    assert plan["per_arm"] == metrics.customers_per_arm(plan["delta"], plan["sd_a"], plan["sd_b"])
    assert 200 < plan["per_arm"] < 800  # (2.8)^2 * (0.09 + 0.0625) / 0.05^2 = 479 for the true values


def test_bootstrap_means_are_the_per_sample_means_of_the_draws():
    """Cached or drawn in chunks, the resampled means are NumPy's means of the drawn values, chunk by chunk of 50
    samples, the draws those of default_rng(seed): the same numbers on every machine, cached or not."""
    values = np.random.default_rng(1).random((2, 301))
    rng = np.random.default_rng(9)
    idx = np.concatenate([rng.integers(0, 301, size=(min(50, 120 - s), 301)) for s in range(0, 120, 50)])
    expected = np.concatenate([values[:, idx[s : s + 50]].mean(axis=2) for s in range(0, 120, 50)], axis=1)
    assert np.array_equal(metrics._resampled_means(values, 120, 9), expected)
    assert np.array_equal(metrics._resampled_means(values, 120, 9), expected)  # from the cache
    limit = metrics.CACHED_DRAWS
    try:
        metrics.CACHED_DRAWS = 10  # too many to keep: drawn chunk by chunk
        assert np.array_equal(metrics._resampled_means(values, 120, 9), expected)
    finally:
        metrics.CACHED_DRAWS = limit
