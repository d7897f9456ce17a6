"""Tasks, the evaluation loop, failures, and agreement with an independent recomputation."""
import numpy as np
import pandas as pd
import pytest

from shared import cleaning, config, data, evaluate, mining, report, split, tuning
from shared.runner import preflight
from shared.config import ParameterError


@pytest.fixture(scope="module")
def smoke_lines(smoke_params):
    ds = data.load(smoke_params)
    res = cleaning.clean(ds, smoke_params)
    lines, _ = split.split_lines(res.lines, smoke_params)
    return lines, res.catalogue


def test_tasks_use_only_the_past_and_hide_one_item(smoke_lines, smoke_params):
    lines, _ = smoke_lines
    items = np.sort(lines["item_id"].unique())  # every item known: contexts and targets are the whole basket
    tasks = split.build_tasks(lines, items, "test", seed=1)
    comp, nxt = tasks["basket_completion"], tasks["next_basket"]
    test = lines[lines["split"] == "test"]
    sizes = test.groupby("basket_id").size()
    assert len(comp) == (sizes >= 2).sum()
    assert all(len(t) == 1 for t in comp.targets)
    for i in range(0, len(comp), 97):
        basket = set(test.loc[test["basket_id"] == comp.basket_id[i], "item_id"])
        assert set(items[comp.contexts[i]]) | set(items[comp.targets[i]]) == basket
        assert not set(items[comp.targets[i]]) & set(items[comp.contexts[i]])
    assert len(nxt) == test["customer_id"].nunique()
    # histories hold only the fit period (train + validation for test queries)
    fit = lines[lines["split"] != "test"]
    c = nxt.customer_id[0]
    assert len(nxt.histories[0]) == (fit["customer_id"] == c).sum()
    val_tasks = split.build_tasks(lines, items, "validation", seed=1)
    train = lines[lines["split"] == "train"]
    c = val_tasks["next_basket"].customer_id[0]
    assert len(val_tasks["next_basket"].histories[0]) == (train["customer_id"] == c).sum()


@pytest.fixture(scope="module")
def smoke_evaluation(smoke_lines, smoke_params) -> evaluate.Evaluation:
    """Every smoke model evaluated on the test weeks once, for the tests that read an evaluation."""
    lines, catalogue = smoke_lines
    return evaluate.evaluate(lines, catalogue, smoke_params, progress=False)


def test_leaderboard_agrees_with_independent_recomputation(smoke_lines, smoke_params, smoke_evaluation, tmp_path):
    lines, catalogue = smoke_lines
    result = smoke_evaluation
    board = result.leaderboard
    assert list(board.columns[:7]) == ["model", "task", "k", "metric", "value", "ci_low", "ci_high"]
    assert set(board["model"]) == set(smoke_params["models"])
    assert set(board["task"]) == {"basket_completion", "next_basket"}
    main = board[board["metric"].isin(["recall", "ndcg"])]
    assert (main["ci_low"] <= main["value"]).all() and (main["value"] <= main["ci_high"]).all()

    report.write_evaluation(tmp_path, result, evaluate.paired_tests(result, n_boot=50))
    recs = pd.read_parquet(tmp_path / "data/recommendations.parquet")
    for task in ("basket_completion", "next_basket"):
        queries = pd.read_parquet(tmp_path / f"data/queries_{task}.parquet")
        for model in ("popularity", "item_knn", "rules", "als", "bpr"):
            top = recs[(recs["model"] == model) & (recs["task"] == task) & (recs["rank"] <= 10)]
            lists = top.groupby("query")["item_id"].agg(list)
            recall, hits = [], []
            for qid, target in zip(queries["query"], queries["target"]):
                shown = lists.get(qid, [])
                found = len(set(shown) & set(target))
                recall.append(found / len(target))
                hits.append(found > 0)
            got = board.set_index(["model", "task", "k", "metric"])["value"]
            assert got[(model, task, 10, "recall")] == pytest.approx(np.mean(recall))
            assert got[(model, task, 10, "hit_rate")] == pytest.approx(np.mean(hits))
    # popularity recommends the same most-bought items to everyone (context aside)
    train = lines[lines["split"] != "test"]
    most = train.groupby("item_id")["basket_id"].nunique().sort_values(ascending=False, kind="stable")
    first = recs[(recs["model"] == "popularity") & (recs["task"] == "next_basket") & (recs["query"] == 0)]
    assert set(first["item_id"].head(3)) == set(most.index[:3])


