"""Fuzzing ``python -m shared check`` (and three ``run``s) with malformed files and parameters.

A seeded generator makes 240 cases: a small valid shop file, then one to three mutations each (missing or
renamed columns, text in numeric columns, empty or header-only files, binary garbage, odd encodings, huge or
negative quantities, duplicate lines, HTML / blank / "1" vs "1.0" IDs, missing values, dates in many formats,
one row / basket / item, unknown parameters, wrong types, bad ``columns`` mappings ...). Every case must end
in one of two ways:

- exit 0, and then the cleaning ledger balances (``rows_in - rows_dropped == rows_out``, chained, the first
  ``rows_in`` the file's record count);
- exit 2 with exactly one stderr line, starting ``error:``, and no traceback.

Nothing outside ``tmp_path`` is touched: an "earlier run" folder beside the cases stays byte-identical and the
repository's ``git status`` does not change. The slow test runs one good and two bad cases through the real
``python -m shared run`` and checks that the bad ones leave the good run's folder byte-identical.

This file also holds the tests of ``min_support: auto`` (a parameter of the same CLI).
"""
from __future__ import annotations

import io
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared import cleaning, config, data, mining
from shared.runner import preflight
from shared.mining import itemsets
from shared.__main__ import main

from .conftest import REPO, run_cli

N_CASES = 240
SEED = 20240611

GOOD_COLUMNS = "{basket_id: basket, customer_id: customer, item_id: product, timestamp: day, quantity: qty}"


@dataclass
class Case:
    name: str
    content: bytes
    suffix: str = ".csv"
    overrides: list[str] = field(default_factory=list)
    columns: str | None = GOOD_COLUMNS
    records: int | None = None  # data records in the file, when known
    xfail: str | None = None

    def argv(self, path: Path) -> list[str]:
        args = ["check", "--profile", "smoke", "-p", "source=file", "-p", f"path={path}"]
        if self.columns is not None:
            args += ["-p", f"columns={self.columns}"]
        for override in self.overrides:
            args += ["-p", override]
        return args


def base_frame(rng: random.Random, n_customers: int = 60, n_baskets: int = 420, n_items: int = 40) -> pd.DataFrame:
    """A valid shop: 16 weeks of baskets of 2-6 items (enough test baskets for the smoke profile)."""
    start = pd.Timestamp("2023-01-02")
    rows = []
    for b in range(n_baskets):
        customer = f"C{rng.randrange(n_customers):03d}"
        day = start + pd.Timedelta(days=rng.randrange(16 * 7), hours=rng.randrange(8, 20))
        for item in rng.sample(range(n_items), min(n_items, rng.randint(2, 6))):
            rows.append({"basket": f"B{b:04d}", "customer": customer, "product": f"P{item:03d}",
                         "day": day.strftime("%Y-%m-%d %H:%M:%S"), "qty": str(rng.randint(1, 3))})
    return pd.DataFrame(rows)


