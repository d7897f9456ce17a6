"""The results of a run folder as markdown: ``python -m shared results RUN_DIR`` prints them, and with
``--readme README.md`` writes them between the README's results markers, so the README holds no number that
no run produced.

What it prints, all read from the run folder (``manifest.json``, ``data/summary.json``, ``leaderboard.csv``,
``leaderboard_seeds.csv``, ``significance.csv``, ``data/eval_timings.csv``): where the run came from (commit,
profile, CPU, seeds), the data's size, NDCG@k of every model on both tasks with intervals, the verdicts between
the models that matter (by :func:`.tables.judged`: a trained model's difference holds only when every seed
agrees in sign), the time each notebook and each model's fit and scoring took, and how much the trained
models vary between seeds (what moves between machines; everything else is exact).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import new_products
from .prose import new_products_verdict
from .run_folder import read_json
from .tables import judged, p_text

START = "<!-- results: printed by `python -m shared results RUN_DIR --readme README.md`; do not edit by hand -->"
END = "<!-- /results -->"
#: the comparisons the README states in words: (model, reference, why it matters)
COMPARISONS = (
    ("sasrec_text", "sasrec", "the pretrained text inside the Transformer"),
    ("sasrec_repeat", "repeat_explore", "the frequency-aware Transformer against the best model without training"),
    ("sasrec_repeat", "sasrec", "what each customer's purchase frequency adds to the Transformer"),
    ("sasrec", "personal_frequency", "the plain Transformer against what the customer always buys"),
)


class ResultsError(ValueError):
    """The folder is not a finished run folder (a file is missing)."""


def _read(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / name
    if not path.exists():
        raise ResultsError(f"{path}: not found; RUN_DIR must be a finished run folder (python -m shared run --out RUN_DIR)")
    return pd.read_csv(path)


def _cell(value: float, low: float, high: float, bold: bool = False) -> str:
    head = f"**{value:.3f}**" if bold else f"{value:.3f}"
    return head if pd.isna(low) else f"{head} [{low:.3f}, {high:.3f}]"


def results_markdown(run_dir: str | Path, k: int = 10) -> str:
    """The run's results as markdown (see the module's docstring)."""
    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").exists():
        raise ResultsError(f"{run_dir / 'manifest.json'}: not found; RUN_DIR must be a finished run folder")
    manifest = read_json(run_dir / "manifest.json")
    summary = read_json(run_dir / "data" / "summary.json") if (run_dir / "data" / "summary.json").exists() else {}
    board, tests = _read(run_dir, "leaderboard.csv"), _read(run_dir, "significance.csv")
    seeds = _read(run_dir, "leaderboard_seeds.csv") if (run_dir / "leaderboard_seeds.csv").exists() else pd.DataFrame()
    machine = manifest.get("machine", {})
    params = manifest.get("parameters", {})
    facts = summary.get("facts", {})
    out = [
        f"Run `{run_dir.name}`: commit `{str(manifest.get('git_commit', 'unknown'))[:12]}`, profile "
        f"`{manifest.get('profile', '?')}`, finished {manifest.get('finished', '?')}; CPU {machine.get('cpu', 'unknown')} "
        f"({machine.get('cpus', '?')} cores); seed {params.get('seed', '?')}, trained neural models with "
        f"{params.get('n_seeds', 1)} seed{'' if params.get('n_seeds', 1) == 1 else 's'}.",
        "",
    ]
    if facts:
        out += [", ".join(f"{facts[key]:,} {label}" for key, label in (("lines", "lines"), ("baskets", "baskets"),
                                                                       ("customers", "customers"), ("items", "products"))
                          if key in facts) + ".", ""]
    ndcg = board[(board["k"] == k) & board["metric"].isin(["ndcg", "ndcg_repeat", "ndcg_new"])].dropna(subset=["value"])
    columns = [("basket_completion", "ndcg", "basket completion"), ("next_basket", "ndcg", "next basket"),
               ("next_basket", "ndcg_repeat", "next basket, repeat items"), ("next_basket", "ndcg_new", "next basket, new items")]
    columns = [c for c in columns if ((ndcg["task"] == c[0]) & (ndcg["metric"] == c[1])).any()]
    if columns:
        queries = {task: int(rows["n"].iloc[0]) for task, rows in tests.groupby("task")} if "n" in tests else {}
        out += [f"NDCG@{k} on the test weeks, full catalogue, mean [95% interval]"
                + (" (" + ", ".join(f"{n:,} {t.replace('_', '-')} queries" for t, n in queries.items()) + ")" if queries else "")
                + "; a trained neural model's value is the mean over its seeds, its interval covers queries and seeds:", ""]
        out += ["| model | " + " | ".join(c[2] for c in columns) + " | seeds |", "|---" * (len(columns) + 2) + "|"]
        first_task, first_metric = columns[min(1, len(columns) - 1)][:2]
        order = ndcg[(ndcg["task"] == first_task) & (ndcg["metric"] == first_metric)].sort_values("value", ascending=False)["model"]
        best = {(t, m): ndcg[(ndcg["task"] == t) & (ndcg["metric"] == m)]["value"].max() for t, m, _ in columns}
        for model in order:
            cells = []
            for task, metric, _ in columns:
                row = ndcg[(ndcg["model"] == model) & (ndcg["task"] == task) & (ndcg["metric"] == metric)]
                cells.append("" if row.empty else _cell(row["value"].iloc[0], row["ci_low"].iloc[0], row["ci_high"].iloc[0],
                                                         bold=row["value"].iloc[0] == best[(task, metric)]))
            n_seeds = board.loc[board["model"] == model, "seeds"].max() if "seeds" in board else 1
            out.append(f"| {model} | " + " | ".join(cells) + f" | {int(n_seeds) if pd.notna(n_seeds) else 1} |")
        out.append("")
    verdicts = _verdicts(tests, k)
    if verdicts:
        out += [f"Verdicts (paired bootstrap on the same queries, NDCG@{k}; a difference involving a trained model is "
                "stated only when it is significant and every seed agrees in sign):", ""] + verdicts + [""]
    spread = _seed_spread(seeds, k)
    if spread:
        out += [f"What varies between machines: only the trained neural models. Every other result is the same to the "
                f"last digit on any machine (no training noise). Standard deviation of NDCG@{k} over the seeds of this run:",
                ""] + spread + [""]
    out += _new_products(run_dir)
    out += _timings(run_dir, manifest)
    return "\n".join(out).rstrip() + "\n"


def _new_products(run_dir: Path) -> list[str]:
    """The new-product evaluation (notebook 05's ``new_product_*.csv``): each model's targeting recall@100 and AUC
    and launch recall@20 with intervals, and the verdicts in words."""
    if not (run_dir / "new_product_targeting.csv").exists():
        return []
    targeting = _read(run_dir, "new_product_targeting.csv")
    launches = _read(run_dir, "new_product_launches.csv") if (run_dir / "new_product_launches.csv").exists() else pd.DataFrame()
    tests = _read(run_dir, "new_product_tests.csv") if (run_dir / "new_product_tests.csv").exists() else pd.DataFrame()
    if targeting.empty:
        return ["New products: none bought by enough customers in the test weeks to evaluate.", ""]
    out = [f"New products (outside every model's vocabulary): targeting {int(targeting['products'].max()):,} products "
           "(every customer with a history ranked for each), and recommending launched products to "
           f"{int(launches['customers'].max()) if len(launches) else 0:,} customers who bought one; mean [95% interval]:", "",
           "| model | targeting recall@100 | targeting AUC | launches recall@20 |", "|---|---|---|---|"]
    by_model = launches.set_index("model") if len(launches) else pd.DataFrame()
    for _, row in targeting.sort_values("recall@100", ascending=False).iterrows():
        cells = [_cell(row["recall@100"], row["recall@100 low"], row["recall@100 high"]),
                 _cell(row["auc"], row["auc low"], row["auc high"])]
        if len(by_model) and row["model"] in by_model.index:
            launch = by_model.loc[row["model"]]
            cells.append(_cell(launch["recall@20"], launch["recall@20 low"], launch["recall@20 high"]))
        else:
            cells.append("not applicable" if row["model"] == "heavy_buyers" else "")
        out.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    seeds = new_products.tuned_seeds_of(targeting["model"], "text")
    found = {"targeting": targeting, "launches": launches}
    for direction in ("targeting", "launches"):
        found[f"{direction}_tests"] = tests[tests["direction"] == direction] if len(tests) else tests
    out += ["", new_products_verdict(found, seeds), ""]
    return out


def _verdicts(tests: pd.DataFrame, k: int) -> list[str]:
    lines = []
    rows = tests[tests["metric"] == f"ndcg@{k}"]
    for model, reference, why in COMPARISONS:
        for task in dict.fromkeys(rows["task"]):
            pair = rows[(rows["task"] == task) & (((rows["model_a"] == model) & (rows["model_b"] == reference))
                                                  | ((rows["model_a"] == reference) & (rows["model_b"] == model)))]
            if pair.empty:
                continue
            t = pair.iloc[0].to_dict()
            sign = 1 if t["model_a"] == model else -1
            low, high = sorted((sign * t["ci_low"], sign * t["ci_high"]))
            t["diff"] = sign * t["diff"]
            by_seed = ""
            if int(t.get("seeds", 1) or 1) > 1 and isinstance(t.get("seed_diffs"), str):
                by_seed = ", per seed " + ", ".join(f"{sign * float(d):+.3f}" for d in t["seed_diffs"].split(";"))
            words = judged(t, 0.05, "better", "worse", "no significant difference")
            lines.append(f"- {model} vs {reference}, {task.replace('_', ' ')} ({why}): {t['diff']:+.4f} "
                         f"[{low:+.4f}, {high:+.4f}], {p_text(t['p_value'])}{by_seed}: **{words}**.")
    return lines


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def _timings(run_dir: Path, manifest: dict) -> list[str]:
    """Wall-clock time of the run's notebooks (manifest) and of every model's fit and scoring on the test weeks
    (``data/eval_timings.csv``: the mean over a trained model's seeds)."""
    out = []
    notebooks = [n for n in manifest.get("notebooks", []) if n.get("seconds") is not None]
    if notebooks:
        total = sum(float(n["seconds"]) for n in notebooks)
        out += [f"Time on this machine: the notebooks took {_duration(total)} ("
                + ", ".join(f"{n['name'].split('_')[0]} {_duration(float(n['seconds']))}" for n in notebooks) + ").", ""]
    path = run_dir / "data" / "eval_timings.csv"
    if path.exists():
        timings = pd.read_csv(path)
        if len(timings):
            per_seed = timings.groupby(["model", "seed"], sort=False).agg(fit=("fit_s", "first"), score=("score_s", "sum"))
            per_model = per_seed.groupby(level="model", sort=False).mean()
            out += ["Fit and scoring time of every model on the test weeks (`data/eval_timings.csv`, one process each; "
                    "the score column ranks both tasks' queries over the full catalogue; a trained model's fit reads its "
                    "checkpoint, and its times are the mean over its seeds):", "",
                    "| model | fit | score, both tasks |", "|---|---|---|"]
            out += [f"| {model} | {row.fit:.1f} s | {row.score:.1f} s |" for model, row in per_model.iterrows()]
            out.append("")
    return out


def _seed_spread(seeds: pd.DataFrame, k: int) -> list[str]:
    if seeds.empty:
        return []
    rows = seeds[(seeds["k"] == k) & (seeds["metric"] == "ndcg")]
    lines = []
    for (model, task), group in rows.groupby(["model", "task"], sort=False):
        values = group.sort_values("seed")["value"].to_numpy()
        if len(values) < 2:
            continue
        lines.append(f"- {model}, {task.replace('_', ' ')}: {np.std(values, ddof=1):.4f} "
                     f"(seeds {', '.join(f'{v:.3f}' for v in values)})")
    return lines


def write_readme_results(readme: str | Path, text: str) -> Path:
    """Put ``text`` between the results markers of ``readme`` (the markers stay; the file must have them)."""
    readme = Path(readme)
    body = readme.read_text()
    pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.S)
    if not pattern.search(body):
        raise ResultsError(f"{readme}: no results markers; add the lines\n{START}\n{END}")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{text}{END}", body, count=1))
    return readme
