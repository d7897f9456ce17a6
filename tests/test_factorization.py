"""ALS and BPR over implicit: weighting, fold-in, cold items, bad settings, and learning real structure."""
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from shared import config, synthetic
from shared.config import ParameterError
from shared.models import build, factorization, recommend
from shared.models.base import Interactions


@pytest.fixture(scope="module")
def shop():
    gen = synthetic.generate(400, 150, 10, seed=3, noise=0.0)
    item_ids = np.sort(gen.lines["item_id"].unique())
    return gen, Interactions.from_lines(gen.lines, item_ids)


def small(**kw):
    return {**config.load("smoke"), "als_factors": 16, "bpr_factors": 16, "bpr_iterations": 30, **kw}


def test_bm25_weighting_by_hand():
    counts = sparse.csr_matrix(np.array([[2, 0, 1], [0, 1, 0]], dtype=np.float32))
    w = factorization.Weighting("bm25", k1=100, b=0.8).fit(counts)
    idf = np.log(2 / (1 + np.array([1, 1, 1])))
    assert w.idf.tolist() == pytest.approx(np.clip(idf, 0, None).tolist())
    counts3 = sparse.csr_matrix(np.array([[2, 0, 1], [0, 1, 0], [0, 0, 1]], dtype=np.float32))
    w = factorization.Weighting("bm25").fit(counts3)
    out = w(counts3).toarray()
    avg = 5 / 3
    norm0 = 100 * (1 - 0.8 + 0.8 * 3 / avg)
    idf0 = np.log(3 / 2)
    assert out[0, 0] == pytest.approx(2 * 101 / (norm0 + 2) * idf0, rel=1e-5)
    assert factorization.Weighting("log")(counts).toarray()[0, 0] == pytest.approx(np.log1p(2))
    with pytest.raises(ParameterError, match="mf_weighting"):
        factorization.Weighting("tfidf")


def test_als_fold_in_matches_training_factors(shop):
    gen, train = shop
    als = build("als", small(als_iterations=20)).fit(train)
    rows = als.weighting(train.customers[:20])
    folded = als.user_vectors(rows)
    trained = np.asarray(als.model.user_factors[:20])
    # the last half-step updates items after users, so folded and trained vectors are close, not equal
    cos = np.einsum("ij,ij->i", folded, trained) / (np.linalg.norm(folded, axis=1) * np.linalg.norm(trained, axis=1))
    assert np.median(cos) > 0.95
    assert len(als.curve) == 20 and als.curve[-1][2] < als.curve[0][2]  # the training loss falls


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_models_learn_the_planted_structure(shop, name):
    """Planted pairs: with one item in the basket, the partner must rank near the top."""
    gen, train = shop
    model = build(name, small(bpr_iterations=100)).fit(train)
    index = {x: i for i, x in enumerate(train.item_ids)}
    pairs = gen.patterns[gen.patterns["kind"] == "pair"]["items"]
    ranks = []
    for a, b in pairs:
        recs = recommend(model, [np.zeros(0, int)], [np.array([index[a]])], k=train.n_items)[0]
        ranks.append(int(np.flatnonzero(recs == index[b])[0]))
    assert np.median(ranks) < 15, ranks  # of 150 items


def test_new_customers_are_served_and_cold_items_fall_back(shop):
    gen, train = shop
    counts = train.item_basket_counts
    threshold = int(np.sort(counts)[10]) + 1  # at least ten cold items
    model = build("als", small(mf_min_item_count=threshold)).fit(train)
    assert model.cold.sum() >= 10
    scores = model.score([np.array([0, 1, 2]), np.zeros(0, int)], [np.zeros(0, int), np.zeros(0, int)])
    assert np.isfinite(scores).all()
    for row in scores:
        assert row[model.cold].max() < row[~model.cold].min()


def planted_shop():
    """Six items with known popularity (baskets holding each: a 9, b 7, c 5, d 4, e 3, f 2; no two tie) and
    two planted pairs, a+b and c+d; item IDs in reverse popularity order, so ID order is not popularity."""
    baskets = [("ab", 6), ("a", 3), ("b", 1), ("cd", 4), ("c", 1), ("e", 3), ("f", 2)]
    names = {x: f"item{9 - i}" for i, x in enumerate("abcdef")}  # a -> item9 ... f -> item4
    expanded = [items for items, times in baskets for _ in range(times)]
    rows = [(f"k{n}", f"u{n % 7}", names[x]) for n, items in enumerate(expanded) for x in items]
    lines = pd.DataFrame(rows, columns=["basket_id", "customer_id", "item_id"])
    item_ids = np.sort(lines["item_id"].unique())
    return Interactions.from_lines(lines, item_ids), names


