"""The run's index page from a small fake run folder, written with report.run_folder's writers: the key findings come
first and in words (the winner by name, its gain over "buy it again" with the interval from significance.csv,
cross-sell pairs by product name, what the AI models added by report.judged's rule), then the chart, the A/B
plan (customers per arm by hand) and beyond accuracy, the data scientist's tables last; data text is escaped."""
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from shared import metrics, report
from shared.report import plots

# alive = a real tag, or an event handler inside a tag (the same rule as tests/test_injection.py)
LIVE = re.compile(r"<script>alert|<[a-z]+\b[^<>]*\bon(?:error|load|mouseover)\s*=", re.I)
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'

NDCG = {  # task -> model -> NDCG@10
    "basket_completion": {"personal_frequency": 0.300, "popularity": 0.250, "repeat_explore": 0.330, "sasrec": 0.310, "text_knn": 0.020},
    "next_basket": {"personal_frequency": 0.500, "popularity": 0.450, "repeat_explore": 0.502, "sasrec": 0.420, "text_knn": 0.050},
}


def _board() -> pd.DataFrame:
    rows = []
    for task, values in NDCG.items():
        for model, value in values.items():
            seeds = 3 if model == "sasrec" else 1
            rows.append({"model": model, "task": task, "k": 10, "metric": "ndcg", "value": value, "ci_low": value - 0.02,
                         "ci_high": value + 0.02, "seeds": seeds, "seed_sd": 0.004 if seeds > 1 else np.nan, "note": ""})
            for metric, v in (("coverage", 0.9 if model == "sasrec" else 0.1), ("novelty", 6.0 if model == "text_knn" else 3.0),
                              ("diversity", 0.95)):
                rows.append({"model": model, "task": task, "k": 10, "metric": metric, "value": v, "ci_low": np.nan,
                             "ci_high": np.nan, "seeds": seeds, "seed_sd": np.nan, "note": ""})
    for model, value in {"personal_frequency": 0.002, "popularity": 0.050, "repeat_explore": 0.010, "sasrec": 0.080, "text_knn": 0.030}.items():
        rows.append({"model": model, "task": "next_basket", "k": 10, "metric": "ndcg_new", "value": value, "ci_low": value - 0.01,
                     "ci_high": value + 0.01, "seeds": 3 if model == "sasrec" else 1, "seed_sd": np.nan, "note": ""})
    rows.append({"model": "als", "task": "next_basket", "k": np.nan, "metric": "failed", "value": np.nan, "ci_low": np.nan,
                 "ci_high": np.nan, "seeds": 1, "seed_sd": np.nan, "note": f"RuntimeError: {SCRIPT}"})
    return pd.DataFrame(rows)


def _test(task, a, b, diff, low, high, p, seeds=1, agree=True, metric="ndcg@10"):
    return {"task": task, "metric": metric, "model_a": a, "model_b": b, "diff": diff, "ci_low": low, "ci_high": high,
            "p_value": p, "n": 400, "seeds": seeds, "seed_diffs": ";".join([str(diff)] * seeds),
            "seed_sd": 0.004 if seeds > 1 else np.nan, "seeds_agree": agree}


