import pandas as pd
import pytest

from shared import config, data
from shared.config import ParameterError
from shared.data import DataError, pandas_sources

MAPPING = {"basket_id": "Receipt", "customer_id": "Client", "item_id": "SKU", "timestamp": "When", "quantity": "Qty"}


def write_csv(tmp_path, rows, name="tx.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


GOOD = {
    "Receipt": [1, 1, 2, 3, 3],
    "Client": ["a", "a", "b", "a", "a"],
    "SKU": ["x", "y", "x", "y", "z"],
    "When": ["2020-01-01 10:00", "2020-01-01 10:00", "2020-01-02 11:00", "2020-01-09 09:30", "2020-01-09 09:30"],
    "Qty": [1, 2, 1, 1, 3],
    "Other": ["-", "-", "-", "-", "-"],
}


def test_file_source_maps_columns_to_the_canonical_table(tmp_path):
    path = write_csv(tmp_path, GOOD)
    ds = pandas_sources.load_file(path, MAPPING)
    assert list(ds.lines.columns) == ["basket_id", "customer_id", "item_id", "timestamp", "quantity"]
    assert ds.lines["basket_id"].tolist() == ["1", "1", "2", "3", "3"]
    assert pd.api.types.is_datetime64_any_dtype(ds.lines["timestamp"])
    assert ds.lines["quantity"].sum() == 8
    assert ds.has_customer and ds.has_timestamp and ds.catalogue is None


def test_parquet_file_with_catalogue_columns(tmp_path):
    frame = pd.DataFrame(GOOD).assign(Dept=["A", "B", "A", "B", "C"])
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path)
    ds = pandas_sources.load_file(path, {**MAPPING, "department": "Dept"})
    assert ds.levels == ("product", "department")
    assert ds.catalogue.set_index("item_id")["department"].to_dict() == {"x": "A", "y": "B", "z": "C"}


def test_without_customer_each_basket_is_its_own_customer(tmp_path):
    path = write_csv(tmp_path, GOOD)
    ds = pandas_sources.load_file(path, {"basket_id": "Receipt", "item_id": "SKU"})
    assert (ds.lines["customer_id"] == ds.lines["basket_id"]).all()
    assert not ds.has_customer and not ds.has_timestamp
    # without time or sequence, baskets are ordered as they first appear in the file
    assert ds.lines["sequence"].tolist() == [0, 0, 1, 2, 2]
    assert any("own customer" in n for n in ds.notes)


def test_sequence_column_orders_baskets(tmp_path):
    path = write_csv(tmp_path, {**GOOD, "Seq": [5, 5, 2, 9, 9]})
    ds = pandas_sources.load_file(path, {"basket_id": "Receipt", "item_id": "SKU", "sequence": "Seq"})
    assert ds.order_column == "sequence" and ds.lines["sequence"].tolist() == [5, 5, 2, 9, 9]


@pytest.mark.parametrize(
    "change, mapping, message",
    [
        ({"Qty": ["1", "two", "1", "1", "1"]}, MAPPING, "column 'Qty' must be numeric; 1 values are not \\(e.g. 'two'\\)"),
        ({"When": ["2020-01-01", "soon", "2020-01-02", "x", "2020-01-03"]}, MAPPING, "column 'When' has 2 unparsable timestamps"),
        ({}, {**MAPPING, "price": "Cost"}, "column 'Cost' named in 'columns' is not in the file"),
    ],
)
def test_bad_columns_name_file_and_column(tmp_path, change, mapping, message):
    path = write_csv(tmp_path, {**GOOD, **change})
    with pytest.raises(DataError, match=f"{path.name}: {message}"):
        pandas_sources.load_file(path, mapping)


def test_bad_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv: the file is empty"):
        pandas_sources.load_file(empty, MAPPING)
    header_only = tmp_path / "header.csv"
    header_only.write_text("Receipt,Client,SKU,When,Qty\n")
    with pytest.raises(DataError, match="header.csv: the file has no rows"):
        pandas_sources.load_file(header_only, MAPPING)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="broken.parquet: cannot read the file"):
        pandas_sources.load_file(broken, MAPPING)
    with pytest.raises(DataError, match="nothere.csv: file does not exist"):
        pandas_sources.load_file(tmp_path / "nothere.csv", MAPPING)
    odd = tmp_path / "tx.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match="unsupported file type"):
        pandas_sources.load_file(odd, MAPPING)


def test_bad_mappings(tmp_path):
    path = write_csv(tmp_path, GOOD)
    with pytest.raises(ParameterError, match="unknown canonical name 'store'"):
        pandas_sources.load_file(path, {**MAPPING, "store": "Other"})
    with pytest.raises(ParameterError, match="a mapping for item_id is required"):
        pandas_sources.load_file(path, {"basket_id": "Receipt"})


def test_item_level_must_exist_for_the_source(tmp_path):
    path = write_csv(tmp_path, GOOD)
    params = {**config.load("smoke"), "source": "file", "path": str(path), "columns": MAPPING, "item_level": "department"}
    with pytest.raises(ParameterError, match="'department' is not available for source file"):
        data.load(params)


def test_sample_customers_is_seeded():
    params = {**config.load("smoke"), "sample_customers": 50}
    a, b = data.load(params), data.load(params)
    assert a.lines["customer_id"].nunique() == 50
    pd.testing.assert_frame_equal(a.lines, b.lines)


def test_completejourney_is_read_from_the_package():
    ds = pandas_sources.load_completejourney()
    assert len(ds.lines) == 1_469_307
    assert ds.lines["customer_id"].nunique() == 2_469
    assert ds.lines["basket_id"].nunique() > 150_000
    assert ds.lines["timestamp"].min() >= pd.Timestamp("2017-01-01")
    assert {"product_type", "product_category", "department"} <= set(ds.catalogue.columns)
    assert ds.catalogue["item_id"].is_unique


def test_catalogue_at_level_keys_by_the_level():
    cat = pd.DataFrame(
        {"item_id": ["1", "2", "3"], "name": ["a", "b", "c"], "product_type": ["T1", "T1", "T2"],
         "product_category": ["C1", "C1", "C2"], "department": ["D", "D", "E"]}
    )
    out = data.catalogue_at_level(cat, "product_category")
    assert out["item_id"].tolist() == ["C1", "C2"] and out["department"].tolist() == ["D", "E"]