def test_als_serves_a_query_without_history_by_popularity():
    """A zero user vector ties every item; ALS must fall back to popularity (the popularity model's exact
    top-k), not to item ID order, and leave queries with a history unchanged."""
    train, names = planted_shop()
    index = {x: list(train.item_ids).index(names[x]) for x in names}
    counts = train.item_basket_counts
    assert [counts[index[x]] for x in "abcdef"] == [9, 7, 5, 4, 3, 2]
    none = np.zeros(0, int)
    popular = recommend(build("popularity", small()).fit(train), [none], [none], k=6)[0]
    assert popular.tolist() == [index[x] for x in "abcdef"]
    model = build("als", small(als_factors=4, mf_min_item_count=1, als_iterations=10)).fit(train)
    with_history = ([np.array([index["a"]]), np.array([index["c"], index["e"]])], [none, np.array([index["d"]])])
    before = model.score(*with_history)
    # batches mixing empty and non-empty queries: the empty ones get popularity, the others their own scores
    scores = model.score([none, with_history[0][0], none, with_history[0][1]], [none, none, none, with_history[1][1]])
    np.testing.assert_array_equal(scores[[1, 3]], before)
    for row in (0, 2):
        assert np.argsort(-scores[row], kind="stable").tolist() == popular.tolist()
    recs = recommend(model, [none, none], [none, none], k=3)
    assert recs.tolist() == [popular[:3].tolist()] * 2
    # a history of cold items only folds in nothing either: popularity too
    cold = build("als", small(als_factors=4, mf_min_item_count=3, als_iterations=10)).fit(train)
    assert cold.cold[index["f"]] and not cold.cold[index["e"]]
    assert recommend(cold, [np.array([index["f"]])], [none], k=6)[0].tolist() == popular.tolist()


def test_spark_als_serves_a_query_without_history_by_popularity(monkeypatch):
    """The same fallback for Spark's ALS (it shares the scoring; Spark's fit replaced by fixed factors)."""
    from shared.models.factorization import spark_als
    from shared.spark_session import SparkSettings

    train, names = planted_shop()
    index = {x: list(train.item_ids).index(names[x]) for x in names}
    factors = np.random.default_rng(1).normal(size=(train.n_items, 4)).astype(np.float32)
    monkeypatch.setattr(spark_als, "als_item_factors", lambda user_items, spark, **settings: factors)
    monkeypatch.setattr(spark_als, "session", lambda settings: None)
    monkeypatch.setattr(spark_als, "blas_backends", lambda spark: {})
    settings = SparkSettings.from_params({**config.load("smoke"), "engine": "spark"})
    model = spark_als.SparkALS(spark=settings, factors=4, regularization=0.05, alpha=0.1, iterations=3, min_item_count=1).fit(train)
    none = np.zeros(0, int)
    popular = [index[x] for x in "abcdef"]
    assert recommend(model, [none], [none], k=6)[0].tolist() == popular
    history = [np.array([index["c"]])]
    users = spark_als.als_fold_in(model._query_matrix(history, [none]), factors, model.spark_regularization, model.alpha)
    np.testing.assert_allclose(model.score(history + [none], [none, none])[0], (users @ factors.T)[0], rtol=1e-6)


def test_bad_settings_name_the_parameter(shop):
    _, train = shop
    with pytest.raises(ParameterError, match="als_factors"):
        build("als", small(als_factors=0))
    with pytest.raises(ParameterError, match="bpr_learning_rate"):
        build("bpr", small(bpr_learning_rate=-1.0))
    with pytest.raises(ParameterError, match="als_factors"):
        config.load("smoke", overrides=["als_factors=0"])
    empty = Interactions(train.item_ids, train.customer_ids, train.baskets, sparse.csr_matrix(train.customers.shape),
                         train.basket_customer, train.lines)
    with pytest.raises(ParameterError, match="no training interactions"):
        build("als", small()).fit(empty)
    if not factorization.implicit_mf._gpu_available():
        with pytest.raises(ParameterError, match="mf_use_gpu"):
            build("als", small(mf_use_gpu=True))


def test_agreement_with_lift_and_factor_map(shop):
    gen, train = shop
    als = build("als", small()).fit(train)
    pairs = pd.DataFrame({"item_a": [train.item_ids[0], train.item_ids[1]], "item_b": [train.item_ids[2], train.item_ids[3]],
                          "lift": [2.0, 1.0]})
    scored, summary = factorization.agreement_with_lift(als, pairs, train.item_ids)
    assert len(scored) == summary["pairs"] == 2 and scored["cosine"].between(-1, 1).all()
    coords = factorization.factor_map(als, np.arange(30))
    assert coords.shape == (30, 2)
    assert np.allclose(coords.mean(axis=0), 0, atol=1e-8)


