import pandas as pd

from shared import cleaning, config, data

T0 = pd.Timestamp("2020-01-06 10:00")


def dataset(rows, catalogue_items=("a", "b", "c", "d")):
    lines = pd.DataFrame(rows, columns=["basket_id", "customer_id", "item_id", "timestamp", "quantity"])
    cat = pd.DataFrame(
        {"item_id": list(catalogue_items), "name": list(catalogue_items),
         "product_type": ["T1", "T1", "T2", None][: len(catalogue_items)],
         "product_category": ["C1", "C1", "C2", "C2"][: len(catalogue_items)],
         "department": ["D1"] * len(catalogue_items)}
    )
    return data.Dataset(lines=lines, catalogue=cat, source="test", description="test")


def params(**kw):
    return {**config.load("smoke"), "min_item_count": 1, "max_basket_size": 10, **kw}


ROWS = [
    ("b1", "u1", "a", T0, 1),
    ("b1", "u1", "b", T0, 2),
    ("b1", "u1", "b", T0, 2),       # exact duplicate
    ("b2", "u2", "a", T0, -1),      # return
    ("b2", "u2", "c", T0, 1),
    ("b2", None, "a", T0, 1),       # missing customer
    ("b3", "u1", "zz", T0, 1),      # unknown item
    ("b3", "u1", "c", T0, 1),
    ("b3", "u1", "c", T0, 4),       # same basket and item again: merged
]


def test_each_defect_is_dropped_for_its_reason_and_the_ledger_balances():
    res = cleaning.clean(dataset(ROWS), params())
    ledger = res.ledger
    assert (ledger["rows_in"] - ledger["rows_dropped"] == ledger["rows_out"]).all()
    assert (ledger["rows_out"].iloc[:-1].to_numpy() == ledger["rows_in"].iloc[1:].to_numpy()).all()
    assert ledger["rows_in"].iat[0] == len(ROWS) and ledger["rows_out"].iat[-1] == len(res.lines)
    dropped = ledger.groupby("step")["rows_dropped"].sum()
    assert dropped["missing_values"] == 1 and dropped["exact_duplicates"] == 1
    assert dropped["non_positive_quantity"] == 1 and dropped["unknown_item"] == 1
    assert dropped["merge_repeated"] == 1
    assert len(res.rejected) == ledger["rows_dropped"].sum()
    assert set(res.rejected["step"]) == {"missing_values", "exact_duplicates", "non_positive_quantity", "unknown_item", "merge_repeated"}
    merged = res.lines[(res.lines["item_id"] == "c") & (res.lines["basket_id"] == "b3")]
    assert merged["quantity"].tolist() == [5]
    assert len(res.lines) == 4


def test_customers_are_pseudonymised_with_a_salt():
    a = cleaning.clean(dataset(ROWS), params(salt="s1"))
    b = cleaning.clean(dataset(ROWS), params(salt="s2"))
    assert not set(a.lines["customer_id"]) & {"u1", "u2"}
    assert set(a.lines["customer_id"]).isdisjoint(b.lines["customer_id"])
    assert a.lines["customer_id"].nunique() == 2
    assert "u1" not in set(a.rejected["customer_id"].astype(str))


def test_outlier_baskets_dropped_and_rare_items_kept():
    rows = [("big", "u1", x, T0, 1) for x in "abcd"] + [("s1", "u2", "a", T0, 1), ("s2", "u2", "b", T0, 1), ("s3", "u3", "a", T0, 1)]
    res = cleaning.clean(dataset(rows), params(max_basket_size=3, min_item_count=2))
    reasons = res.ledger.set_index("step")["rows_dropped"]
    assert reasons["outlier_baskets"] == 4
    assert "rare_items" not in reasons  # a vocabulary decision, taken from the fit period (shared.split.vocabulary)
    assert sorted(res.lines["item_id"]) == ["a", "a", "b"]


def test_item_level_maps_and_merges_and_drops_products_without_the_level():
    rows = [("b1", "u1", "a", T0, 1), ("b1", "u1", "b", T0, 1), ("b1", "u1", "d", T0, 1), ("b2", "u1", "c", T0, 2)]
    res = cleaning.clean(dataset(rows), params(item_level="product_type"))
    steps = res.ledger.set_index("step")["rows_dropped"]
    assert steps["item_level"] == 1  # d has no product_type
    assert steps["merge_repeated"] == 1  # a and b are both T1 in basket b1
    assert sorted(res.lines["item_id"]) == ["T1", "T2"]
    assert res.lines.set_index("item_id").loc["T1", "quantity"] == 2
    assert res.catalogue["item_id"].tolist() == ["T1", "T2"]


def test_synthetic_noise_is_fully_accounted_for(smoke_params):
    gen = data.load(smoke_params)
    res = cleaning.clean(gen, smoke_params)
    assert res.ledger["rows_in"].iat[0] == len(gen.lines)
    assert len(res.lines) + len(res.rejected) == len(gen.lines)
    steps = res.ledger.groupby("step")["rows_dropped"].sum()
    assert steps["non_positive_quantity"] > 0 and steps["unknown_item"] > 0 and steps["missing_values"] > 0