def to_csv(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode(encoding, errors="replace")


DATE_FORMATS = ["%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%b %d %Y", "%Y%m%d"]
WEIRD_IDS = ["<script>alert(1)</script>", "  B 1 ", "1", "1.0", "", "NaN", "null", "ñoño", "a|b", "=cmd()", "\t", "0001",
             "<b>x</b>", "💥", "a\"b", "None"]


def parsed_days(frame: pd.DataFrame) -> pd.Series:
    """The ``day`` column as datetimes, whatever earlier mutations did to it (unparseable: a fixed day)."""
    days = pd.to_datetime(frame["day"], format="mixed", errors="coerce", utc=True).dt.tz_localize(None)
    return days.fillna(pd.Timestamp("2023-03-01"))


def mutate(rng: random.Random, frame: pd.DataFrame, case: Case) -> tuple[pd.DataFrame | None, str]:
    """Apply one random mutation to ``frame`` (or to the case's parameters); None when the mutation wrote
    ``case.content`` itself."""
    kind = rng.choice([
        "drop_column", "rename_column", "text_in_qty", "empty_file", "header_only", "garbage", "encoding",
        "huge_qty", "negative_qty", "duplicates", "weird_ids", "missing_values", "date_format", "old_dates",
        "future_dates", "mixed_offsets", "one_row", "one_basket", "one_item", "unknown_param", "wrong_type",
        "bad_columns", "delimiter", "ragged", "nul_bytes", "float_ids", "whitespace_ids", "blank_lines",
        "epoch_dates", "min_support", "ambiguous_dates", "bom", "long_field", "quoted_newlines", "no_customer",
        "sequence_column", "tiny_shop",
    ])
    col = rng.choice(list(frame.columns)) if len(frame.columns) else None
    n = len(frame)
    if kind == "drop_column" and col:
        frame = frame.drop(columns=[col])
    elif kind == "rename_column" and col:
        frame = frame.rename(columns={col: col.upper() + rng.choice(["", " ", "_x"])})
    elif kind == "text_in_qty" and "qty" in frame and n:
        frame.loc[frame.sample(max(1, n // 50), random_state=rng.randrange(10**6)).index, "qty"] = rng.choice(["abc", "1,5", "two", "1e", "--"])
    elif kind == "empty_file":
        case.content = b""
        return None, kind
    elif kind == "header_only":
        case.content = (",".join(frame.columns) + "\n").encode()
        case.records = 0
        return None, kind
    elif kind == "garbage":
        size = rng.choice([1, 10, 1000, 20000])
        case.content = bytes(rng.getrandbits(8) for _ in range(size))
        case.records = None
        return None, kind
    elif kind == "encoding":
        frame = frame.copy()
        if n:
            frame.loc[frame.index[:: max(1, n // 20)], "product"] = "Café crème"
        enc = rng.choice(["latin-1", "utf-16", "cp1252", "utf-8"])
        case.content = to_csv(frame, encoding=enc)
        case.overrides.append(f"encoding={rng.choice([enc, 'utf-8', 'latin-1', 'klingon', 'utf-32'])}")
        case.records = len(frame)
        return None, kind
    elif kind == "huge_qty" and "qty" in frame and n:
        frame.loc[frame.index[:: max(1, n // 30)], "qty"] = rng.choice(["1e308", "1e400", "99999999999999999999", "inf", "-inf"])
    elif kind == "negative_qty" and "qty" in frame and n:
        frame.loc[frame.index[:: max(1, n // 10)], "qty"] = rng.choice(["-1", "-5", "0", "-0.5"])
    elif kind == "duplicates" and n:
        frame = pd.concat([frame, frame.sample(frac=rng.choice([0.1, 0.5, 1.0]), random_state=rng.randrange(10**6))])
    elif kind in ("weird_ids", "float_ids", "whitespace_ids") and n:
        target = rng.choice([c for c in ("basket", "customer", "product") if c in frame] or [col])
        values = {"weird_ids": WEIRD_IDS, "float_ids": ["1", "1.0", "01", "1.00", "1e0"],
                  "whitespace_ids": [" x", "x ", " x ", "x", "\u00a0x"]}[kind]
        index = frame.sample(max(1, n // rng.choice([2, 10, 100])), random_state=rng.randrange(10**6)).index
        frame.loc[index, target] = [rng.choice(values) for _ in index]
    elif kind == "missing_values" and n and col:
        frame.loc[frame.sample(frac=rng.choice([0.01, 0.3, 1.0]), random_state=rng.randrange(10**6)).index, col] = None
    elif kind == "date_format" and "day" in frame:
        fmt = rng.choice(DATE_FORMATS)
        frame["day"] = parsed_days(frame).dt.strftime(fmt)
        if rng.random() < 0.5:
            case.overrides.append(f"timestamp_format={rng.choice([fmt, '%d/%m/%Y', '%Q', ''])}")
    elif kind == "ambiguous_dates" and "day" in frame:
        days = parsed_days(frame)
        frame["day"] = days.dt.strftime(rng.choice(["%d/%m/%Y", "%m/%d/%Y"]))
        frame = frame[(days.dt.day <= 12).to_numpy()] if rng.random() < 0.5 else frame
    elif kind == "old_dates" and "day" in frame and n:
        frame.loc[frame.index[:: max(1, n // rng.choice([1, 5, 100]))], "day"] = rng.choice(["1500-01-01", "0001-01-01", "1677-09-21", "1899-12-31"])
    elif kind == "future_dates" and "day" in frame and n:
        frame.loc[frame.index[:: max(1, n // rng.choice([1, 5, 100]))], "day"] = rng.choice(["2999-01-01", "9999-12-31", "2262-04-12", "3000-02-30"])
    elif kind == "mixed_offsets" and "day" in frame and n:
        frame["day"] = [f"{d.replace(' ', 'T')}{rng.choice(['+00:00', '+05:30', '-08:00', 'Z', ''])}" for d in frame["day"]]
    elif kind == "epoch_dates" and "day" in frame:
        frame["day"] = (parsed_days(frame).astype("int64") // 10**9).astype(str)
    elif kind == "one_row" and n:
        frame = frame.head(1)
    elif kind == "one_basket" and "basket" in frame and n:
        frame = frame.assign(basket="B0")
    elif kind == "one_item" and "product" in frame and n:
        frame = frame.assign(product="P0")
    elif kind == "unknown_param":
        case.overrides.append(rng.choice(["min_suport=0.1", "foo=1", "=3", "noequals", "models=[nope]", "metrics=[nope]",
                                          "k_values=[]", "k_values=[0]", "profile=smoke"]))
    elif kind == "wrong_type":
        case.overrides.append(rng.choice(["seed=1.5", "seed=-1", "test_weeks=abc", "test_weeks=0", "max_basket_size=[1]",
                                          "min_item_count=true", "split_method=sideways", "engine=dask", "item_level=brand",
                                          "sample_customers=-3", "test_fraction=2", "path=", "source=ftp", "kcore=1e9",
                                          "min_support=abc", "min_support=-1", "min_support=auto", "min_support=.nan",
                                          "delimiter=;;", "encoding=", "salt=", "columns=", "validation_weeks=100"]))
    elif kind == "bad_columns":
        case.columns = rng.choice(["[basket, product]", "{}", "notadict", "{basket_id: basket}", "{item_id: product}",
                                   "{basket_id: 5, item_id: product}", "{basket_id: basket, item_id: product, nonsense: qty}",
                                   "{basket_id: missing, item_id: product}", "{basket_id: basket, item_id: basket}",
                                   "{basket_id: '', item_id: product}", "{basket_id: basket, item_id: [product]}",
                                   "{basket_id: basket, item_id: product, timestamp: qty}",
                                   "{basket_id: basket, item_id: product, quantity: day}",
                                   "{basket_id: basket, item_id: product, customer_id: product}", "{: basket}",
                                   "{basket_id: basket, item_id: product, price: customer}", "null"])
    elif kind == "delimiter":
        sep = rng.choice([";", "\t", "|"])
        case.content = to_csv(frame, sep=sep)
        case.overrides.append(f"delimiter={rng.choice([repr(sep), 'null', ';', 'ab'])}")
        case.records = len(frame)
        return None, kind
    elif kind == "ragged":
        text = to_csv(frame).decode().splitlines()
        for i in rng.sample(range(1, len(text)), min(len(text) - 1, 3)) if len(text) > 1 else []:
            text[i] = text[i] + rng.choice([",extra", ",,,,", ""]) if rng.random() < 0.5 else text[i].rsplit(",", 2)[0]
        case.content = ("\n".join(text) + "\n").encode()
        case.records = None
        return None, kind
    elif kind == "nul_bytes":
        raw = bytearray(to_csv(frame))
        for _ in range(rng.choice([1, 10])):
            raw.insert(rng.randrange(len(raw) + 1), 0)
        case.content = bytes(raw)
        case.records = None
        return None, kind
    elif kind == "blank_lines":
        text = to_csv(frame).decode().replace("\n", "\n\n", rng.randint(1, 20))
        case.content = text.encode()
        case.records = len(frame)  # blank lines are not records
        return None, kind
    elif kind == "min_support":
        case.overrides.append(f"min_support={rng.choice(['auto', 'AUTO', '0.5', '1', '1e-3', '0.0000001', '1.5'])}")
    elif kind == "bom":
        case.content = b"\xef\xbb\xbf" + to_csv(frame)
        case.records = len(frame)
        return None, kind
    elif kind == "long_field" and n:
        frame.loc[frame.index[0], rng.choice(list(frame.columns))] = "x" * rng.choice([1000, 200_000])
    elif kind == "quoted_newlines" and "product" in frame and n:
        frame.loc[frame.index[:: max(1, n // 10)], "product"] = 'multi\nline "quoted", item'
    elif kind == "no_customer":
        case.columns = "{basket_id: basket, item_id: product, timestamp: day}"
    elif kind == "sequence_column":
        case.columns = "{basket_id: basket, customer_id: customer, item_id: product, sequence: qty}"
    elif kind == "tiny_shop":
        frame = base_frame(rng, n_customers=rng.randint(1, 5), n_baskets=rng.randint(1, 40), n_items=rng.randint(1, 5))
    return frame, kind


def make_cases(n: int = N_CASES, seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    base = base_frame(random.Random(seed))
    cases = []
    for i in range(n):
        frame = base.copy()
        case = Case(name="", content=b"")
        kinds = []
        for _ in range(1 if i < n // 2 else rng.randint(2, 3)):
            if frame is None:
                break
            frame, kind = mutate(rng, frame, case)
            kinds.append(kind)
        if frame is not None:
            case.content = to_csv(frame)
            case.records = len(frame)
        case.name = f"{i:03d}-{'+'.join(kinds)}"
        cases.append(case)
    return cases


#: cases that fail because of a bug in a file this change may not edit: case name -> reason (strict xfail)
KNOWN_BUGS: dict[str, str] = {}

CASES = make_cases()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def git_status() -> set[str]:
    """The repository's untracked files (read only: ``git status`` changes nothing). Tracked files may be
    edited by people working in the tree meanwhile; a file the CLI wrote would show up here."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO, capture_output=True,
                         text=True).stdout
    return {line[3:] for line in out.splitlines() if line.startswith("??")}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """An "earlier run" folder beside the cases, and the repository's status before the first case."""
    root = tmp_path_factory.mktemp("fuzz")
    earlier = root / "earlier_run"
    (earlier / "data").mkdir(parents=True)
    (earlier / ".basket-lab-run").write_text('{"tool": "basket-lab"}')
    (earlier / "leaderboard.csv").write_text("model,task\npopularity,basket_completion\n")
    (earlier / "data" / "lines.parquet").write_bytes(b"PAR1 not really")
    before = snapshot(earlier)
    status = git_status()
    yield root
    assert snapshot(earlier) == before, "a case touched the earlier run folder"
    assert not git_status() - status, f"a case added files to the repository: {git_status() - status}"


def ledger_balances(ledger: pd.DataFrame, records: int | None) -> None:
    assert len(ledger), "an empty ledger"
    assert (ledger["rows_in"] - ledger["rows_dropped"] == ledger["rows_out"]).all(), ledger
    assert (ledger["rows_in"].iloc[1:].to_numpy() == ledger["rows_out"].iloc[:-1].to_numpy()).all(), ledger
    if records is not None:
        assert ledger["rows_in"].iloc[0] == records, ledger


def check_case(case: Case, folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BASKET_LAB_PSEUDONYM_KEY", "fuzz")  # no key file written under ~/.config
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lines{case.suffix}"
    path.write_bytes(case.content)
    capsys.readouterr()
    rc = main(case.argv(path))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, (case.name, err[-3000:])
    if rc == 0:
        assert out.startswith("ok: "), (case.name, out, err)
        overrides = case.argv(path)[3:][1::2]
        params = preflight.resolve("smoke", None, overrides)
        ledger_balances(cleaning.clean(data.load(params), params).ledger, case.records)
    else:
        lines = err.strip().splitlines()
        assert rc == 2, (case.name, rc, err[-3000:])
        assert len(lines) == 1 and lines[0].startswith("error:"), (case.name, err[-3000:])


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.name])]
                          if c.name in KNOWN_BUGS else []) for c in CASES])
def test_fuzz_check(case, sandbox, capsys, monkeypatch):
    check_case(case, sandbox / case.name, capsys, monkeypatch)


def test_generator_is_seeded_and_varied():
    again = make_cases()
    assert [c.name for c in again] == [c.name for c in CASES]
    assert [c.content for c in again] == [c.content for c in CASES]
    kinds = {k for c in CASES for k in c.name.split("-", 1)[1].split("+")}
    assert len(CASES) >= 200 and len(kinds) >= 30, sorted(kinds)


# ------------------------------------------------------------------------------------------------------
# the real CLI: one good run, two bad ones, the good run's folder byte-identical afterwards
# ------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_fuzz_run_subprocess(tmp_path):
    # a department level gives the run a catalogue (notebook 03 needs one: see test_baskets_only's xfail)
    frame = base_frame(random.Random(SEED))
    good = Case("good", to_csv(frame.assign(dept="D" + frame["product"].str[-1])),
                columns=GOOD_COLUMNS[:-1] + ", department: dept}")
    bad_data = Case("bad-data", b"basket,customer,product,day,qty\n" + bytes(range(256)) * 4)
    bad_param = Case("bad-param", good.content, overrides=["test_weeks=abc"])
    out = tmp_path / "run"
    env = {"BASKET_LAB_PSEUDONYM_KEY": "fuzz"}
    status = git_status()

    def run(case: Case) -> subprocess.CompletedProcess:
        folder = tmp_path / case.name
        folder.mkdir()
        (folder / "lines.csv").write_bytes(case.content)
        return run_cli("run", *case.argv(folder / "lines.csv")[1:], "--out", str(out), timeout=1200, env=env)

    proc = run(good)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Traceback" not in proc.stderr
    before = snapshot(out)
    for case in (bad_data, bad_param):
        proc = run(case)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (case.name, proc.stderr[-3000:])
        assert len(lines) == 1 and lines[0].startswith("error:"), (case.name, proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr
        assert snapshot(out) == before, f"{case.name} touched the earlier run"
    assert not git_status() - status


# ------------------------------------------------------------------------------------------------------
# min_support: auto
# ------------------------------------------------------------------------------------------------------

def dense_baskets(n: int = 2000, items: int = 40, seed: int = 0) -> list[list[str]]:
    """Big baskets over few items: at support 0.001 (and min_count 1) the itemsets explode."""
    rng = np.random.default_rng(seed)
    return [[f"i{j}" for j in np.flatnonzero(rng.random(items) < 0.35)] for _ in range(n)]


def auto_params(**extra) -> dict:
    return {**config.load("default"), "min_count": 1, "max_len": 0, "max_itemsets": 20_000, **extra}


def test_auto_support_climbs_until_under_the_cap():
    baskets = dense_baskets()
    params = auto_params()
    with pytest.raises(mining.TooManyItemsets):
        mining.Mined(baskets, 0.001, params)
    mined = mining.Mined(baskets, "auto", params)
    assert mined.auto_support and mined.min_support > 0.001
    assert mined.min_support in itemsets.AUTO_SUPPORTS
    assert len(mined.itemsets) <= params["max_itemsets"]
    assert mined.itemsets.attrs["min_support"] == mined.min_support
    lower = [s for s in itemsets.AUTO_SUPPORTS if s < mined.min_support]
    with pytest.raises(mining.TooManyItemsets):  # the rung below does not fit: auto took the lowest that does
        mining.frequent_itemsets(baskets, lower[-1], min_count=1, max_itemsets=params["max_itemsets"])
    assert f"{mined.min_support:g} (min_support auto" in mined.support_text()


def test_auto_support_is_0001_where_it_fits_and_a_number_is_unchanged():
    baskets = dense_baskets(n=3000, items=400, seed=1)
    baskets = [b[:4] for b in baskets]
    params = auto_params(max_itemsets=1_000_000)
    explicit = mining.Mined(baskets, 0.001, params)
    auto = mining.Mined(baskets, "auto", params)
    assert auto.min_support == 0.001 and not explicit.auto_support and explicit.min_support == 0.001
    pd.testing.assert_frame_equal(auto.itemsets, explicit.itemsets)
    pd.testing.assert_frame_equal(auto.rules, explicit.rules)
    assert explicit.support_text() == "0.001"
    pairs = mining.frequent_pairs(pd.DataFrame({"basket_id": np.repeat(np.arange(len(baskets)), [len(b) for b in baskets]),
                                                "item_id": [i for b in baskets for i in b]}), "auto", 1)
    assert pairs.attrs["min_support"] == 0.001


def test_min_support_parameter_accepts_auto_and_numbers_only():
    assert config.load("default")["min_support"] == "auto"
    assert config.load("smoke")["min_support"] == 0.005
    assert config.load(overrides=["min_support=AUTO"])["min_support"] == "auto"
    assert config.load(overrides=["min_support=1e-3"])["min_support"] == 0.001
    for bad in ("abc", "0", "1.5", ".nan", "[0.1]"):
        with pytest.raises(config.ParameterError, match="min_support"):
            config.load(overrides=[f"min_support={bad}"])


def test_csv_round_trip_of_the_generator():
    frame = base_frame(random.Random(1))
    assert len(pd.read_csv(io.BytesIO(to_csv(frame)), dtype=str)) == len(frame)
