"""Tables for people (report.for_people): p-values in words, numbers rounded to what matters, no row numbers,
whole product names, every cell and header escaped; the leaderboard's intervals."""
import numpy as np
import pandas as pd
import pytest

from shared import report

LONG_NAME = "Soft Drink Powder Pouches 0.23 Oz (National) #912345 " + "with a very long description " * 6


def rules_like():
    return pd.DataFrame({
        "if the basket has": [LONG_NAME, "Potato Chips 10 Oz (National)"],
        "it also has": ["Soft Drink Powder Pouches 0.5 Oz (National) #9", "Salsa 16 Oz (Private)"],
        "count": [12345, 10],
        "support": [0.0012, 0.5],
        "confidence": [0.456, 0.05],
        "lift": [123.456, 1.04],
        "p_adjusted": [0.0, 0.0321],
    })


@pytest.mark.parametrize("p, text", [
    (0.0, "< 1e-10"), (2.780746e-311, "< 1e-10"), (9.9e-11, "< 1e-10"), (1e-10, "1e-10"), (4.1234e-5, "4.1e-05"),
    (0.0321, "0.032"), (0.5, "0.5"), (1.0, "1"), (np.nan, report.tables.MISSING), (None, report.tables.MISSING),
])
def test_p_values_read_as_words(p, text):
    assert report.p_value_text(p) == text


def test_a_bootstrap_p_value_has_its_own_floor():
    assert report.p_value_text(0.0, floor=0.001) == "< 0.001"
    assert report.p_value_text(0.004, floor=0.001) == "0.004"
    tests = pd.DataFrame({"task": ["t"], "metric": ["ndcg@10"], "model_a": ["a"], "model_b": ["b"], "diff": [0.01],
                          "ci_low": [0.005], "ci_high": [0.015], "p_value": [0.0]})
    tests.attrs["p_floor"] = 0.001  # what evaluate.paired_tests sets for 1,000 samples
    assert report.people_frame(tests)["p"].tolist() == ["< 0.001"]
    assert report.people_frame(report.versus(tests, "b"))["p"].tolist() == ["< 0.001"]
    assert report.people_frame(tests, p_floor=1e-10)["p"].tolist() == ["< 1e-10"]


def test_numbers_are_rounded_to_what_matters():
    shown = report.people_frame(rules_like())
    assert shown.columns.tolist() == ["if the basket has", "it also has", "count", "support", "confidence", "lift", "p (adjusted)"]
    assert shown["count"].tolist() == ["12,345", "10"]
    assert shown["support"].tolist() == ["0.12%", "50%"]
    assert shown["confidence"].tolist() == ["46%", "5.0%"]
    assert shown["lift"].tolist() == ["123.5", "1.0"]
    assert shown["p (adjusted)"].tolist() == ["< 1e-10", "0.032"]
    assert report.percent_text(0.000123) == "0.012%" and report.percent_text(0) == "0%"
    assert report.lift_text(np.inf) == "∞" and report.count_text(1234567.0) == "1,234,567"
    # one column, one number of decimals, as many as its size needs
    mixed = report.people_frame(pd.DataFrame({"ndcg": [0.2, 0.12345], "seconds": [12.345, 3.0], "sd": [0.0031, 0.00042],
                                              "queries": [2000.0, 31.0], "agree": [True, False], "ceiling": [1.0, 0.0]}))
    assert mixed["ndcg"].tolist() == ["0.200", "0.123"]
    assert mixed["seconds"].tolist() == ["12.35", "3.00"]
    assert mixed["sd"].tolist() == ["0.0031", "0.00042"]
    assert mixed["queries"].tolist() == ["2,000", "31"]
    assert mixed["agree"].tolist() == ["yes", "no"]
    assert mixed["ceiling"].tolist() == ["1.00", "0.00"]  # a share that happens to be whole is not a count


def test_formats_override_what_a_name_says():
    frame = pd.DataFrame({"hit": [0.25]})
    assert report.people_frame(frame, formats={"hit": "percent"})["hit"].tolist() == ["25%"]
    with pytest.raises(ValueError, match="unknown format"):
        report.people_frame(frame, formats={"hit": "money"})


def test_no_row_numbers_but_labels_become_columns():
    shown = report.people_frame(rules_like().iloc[[1, 0]])  # shuffled row numbers are not shown either
    assert list(shown.index) == [0, 1] and "index" not in shown.columns
    counts = pd.Series([5, 3], index=pd.Index(["returns", "duplicates"], name="reason"), name="rejected lines")
    assert report.people_frame(counts).to_dict("list") == {"reason": ["returns", "duplicates"], "rejected lines": ["5", "3"]}
    # a transposed table: labels without a name, numbers held as objects
    vocabulary = pd.DataFrame({"validation": {"items": 18981, "share": 0.5}, "test": {"items": 19000, "share": 0.25}}).T
    shown = report.people_frame(vocabulary)
    assert shown.columns.tolist() == ["", "items", "share"] and shown["items"].tolist() == ["18,981", "19,000"]
    html = report.for_people(rules_like()).to_html()
    assert "row_heading" not in html and 'class="blank' not in html  # the index is hidden


def test_whole_names_wrapped_never_cut():
    with pd.option_context("display.max_colwidth", 10):
        html = report.for_people(rules_like()).to_html()
    assert LONG_NAME.strip() in html
    assert "Soft Drink Powder Pouches 0.5 Oz (National) #9<" in html  # the ID stays whole too
    assert "white-space: normal" in html and "..." not in html


def test_data_text_is_escaped_in_cells_and_headers():
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    frame = pd.DataFrame({payload: [payload], "lift": [2.0]})
    html = report.for_people(frame).to_html()
    assert "<script>" not in html and "<img" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the header and the cell


def test_same_table_same_html():
    assert report.for_people(rules_like()).to_html() == report.for_people(rules_like()).to_html()


def test_leaderboard_shows_three_decimals_with_its_interval():
    board = pd.DataFrame([
        {"task": "next_basket", "model": "popularity", "k": 10, "metric": "ndcg", "value": 0.12345, "ci_low": 0.1111, "ci_high": 0.13},
        {"task": "next_basket", "model": "popularity", "k": 10, "metric": "novelty", "value": 10.55, "ci_low": np.nan, "ci_high": np.nan},
        {"task": "next_basket", "model": "popularity", "k": 20, "metric": "ndcg", "value": 0.2, "ci_low": 0.1, "ci_high": 0.3},
    ])
    table = report.leaderboard_table(board, 10)
    assert table.loc[("next_basket", "popularity"), "ndcg@10"] == "0.123 [0.111, 0.130]"
    assert table.loc[("next_basket", "popularity"), "novelty@10"] == "10.6"
    shown = report.people_frame(table)
    assert shown.columns.tolist() == ["task", "model", "ndcg@10", "novelty@10"]
    assert shown.iloc[0].tolist() == ["next_basket", "popularity", "0.123 [0.111, 0.130]", "10.6"]


def test_a_list_of_rows_and_an_empty_table():
    assert report.people_frame([{"task": "t", "queries": 1200}]).to_dict("list") == {"task": ["t"], "queries": ["1,200"]}
    assert "<table" in report.for_people(pd.DataFrame()).to_html()


def test_plain_text_is_the_same_table():
    shown = repr(report.for_people(rules_like()))
    assert "Styler" not in shown and "12,345" in shown and "< 1e-10" in shown and LONG_NAME.strip() in shown
    assert repr(report.for_people(pd.DataFrame())) == "(no rows)"
