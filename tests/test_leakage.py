"""The test weeks decide nothing: vocabulary, fitted models and validation choices depend on fit-period lines
only; items a model could not know stay in the targets as misses; no item index is ever -1."""
import numpy as np
import pandas as pd
import pytest

from shared import cleaning, config, data, evaluate, metrics, split, tuning
from shared.models import build, factorization


@pytest.fixture(scope="module")
def smoke():
    params = config.load("smoke")
    res = cleaning.clean(data.load(params), params)
    lines, _ = split.split_lines(res.lines, params)
    return params, lines, res.catalogue


def changed_test_weeks(lines: pd.DataFrame) -> pd.DataFrame:
    """The same data with only test-week lines changed: rare new items added, some items removed."""
    test = lines[lines["split"] == "test"]
    dropped_items = set(test["item_id"].value_counts().index[:5])
    kept = lines[~((lines["split"] == "test") & lines["item_id"].isin(dropped_items))]
    baskets = test.drop_duplicates("basket_id").head(40)
    added = baskets.assign(item_id=[f"brand-new-{i % 3}" for i in range(len(baskets))])
    return pd.concat([kept, added], ignore_index=True)


def test_vocabulary_is_recomputed_from_fit_lines_alone(smoke):
    params, lines, _ = smoke
    for target in ("validation", "test"):
        vocab = split.vocabulary(lines, target, params["min_item_count"], params["kcore"])
        fit = split.fit_lines(lines, target)
        counts = fit.groupby("item_id")["basket_id"].nunique()
        assert vocab.tolist() == sorted(counts.index[counts >= params["min_item_count"]])
        assert split.vocabulary(changed_test_weeks(lines), target, params["min_item_count"], params["kcore"]).tolist() == vocab.tolist()


def test_changing_test_weeks_changes_no_fitted_model_and_no_validation_choice(smoke):
    params, lines, catalogue = smoke
    other = changed_test_weeks(lines)
    for target in ("validation", "test"):
        a = evaluate.fit_interactions(lines, catalogue, target, params["min_item_count"], params["kcore"])
        b = evaluate.fit_interactions(other, catalogue, target, params["min_item_count"], params["kcore"])
        assert a.item_ids.tolist() == b.item_ids.tolist()
        assert (a.customers != b.customers).nnz == 0 and (a.baskets != b.baskets).nnz == 0
    train = evaluate.fit_interactions(lines, catalogue, "test", params["min_item_count"], params["kcore"])
    changed = evaluate.fit_interactions(other, catalogue, "test", params["min_item_count"], params["kcore"])
    als_a, als_b = build("als", params).fit(train), build("als", params).fit(changed)
    np.testing.assert_array_equal(als_a.item_factors, als_b.item_factors)
    grid = {"knn_weighting": ["cosine", "lift"]}
    table_a, best_a = tuning.validation_sweep(lines, catalogue, params, "item_knn", grid, progress=False)
    table_b, best_b = tuning.validation_sweep(other, catalogue, params, "item_knn", grid, progress=False)
    assert best_a == best_b
    pd.testing.assert_frame_equal(table_a.drop(columns="seconds"), table_b.drop(columns="seconds"))


def test_unknown_target_items_stay_as_misses_and_contexts_drop_them(smoke):
    params, lines, catalogue = smoke
    other = changed_test_weeks(lines)
    train = evaluate.fit_interactions(other, catalogue, "test", params["min_item_count"], params["kcore"])
    tasks = split.build_tasks(other, train.item_ids, "test", params["seed"])
    nxt = tasks["next_basket"]
    n = train.n_items
    assert nxt.n_items == n and all(t.min() >= 0 for t in nxt.targets if len(t))
    unknown = [t[t >= n] for t in nxt.targets]
    assert sum(len(u) for u in unknown) > 0
    assert set(nxt.item_ids[np.concatenate(unknown)]) >= {"brand-new-0"}
    # every target item of the raw test basket is there, known or not
    test = other[other["split"] == "test"]
    for i in range(0, len(nxt), 37):
        basket = test.loc[test["basket_id"] == nxt.basket_id[i], "item_id"]
        assert sorted(nxt.item_ids[nxt.targets[i]]) == sorted(basket)
    assert all((c < n).all() for c in tasks["basket_completion"].contexts)
    als = build("als", params).fit(train)  # code that indexes item arrays by target must skip unreachable ones
    touched = factorization.cold_queries(als, nxt)
    assert touched["unreachable_target"] == sum((t >= n).any() for t in nxt.targets) > 0
    # a perfect ranking of the known targets cannot reach recall 1 where unknown targets exist
    result = evaluate.evaluate(other, catalogue, {**params, "bootstrap_samples": 20}, ["popularity"], progress=False)
    table = evaluate.unreachable_targets(result, 10).set_index("task")
    assert table.loc["next_basket", "unreachable"] > 0
    assert table.loc["next_basket", "recall@10_ceiling"] < 1.0


def test_no_false_hit_for_the_previous_query():
    # with -1 as a target, query 1's key (1 * big - 1) equals query 0's key for the largest item (big - 1)
    recs = np.array([[4, 0], [1, 2]])
    with pytest.raises(ValueError, match="negative"):
        metrics.hit_matrix(recs, [np.array([3]), np.array([-1])])
    # an unreachable target (an index past the catalogue) is simply a miss
    hits = metrics.hit_matrix(recs, [np.array([3]), np.array([5])])
    assert not hits.any()
    assert metrics.ranking(recs, [np.array([4, 9]), np.array([1])], 2)["recall"].tolist() == [0.5, 1.0]
