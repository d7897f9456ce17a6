"""The Spark engine: parity with the pandas engine on small data in ``local[2]``, and one clear line when
Spark cannot run.

Without Java (or pyspark) these tests are skipped with the reason; with ``BASKET_LAB_REQUIRE_SPARK=1`` (set
by ``.ci/run``) they fail instead, so CI always runs them.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import sparse

from shared import cleaning, data, evaluate, spark_session, split
from shared import mining as rules
from shared.mining import spark_fpgrowth
from shared.models import factorization, registry
from shared.spark_session import SparkSettings

from .conftest import run_cli, sales_csv

pytestmark = pytest.mark.spark

#: Top-10 metrics of one ALS fit move with its seed. Measured on the smoke data (hkv confidence, the smoke
#: profile's settings; implicit over seeds 0-7, Spark over seeds 0-4), the standard deviation over seeds was:
#: basket completion recall 0.0142 (implicit) / 0.0150 (Spark), NDCG 0.0084 / 0.0095; next basket recall
#: 0.0067 / 0.0035, NDCG 0.0058 / 0.0040. The gap between one implicit and one Spark fit then has a spread of
#: about 0.021, 0.013, 0.0075 and 0.0071: the former fixed 0.02 was one standard deviation, and failed on
#: some machines. Allowed: 5 of those standard deviations. A 10x wrong regularisation moves none of these
#: metrics by more than the seed noise, so the objective test below is the sharp check.
ALS_METRIC_TOLERANCE = {("basket_completion", "recall"): 0.10, ("basket_completion", "ndcg"): 0.065,
                        ("next_basket", "recall"): 0.04, ("next_basket", "ndcg"): 0.035}
#: Spark's objective (factorization.als_objective) at Spark's fit vs at a numpy ALS of it, smoke data, 16
#: factors, 15 iterations, als_regularization 5 (lambda 0.126 after the per-customer scaling, large enough to
#: matter; at the smoke default 0.05 the penalty is too small for a 10x error to show). Measured over seeds
#: 0-3 each: numpy 8670.2-8673.3, Spark 8670.7-8672.4, so the largest gap is 0.04%; a Spark fit with lambda
#: 10x too large is 59% worse, 10x too small 4.7% worse. Allowed: 1%.
ALS_OBJECTIVE_REGULARIZATION = 5.0
ALS_OBJECTIVE_TOLERANCE = 0.01


def both_engines(params: dict) -> tuple[cleaning.CleanResult, cleaning.CleanResult]:
    pandas_params = dict(params, engine="pandas")
    return cleaning.clean(data.load(pandas_params), pandas_params), cleaning.clean(data.load(params), params)


def assert_same_lines(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    for col in expected.columns:
        a, b = expected[col], got[col]
        if col == "timestamp":
            a, b = a.astype("datetime64[us]"), b.astype("datetime64[us]")
        pd.testing.assert_series_equal(a, b, check_dtype=False, obj=col)


def test_cleaning_gives_the_pandas_ledger_and_lines(spark_params):
    # product types (item-level mapping and merging): every data-quality step does some work (rare items and
    # the k-core are a fit-period vocabulary now, not cleaning); a sample of customers, drawn the same way
    params = dict(spark_params, item_level="product_type", kcore=2, sample_customers=250)
    expected, got = both_engines(params)
    pd.testing.assert_frame_equal(got.ledger, expected.ledger)
    assert expected.ledger["rows_dropped"].gt(0).sum() >= 4
    assert_same_lines(expected.lines, got.lines)
    pd.testing.assert_frame_equal(got.catalogue, expected.catalogue)
    by_reason = lambda r: r.groupby("reason").size()  # noqa: E731
    pd.testing.assert_series_equal(by_reason(got.rejected), by_reason(expected.rejected))


def test_file_source_reads_like_pandas(spark_params, tmp_path):
    params = sales_csv(spark_params, tmp_path / "sales.csv")
    expected, got = both_engines(params)
    pd.testing.assert_frame_equal(got.ledger, expected.ledger)
    assert "missing quantity" in set(got.ledger.loc[got.ledger["rows_dropped"] > 0, "reason"])
    assert_same_lines(expected.lines, got.lines)  # no timestamp: order of first appearance, as pandas


def test_bad_file_column_names_file_and_column(spark_params, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"b": ["1", "2"], "i": ["x", "y"], "q": ["1", "two"]}).to_csv(path, index=False)
    params = dict(spark_params, source="file", path=str(path), columns={"basket_id": "b", "item_id": "i", "quantity": "q"})
    with pytest.raises(data.DataError, match=r"bad\.csv: column 'q' must be numeric; 1 values are not \(e\.g\. 'two'\)"):
        data.load(params)
    with pytest.raises(data.DataError, match="column 'nope' named in 'columns' is not in the file"):
        data.load(dict(params, columns={"basket_id": "b", "item_id": "nope"}))


@pytest.fixture(scope="module")
def smoke_lines(spark_params) -> pd.DataFrame:
    params = dict(spark_params, engine="pandas")
    lines, _ = split.split_lines(cleaning.clean(data.load(params), params).lines, params)
    return lines


def test_spark_fpgrowth_finds_the_same_itemsets_and_rules(spark_params, smoke_lines):
    baskets = rules.baskets_of(smoke_lines)
    for support, max_len, min_count in ((0.005, None, 10), (0.002, 2, 3), (0.05, None, 200)):
        expected = rules.frequent_itemsets(baskets, support, max_len=max_len, min_count=min_count)
        got = rules.frequent_itemsets(baskets, support, max_len=max_len, min_count=min_count, engine="spark",
                                      spark=SparkSettings.from_params(spark_params))
        assert len(expected) > 0
        pd.testing.assert_frame_equal(got, expected)
        assert got.attrs["min_count_applied"] == expected.attrs["min_count_applied"]
    n = expected.attrs["n_baskets"]
    pd.testing.assert_frame_equal(rules.association_rules(got, n), rules.association_rules(expected, n))
    # baskets grouped by Spark from Spark lines, never collected: the same itemsets again
    lines = spark_session.from_pandas(spark_session.session(SparkSettings.from_params(spark_params)), smoke_lines[["basket_id", "item_id"]])
    got = rules.frequent_itemsets(spark_fpgrowth.baskets_of(lines), 0.005, engine="spark", spark=SparkSettings.from_params(spark_params))
    pd.testing.assert_frame_equal(got, rules.frequent_itemsets(baskets, 0.005))


def test_spark_fold_in_reproduces_spark_user_factors(spark_params):
    """Spark's last half-step solves every user's normal equations given the final item factors: folding the
    training users in again must give Spark's own user factors."""
    from pyspark.ml.recommendation import ALS

    session = spark_session.session(SparkSettings.from_params(spark_params))
    weights = sparse.random(60, 40, density=0.2, random_state=1, format="csr", dtype=np.float32)
    weights.data = (weights.data * 5 + 0.5).astype(np.float32)
    coo = weights.tocoo()
    ratings = session.createDataFrame(pa.table({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32), "rating": coo.data}))
    model = ALS(rank=5, maxIter=5, regParam=0.1, alpha=2.0, implicitPrefs=True, seed=1,
                userCol="user", itemCol="item", ratingCol="rating").fit(ratings)
    items, users = np.zeros((40, 5), np.float32), np.zeros((60, 5), np.float32)
    for table, out in ((model.itemFactors.toArrow(), items), (model.userFactors.toArrow(), users)):
        out[np.asarray(table.column("id").to_pylist())] = np.asarray(table.column("features").to_pylist())
    np.testing.assert_allclose(factorization.als_fold_in(weights, items, 0.1, 2.0), users, atol=1e-5)