def _tests() -> pd.DataFrame:
    return pd.DataFrame([
        # basket completion: the winner beats "buy it again", for real
        _test("basket_completion", "personal_frequency", "repeat_explore", -0.030, -0.041, -0.018, 0.0),
        _test("basket_completion", "personal_frequency", "popularity", 0.05, 0.03, 0.07, 0.0),
        # the Transformer: significant against the best list without AI, but its seeds disagree in sign: no verdict
        _test("basket_completion", "repeat_explore", "sasrec", 0.020, 0.004, 0.036, 0.01, seeds=3, agree=False),
        _test("basket_completion", "repeat_explore", "text_knn", 0.31, 0.29, 0.33, 0.0),
        # next basket: the winner's gain is not established
        _test("next_basket", "personal_frequency", "repeat_explore", -0.002, -0.010, 0.006, 0.62),
        _test("next_basket", "personal_frequency", "popularity", 0.05, 0.03, 0.07, 0.0),
        _test("next_basket", "repeat_explore", "sasrec", 0.082, 0.06, 0.10, 0.0, seeds=3, agree=True),
        _test("next_basket", "repeat_explore", "text_knn", 0.45, 0.43, 0.47, 0.0),
        # items new to the customer: the Transformer beats the best list without AI there, every seed agreeing
        _test("next_basket", "popularity", "sasrec", -0.030, -0.045, -0.015, 0.0, seeds=3, agree=True, metric="ndcg_new@10"),
        _test("next_basket", "popularity", "text_knn", 0.020, -0.001, 0.041, 0.08, metric="ndcg_new@10"),
    ])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One fake run folder for the module (its figures take seconds to draw); tests only read it and rewrite
    index.html."""
    tmp_path = tmp_path_factory.mktemp("fake-run")
    board = _board()
    report.write_csv(board, tmp_path / "leaderboard.csv")
    report.write_csv(_tests(), tmp_path / "significance.csv")
    catalogue = pd.DataFrame({"item_id": list("abcdef"), "name": [SCRIPT, IMG, "Tea & Biscuits", "Milk", "Cola", "Lemonade"],
                              "product_category": ["x", "y", "z", "w", "drinks", "drinks"]})
    pairs = pd.DataFrame({"item_a": ["a", "c", "e"], "item_b": ["b", "d", "f"], "baskets": [40, 30, 50], "support": [0.04, 0.03, 0.05],
                          "confidence_a_to_b": [0.4, 0.6, 0.9], "confidence_b_to_a": [0.3, 0.5, 0.8], "lift": [5.0, 4.0, 3.0]})
    report.write_pairs(tmp_path, pairs, catalogue)
    report.write_substitutes(tmp_path, pd.DataFrame({"item_a": ["e", "a"], "name_a": ["Cola", IMG], "item_b": ["f", "b"],
                                                     "name_b": ["Lemonade", "Milk"], "similarity": [0.9, 0.8], "lift": [0.3, 0.5],
                                                     "count": [12, 11], "expected": [40.0, 22.0], "p_value": [1e-6, 1e-3],
                                                     "source": ["text", "text"]}))
    rng = np.random.default_rng(1)
    customers = {"basket_completion": np.repeat([f"c{i}" for i in range(300)], 2), "next_basket": np.array([f"c{i}" for i in range(300)])}
    evaluation = SimpleNamespace(
        tasks={task: SimpleNamespace(customer_id=ids) for task, ids in customers.items()},
        per_query={(model, task, 10): pd.DataFrame({"ndcg": np.clip(rng.normal(value, 0.3, len(customers[task])), 0, 1),
                                                     "recall": 0.0})
                   for task, values in NDCG.items() for model, value in values.items()})
    report.write_per_customer(tmp_path, evaluation, 10)
    plots.save(plots.leaderboard_intervals(board, ("ndcg",), 10), tmp_path, "05_leaderboard")
    plots.save(plots.accuracy_and_beyond(board, 10), tmp_path, "05_beyond_accuracy")
    report.write_csv(pd.DataFrame({"step": ["dedupe"], "reason": [SCRIPT], "rows_in": [10], "rows_dropped": [2], "rows_out": [8]}),
                     tmp_path / "ledger.csv")
    report.write_json({"description": f"A shop {IMG}", "facts": {"lines": 8}, "notes": [], "split_definition": "by time"},
                      report.data_dir(tmp_path) / "summary.json")
    return tmp_path


def _page(run_dir) -> str:
    manifest = {"parameters": {"profile": "smoke", "source": "file", "test_weeks": 4},
                "notebooks": [{"name": "05_evaluation_report", "status": "ok", "seconds": 3.0, "peak_mb": 100}]}
    return report.write_index(run_dir, manifest, ["05_evaluation_report"]).read_text()


def _findings(page: str) -> list[str]:
    section = page[page.index('id="key-findings"'):]
    section = section[:section.index("</section>")]
    return re.findall(r"<li>(.*?)</li>", section, re.S)


def test_key_findings_come_first_in_words(run_dir):
    page = _page(run_dir)
    start = page.index('id="key-findings"')
    # nothing but the header before the findings; the chart, plan, beyond accuracy, then the data scientist's part
    assert start < page.index("<table") and "<img" not in page[:start]
    order = [page.index(f'id="{part}"') for part in ("key-findings", "models", "ab-plan", "beyond-accuracy",
                                                     "data-summary", "leaderboard", "ledger", "notebooks")]
    assert order == sorted(order)
    beyond = page[page.index('id="beyond-accuracy"'):]
    beyond = beyond[:beyond.index("</section>")]  # the paragraph in words, then the accuracy / beyond-accuracy figure
    assert "<b>Coverage</b>" in beyond and beyond.index("<b>Coverage</b>") < beyond.index('src="figures/05_beyond_accuracy.png"')
    findings = _findings(page)
    assert 4 <= len(findings) <= 10
    first = findings[0]  # basket completion: the winner by name, the gain and the interval from significance.csv
    assert "time-aware repeat + neighbours" in first and "buy it again" in first and "repeat_explore" in first
    assert "0.330 against 0.300" in first and "+10.0%" in first and "+0.030" in first
    assert "95% interval +0.018 to +0.041" in first and "is real" in first
    second = findings[1]  # next basket: highest, but not established: keep "buy it again"
    assert "not established" in second and "keep" in second and "no significant difference" in second
    cross = next(f for f in findings if "Cross-sell" in f)
    # the most reliable pair first, names escaped; a pair of one category (Cola, Lemonade) is no cross-sell
    assert cross.index("Tea &amp; Biscuits") < cross.index("&lt;script&gt;") and "Cola" not in cross
    review = next(f for f in findings if "range review" in f)  # notebook 03's substitutes, strongest first, escaped
    assert review.index("<b>Cola</b> or <b>Lemonade</b> (together 0.3x chance)") < review.index("&lt;img")
    ai = [f for f in findings if f.startswith("<b>AI</b>")]
    sasrec = next(f for f in ai if "sasrec<" in f)
    # significant on basket completion, but the seeds disagree: report.judged gives no verdict; worse on the next basket
    assert "no difference we can detect (seed spread 0.0040 over 3 seeds; the seeds disagree in sign)" in sasrec
    assert "worse on the next shop (0.420 vs 0.502)" in sasrec
    # where it did add something: products new to the customer, significant and every seed agreeing
    assert "added something" in sasrec and "better on products new to the customer in the next shop (0.080 vs 0.050)" in sasrec
    text_knn = next(f for f in ai if "text_knn" in f)
    assert "added nothing" in text_knn and "no significant difference on products new to the customer" in text_knn


def test_data_text_is_escaped(run_dir):
    page = _page(run_dir)
    assert not LIVE.findall(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the product name reached the page, as text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "als failed on next_basket: RuntimeError: &lt;script&gt;" in page


def test_ab_plan_by_hand(run_dir):
    page = _page(run_dir)
    per_customer = report.read_per_customer(run_dir)
    assert set(per_customer.columns) >= {"task", "metric", "k", "queries", "personal_frequency", "repeat_explore"}
    rows = per_customer[per_customer["task"] == "basket_completion"]
    assert len(rows) == 300 and (rows["queries"] == 2).all()
    a, b = rows["repeat_explore"].to_numpy(), rows["personal_frequency"].to_numpy()
    delta, sa, sb = a.mean() - b.mean(), a.std(ddof=1), b.std(ddof=1)
    n = metrics.customers_per_arm(delta, sa, sb)
    assert n == np.ceil((1.959964 + 0.841621) ** 2 * (sa ** 2 + sb ** 2) / delta ** 2)
    digits = len(str(int(n))) - 2
    about = f"{int(round(n, -digits)):,}"
    plan = page[page.index('id="ab-plan"'):]
    assert f"about {about} customers per arm over 4 weeks" in plan
    assert "carries over online" in plan
    assert f"about {about} customers per arm" in _findings(page)[-1]


def test_leaderboard_chart_is_sorted_by_score_with_names_in_words():
    board = _board()
    fig = plots.leaderboard_intervals(board, ("ndcg",), 10)
    for ax, task in zip(fig.axes, NDCG):
        labels = [t.get_text() for t in ax.get_yticklabels()]
        expected = sorted(NDCG[task], key=NDCG[task].get)  # bottom to top: best on top
        assert labels == [report.model_name(m) for m in expected]
        codes = [t.get_text() for t in ax.texts if not t.get_text().strip()[:1].isdigit()]
        assert codes == expected


def test_page_without_results_says_so(tmp_path):
    page = report.write_index(tmp_path, {"parameters": {}}, []).read_text()
    assert "no leaderboard" in page and page.index('id="key-findings"') < page.index('id="notebooks"')


def test_accuracy_and_beyond_figure_places_every_model():
    """One panel per beyond-accuracy metric, every model a point at (its NDCG@10, its value), labelled in words."""
    figure = plots.accuracy_and_beyond(_board(), 10)
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == [f"next basket: accuracy and {m}" for m in ("coverage", "novelty", "diversity")]
    points = axes[0].collections[0].get_offsets()
    labels = [t.get_text() for t in axes[0].texts]
    expected = NDCG["next_basket"]
    assert len(points) == len(expected) == len(labels)
    by_label = dict(zip(labels, map(tuple, points)))
    assert by_label[report.model_name("sasrec")] == (expected["sasrec"], 0.9)  # sasrec's coverage in the fake board
    assert by_label[report.model_name("text_knn")][0] == expected["text_knn"]


def test_new_products_finding_in_words():
    """The scorer family that finds most buyers (fine-tuning seeds averaged) is named in words, with the category
    baseline's share and the seed rule's verdict; data text is escaped; no table, no finding."""
    from shared.report import index_page

    table = pd.DataFrame({"model": ["heavy_buyers", "category_affinity", "text (tuned seed 1)", "text (tuned seed 2)"],
                          "products": 40, "recall@100": [0.10, 0.08, 0.20, 0.16]})
    tests = pd.DataFrame({"metric": "recall@100", "model_a": ["text (tuned seed 1)", "text (tuned seed 2)", "heavy_buyers"],
                          "model_b": "category_affinity", "diff": [0.12, 0.08, 0.02], "p_value": [0.001, 0.01, 0.4],
                          "direction": "targeting"})
    text = index_page._new_products_finding((table, tests))
    assert "the language model fine-tuned on our baskets" in text and "18% of a new product's buyers" in text
    assert "against 8% for the customers who buy most in the product&#x27;s category (better)" in text
    assert "(40 products launched or rarely sold" in text
    disagree = tests.assign(diff=[0.12, -0.08, 0.02])
    assert "(seeds disagree: no verdict)" in index_page._new_products_finding((table, disagree))
    assert index_page._new_products_finding(None) is None
    # the frozen encoder as good as the fine-tuned one (no seed significant against it): the simpler is named
    with_frozen = pd.concat([table, pd.DataFrame({"model": ["text (frozen)"], "products": 40, "recall@100": [0.17]})], ignore_index=True)
    duels = pd.concat([tests, pd.DataFrame({"metric": "recall@100", "model_a": ["text (tuned seed 1)", "text (tuned seed 2)", "text (frozen)"],
                                            "model_b": ["text (frozen)", "text (frozen)", "category_affinity"],
                                            "diff": [0.03, -0.01, 0.09], "p_value": [0.2, 0.6, 0.001], "direction": "targeting"})],
                      ignore_index=True)
    said = index_page._new_products_finding((with_frozen, duels))
    assert "send them to the language model reading the product&#x27;s description (fine-tuning it on our baskets added nothing measurable): 17%" in said
    assert "(better)" in said
    plain = table.assign(**{"recall@100": [0.30, 0.08, 0.20, 0.16]})  # the best is a model without seeds
    said = index_page._new_products_finding((plain, tests))
    assert "send them to the most frequent shoppers: 30%" in said and "(no difference we can detect)" in said
