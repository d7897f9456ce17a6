"""Frequent itemsets against brute force, every engine alike, rule measures and tests against an independent
recomputation, redundancy, the privacy floor, the cap, and planted associations recovered."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shared import mining as rules
from shared import synthetic
from shared.spark_session import SparkSettings


def rule(found, antecedent, consequent):
    mask = (found["antecedent"] == frozenset(antecedent)) & (found["consequent"] == frozenset(consequent))
    assert mask.sum() == 1
    return found[mask].iloc[0]


def random_baskets(seed, n=300, items=12, p=0.25):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        chosen = [f"i{j}" for j in range(items) if rng.random() < p * (1 + (j < 3))]
        out.append(chosen)
    return out


def brute_force(baskets, threshold, max_len=None):
    sets = [frozenset(b) for b in baskets if b]
    items = sorted(set().union(*sets))
    found = {}
    for size in range(1, (max_len or len(items)) + 1):
        level = {}
        for combo in combinations(items, size):
            c = frozenset(combo)
            count = sum(1 for s in sets if c <= s)
            if count >= threshold:
                level[c] = count
        if not level:
            break
        found.update(level)
    return found


@pytest.mark.parametrize("engine", [pytest.param(e, marks=[pytest.mark.spark] if e == "spark" else []) for e in rules.ENGINES])
@pytest.mark.parametrize("seed", [1, 2])
def test_engines_match_brute_force(engine, seed, request):
    baskets = random_baskets(seed)
    baskets[5] = []  # empty baskets are skipped and counted
    baskets[7] = ["i1", "i1", "i2"]  # a repeated item counts once
    spark = SparkSettings.from_params(request.getfixturevalue("spark_params")) if engine == "spark" else None
    result = rules.frequent_itemsets(baskets, 0.05, engine=engine, min_count=1, spark=spark)
    n = sum(1 for b in baskets if b)
    expected = brute_force(baskets, int(np.ceil(0.05 * n)))
    assert dict(zip(result["itemset"], result["count"])) == expected
    assert np.allclose(result["support"], result["count"] / n)
    assert result.attrs["empty_baskets"] == len(baskets) - n >= 1 and result.attrs["n_baskets"] == n
    for support, max_len in ((0.02, 2), (0.1, None)):  # a length cap, and a count threshold that is no round share
        result = rules.frequent_itemsets(baskets, support, engine=engine, min_count=1, max_len=max_len, spark=spark)
        assert dict(zip(result["itemset"], result["count"])) == brute_force(baskets, int(np.ceil(support * n)), max_len)


def test_item_in_every_basket_is_found():
    result = rules.frequent_itemsets([["a", "b"], ["a"], ["a", "b"]], 0.5, min_count=1)
    assert dict(zip(result["itemset"], result["count"])) == {frozenset("a"): 3, frozenset("b"): 2, frozenset("ab"): 2}


def test_max_len_and_privacy_floor():
    baskets = random_baskets(3, n=400)
    capped = rules.frequent_itemsets(baskets, 0.01, max_len=2, min_count=1)
    assert capped["itemset"].map(len).max() == 2
    floored = rules.frequent_itemsets(baskets, 0.0001, min_count=25)
    assert floored["count"].min() >= 25
    assert dict(zip(floored["itemset"], floored["count"])) == brute_force(baskets, 25)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_support": 0}, "min_support"),
        ({"min_support": 1.5}, "min_support"),
        ({"min_support": 0.1, "min_count": -1}, "min_count"),
        ({"min_support": 0.1, "engine": "dask"}, "unknown engine 'dask'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rules.frequent_itemsets([["a"]], **kwargs)


def test_cap_stops_with_a_suggested_support():
    rng = np.random.default_rng(0)
    dense = [[f"i{j}" for j in range(30) if rng.random() < 0.6] for _ in range(500)]
    with pytest.raises(rules.TooManyItemsets, match=r"more than 5,000 frequent itemsets .* raise 'min_support' to about"):
        rules.frequent_itemsets(dense, 0.02, max_itemsets=5000)
    message = ""
    try:
        rules.frequent_itemsets(dense, 0.02, max_itemsets=5000)
    except rules.TooManyItemsets as exc:
        message = str(exc)
    suggested = float(message.split("to about ")[1].split(" ")[0])
    assert len(rules.frequent_itemsets(dense, suggested, max_itemsets=5000 * 4)) <= 5000 * 4


def test_rule_measures_match_an_independent_recomputation():
    baskets = random_baskets(4, n=500)
    sets = [set(b) for b in baskets if b]
    n = len(sets)
    itemsets = rules.frequent_itemsets(baskets, 0.03, min_count=1)
    found = rules.association_rules(itemsets, n, min_count=1)
    assert len(found) == sum(len(s) for s in itemsets["itemset"] if len(s) > 1)
    for row in found.sample(25, random_state=0).itertuples():
        a, c = set(row.antecedent), set(row.consequent)
        n_a = sum(1 for s in sets if a <= s)
        n_c = sum(1 for s in sets if c <= s)
        n_ac = sum(1 for s in sets if (a | c) <= s)
        assert row.count == n_ac
        assert row.support == pytest.approx(n_ac / n)
        assert row.confidence == pytest.approx(n_ac / n_a)
        assert row.lift == pytest.approx(n_ac * n / (n_a * n_c))
        assert row.leverage == pytest.approx(n_ac / n - n_a * n_c / n**2)
        assert row.jaccard == pytest.approx(n_ac / (n_a + n_c - n_ac))
        table = [[n_ac, n_a - n_ac], [n_c - n_ac, n - n_a - n_c + n_ac]]
        assert row.p_value == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue, rel=1e-6)


def test_conviction_and_zhang_by_hand():
    # 10 baskets: a in 4, b in 5, a&b in 3
    baskets = [["a", "b"]] * 3 + [["a"]] + [["b"]] * 2 + [["c"]] * 4
    itemsets = rules.frequent_itemsets(baskets, 0.1, min_count=1)
    row = rule(rules.association_rules(itemsets, 10, min_count=1), "a", "b")
    assert row["confidence"] == pytest.approx(0.75)
    assert row["conviction"] == pytest.approx((1 - 0.5) / (1 - 0.75))
    assert row["zhang"] == pytest.approx((0.3 - 0.2) / max(0.3 * 0.6, 0.4 * 0.2))


def test_p_value_adjustment_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    assert rules.adjust_p(p, "bh").tolist() == pytest.approx([0.04, 0.0533333, 0.0533333, 0.20], rel=1e-5)
    assert rules.adjust_p(p, "holm").tolist() == pytest.approx([0.04, 0.09, 0.09, 0.20])
    with pytest.raises(ValueError, match="p_adjust"):
        rules.adjust_p(p, "bonferroni")


def test_redundancy_in_the_arules_sense():
    # x -> z has confidence 0.8; {x, y} -> z only 0.75: the more specific rule is redundant
    baskets = [["x", "y", "z"]] * 3 + [["x", "y"]] + [["x", "z"]] * 5 + [["x"]] + [["y"]] * 6
    itemsets = rules.frequent_itemsets(baskets, 0.05, min_count=1)
    found = rules.association_rules(itemsets, len(baskets), min_count=1)
    assert rule(found, "xy", "z")["confidence"] == pytest.approx(0.75)
    assert rule(found, "x", "z")["confidence"] == pytest.approx(0.8)
    assert rule(found, "xy", "z")["redundant"] and not rule(found, "x", "z")["redundant"]


def test_min_confidence_and_count_filter_the_result():
    baskets = random_baskets(5, n=400)
    itemsets = rules.frequent_itemsets(baskets, 0.02, min_count=1)
    found = rules.association_rules(itemsets, 400, min_confidence=0.5, min_count=15)
    assert (found["confidence"] >= 0.5).all() and (found["count"] >= 15).all()
    with pytest.raises(ValueError, match="downward closed"):
        rules.association_rules(itemsets[itemsets["length"] > 1], 400)


def test_planted_associations_are_recovered():
    gen = synthetic.generate(1500, 600, 20, seed=11, noise=0.0)
    baskets = rules.baskets_of(gen.lines)
    itemsets = rules.frequent_itemsets(baskets, 0.003)
    found = rules.association_rules(itemsets, itemsets.attrs["n_baskets"])
    recovery = rules.recover_planted(found, gen.patterns["items"])
    assert recovery["precision"] >= 0.9 and recovery["recall"] >= 0.9, recovery


def test_csv_frames_join_items():
    itemsets = rules.frequent_itemsets([["b", "a"], ["a", "b"]], 0.5, min_count=1)
    assert set(rules.itemsets_to_csv_frame(itemsets)["itemset"]) == {"a", "b", "a|b"}


def test_frequent_pairs_count_and_lift():
    lines = pd.DataFrame({"basket_id": ["1", "1", "2", "2", "3"], "item_id": ["a", "b", "a", "b", "a"]})
    pairs = rules.frequent_pairs(lines, 0.5, min_count=1)
    assert pairs.to_dict("records") == [{"item_a": "a", "item_b": "b", "baskets": 2, "support": pytest.approx(2 / 3),
                                         "confidence_a_to_b": pytest.approx(2 / 3), "confidence_b_to_a": 1.0,
                                         "lift": pytest.approx(2 * 3 / (3 * 2))}]


# --- variants of one product: one line, so that the first screen is about different products -----------------

def variant_shop():
    """Four sizes/flavours of one National powder pouch bought together (the strongest rules), a Private pouch
    with one of them (another brand: a different product), chips with salsa, and unrelated fillers."""
    pouch = "SOFT DRINK POWDER POUCHES"
    catalogue = pd.DataFrame(
        [(f"v{i}", f"Soft Drink Powder Pouches {size} Oz (National)", pouch) for i, size in enumerate(["0.23", "0.23", "0.5", "1"], 1)]
        + [("v5", "Soft Drink Powder Pouches 0.23 Oz (Private)", pouch), ("chips", "Potato Chips 10 Oz (National)", "POTATO CHIPS"),
           ("salsa", "Salsa 16 Oz (Private)", "SALSA")]
        + [(f"f{i}", f"Filler {i}", None) for i in range(30)],
        columns=["item_id", "name", "product_type"])
    rng = np.random.default_rng(5)
    variants = ["v1", "v2", "v3", "v4"]
    baskets = [[v for j, v in enumerate(variants) if j != i % 4] for i in range(40)]
    baskets += [["chips", "salsa"]] * 40 + [["chips", "f1"]] * 20 + [["salsa", "f2"]] * 20 + [["v1", "v5"]] * 30
    baskets += [list(rng.choice([f"f{i}" for i in range(30)], size=int(rng.integers(2, 5)), replace=False)) for _ in range(600)]
    return baskets, catalogue


def is_variant_rule(antecedent, consequent):
    return (antecedent | consequent) <= {"v1", "v2", "v3", "v4"}


def test_variant_keys_are_product_type_and_brand():
    _, catalogue = variant_shop()
    keys = rules.variant_keys(catalogue)
    assert keys["v1"] == keys["v4"] == "Soft Drink Powder Pouches (National)"
    assert keys["v5"] == "Soft Drink Powder Pouches (Private)" and keys["salsa"] == "Salsa (Private)"
    assert "f1" not in keys  # no product type: a variant of nothing
    with_brand = catalogue.assign(brand=["A", "B", "A", "A", "A", "A", "A"] + [None] * 30)  # a brand column wins over the name
    assert rules.variant_keys(with_brand)["v2"] == "Soft Drink Powder Pouches (B)"
    assert rules.variant_keys(catalogue.drop(columns="product_type")).empty
    assert rules.variant_keys(None).empty


def test_rules_between_variants_collapse_into_one_line_in_order():
    baskets, catalogue = variant_shop()
    itemsets = rules.frequent_itemsets(baskets, 0.01)
    found = rules.association_rules(itemsets, itemsets.attrs["n_baskets"])
    found = found[found["p_adjusted"] < 0.05].reset_index(drop=True)
    variant = np.array([is_variant_rule(a, c) for a, c in zip(found["antecedent"], found["consequent"])])
    assert variant.sum() >= 10 and variant[0]  # the planted problem: variant rules come first, and many
    collapsed = rules.collapse_variants(found, rules.variant_keys(catalogue))
    # one line for the variants, where the strongest of them was, standing for all of them
    line = collapsed[collapsed["variant_of"].notna()]
    assert len(line) == 1 and line.index[0] == 0
    assert line.iloc[0]["variant_of"] == "Soft Drink Powder Pouches (National)" and line.iloc[0]["variants"] == variant.sum()
    # every rule about different products stays, in its order (by lift), counted once
    assert collapsed.index.tolist() == [0, *np.flatnonzero(~variant).tolist()]
    assert (collapsed["variants"].iloc[1:] == 1).all()
    kept = {(frozenset(a), frozenset(c)) for a, c in zip(collapsed["antecedent"], collapsed["consequent"])}
    assert {(frozenset({"chips"}), frozenset({"salsa"})), (frozenset({"v1"}), frozenset({"v5"}))} <= kept  # another brand
    assert collapsed["lift"].is_monotonic_decreasing
    # nothing known about the items: nothing collapses
    assert len(rules.collapse_variants(found, rules.variant_keys(None))) == len(found)
    assert rules.collapse_variants(found.iloc[:0], rules.variant_keys(catalogue)).empty


def test_first_screen_of_rules_is_about_different_products():
    from shared import config, report

    baskets, catalogue = variant_shop()
    mined = rules.Mined(baskets, 0.01, config.load("default", overrides={"min_count": 10}))
    names = report.item_names(catalogue)
    before = mined.top(names, n=5)
    assert before["if the basket has"].str.startswith("Soft Drink Powder Pouches").all()  # five rules of one product
    top = mined.top(names, n=5, variants=rules.variant_keys(catalogue))
    first = top.iloc[0]
    assert first["if the basket has"] == "one Soft Drink Powder Pouches (National) product"
    assert first["it also has"].startswith("another size or flavour of it (") and first["lift"] == before.iloc[0]["lift"]
    assert top["if the basket has"].str.startswith("one Soft Drink").sum() == 1
    assert {"Potato Chips 10 Oz (National)", "Salsa 16 Oz (Private)"} <= set(top["if the basket has"])
    assert top["lift"].is_monotonic_decreasing
    # pairs for merchandisers (notebook 05) collapse the same way
    pairs = rules.pair_lifts(mined.itemsets, mined.n_baskets)
    shown = report.named_pairs(pairs, catalogue, variants=True)
    assert shown["product_a"].str.startswith("one Soft Drink Powder Pouches (National)").sum() == 1
    assert shown["product_a"].iloc[0].startswith("one Soft Drink") and shown["product_b"].iloc[0].startswith("another size")
    assert len(shown) == len(pairs) - 6 + 1  # the six pairs of four variants are one line
    assert report.named_pairs(pairs, catalogue)["product_a"].tolist()[:1] != shown["product_a"].tolist()[:1]