def reference_als(weights, factors: int, regularization: float, alpha: float, iterations: int, seed: int):
    """A numpy ALS of Spark's objective: alternate exact half-steps (users, then items: the same normal
    equations with the matrix transposed), from unit-length random item factors as Spark starts."""
    items = np.random.default_rng(seed).normal(size=(weights.shape[1], factors))
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    by_item = weights.T.tocsr()
    for _ in range(iterations):
        items = factorization.als_fold_in(by_item, factorization.als_fold_in(weights, items, regularization, alpha), regularization, alpha)
    return factorization.als_fold_in(weights, items, regularization, alpha), items


def test_spark_als_reaches_the_objective_of_a_reference_solver(spark_params, smoke_lines):
    """What must be equal across engines is the objective, not a top-10 metric (see ALS_METRIC_TOLERANCE):
    Spark's fit, through :class:`SparkALS` (which rescales ``als_regularization`` for Spark), reaches the value
    a plain numpy ALS of the same objective reaches; a fit with lambda 10x off does not."""
    params = dict(spark_params, als_regularization=ALS_OBJECTIVE_REGULARIZATION, als_factors=16, als_iterations=15)
    train = evaluate.fit_interactions(smoke_lines, None, "test", params["min_item_count"], params["kcore"])
    model = registry.make_als(params).fit(train)
    assert isinstance(model, factorization.SparkALS) and not model.from_cache
    weights = model.weighting(train.customers)
    # lambda as the docs define it: als_regularization over the training customers' mean number of items
    lam = ALS_OBJECTIVE_REGULARIZATION * np.count_nonzero(np.diff(weights.indptr)) / weights.nnz
    alpha, factors = params["als_alpha"], params["als_factors"]

    def objective(items: np.ndarray) -> float:  # users solved exactly for the items, as a query is folded in
        return factorization.als_objective(weights, factorization.als_fold_in(weights, items, lam, alpha), items, lam, alpha)

    reference = factorization.als_objective(weights, *reference_als(weights, factors, lam, alpha, 15, seed=0), lam, alpha)
    gap = objective(model.item_factors) / reference - 1
    assert abs(gap) <= ALS_OBJECTIVE_TOLERANCE, (gap, reference)
    wrong = factorization.als_item_factors(weights, factors, 10 * lam, alpha, 15, params["seed"], SparkSettings.from_params(params))
    assert objective(wrong) / reference - 1 > 10 * ALS_OBJECTIVE_TOLERANCE  # the check has power: lambda 10x off fails it