def test_failing_model_is_reported_and_others_still_run(smoke_lines, smoke_params):
    lines, catalogue = smoke_lines

    class Broken:
        name = "broken"

        def fit(self, train):
            raise RuntimeError("out of cheese")

    factories = {"broken": lambda p: Broken()}
    result = evaluate.evaluate(lines, catalogue, {**smoke_params, "bootstrap_samples": 20}, ["broken", "popularity"],
                               factories=factories, progress=False)
    board = result.leaderboard
    failed = board[board["model"] == "broken"]
    assert (failed["metric"] == "failed").all() and failed["note"].str.contains("out of cheese").all()
    assert (board.loc[board["model"] == "popularity", "metric"] == "recall").any()
    assert "broken" in result.failures


def test_unknown_metric_is_a_parameter_error(smoke_lines, smoke_params):
    with pytest.raises(ParameterError, match="unknown metric 'accuracy'"):
        evaluate.evaluate(*smoke_lines, {**smoke_params, "metrics": ["accuracy"]}, progress=False)
    with pytest.raises(ParameterError, match="parameter 'metrics'"):  # the runner checks names before any notebook
        preflight.check_names(config.load("smoke", overrides=["metrics=[recall, accuracy]"]))


def test_personal_frequency_beats_popularity_on_repeat_buyers(smoke_lines, smoke_params):
    """The synthetic shop plants repeat buying: a customer's own history must help next-basket ranking."""
    lines, catalogue = smoke_lines
    result = evaluate.evaluate(lines, catalogue, {**smoke_params, "bootstrap_samples": 100}, ["popularity", "personal_frequency"], progress=False)
    tests = evaluate.paired_tests(result, "ndcg", 10, 200)
    row = tests[tests["task"] == "next_basket"].iloc[0]
    assert row["model_a"] == "popularity" and row["diff"] < 0 and row["p_value"] < 0.05


def test_validation_sweep_never_touches_test(smoke_lines, smoke_params):
    lines, catalogue = smoke_lines
    no_test = lines[lines["split"] != "test"]
    table, best = tuning.validation_sweep(no_test, catalogue, smoke_params, "item_knn", {"knn_weighting": ["cosine", "lift"]}, progress=False)
    assert set(table["knn_weighting"]) == {"cosine", "lift"} and best["knn_weighting"] in {"cosine", "lift"}
    full, best_full = tuning.validation_sweep(lines, catalogue, smoke_params, "item_knn", {"knn_weighting": ["cosine", "lift"]}, progress=False)
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), full.drop(columns="seconds"))
    assert best == best_full


def test_stakeholder_summary_states_the_numbers(smoke_lines, smoke_evaluation):
    lines, catalogue = smoke_lines
    result = smoke_evaluation
    tests = evaluate.paired_tests(result, "ndcg", 10, 100)
    pairs = mining.frequent_pairs(lines[lines["split"] != "test"], 1e-9, min_count=10).head(10)
    text = report.stakeholder_summary(result.leaderboard, tests, pairs, catalogue)
    assert "Products that go together" in text and "How sure we are" in text
    best_pair = report.named_pairs(pairs, catalogue).iloc[0]
    assert best_pair["product_a"] in text and f"{best_pair['lift']:.1f}x" in text
    ndcg = result.leaderboard.query("metric == 'ndcg' and k == 10 and task == 'next_basket'")
    assert f"{ndcg['value'].max():.3f}" in text


def test_index_lists_failed_models(tmp_path):
    board = pd.DataFrame([
        {"model": "popularity", "task": "next_basket", "k": 10, "metric": "ndcg", "value": 0.1, "ci_low": 0.09, "ci_high": 0.11, "note": ""},
        {"model": "broken", "task": "next_basket", "k": np.nan, "metric": "failed", "value": np.nan, "ci_low": np.nan,
         "ci_high": np.nan, "note": "RuntimeError: out of cheese"},
    ])
    report.write_csv(board, tmp_path / "leaderboard.csv")
    page = report.write_index(tmp_path, {"parameters": {"profile": "smoke"}}, []).read_text()
    assert "broken failed on next_basket: RuntimeError: out of cheese" in page
    assert 'id="key-findings"' in page and "bestsellers" in page and "popularity" in page


