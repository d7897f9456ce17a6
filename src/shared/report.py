"""The one writer (and reader) of a run folder's files: data, tables, manifest and the HTML index.

Layout of a run folder ``DIR`` (DESIGN §3)::

    index.html  manifest.json  ledger.csv  leaderboard.csv  NN_name.ipynb  NN_name.html  figures/*.png
    data/lines.parquet  data/catalogue.parquet  data/rejected.parquet  data/summary.json  ...
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

# ----------------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------------

def data_dir(run_dir: str | Path) -> Path:
    path = Path(run_dir) / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple, np.ndarray)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_json(obj: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=_json_default, sort_keys=False) + "\n")
    return path


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """CSV with a fixed float format, so identical tables give identical files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    return path


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def read_lines(run_dir: str | Path) -> pd.DataFrame:
    """The cleaned canonical lines of a run, with their ``split`` column."""
    path = Path(run_dir) / "data" / "lines.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no cleaned lines; run notebook 01_data_cleaning first")
    return pd.read_parquet(path)


def read_catalogue(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "data" / "catalogue.parquet"
    return pd.read_parquet(path) if path.exists() else None


def read_ground_truth(run_dir: str | Path) -> pd.DataFrame | None:
    """Planted patterns of the synthetic source (items ``|``-joined), or None for real data."""
    path = Path(run_dir) / "data" / "ground_truth.parquet"
    return pd.read_parquet(path) if path.exists() else None


def write_rules(run_dir: str | Path, mined) -> None:
    """itemsets.csv and rules.csv of the run (itemsets and rule sides as ``|``-joined item IDs)."""
    from .rules import itemsets_to_csv_frame, rules_to_csv_frame

    write_csv(itemsets_to_csv_frame(mined.itemsets), Path(run_dir) / "itemsets.csv")
    write_csv(rules_to_csv_frame(mined.rules), Path(run_dir) / "rules.csv")


def write_factors(run_dir: str | Path, name: str, model, item_ids: np.ndarray) -> Path:
    """A model's item factors as ``data/<name>_item_factors.parquet`` (item_id, f0, f1, ...)."""
    factors = pd.DataFrame(model.item_factors, columns=[f"f{i}" for i in range(model.item_factors.shape[1])])
    factors.insert(0, "item_id", item_ids)
    factors.insert(1, "cold", model.cold)
    return write_parquet(factors, data_dir(run_dir) / f"{name}_item_factors.parquet")


def similar_items_table(model, item_ids: np.ndarray, names: pd.Series, items: Sequence[int], n: int = 10) -> pd.DataFrame:
    """For each item index in ``items``, its ``n`` most similar items by factor cosine, with names."""
    rows = []
    for item in items:
        similar, sims = model.similar_items(item, n)
        for rank, (other, sim) in enumerate(zip(similar, sims), 1):
            rows.append({"item_id": item_ids[item], "name": names.get(item_ids[item], item_ids[item]), "rank": rank,
                         "similar_item_id": item_ids[other], "similar_name": names.get(item_ids[other], item_ids[other]),
                         "cosine": float(sim)})
    return pd.DataFrame(rows)


def partners_table(items: Sequence[int], item_ids: np.ndarray, names: pd.Series, n: int = 5,
                   pairs: pd.DataFrame | None = None, similar: pd.DataFrame | None = None,
                   raised: dict[int, list[tuple[int, float]]] | None = None) -> pd.DataFrame:
    """Side by side for each item index: its highest-lift rule partners (``pairs``: item_a, item_b, lift),
    its nearest items by ALS factors (``similar``: item_id, similar_item_id, cosine) and the items SASRec
    most raises as next purchase (``raised``: item index -> [(item index, log-probability gain)])."""
    def name(item_id):
        return names.get(item_id, item_id)

    rows = []
    for item in items:
        item_id = item_ids[item]
        columns: dict[str, list[str]] = {}
        if pairs is not None:
            mine = pairs[(pairs["item_a"] == item_id) | (pairs["item_b"] == item_id)].sort_values("lift", ascending=False).head(n)
            columns["top rule partner (lift)"] = [f"{name(b if a == item_id else a)} ({lift:.1f})"
                                                  for a, b, lift in zip(mine["item_a"], mine["item_b"], mine["lift"])]
        if similar is not None:
            near = similar[similar["item_id"].astype(str) == str(item_id)].head(n)
            columns["nearest by ALS factors (cosine)"] = [f"{name(o)} ({c:.2f})" for o, c in zip(near["similar_item_id"], near["cosine"])]
        if raised is not None:
            columns["SASRec raises most (log-prob gain)"] = [f"{name(item_ids[o])} ({g:+.1f})" for o, g in raised.get(int(item), [])[:n]]
        for rank in range(n):
            row = {"product": name(item_id) if rank == 0 else "", "rank": rank + 1}
            row.update({col: (values[rank] if rank < len(values) else "") for col, values in columns.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def prediction_table(top: np.ndarray, item_ids: np.ndarray, names: pd.Series, history: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """A top-k list with names: bought before by the customer? in the basket they actually bought next?"""
    shown = top[top >= 0]
    return pd.DataFrame({
        "rank": np.arange(1, len(shown) + 1),
        "product": [names.get(item_ids[i], item_ids[i]) for i in shown],
        "bought before": np.isin(shown, history),
        "in the actual next basket": np.isin(shown, target),
    })


def read_csv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"item_id": str, "similar_item_id": str})


def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "data" / "sasrec.pt"


def tuned_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "data" / "tuned.json"


def write_tuned(run_dir: str | Path, values: dict[str, Any]) -> None:
    """Merge parameters chosen on validation into ``data/tuned.json`` (read by notebook 05)."""
    current = read_tuned(run_dir)
    current.update(values)
    write_json(current, tuned_path(run_dir))


def read_tuned(run_dir: str | Path) -> dict[str, Any]:
    path = tuned_path(run_dir)
    return read_json(path) if path.exists() else {}


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "data" / "summary.json"
    return read_json(path) if path.exists() else {}


def write_cleaned(run_dir: str | Path, dataset, result, lines: pd.DataFrame, split_info, split_table: pd.DataFrame) -> dict[str, Any]:
    """Write notebook 01's artefacts: data/*.parquet, ledger.csv, the split table and data/summary.json."""
    from .data import describe, fingerprint

    folder = data_dir(run_dir)
    write_parquet(lines, folder / "lines.parquet")
    write_parquet(result.rejected, folder / "rejected.parquet")
    if result.catalogue is not None:
        write_parquet(result.catalogue, folder / "catalogue.parquet")
    if dataset.ground_truth is not None:
        write_parquet(dataset.ground_truth.assign(items=dataset.ground_truth["items"].map("|".join)), folder / "ground_truth.parquet")
    write_csv(result.ledger, Path(run_dir) / "ledger.csv")
    write_csv(split_table, folder / "split.csv")
    summary = {
        "source": dataset.source,
        "description": dataset.description,
        "notes": dataset.notes,
        "has_customer": dataset.has_customer,
        "has_timestamp": dataset.has_timestamp,
        "has_catalogue": result.catalogue is not None,
        "facts": describe(lines),
        "split_method": split_info.method,
        "split_definition": split_info.definition,
        "source_fingerprint": dataset.fingerprint,
        "data_fingerprint": fingerprint(lines),
    }
    write_json(summary, folder / "summary.json")
    return summary


def write_evaluation(run_dir: str | Path, evaluation, tests: pd.DataFrame) -> Path:
    """Write notebook 05's artefacts: leaderboard.csv, significance.csv, and under data/ the queries of each
    task and every model's top-k lists, from which any metric can be recomputed independently."""
    run_dir = Path(run_dir)
    folder = data_dir(run_dir)
    path = write_csv(evaluation.leaderboard, run_dir / "leaderboard.csv")
    write_csv(tests, run_dir / "significance.csv")
    ids = evaluation.item_ids
    for task, queries in evaluation.tasks.items():
        write_parquet(
            pd.DataFrame(
                {
                    "query": np.arange(len(queries)),
                    "customer_id": queries.customer_id.astype(str),
                    "basket_id": queries.basket_id.astype(str),
                    "history_baskets": queries.history_baskets,
                    "context": [ids[c].tolist() for c in queries.contexts],
                    "target": [ids[t].tolist() for t in queries.targets],
                }
            ),
            folder / f"queries_{task}.parquet",
        )
    frames = []
    for (model, task), recs in evaluation.recommendations.items():
        q, rank = np.nonzero(recs >= 0)
        frames.append(pd.DataFrame({"model": model, "task": task, "query": q, "rank": rank + 1, "item_id": ids[recs[q, rank]]}))
    if frames:
        write_parquet(pd.concat(frames, ignore_index=True), folder / "recommendations.parquet")
    if evaluation.timings is not None:
        write_csv(evaluation.timings, folder / "eval_timings.csv")
    return path


def leaderboard_table(board: pd.DataFrame, k: int = 10,
                      metrics: tuple[str, ...] = ("recall", "ndcg", "hit_rate", "mrr", "coverage", "novelty", "diversity")) -> pd.DataFrame:
    """Wide view of the leaderboard at one k: 'value [ci_low, ci_high]' per metric, a row per task and model."""
    rows = board[(board["k"] == k) & board["metric"].isin(metrics)].copy()
    rows["cell"] = [
        f"{v:.4f}" if pd.isna(lo) else f"{v:.4f} [{lo:.4f}, {hi:.4f}]"
        for v, lo, hi in zip(rows["value"], rows["ci_low"], rows["ci_high"])
    ]
    wide = rows.pivot_table(index=["task", "model"], columns="metric", values="cell", aggfunc="first")
    return wide[[m for m in metrics if m in wide.columns]].rename(columns=lambda m: f"{m}@{k}")


def _pct(x: float) -> str:
    return f"{x:.1%}" if pd.notna(x) else "n/a"


def item_names(catalogue: pd.DataFrame | None) -> pd.Series:
    """item_id -> display name; the ID is added where two items share a name (flavours, sizes)."""
    if catalogue is None or "name" not in catalogue:
        return pd.Series(dtype=str)
    names = catalogue.set_index("item_id")["name"].astype(str)
    shared = names.duplicated(keep=False)
    return names.where(~shared, names + " #" + names.index.astype(str))


def _named(frame: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    names = item_names(catalogue)
    out = frame.copy()
    for col in ("item_a", "item_b"):
        out[col.replace("item", "product")] = out[col].map(names).fillna(out[col])
    if catalogue is not None and "product_category" in catalogue:
        category = catalogue.set_index("item_id")["product_category"]
        out["same_category"] = out["item_a"].map(category).eq(out["item_b"].map(category))
    return out


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def named_pairs(pairs: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """Item pairs with product names, for display."""
    named = _named(pairs, catalogue)
    cols = ["product_a", "product_b", "baskets", "support", "confidence_a_to_b", "confidence_b_to_a", "lift"]
    return named[cols].reset_index(drop=True)


def versus(tests: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Every model against ``reference`` on each task: difference (model minus reference), interval, p-value."""
    rows = []
    for r in tests.itertuples():
        if reference not in (r.model_a, r.model_b):
            continue
        sign, other = (1, r.model_a) if r.model_b == reference else (-1, r.model_b)
        low, high = sorted((sign * r.ci_low, sign * r.ci_high))
        rows.append({"task": r.task, "metric": r.metric, "model": other, f"minus {reference}": sign * r.diff,
                     "ci_low": low, "ci_high": high, "p_value": r.p_value,
                     "verdict": ("better" if sign * r.diff > 0 else "worse") if r.p_value < 0.05 else "no significant difference"})
    return pd.DataFrame(rows)


def new_items_verdict(board: pd.DataFrame, tests: pd.DataFrame, model: str = "sasrec", k: int = 10) -> str:
    """Does ``model`` beat every other model on next-basket NDCG@k for new (never bought) items? In words,
    from the leaderboard and paired tests on ``ndcg_new``."""
    rows = board[(board["task"] == "next_basket") & (board["metric"] == "ndcg_new") & (board["k"] == k)].dropna(subset=["value"])
    if model not in set(rows["model"]):
        return f"*{model} is not in this run's leaderboard.*"
    mine = rows[rows["model"] == model].iloc[0]
    others = rows[rows["model"] != model]
    if others.empty:
        return f"{model}: next-basket NDCG@{k} on new items {mine['value']:.4f}; no other model to compare."
    best = others.loc[others["value"].idxmax()]
    duel = versus(tests, best["model"])
    duel = duel[(duel["model"] == model) & (duel["task"] == "next_basket")]
    column = "minus " + str(best["model"])
    test = f" (difference {duel.iloc[0][column]:+.4f}, {_p(duel.iloc[0]['p_value'])})" if len(duel) else ""
    if mine["value"] > best["value"]:
        head = f"**Yes: {model} has the best next-basket NDCG@{k} on new items**, {mine['value']:.4f} against {best['model']}'s {best['value']:.4f}{test}."
    else:
        head = (f"**No: {model} does not beat every other model on new items.** Its next-basket NDCG@{k} on items the "
                f"customer never bought is {mine['value']:.4f}; {best['model']} reaches {best['value']:.4f}{test}.")
    return head


def stakeholder_summary(board: pd.DataFrame, tests: pd.DataFrame, pairs: pd.DataFrame,
                        catalogue: pd.DataFrame | None, k: int = 10, n_pairs: int = 5) -> str:
    """The plain-words section for a merchandiser, every number taken from the tables passed in."""
    lines = ["## In plain words", ""]
    named = _named(pairs, catalogue)
    if len(named):
        lines += ["**Products that go together.** Bought in the same basket far more often than chance:", ""]
        for r in named.head(n_pairs).itertuples():
            lines.append(
                f"- {r.product_a} + {r.product_b}: together in {r.baskets:,} baskets, {r.lift:.1f}x more often than "
                f"if they were unrelated; {_pct(r.confidence_a_to_b)} of baskets with the first also hold the second."
            )
        cross = named[named["lift"] > 2]
        if "same_category" in cross:
            cross = cross[~cross["same_category"]]
        cross = cross.sort_values("confidence_a_to_b", ascending=False).head(3)
        if len(cross):
            lines += ["", "**Cross-sell to try.** When a customer picks the first product, suggest the second "
                      "(pairs from different categories, at least twice as likely together as by chance):", ""]
            lines += [f"- {r.product_a} -> {r.product_b} ({_pct(r.confidence_a_to_b)} of the time today)" for r in cross.itertuples()]
        lines.append("")
    else:
        lines += ["**Products that go together.** No pair reaches the minimum basket count to be shown.", ""]

    def value(model: str, task: str, metric: str) -> pd.Series | None:
        rows = board[(board["model"] == model) & (board["task"] == task) & (board["metric"] == metric) & (board["k"] == k)]
        return rows.iloc[0] if len(rows) else None

    def test(task: str, a: str, b: str) -> dict | None:
        rows = tests[(tests["task"] == task) & (((tests["model_a"] == a) & (tests["model_b"] == b)) | ((tests["model_a"] == b) & (tests["model_b"] == a)))]
        if rows.empty:
            return None
        row = rows.iloc[0]
        sign = 1 if row["model_a"] == a else -1
        return {"diff": sign * row["diff"], "p": row["p_value"]}

    models = [m for m in dict.fromkeys(board["model"]) if m != "personal_frequency"]
    ndcg = board[(board["metric"] == "ndcg") & (board["k"] == k)].dropna(subset=["value"])
    if "personal_frequency" in set(board["model"]) and models and len(ndcg):
        lines += [f"**What the models add over \"what this customer always buys\"** (personal frequency), ranking the whole catalogue, top {k}:", ""]
        for task, label in (("basket_completion", "completing a basket"), ("next_basket", "predicting the next basket")):
            sub = ndcg[ndcg["task"] == task]
            if sub.empty:
                continue
            best = sub.loc[sub["value"].idxmax()]
            base = value("personal_frequency", task, "ndcg")
            if best["model"] == "personal_frequency":
                others = sub[sub["model"] != "personal_frequency"]
                runner = others.loc[others["value"].idxmax()] if len(others) else None
                t = test(task, "personal_frequency", runner["model"]) if runner is not None else None
                verdict = (f"no model beats it: the best other, {runner['model']}, is {abs(t['diff']):.3f} NDCG lower "
                           f"({_p(t['p'])})." if t else "no other model to compare.")
                lines.append(f"- For {label}, what the customer always buys is the best predictor (NDCG {best['value']:.3f}); {verdict}")
            else:
                t = test(task, best["model"], "personal_frequency")
                sure = "a real difference" if t and t["p"] < 0.05 else "not a significant difference"
                lines.append(
                    f"- For {label}, {best['model']} does best (NDCG {best['value']:.3f} vs {base['value']:.3f}"
                    + (f", {_p(t['p'])}: {sure})." if t else ").")
                )
        new = board[(board["task"] == "next_basket") & (board["metric"] == "recall_new") & (board["k"] == k)].dropna(subset=["value"])
        if len(new):
            top = new.loc[new["value"].idxmax()]
            pf = value("personal_frequency", "next_basket", "recall_new")
            lines.append(
                f"- Items new to the customer are the hard part: the best model finds {_pct(top['value'])} of them in its "
                f"top {k} ({top['model']}), personal frequency {_pct(pf['value']) if pf is not None else 'n/a'}."
            )
        lines.append("")
    lines += [
        "**How sure we are.** Every figure is measured on shopping the models never saw (the test weeks), on every "
        "basket, ranking the full catalogue. Intervals are 95% bootstrap intervals over queries; differences "
        "between two models are tested on the same queries (paired bootstrap), and called real when p < 0.05.",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# HTML index
# ----------------------------------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1b6ca8;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.9}main{max-width:1100px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 20px;margin:16px 0}
h2{font-size:18px;margin:6px 0 10px;color:#1b6ca8}table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:right}th{background:#eef2f6}
td:first-child,th:first-child{text-align:left}.ok{color:#2e7d32}.failed{color:#c62828;font-weight:bold}
.figs{display:flex;flex-wrap:wrap;gap:12px}.figs a{flex:1 1 300px;max-width:48%}.figs img{width:100%;border:1px solid #e3e6ea}
.note{color:#5b6470;font-size:13px}code{background:#eef2f6;padding:1px 4px;border-radius:3px}
"""


def _table(frame: pd.DataFrame, table_id: str = "", float_format: str = "{:.4g}") -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if pd.isna(v) else float_format.format(v)
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def best_per_task(leaderboard: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> pd.DataFrame:
    """The best model of each task by ``metric@k`` (failed models and NaNs left out)."""
    rows = leaderboard[(leaderboard["metric"] == metric) & (leaderboard["k"] == k)].dropna(subset=["value"])
    if rows.empty:
        return pd.DataFrame(columns=["task", "model", "value", "ci_low", "ci_high"])
    best = rows.loc[rows.groupby("task")["value"].idxmax()]
    return best[["task", "model", "value", "ci_low", "ci_high"]].rename(columns={"value": f"{metric}@{k}"})


def write_index(run_dir: str | Path, manifest: dict[str, Any], notebooks: Iterable[str]) -> Path:
    """Write ``index.html``: the run at a glance, with links to every notebook's HTML and the manifest."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    params = manifest.get("parameters", {})
    parts = []
    if summary:
        facts = pd.DataFrame(
            [(k.replace("_", " "), v) for k, v in summary.get("facts", {}).items()], columns=["", "value"]
        )
        parts.append(
            "<section><h2>Data</h2>"
            f"<p>{html.escape(summary.get('description', ''))}</p>"
            + _table(facts, "data-summary")
            + "".join(f'<p class="note">{html.escape(n)}</p>' for n in summary.get("notes", []))
            + f"<p class=\"note\">{html.escape(summary.get('split_definition', ''))}</p></section>"
        )
    leaderboard_path = run_dir / "leaderboard.csv"
    if leaderboard_path.exists():
        board = pd.read_csv(leaderboard_path)
        best = best_per_task(board)
        k_main = int(board["k"].dropna().min()) if board["k"].notna().any() else 10
        main = board[board["metric"].isin(["recall", "ndcg", "hit_rate", "mrr"]) & (board["k"] == k_main)]
        pivot = (
            main.pivot_table(index=["task", "model"], columns="metric", values="value", aggfunc="first")
            .reset_index()
            .rename_axis(columns=None)
        )
        failed = board[board["metric"] == "failed"]
        parts.append(
            "<section><h2>Best model per task (NDCG@10)</h2>" + _table(best, "best-per-task") + "</section>"
            f"<section><h2>Leaderboard (k = {k_main}, full-catalogue ranking, 95% bootstrap intervals in "
            "<a href=\"leaderboard.csv\">leaderboard.csv</a>)</h2>" + _table(pivot, "leaderboard")
            + ("".join(f'<p class="failed">{html.escape(str(r.model))} failed on {html.escape(str(r.task))}: '
                       f'{html.escape(str(r.note))}</p>' for r in failed.itertuples()))
            + "</section>"
        )
    ledger_path = run_dir / "ledger.csv"
    if ledger_path.exists():
        ledger = pd.read_csv(ledger_path)
        parts.append("<section><h2>Cleaning ledger</h2>" + _table(ledger[ledger["rows_dropped"] > 0], "ledger") + "</section>")

    rows = []
    status = {n["name"]: n for n in manifest.get("notebooks", [])}
    for name in notebooks:
        info = status.get(name, {})
        cls = "ok" if info.get("status") == "ok" else "failed"
        rows.append(
            f'<tr><td><a href="{html.escape(name)}.html">{html.escape(name)}</a></td>'
            f'<td class="{cls}">{html.escape(str(info.get("status", "")))}</td>'
            f'<td>{info.get("seconds", 0):.1f}</td><td>{info.get("peak_mb", 0):,.0f}</td>'
            f'<td><a href="{html.escape(name)}.ipynb">notebook</a></td></tr>'
        )
    parts.append(
        "<section><h2>Notebooks</h2><table id=\"notebooks\"><thead><tr><th>notebook</th><th>status</th>"
        "<th>seconds</th><th>peak MB</th><th>source</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        '<p class="note">Run details: <a href="manifest.json">manifest.json</a> (parameters, versions, git commit, '
        "data fingerprint, timings).</p></section>"
    )
    figures = sorted((run_dir / "figures").glob("*.png")) if (run_dir / "figures").exists() else []
    if figures:
        parts.append(
            "<section><h2>Figures</h2><div class=\"figs\">"
            + "".join(
                f'<a href="figures/{f.name}"><img src="figures/{f.name}" alt="{html.escape(f.stem)}"></a>' for f in figures
            )
            + "</div></section>"
        )
    title = f"basket-lab run: profile {params.get('profile', '?')}, source {params.get('source', '?')}"
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(manifest.get('finished', ''))} · commit "
        f"{html.escape(str(manifest.get('git_commit', ''))[:10])} · data {html.escape(str(manifest.get('data_fingerprint', '')))}"
        f"</p></header><main>{''.join(parts)}</main></body></html>\n"
    )
    path = run_dir / "index.html"
    path.write_text(page)
    return path
