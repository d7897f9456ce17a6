"""Hostile input on the data side: swapped days and months, mixed UTC offsets, implausible times, encodings and
delimiters, IDs spelled two ways, pseudonyms under a secret key, raw customer IDs in previews, too little data.
Every refusal is one line naming the file and the column (shared.data.DataError or config.ParameterError)."""
from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from shared import cleaning, config, data
from shared.config import ParameterError
from shared.data import DataError, pandas_sources


MAPPING = {"basket_id": "b", "customer_id": "c", "item_id": "i", "timestamp": "t", "quantity": "q"}


@pytest.fixture(autouse=True)
def private_key(tmp_path, monkeypatch):
    """Every test gets its own config dir (no key in the user's home) and no key in the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(data.KEY_ENV, raising=False)


def write(tmp_path, rows, name="tx.csv", **kw):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False, **kw)
    return path


def frame(times, **extra):
    n = len(times)
    return {"b": [f"b{k // 2}" for k in range(n)], "c": ["u1"] * n, "i": [f"x{k % 3}" for k in range(n)], "t": times,
            "q": [1] * n, **extra}


def params(**kw):
    return {**config.load("smoke"), "min_item_count": 1, **kw}


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# --- 1. timestamps --------------------------------------------------------------------------------------------

def test_ambiguous_day_month_is_refused_with_examples_and_the_parameter(tmp_path):
    path = write(tmp_path, frame(["01/02/2020", "01/02/2020", "03/04/2020", "03/04/2020"]))
    with pytest.raises(DataError) as exc:
        pandas_sources.load_file(path, MAPPING)
    text = one_line(exc)
    assert str(path) in text and "column 't'" in text and "'01/02/2020'" in text and "'03/04/2020'" in text
    assert "timestamp_format" in text and "%d/%m/%Y" in text


def test_column_mixing_day_first_and_month_first_is_refused(tmp_path):
    path = write(tmp_path, frame(["13/02/2020", "13/02/2020", "02/14/2020", "02/14/2020"]))
    with pytest.raises(DataError, match="column 't' mixes day/month/year and month/day/year"):
        pandas_sources.load_file(path, MAPPING)


def test_one_valid_reading_is_used_with_a_note(tmp_path):
    path = write(tmp_path, frame(["13/02/2020", "13/02/2020", "03/04/2020 10:30", "03/04/2020 10:30"]))
    ds = pandas_sources.load_file(path, MAPPING)
    assert ds.lines["timestamp"].tolist()[::2] == [pd.Timestamp("2020-02-13"), pd.Timestamp("2020-04-03 10:30")]
    assert any("day/month/year" in note and "'13/02/2020'" in note for note in ds.notes)


def test_timestamp_format_parses_exactly_that_format(tmp_path):
    path = write(tmp_path, frame(["01/02/2020", "01/02/2020", "03/04/2020", "03/04/2020"]))
    ds = pandas_sources.load_file(path, MAPPING, timestamp_format="%m/%d/%Y")
    assert ds.lines["timestamp"].iat[0] == pd.Timestamp("2020-01-02")
    bad = write(tmp_path, frame(["01/02/2020", "01/02/2020", "2020-03-04", "2020-03-04"]), name="bad.csv")
    with pytest.raises(DataError) as exc:
        pandas_sources.load_file(bad, MAPPING, timestamp_format="%m/%d/%Y")
    assert "column 't' has 2 timestamps that do not match timestamp_format '%m/%d/%Y'" in one_line(exc)
    assert "'2020-03-04'" in str(exc.value)


def test_timestamp_format_is_a_parameter():
    assert config.load("default")["timestamp_format"] is None
    assert config.load("default", overrides=["timestamp_format=%d/%m/%Y"])["timestamp_format"] == "%d/%m/%Y"


def test_mixed_utc_offsets_are_converted_to_utc_with_a_note(tmp_path):
    path = write(tmp_path, frame(["2020-03-28T10:00:00+01:00", "2020-03-28T10:00:00+01:00",
                                  "2020-03-30T10:00:00+02:00", "2020-03-30T10:00:00+02:00"]))
    ds = pandas_sources.load_file(path, MAPPING)
    assert ds.lines["timestamp"].tolist()[::2] == [pd.Timestamp("2020-03-28 09:00"), pd.Timestamp("2020-03-30 08:00")]
    assert ds.lines["timestamp"].dt.tz is None
    note = next(n for n in ds.notes if "UTC" in n)
    assert "converted to UTC" in note and "format=" not in note and "pandas" not in note.lower()


def test_implausible_timestamps_are_dropped_and_counted_in_cleaning(tmp_path):
    times = ["1500-01-01 10:00", "1500-01-01 10:00", "2020-01-01", "2020-01-01", "2020-01-08", "2020-01-08",
             "2999-01-01", "2999-01-01"]
    path = write(tmp_path, frame(times))
    ds = pandas_sources.load_file(path, MAPPING)
    res = cleaning.clean(ds, params())
    step = res.ledger.set_index("step").loc["implausible_timestamp"]
    assert step["rows_dropped"] == 4
    assert (res.rejected["step"] == "implausible_timestamp").sum() == 4
    assert res.lines["timestamp"].dt.year.eq(2020).all()


# --- 2. encoding and delimiter --------------------------------------------------------------------------------

def test_latin1_file_read_as_utf8_names_the_file_and_the_parameter(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("b,c,i,t,q\n1,Zoë,café,2020-01-01,1\n2,Zoë,thé,2020-01-02,1\n".encode("latin-1"))
    with pytest.raises(DataError) as exc:
        pandas_sources.load_file(path, MAPPING)
    text = one_line(exc)
    assert str(path) in text and "-p encoding=latin-1" in text
    ds = pandas_sources.load_file(path, MAPPING, encoding="latin-1")
    assert ds.lines["item_id"].tolist() == ["café", "thé"]


def test_delimiter_parameter_and_bad_values(tmp_path):
    path = write(tmp_path, frame(["2020-01-01"] * 4), sep=";")
    with pytest.raises(DataError, match="not in the file"):
        pandas_sources.load_file(path, MAPPING)
    assert len(pandas_sources.load_file(path, MAPPING, delimiter=";").lines) == 4
    with pytest.raises(ParameterError, match="parameter 'delimiter'"):
        pandas_sources.load_file(path, MAPPING, delimiter=";;")
    with pytest.raises(ParameterError, match="parameter 'encoding'"):
        pandas_sources.load_file(path, MAPPING, encoding="no-such-codec")
    loaded = config.load("default", overrides=["encoding=latin-1", "delimiter=;"])
    assert (loaded["encoding"], loaded["delimiter"]) == ("latin-1", ";")


# --- 3. ID normalisation --------------------------------------------------------------------------------------

def test_ids_spelled_two_ways_are_one_id_and_counted(tmp_path):
    rows = {"b": ["1", "1.0", " 2", "2 "], "c": ["7", "7.0", " 7 ", "8"], "i": ["x", " x", "y", "007"],
            "t": ["2020-01-01", "2020-01-01", "2020-01-08", "2020-01-08"], "q": [1, 1, 1, 1]}
    path = write(tmp_path, rows)
    ds = pandas_sources.load_file(path, MAPPING)
    res = cleaning.clean(ds, params())
    ledger = res.ledger
    assert (ledger["rows_in"] - ledger["rows_dropped"] == ledger["rows_out"]).all()
    assert (ledger["rows_out"].iloc[:-1].to_numpy() == ledger["rows_in"].iloc[1:].to_numpy()).all()
    ids = ledger[ledger["step"] == "id_normalisation"]
    ids = ids.set_index(ids["reason"].str.split(":").str[0])
    assert ids.loc["basket_id", "reason"].startswith("basket_id: 3 lines rewritten")
    assert ids.loc["customer_id", "reason"].startswith("customer_id: 2 lines rewritten")
    assert ids.loc["item_id", "reason"].startswith("item_id: 1 lines rewritten")
    assert sorted(res.lines["basket_id"].unique()) == ["1", "2"]
    assert res.lines["customer_id"].nunique() == 2  # 7, 7.0 and " 7 " are one customer
    assert "007" in set(res.lines["item_id"])  # leading zeros are kept


# --- 4. pseudonyms under a secret key -------------------------------------------------------------------------

def test_key_file_is_created_once_private_and_reused(tmp_path):
    key = data.pseudonym_key()
    path = data.key_file()
    assert path == tmp_path / "config" / "basket-lab" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    assert data.pseudonym_key() == key
    ids = pd.Series(["u1", "u2"])
    assert data.pseudonymise(ids, "s").tolist() == data.pseudonymise(ids, "s").tolist()


def test_env_key_overrides_and_keys_give_different_pseudonyms(monkeypatch):
    ids = pd.Series(["u1", "u2", None])
    from_file = data.pseudonymise(ids, "basket-lab")
    monkeypatch.setenv(data.KEY_ENV, "secret-one")
    one = data.pseudonymise(ids, "basket-lab")
    monkeypatch.setenv(data.KEY_ENV, "secret-two")
    two = data.pseudonymise(ids, "basket-lab")
    assert set(one[:2]).isdisjoint(two[:2]) and set(one[:2]).isdisjoint(from_file[:2])
    assert one[:2].str.fullmatch(r"c[0-9a-f]{12}").all() and one[2] != one[2]  # missing stays missing (NaN)


def test_no_raw_customer_id_in_clean_or_rejected_lines(tmp_path):
    rows = frame(["2020-01-01", "2020-01-01", "2020-01-08", "2020-01-08"], c=["ann@x.org", "ann@x.org", "bob@y.org", "bob@y.org"],
                 q=[1, -1, 1, 1])
    path = write(tmp_path, rows)
    res = cleaning.clean(pandas_sources.load_file(path, MAPPING), params())
    assert len(res.rejected) == 1
    shown = set(res.lines["customer_id"]) | set(res.rejected["customer_id"])
    assert not shown & {"ann@x.org", "bob@y.org"}
    assert (tmp_path / "config" / "basket-lab" / "pseudonym.key").read_text().strip() not in str(shown)


# --- 5. previews show pseudonyms ------------------------------------------------------------------------------

def test_preview_holds_no_raw_customer_id(tmp_path):
    emails = ["ann@x.org", "ann@x.org", "bob@y.org", "bob@y.org"]
    path = write(tmp_path, frame(["2020-01-01", "2020-01-01", "2020-01-08", "2020-01-08"], c=emails))
    ds = pandas_sources.load_file(path, MAPPING)
    preview = ds.preview(salt="basket-lab")
    assert len(preview) == 4
    assert not preview.astype(str).isin(emails).any().any()
    assert not preview.to_string().count("@")
    clean = cleaning.clean(ds, params(salt="basket-lab"))
    assert set(preview["customer_id"]) == set(clean.lines["customer_id"])  # the same pseudonyms as the clean lines
    assert ds.lines["customer_id"].tolist() == emails  # the dataset itself is untouched


# --- 6. too little data ---------------------------------------------------------------------------------------

def test_no_lines_left_after_cleaning(tmp_path):
    path = write(tmp_path, frame(["2020-01-01"] * 4, q=[0, -1, 0, -2]))
    with pytest.raises(DataError) as exc:
        cleaning.clean(pandas_sources.load_file(path, MAPPING), params())
    text = one_line(exc)
    assert text.startswith(f"{path}: no lines left after cleaning: all 4 lines dropped")
    assert "non_positive_quantity 4" in text


@pytest.mark.parametrize("rows", [
    {"b": ["only"], "c": ["u"], "i": ["x"], "t": ["2020-01-01"], "q": [1]},
    {"b": ["one", "one"], "c": ["u", "u"], "i": ["x", "y"], "t": ["2020-01-01", "2020-01-01"], "q": [1, 1]},
])
def test_one_data_row_or_one_basket_stops_in_cleaning(tmp_path, rows):
    path = write(tmp_path, rows)
    with pytest.raises(DataError) as exc:
        cleaning.clean(pandas_sources.load_file(path, MAPPING), params())
    assert one_line(exc).startswith(f"{path}: only one basket:")


# --- the Spark engine: the same lines, ledger, notes and refusals -------------------------------------------------

HOSTILE = {
    "b": ["1", "1.0", " 2", "2", "3", "3", "4", "4", "5", "5"],
    "c": ["ann@x.org", "ann@x.org ", "bob@y.org", "bob@y.org", "ann@x.org", "ann@x.org", "cy@z.org", "cy@z.org",
          "cy@z.org", "cy@z.org"],
    "i": ["x", " x", "y", "z", "x", "y", "007", "z", "x", "y"],
    "t": ["13/01/2020 10:00", "13/01/2020 10:00", "03/02/2020", "03/02/2020", "01/01/1500", "01/01/1500",
          "10/02/2020", "10/02/2020", "01/01/2999", "01/01/2999"],
    "q": [1, 1, 1, 1, 1, 1, 1, -1, 1, 1],
}


@pytest.mark.spark
def test_spark_cleans_hostile_input_like_pandas(spark_params, tmp_path):
    path = write(tmp_path, HOSTILE)
    params = dict(spark_params, min_item_count=1, source="file", path=str(path), columns=MAPPING)
    pandas_params = dict(params, engine="pandas")
    ds_pandas, ds_spark = data.load(pandas_params), data.load(params)
    assert ds_spark.notes[:-1] == ds_pandas.notes  # the day/month note; Spark adds its version
    preview = ds_spark.preview(salt=params["salt"])
    assert not preview.astype(str).apply(lambda s: s.str.contains("@")).any().any()
    expected, got = cleaning.clean(ds_pandas, pandas_params), cleaning.clean(ds_spark, params)
    pd.testing.assert_frame_equal(got.ledger, expected.ledger)
    assert expected.ledger.set_index("step").loc["implausible_timestamp", "rows_dropped"] == 4
    for col in expected.lines.columns:
        a, b = expected.lines[col], got.lines[col]
        if col == "timestamp":
            a, b = a.astype("datetime64[us]"), b.astype("datetime64[us]")
        pd.testing.assert_series_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False, obj=col)
    assert sorted(got.rejected["step"]) == sorted(expected.rejected["step"])
    assert not set(got.rejected["customer_id"].astype(str)) & set(HOSTILE["c"])


@pytest.mark.spark
def test_spark_refuses_like_pandas(spark_params, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("b,c,i,t,q\n1,Zoë,café,2020-01-01,1\n2,Zoë,thé,2020-01-02,1\n".encode("latin-1"))
    params = dict(spark_params, min_item_count=1, source="file", path=str(latin), columns=MAPPING)
    with pytest.raises(DataError, match=r"latin\.csv: the file is not valid utf-8 text .*-p encoding=latin-1"):
        data.load(params)
    assert data.load(dict(params, encoding="latin-1")).preview()["item_id"].tolist() == ["café", "thé"]
    ambiguous = write(tmp_path, frame(["01/02/2020", "01/02/2020", "03/04/2020", "03/04/2020"]))
    with pytest.raises(DataError) as exc:
        data.load(dict(params, path=str(ambiguous)))
    with pytest.raises(DataError) as exc_pandas:
        data.load(dict(params, path=str(ambiguous), engine="pandas"))
    assert str(exc.value) == str(exc_pandas.value)
    empty = write(tmp_path, frame(["2020-01-01"] * 4, q=[0, -1, 0, -2]), name="returns.csv")
    spark_empty = dict(params, path=str(empty))
    with pytest.raises(DataError, match="no lines left after cleaning: all 4 lines dropped"):
        cleaning.clean(data.load(spark_empty), spark_empty)