def test_spark_als_metrics_match_implicit_within_seed_noise(spark_params, smoke_lines):
    scores = {}
    for engine in ("pandas", "spark"):  # the same objective: Spark has only confidence 1 + alpha * w
        params = dict(spark_params, engine=engine, bootstrap_samples=10, als_confidence="hkv")
        result = evaluate.evaluate(smoke_lines, None, params, ["als"], target="test", progress=False)
        assert not result.failures, result.failures
        board = result.leaderboard
        picked = board[board["metric"].isin(["ndcg", "recall"]) & (board["k"] == 10)]
        scores[engine] = picked.set_index(["task", "metric"])["value"]
    assert isinstance(registry.make_als(spark_params), factorization.SparkALS)
    assert (scores["pandas"] > 0.1).all()
    gap = (scores["spark"] - scores["pandas"]).abs()
    tolerance = pd.Series(ALS_METRIC_TOLERANCE).rename_axis(["task", "metric"])
    assert (gap <= tolerance.reindex(gap.index)).all(), pd.DataFrame({**scores, "tolerance": tolerance})


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["spark_master=spark://127.0.0.1:9"], "parameter 'spark_master': cannot reach the Spark master spark://127.0.0.1:9"),
        (["spark_master=banana"], "parameter 'spark_master': 'banana' is not a Spark master URL"),
    ],
)
def test_bad_master_is_one_line_before_anything_runs(spark_params, tmp_path, overrides, message):
    args = [a for o in ["engine=spark", *overrides] for a in ("-p", o)]
    proc = run_cli("run", "--profile", "smoke", *args, "--out", str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_java_is_one_line(tmp_path):
    env_home = tmp_path / "no-java"
    env_home.mkdir()
    proc = run_cli("run", "--profile", "smoke", "-p", "engine=spark", "--out", str(tmp_path / "out"),
                   env={"JAVA_HOME": str(env_home)}, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: engine=spark needs"), proc.stderr
    assert "Java" in lines[0] or "pyspark" in lines[0]
