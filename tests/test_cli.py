"""The CLI end to end on the smoke profile: the run-folder contract (docs/architecture.md), reruns, and bad input."""
import hashlib
import json

import pandas as pd
import pytest

from shared import config
from shared.runner import notebooks, out_folder

from .conftest import PAYLOAD_HEADER, run_cli, run_main


@pytest.mark.slow
def test_run_log_has_no_kernel_warnings(smoke_run, chain_runs):
    """What the user sees: the runner's lines, not the kernel's ("running over TCP without encryption": the
    kernels talk over IPC sockets)."""
    proc = chain_runs.wait("smoke").proc
    log = proc.stdout + proc.stderr
    assert "[1/5] 01_data_cleaning ..." in log and "done in" in log
    assert "without encryption" not in log and "[IPKernelApp] WARNING" not in log


@pytest.mark.slow
def test_output_contract(smoke_run):
    names = [p.stem for p in notebooks.notebook_paths()]
    for name in names:
        assert (smoke_run / f"{name}.ipynb").exists() and (smoke_run / f"{name}.html").exists()
    for f in ("index.html", "manifest.json", "ledger.csv", "data/lines.parquet", "data/catalogue.parquet",
              "data/rejected.parquet", "data/summary.json"):
        assert (smoke_run / f).exists(), f
    assert list((smoke_run / "figures").glob("*.png"))

    manifest = json.loads((smoke_run / "manifest.json").read_text())
    assert {"parameters", "versions", "git_commit", "data_fingerprint", "seed", "notebooks"} <= set(manifest)
    assert manifest["parameters"]["profile"] == "smoke" and manifest["seed"] == 42
    assert manifest["versions"]["pandas"] == pd.__version__
    assert [n["name"] for n in manifest["notebooks"]] == names
    assert all(n["status"] == "ok" and n["seconds"] > 0 and n["peak_mb"] > 0 for n in manifest["notebooks"])
    # the pretrained encoder and its fine-tuned top (one per training seed), each with the sha256 of its weights file
    base, *tuned = manifest["pretrained_models"]
    assert base["model"] == "sentence-transformers/all-MiniLM-L6-v2" and len(base["weights_sha256"]) == 64
    assert [t["model"].endswith("(seed 42)") for t in tuned] == [True]
    for t in tuned:
        assert t["base_weights_sha256"] == base["weights_sha256"]
        assert hashlib.sha256((smoke_run / "data" / t["weights_file"]).read_bytes()).hexdigest() == t["weights_sha256"]

    ledger = pd.read_csv(smoke_run / "ledger.csv")
    assert list(ledger.columns) == ["step", "reason", "rows_in", "rows_dropped", "rows_out"]
    assert (ledger["rows_in"] - ledger["rows_dropped"] == ledger["rows_out"]).all()
    lines = pd.read_parquet(smoke_run / "data/lines.parquet")
    rejected = pd.read_parquet(smoke_run / "data/rejected.parquet")
    assert ledger["rows_out"].iat[-1] == len(lines)
    assert ledger["rows_in"].iat[0] == len(lines) + len(rejected)
    assert set(lines["split"].unique()) == {"train", "validation", "test"}

    # notebook 02: itemsets and rules at the run's item level, nothing under the privacy floor
    itemsets = pd.read_csv(smoke_run / "itemsets.csv")
    found_rules = pd.read_csv(smoke_run / "rules.csv")
    assert {"itemset", "support", "count"} <= set(itemsets.columns)
    assert {"antecedent", "consequent", "lift", "p_value", "p_adjusted", "redundant"} <= set(found_rules.columns)
    floor = manifest["parameters"]["min_count"]
    assert itemsets["count"].min() >= floor and found_rules["count"].min() >= floor
    assert itemsets["itemset"].str.contains("|", regex=False).any()

    # notebook 05: every model on both tasks, with intervals
    board = pd.read_csv(smoke_run / "leaderboard.csv")
    assert list(board.columns[:7]) == ["model", "task", "k", "metric", "value", "ci_low", "ci_high"]
    ndcg = board[(board["metric"] == "ndcg") & (board["k"] == 10)]
    assert set(ndcg["model"]) == set(manifest["parameters"]["models"])
    assert ndcg.groupby("model")["task"].nunique().eq(2).all()
    assert (ndcg["ci_low"] <= ndcg["value"]).all() and (ndcg["value"] <= ndcg["ci_high"]).all()
    assert {"basket_id", "customer_id", "item_id", "timestamp", "split"} <= set(lines.columns)

    # notebook 05 for the index page: the cross-sell pairs by name, each test customer's NDCG@10 per model
    pairs = pd.read_csv(smoke_run / "pairs.csv")
    assert {"product_a", "product_b", "lift", "confidence_a_to_b"} <= set(pairs.columns) and len(pairs)
    per_customer = pd.read_parquet(smoke_run / "data/per_customer.parquet")
    assert set(per_customer["task"]) == {"basket_completion", "next_basket"} and "customer_id" not in per_customer
    assert set(manifest["parameters"]["models"]) <= set(per_customer.columns)