def test_tune_and_evaluate_is_the_sweeps_then_the_test_evaluation(smoke_lines, smoke_params):
    """Notebook 05's one call: each grid of a model the run evaluates is swept on validation (the same table
    and choice as the sweep alone), the choice is in force for the test evaluation (the same leaderboard as a
    plain evaluate with it), and models that cannot run are left out with their reason."""
    lines, catalogue = smoke_lines
    lines = lines.assign(customer_id=lines["basket_id"])  # every basket its own customer: no sequences, no next_basket
    grid = {"knn_weighting": ["cosine", "lift"]}
    params = {**smoke_params, "models": ["popularity", "item_knn", "text_knn", "sasrec"], "text_embeddings": None,
              "validation_grids": {"item_knn": grid, "text_knn": {"text_knn_decay": [0.5, 0.9]}, "repeat": {"repeat_decay": [0.9]}}}
    judged = tuning.tune_and_evaluate(lines, catalogue, params, has_customer=False, k=10, progress=False)
    assert params["models"] == ["popularity", "item_knn", "text_knn", "sasrec"]  # the caller's parameters unchanged
    assert list(judged.sweeps) == ["item_knn"]  # text_knn has no text vectors, repeat is not in the run
    assert judged.missing == ["text_knn"] and sorted(judged.not_applicable) == ["next_basket", "sasrec"]
    assert "no customer column" in judged.not_applicable["sasrec"]
    assert judged.result.models == ["popularity", "item_knn"] and judged.params["models"] == ["popularity", "item_knn"]
    table, best = tuning.validation_sweep(lines, catalogue, params, "item_knn", grid, progress=False)
    pd.testing.assert_frame_equal(judged.sweeps["item_knn"].drop(columns="seconds"), table.drop(columns="seconds"))
    assert judged.tuned_here == best and judged.params["knn_weighting"] == best["knn_weighting"]
    plain = evaluate.evaluate(lines, catalogue, {**params, **best, "models": ["popularity", "item_knn"]}, progress=False)
    pd.testing.assert_frame_equal(judged.result.leaderboard, plain.leaderboard)
    pd.testing.assert_frame_equal(judged.tests, evaluate.paired_tests(plain, "ndcg", 10, params["bootstrap_samples"], params["seed"]))
    pd.testing.assert_frame_equal(judged.new_tests, evaluate.paired_tests(plain, "ndcg_new", 10, params["bootstrap_samples"], params["seed"]))


def test_trained_models_are_judged_on_every_seed_and_their_mean(smoke_lines, smoke_params, tmp_path):
    """n_seeds: the seeded model is trained once per seed (each its own weights), its leaderboard value is the
    mean over seeds, every seed's value is kept, and paired tests pair the seeds."""
    lines, catalogue = smoke_lines
    params = {**smoke_params, "n_seeds": 2, "sasrec_epochs": 1}
    result = evaluate.evaluate(lines, catalogue, params, ["personal_frequency", "sasrec"], progress=False)
    board, seeds = result.leaderboard, result.seed_board
    assert set(board.loc[board["model"] == "sasrec", "seeds"]) == {2}
    assert set(board.loc[board["model"] == "personal_frequency", "seeds"]) == {1}
    seed = smoke_params["seed"]
    assert set(seeds["model"]) == {"sasrec"} and sorted(seeds["seed"].unique()) == [seed, seed + 1]
    assert list(seeds.columns) == ["model", "seed", "task", "k", "metric", "value"]
    for task in result.tasks:
        frames = result.seed_per_query[("sasrec", task, 10)]
        assert len(frames) == 2 and not np.array_equal(frames[0]["ndcg"], frames[1]["ndcg"])  # two trainings
        by_seed = seeds[(seeds["task"] == task) & (seeds["k"] == 10) & (seeds["metric"] == "ndcg")].sort_values("seed")["value"]
        assert by_seed.tolist() == pytest.approx([f["ndcg"].mean() for f in frames])
        row = board[(board["model"] == "sasrec") & (board["task"] == task) & (board["k"] == 10) & (board["metric"] == "ndcg")].iloc[0]
        assert row["value"] == pytest.approx(by_seed.mean())
        assert row["seed_sd"] == pytest.approx(np.std(by_seed, ddof=1))
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    tests = evaluate.paired_tests(result, "ndcg", 10, 100, seed)
    assert set(tests["seeds"]) == {2}
    for t in tests.itertuples():
        per_seed = [float(d) for d in t.seed_diffs.split(";")]
        frames = [result.seed_per_query[("personal_frequency", t.task, 10)][0]["ndcg"] - f["ndcg"]
                  for f in result.seed_per_query[("sasrec", t.task, 10)]]
        assert per_seed == pytest.approx([f.mean() for f in frames], rel=1e-5)
        assert t.seeds_agree == (len({np.sign(d) for d in per_seed}) == 1)
    report.write_evaluation(tmp_path, result, tests)
    written = pd.read_csv(tmp_path / "leaderboard_seeds.csv")
    assert len(written) == len(seeds) and set(written["seed"]) == {seed, seed + 1}