def test_spark_als_fit_is_kept_and_read_back_only_for_the_same_matrix_and_settings(shop, tmp_path, monkeypatch):
    """SparkALS keeps each fit under a key of (weighted matrix, settings): the same fit is read back, not
    refitted; another setting or other training data fits again. Spark itself is replaced by a counter here
    (tests/test_spark.py fits the real one)."""
    from shared.models.factorization import spark_als
    from shared.spark_session import SparkSettings

    gen, train = shop
    calls = []

    def fake_fit(user_items, factors, regularization, alpha, iterations, seed, spark):
        calls.append((user_items.nnz, factors, alpha))
        return np.random.default_rng(len(calls)).random((user_items.shape[1], factors)).astype(np.float32)

    monkeypatch.setattr(spark_als, "als_item_factors", fake_fit)
    monkeypatch.setattr(spark_als, "session", lambda settings: None)
    monkeypatch.setattr(spark_als, "blas_backends", lambda spark: {"blas": "JNIBLAS", "lapack": "JNILAPACK", "native": True})
    settings = SparkSettings.from_params({**config.load("smoke"), "engine": "spark"})

    def spark_model(**kw):
        return spark_als.SparkALS(spark=settings, cache=str(tmp_path / "cache"), factors=kw.get("factors", 8),
                                  regularization=0.05, alpha=kw.get("alpha", 0.1), iterations=3)

    first = spark_model().fit(train)
    again = spark_model().fit(train)
    assert len(calls) == 1 and not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.item_factors, again.item_factors)
    assert again.blas["native"] is True
    spark_model(alpha=0.3).fit(train)
    spark_model(factors=16).fit(train)
    fewer = Interactions.from_lines(gen.lines[gen.lines["customer_id"] != gen.lines["customer_id"].iat[0]], train.item_ids)
    spark_model().fit(fewer)
    assert len(calls) == 4
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 4 and not list((tmp_path / "cache").glob(".*"))


def test_spark_fold_in_solves_each_users_normal_equations(shop):
    """Spark's fold-in gives, for every user, the solution of the implicit-ALS normal equations written
    out as sums of outer products (empty rows stay zero)."""
    from shared.models.factorization import als_fold_in

    rng = np.random.default_rng(5)
    n_users, n_items, f = 60, 40, 6
    dense = rng.random((n_users, n_items)) * (rng.random((n_users, n_items)) < rng.random((n_users, 1)))
    dense[[3, 17]] = 0.0
    rows = sparse.csr_matrix(dense.astype(np.float32))
    y = rng.normal(size=(n_items, f)).astype(np.float32)
    lam, alpha = 0.05, 0.7
    want = np.zeros((n_users, f))
    for u in range(n_users):
        items = np.flatnonzero(dense[u])
        if not len(items):
            continue
        c = alpha * rows[u, items].toarray().ravel().astype(np.float64)
        yy = y.astype(np.float64)
        a = yy.T @ yy + sum(ci * np.outer(yy[i], yy[i]) for ci, i in zip(c, items)) + lam * len(items) * np.eye(f)
        want[u] = np.linalg.solve(a, sum((1 + ci) * yy[i] for ci, i in zip(c, items)))
    got = als_fold_in(rows, y, lam, alpha)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert not got[[3, 17]].any()


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_implicit_fits_are_kept_and_read_back_number_for_number(shop, tmp_path, monkeypatch, name):
    """ALS and BPR keep each fit under a key of (training matrix, settings) in ``mf_cache``: the same fit is read
    back without touching implicit and scores every query exactly as the fitted model did, training curve
    included; another setting fits again."""
    gen, train = shop
    params = small(mf_cache=str(tmp_path / "fits"))
    first = build(name, params).fit(train)
    histories = [np.array([0, 1, 2]), np.array([5]), np.array([], dtype=np.int64)]
    contexts = [np.array([3]), np.array([], dtype=np.int64), np.array([], dtype=np.int64)]
    expected = first.score(histories, contexts)

    def no_library(self):
        raise AssertionError("a kept fit must not refit")

    monkeypatch.setattr(type(first), "_fit_factors", no_library)
    again = build(name, params).fit(train)
    assert not first.from_cache and again.from_cache and again.curve == first.curve
    np.testing.assert_array_equal(again.score(histories, contexts), expected)
    monkeypatch.undo()
    other = build(name, small(mf_cache=str(tmp_path / "fits"), seed=7)).fit(train)
    assert not other.from_cache and len(list((tmp_path / "fits").glob("*.npz"))) == 2


def test_als_fold_in_is_implicits_recalculate_user(shop):
    """ALS folds users in by solving the same normal equations as implicit's ``recalculate_user`` (its Cholesky
    solver, float32), here in float64: the same vectors to float32 precision, empty rows zero."""
    gen, train = shop
    als = build("als", small()).fit(train)
    rows = als._query_matrix([np.array([0, 1, 2, 2]), np.array([], dtype=np.int64), np.array([5, 9])],
                             [np.array([3]), np.array([], dtype=np.int64), np.array([], dtype=np.int64)])
    ours = als.user_vectors(rows)
    theirs = np.asarray(als.model.recalculate_user(np.arange(3), als._training_matrix(rows)))
    assert not ours[1].any()
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=2e-4)