@pytest.mark.slow
def test_results_command_prints_the_run_folders_numbers_and_fills_the_readme(smoke_run, tmp_path):
    """``python -m shared results RUN_DIR``: every NDCG cell of its table is leaderboard.csv's value, the header
    names the commit and CPU, and ``--readme`` replaces only what lies between the markers."""
    from shared.report import results

    done = run_main("results", str(smoke_run))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    manifest = json.loads((smoke_run / "manifest.json").read_text())
    assert manifest["git_commit"][:12] in text and manifest["machine"]["cpu"] in text and "with 1 seed." in text
    board = pd.read_csv(smoke_run / "leaderboard.csv")
    tables = [block.splitlines() for block in text.split("\n\n") if block.startswith("| model")]
    # the smoke shop sells every product often: no new product to evaluate, and the results say so
    # (tests/test_new_products.py prints the table of a run folder that has them)
    assert pd.read_csv(smoke_run / "new_product_targeting.csv").empty
    assert "New products: none bought by enough customers in the test weeks to evaluate." in text
    assert len(tables) == 2  # NDCG@10, then fit and scoring times
    rows = tables[0][2:]
    assert len(rows) == board["model"].nunique()
    for line in rows:
        model, completion, nxt = [c.strip() for c in line.strip("|").split("|")][:3]
        for task, cell in (("basket_completion", completion), ("next_basket", nxt)):
            value = board[(board["model"] == model) & (board["task"] == task) & (board["k"] == 10) & (board["metric"] == "ndcg")]["value"].iloc[0]
            assert cell.replace("*", "").startswith(f"{value:.3f}"), (model, task, cell)
    timings = pd.read_csv(smoke_run / "data" / "eval_timings.csv")
    assert len(tables[1][2:]) == timings["model"].nunique()
    for line in tables[1][2:]:
        model, fit, score = [c.strip() for c in line.strip("|").split("|")]
        rows = timings[timings["model"] == model]
        assert fit == f"{rows.groupby('seed')['fit_s'].first().mean():.1f} s"
        assert score == f"{rows.groupby('seed')['score_s'].sum().mean():.1f} s"
    total = sum(n["seconds"] for n in manifest["notebooks"])
    assert f"the notebooks took {total:.0f} s (01 " in text if total < 100 else f"the notebooks took {total / 60:.1f} min (01 " in text
    readme = tmp_path / "README.md"
    readme.write_text(f"# before\n\n{results.START}\nold numbers\n{results.END}\n\nafter\n")
    assert run_main("results", str(smoke_run), "--readme", str(readme)).returncode == 0
    assert readme.read_text() == f"# before\n\n{results.START}\n{text}{results.END}\n\nafter\n"
    missing = run_main("results", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "manifest.json" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_html_is_for_stakeholders_and_offline(smoke_run):
    html = (smoke_run / "01_data_cleaning.html").read_text()
    assert "config.collect(globals())" not in html  # no code
    assert "<img" in html and "Cleaning" in html
    assert "cdnjs" not in html and "mathjax" not in html.lower()
    index = (smoke_run / "index.html").read_text()
    assert 'href="01_data_cleaning.html"' in index and 'id="ledger"' in index


@pytest.mark.slow
def test_same_parameters_give_identical_tables(smoke_run, smoke_rerun):
    again = smoke_rerun
    tables = [p.relative_to(smoke_run) for p in smoke_run.rglob("*.csv") if "timings" not in p.name]  # wall times vary
    assert len(tables) >= 5
    for name in sorted(tables):
        assert (smoke_run / name).read_bytes() == (again / name).read_bytes(), name
    for name in sorted(p.relative_to(smoke_run) for p in smoke_run.rglob("*.parquet")):
        pd.testing.assert_frame_equal(pd.read_parquet(smoke_run / name), pd.read_parquet(again / name), obj=str(name))
    a, b = (json.loads((d / "manifest.json").read_text()) for d in (smoke_run, again))
    assert a["data_fingerprint"] == b["data_fingerprint"]


@pytest.mark.slow
def test_own_file_round_trip(shop_file_run):
    """Any CSV runs through the same CLI given only a column mapping; clean input loses no line. The file is
    customer-day baskets without repeats whose last basket is a new customer's (conftest.customer_day_shop):
    every model is evaluated, none fails (the repeat and neighbour models once did, on the empty history)."""
    proc, out, frame = shop_file_run.proc, shop_file_run.out, shop_file_run.frame
    # the shape of the file that crashed notebook 05, checked on the file itself
    customer, day = frame[PAYLOAD_HEADER], pd.to_datetime(frame["sold_at"]).dt.date
    assert not frame.duplicated([PAYLOAD_HEADER, "sku"]).any()
    assert frame.groupby([customer, day])["receipt"].nunique().max() == 1
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = pd.read_parquet(out / "data/lines.parquet")
    assert len(lines) == len(frame)  # clean input: nothing dropped
    assert set(lines["item_id"]) == set(frame["sku"])
    assert lines["customer_id"].nunique() == frame[PAYLOAD_HEADER].nunique()
    board = pd.read_csv(out / "leaderboard.csv")
    params = json.loads((out / "params.json").read_text())
    ndcg = board[(board["metric"] == "ndcg") & (board["k"] == 10)]
    assert set(ndcg["model"]) == set(params["models"]) and set(ndcg["task"]) == {"basket_completion", "next_basket"}
    assert ndcg["value"].notna().all()
    assert "Failed models" not in (out / "05_evaluation_report.html").read_text()


def test_bad_file_is_refused_before_any_notebook_and_keeps_previous_output(tmp_path):
    previous = tmp_path / "report"
    previous.mkdir()
    out_folder.write_marker(previous)  # an earlier run of this tool: the only kind of folder --out may replace
    (previous / "index.html").write_text("earlier run")
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"b": [1, 2], "i": ["x", "y"], "q": ["1", "lots"], "t": ["2020-01-01", "2020-01-02"]}).to_csv(csv, index=False)
    proc = run_cli("run", "--profile", "smoke", "-p", "source=file", "-p", f"path={csv}",
                   "-p", "columns={basket_id: b, item_id: i, quantity: q, timestamp: t}", "--out", str(previous))
    assert proc.returncode == 2  # bad input: the runner checks a file source before any notebook starts
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert "bad.csv" in error[0] and "column 'q' must be numeric" in error[0]
    assert (previous / "index.html").read_text() == "earlier run"
    assert sorted(p.name for p in previous.iterdir()) == [".basket-lab-run", "index.html"]
    assert not (tmp_path / "report.failed").exists()  # no notebook ran


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "min_item_count=many"], "parameter 'min_item_count': expected int"),
        (["-p", "colour=blue"], "unknown parameter 'colour'"),
        (["--profile", "gigantic"], "unknown profile 'gigantic'"),
        (["--params", "/nonexistent/params.yaml"], "/nonexistent/params.yaml: parameter file does not exist"),
        (["-p", "source=file", "-p", "path=/nonexistent/tx.csv", "-p", "columns={basket_id: b, item_id: i}"],
         "parameter 'path': /nonexistent/tx.csv does not exist"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(tmp_path, args, message):
    out = tmp_path / "never"
    proc = run_main("run", "--profile", "smoke", *args, "--out", str(out)) if "--profile" not in args else run_main("run", *args, "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not out.exists()


def test_params_command_lists_every_parameter():
    proc = run_cli("params")
    assert proc.returncode == 0
    for name in config.PARAMETERS:
        assert name in proc.stdout