@pytest.mark.slow  # worker processes start a fresh interpreter each
def test_models_ranked_in_worker_processes_give_the_same_leaderboard(smoke_lines, smoke_params):
    """eval_workers: the models fitted and ranked in two one-thread processes, a model given as a factory (a
    lambda, which need not pickle) here; the leaderboard is the one of the same evaluation in one process, and a
    model that fails in a worker is still reported as failed with its error."""
    lines, catalogue = smoke_lines

    class Broken:
        name = "broken"

        def fit(self, train):
            raise RuntimeError("planted failure")

    names = ["popularity", "personal_frequency", "item_knn", "repeat", "als", "broken"]
    factories = {"broken": lambda p: Broken()}
    apart = evaluate.evaluate(lines, catalogue, {**smoke_params, "als_iterations": 3}, names, factories=factories, progress=False,
                              workers=2)
    again = evaluate.evaluate(lines, catalogue, {**smoke_params, "als_iterations": 3}, names, factories=factories, progress=False,
                              workers=1)
    pd.testing.assert_frame_equal(apart.leaderboard, again.leaderboard)
    assert "planted failure" in apart.failures["broken"] and set(apart.failures) == {"broken"}
    # a failure inside a worker process: the error comes back, the others are evaluated
    failing = evaluate.evaluate(lines, catalogue, {**smoke_params, "knn_neighbours": 0}, ["popularity", "item_knn"],
                                progress=False, workers=2)
    assert set(failing.failures) == {"item_knn"} and "popularity" in set(failing.leaderboard["model"])


def test_sweeps_run_in_stages_parts_before_the_models_built_from_them(smoke_lines, smoke_params):
    """Stages: a combined model after every stage tuning one of its parts, the others together; and several
    sweeps in one evaluation give each model the table and choice of its sweep alone."""
    assert tuning.sweep_stages(["item_knn", "repeat", "tifu_knn", "repeat_explore", "sasrec_repeat"]) == [
        ["item_knn", "repeat", "tifu_knn"], ["repeat_explore", "sasrec_repeat"]]
    assert tuning.sweep_stages(["repeat_explore", "item_knn"]) == [["repeat_explore", "item_knn"]]  # no part tuned
    assert tuning.sweep_stages(["tifu_knn", "repeat_explore", "repeat"]) == [["tifu_knn", "repeat"], ["repeat_explore"]]
    assert tuning.sweep_stages(["repeat_explore", "repeat", "tifu_knn"]) == [["repeat", "tifu_knn"], ["repeat_explore"]]
    assert tuning.sweep_stages([]) == []
    lines, catalogue = smoke_lines
    grids = {"item_knn": {"knn_weighting": ["cosine", "lift"]}, "repeat": {"repeat_decay": [0.5, 0.9]},
             "popularity": {"max_queries": [40, 0]}}
    together = tuning.validation_sweeps(lines, catalogue, smoke_params, grids, progress=False)
    assert list(together) == list(grids)
    for model, grid in grids.items():
        table, best = tuning.validation_sweep(lines, catalogue, smoke_params, model, grid, progress=False)
        pd.testing.assert_frame_equal(together[model][0].drop(columns="seconds"), table.drop(columns="seconds"))
        assert together[model][1] == best


def test_a_validation_sweep_ranks_every_setting_on_the_same_queries(smoke_lines, smoke_params):
    """The sweep is one evaluation with a variant per setting (side by side with eval_workers); a grid over a
    parameter that changes the queries is evaluated setting by setting instead."""
    lines, catalogue = smoke_lines
    grid = {"knn_weighting": ["cosine", "lift"]}
    one, best = tuning.validation_sweep(lines, catalogue, {**smoke_params, "eval_workers": 1}, "item_knn", grid, progress=False)
    two, best_two = tuning.validation_sweep(lines, catalogue, {**smoke_params, "eval_workers": 2}, "item_knn", grid, progress=False)
    columns = ["knn_weighting", "task", "ndcg@10", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(one[columns], two[columns])
    assert best == best_two
    for setting in grid["knn_weighting"]:  # each setting scored as its own evaluation would score it
        alone = evaluate.evaluate(lines, catalogue, {**smoke_params, "knn_weighting": setting, "metrics": ["ndcg"],
                                                     "bootstrap_samples": 100, "n_seeds": 1}, ["item_knn"], target="validation",
                                  progress=False).leaderboard
        expected = alone[(alone["metric"] == "ndcg") & (alone["k"] == 10)]["value"].tolist()
        assert one[one["knn_weighting"] == setting]["ndcg@10"].tolist() == pytest.approx(expected, abs=0)
    by_data, _ = tuning.validation_sweep(lines, catalogue, smoke_params, "popularity", {"max_queries": [40, 0]}, progress=False)
    assert by_data.groupby("max_queries")["ndcg@10"].mean().nunique() == 2  # the queries changed with the setting
