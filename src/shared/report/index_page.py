"""The run's ``index.html``: what ran, the headline numbers, links to every notebook and file."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .run_folder import read_summary

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
