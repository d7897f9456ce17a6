"""The run's ``index.html``, for a merchandiser first: key findings in plain words (which list to show where, how
much better it is than the "buy it again" list and how sure we are, cross-sell pairs by name, what the AI models
added and where they did not), a chart of every model sorted by score, an A/B test plan, what coverage, novelty
and diversity mean for a shopper; then, for the data scientist, the data, the leaderboard, the cleaning ledger,
the notebooks' timings and every figure.

It reads only the run folder's files (:mod:`.run_folder`). Every verdict is :func:`.tables.judged`'s (through
:func:`.tables.versus`): a difference involving a model trained with seeds counts only when it is significant
and every seed agrees in sign. Every text from the data goes through ``html.escape``.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..metrics import ab_sample_size
from .. import new_products
from .run_folder import read_new_products, read_pairs, read_per_customer, read_substitutes, read_summary
from .tables import AI_MODELS, INCUMBENT, cross_sell, model_name, p_text, versus

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1b6ca8;color:#fff;padding:12px 32px}header h1{margin:0;font-size:21px}
header p{margin:3px 0 0;opacity:.9;font-size:13px}main{max-width:1100px;margin:0 auto;padding:8px 32px 48px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:10px 20px;margin:12px 0}
h2{font-size:18px;margin:6px 0 8px;color:#1b6ca8}h2.part{color:#5b6470;font-size:16px;margin:28px 0 0}
#key-findings ul{margin:4px 0;padding-left:20px}#key-findings li{margin:5px 0;line-height:1.35;font-size:15px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:right}th{background:#eef2f6}
td:first-child,th:first-child{text-align:left}td.text{text-align:left}.ok{color:#2e7d32}.failed{color:#c62828;font-weight:bold}
.figs{display:flex;flex-wrap:wrap;gap:12px}.figs a{flex:1 1 300px;max-width:48%}.figs img{width:100%;border:1px solid #e3e6ea}
img.chart{max-width:100%;border:1px solid #e3e6ea}
.note{color:#5b6470;font-size:13px}code{background:#eef2f6;padding:1px 4px;border-radius:3px}
small.code{color:#6b6b6b;font-family:monospace;font-size:11px}
"""

#: each task in words: what the list is for, and where a shop would show it
TASKS = {
    "basket_completion": ("completing a basket", "on the basket page and at checkout"),
    "next_basket": ("the next shop", "on the home page and in reminders before the next shop"),
}
METRIC = "ndcg"
MAX_FINDINGS = 10


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _task(task: str) -> tuple[str, str]:
    return TASKS.get(task, (task.replace("_", " "), "where that list is shown"))


def _name(code: object, small: bool = True) -> str:
    """A model in words, bold, with its code name in small print (both escaped)."""
    return f"<b>{_esc(model_name(code))}</b>" + (f' <small class="code">{_esc(code)}</small>' if small else "")


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _signed(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:+.{digits}f}".replace("-", "\u2212")


def _interval(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no interval: too few queries"
    return f"95% interval {_signed(low)} to {_signed(high)}"


def _about(n: float) -> str:
    """A sample size to two significant figures ("about 3,000")."""
    if not np.isfinite(n):
        return "no number of"
    digits = max(0, len(str(int(n))) - 2)
    return f"{int(round(n, -digits)):,}"


def _table(frame: pd.DataFrame, table_id: str = "", float_format: str = "{:.3f}", raw: Iterable[str] = ()) -> str:
    """An HTML table; every cell escaped except the columns named in ``raw`` (already-escaped HTML)."""
    raw = set(raw)

    def cell(column: str, v: Any) -> str:
        if column in raw:
            return f'<td class="text">{v}</td>'
        if isinstance(v, (float, np.floating)):
            return f"<td>{'' if pd.isna(v) else float_format.format(v)}</td>"
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            return f"<td>{v:,}</td>"
        return f'<td class="text">{_esc(v)}</td>'

    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(frame.columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    ident = f' id="{_esc(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def best_per_task(leaderboard: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> pd.DataFrame:
    """The best model of each task by ``metric@k`` (failed models and NaNs left out)."""
    rows = leaderboard[(leaderboard["metric"] == metric) & (leaderboard["k"] == k)].dropna(subset=["value"])
    if rows.empty:
        return pd.DataFrame(columns=["task", "model", "value", "ci_low", "ci_high"])
    best = rows.loc[rows.groupby("task", sort=False)["value"].idxmax()]
    return best[["task", "model", "value", "ci_low", "ci_high"]].rename(columns={"value": f"{metric}@{k}"})


class _Run:
    """The run folder's result tables, and the comparisons the page states."""

    def __init__(self, board: pd.DataFrame, tests: pd.DataFrame, k: int):
        self.board, self.tests, self.k = board, tests, k

    def values(self, task: str, metric: str = METRIC) -> pd.Series:
        rows = self.board[(self.board["task"] == task) & (self.board["metric"] == metric) & (self.board["k"] == self.k)]
        return rows.dropna(subset=["value"]).set_index("model")["value"]

    def tasks(self) -> list[str]:
        return [t for t in dict.fromkeys(self.board["task"]) if len(self.values(t))]

    def duel(self, task: str, model: str, reference: str, metric: str = METRIC) -> dict[str, Any] | None:
        """``model`` minus ``reference`` on ``task``: difference, interval, p-value and :func:`.tables.judged`'s verdict."""
        if self.tests.empty:
            return None
        tests = self.tests[(self.tests["task"] == task) & (self.tests["metric"] == f"{metric}@{self.k}")]
        rows = versus(tests, reference) if len(tests) else pd.DataFrame()
        rows = rows[rows["model"] == model] if len(rows) else rows
        if rows.empty:
            return None
        row = rows.iloc[0]
        return {"diff": float(row[f"minus {reference}"]), "low": float(row["ci_low"]), "high": float(row["ci_high"]),
                "p": float(row["p_value"]), "verdict": str(row["verdict"])}

    def best_without(self, task: str, excluded: Iterable[str], metric: str = METRIC) -> str | None:
        values = self.values(task, metric).drop(list(excluded), errors="ignore")
        return str(values.idxmax()) if len(values) else None


def _task_finding(run: _Run, task: str) -> tuple[str, str, str | None]:
    """The list to show for ``task``, in words; and the pair (new list, incumbent) an A/B test would compare."""
    label, where = _task(task)
    values = run.values(task)
    best = str(values.idxmax())
    head = f"<b>For {_esc(label)}</b> ({_esc(where)}): "
    if INCUMBENT not in values.index:
        return head + f"show {_name(best)}, NDCG@{run.k} {_num(values[best])}.", best, None
    base = values[INCUMBENT]
    if best == INCUMBENT:
        runner = run.best_without(task, [INCUMBENT])
        duel = run.duel(task, runner, INCUMBENT) if runner else None
        text = head + (f'keep the simple {_name(INCUMBENT)} list (what each customer buys most often): NDCG@{run.k} '
                       f"{_num(base)}, the best of every list.")
        if runner:
            text += f" The closest, {_name(runner)}, scores {_num(values[runner])}"
            text += (f" ({_signed(duel['diff'])}, {_interval(duel['low'], duel['high'])}: {_esc(duel['verdict'])})."
                     if duel else ".")
        reference = "popularity" if "popularity" in values.index else None
        return text, INCUMBENT, reference
    duel = run.duel(task, best, INCUMBENT)
    relative = f"{values[best] / base - 1:+.1%}".replace("-", "\u2212") if base else "n/a"
    numbers = (f"NDCG@{run.k} {_num(values[best])} against {_num(base)} for the simple {_name(INCUMBENT)} list, "
               f"{relative}" + (f" ({_signed(duel['diff'])}, {_interval(duel['low'], duel['high'])})" if duel else ""))
    if duel and duel["verdict"] == "better":
        text = head + f"show {_name(best)}: {numbers}. The gain is real ({p_text(duel['p'])})."
    else:
        why = duel["verdict"] if duel else "no paired test in this run"
        text = (head + f"{_name(best)} scores highest, {numbers}, but the gain is not established ({_esc(why)}): "
                f"keep {_name(INCUMBENT, small=False)} unless an online test shows otherwise.")
    return text, best, INCUMBENT


def _cross_sell_finding(pairs: pd.DataFrame | None) -> str | None:
    if pairs is None or pairs.empty:
        return None
    top = cross_sell(pairs, 3)
    if top.empty:
        return ("<b>Cross-sell</b>: no two products from different categories are bought together at least twice "
                "as often as chance would give; notebook 05 lists the products that go together.")
    items = "; ".join(
        f"with <b>{_esc(r.product_a)}</b> suggest <b>{_esc(r.product_b)}</b> ({r.confidence_a_to_b:.1%} of baskets with "
        f"the first already hold the second, {r.lift:.1f}x chance)" for r in top.itertuples())
    return f"<b>Cross-sell to try</b> (products bought together far more often than chance): {items}."


def _substitutes_finding(substitutes: pd.DataFrame | None, n: int = 3) -> str | None:
    """Range review: the strongest substitutes of notebook 03 (alike by their text, bought together less than
    chance: customers take one or the other)."""
    if substitutes is None or substitutes.empty:
        return None
    items = "; ".join(f"<b>{_esc(r.name_a)}</b> or <b>{_esc(r.name_b)}</b> (together {r.lift:.1f}x chance)"
                      for r in substitutes.head(n).itertuples())
    return ("<b>For range review</b> (alike, yet bought together less often than chance: customers take one or the "
            f"other, so one may be enough on the shelf): {items}.")


#: The new-product scorers in a merchandiser's words.
NEW_PRODUCT_WORDS = {
    "heavy_buyers": "the most frequent shoppers",
    "category_affinity": "the customers who buy most in the product's category",
    "type_brand_affinity": "the customers who buy most of its product type and brand",
    "text (frozen)": "the language model reading the product's description",
    "text (tuned)": "the language model fine-tuned on our baskets, reading the description",
    "text_to_factors (frozen)": "the description mapped onto shopping patterns",
    "text_to_factors (tuned)": "the description, read by the fine-tuned language model, mapped onto shopping patterns",
}


def _new_products_finding(found: tuple[pd.DataFrame, pd.DataFrame] | None, metric: str = "recall@100") -> str | None:
    """Who to send a new product to: the scorer family (fine-tuning seeds averaged) that finds the most of a new
    product's buyers among the 100 customers it picks, against the category baseline, in words."""
    if found is None or found[0].empty or metric not in found[0]:
        return None
    table, tests = found
    family = table["model"].str.replace(r" \(tuned seed \d+\)$", " (tuned)", regex=True)
    means = table.groupby(family, sort=False)[metric].mean()
    best = str(means.idxmax())
    reference = new_products.REFERENCE
    targeting_tests = tests[tests["direction"] == "targeting"] if "direction" in tests else tests
    aside = ""
    if best.endswith(" (tuned)") and best.replace(" (tuned)", " (frozen)") in means:
        frozen = best.replace(" (tuned)", " (frozen)")
        seeds = new_products.tuned_seeds_of(table["model"], best.removesuffix(" (tuned)"))
        against_frozen = new_products.seed_verdicts(targeting_tests, seeds, metric, frozen, model=best.replace("(tuned)", "(tuned seed {seed})"))
        if against_frozen["verdict"] != "better":  # the simpler model, when fine-tuning did not measurably help
            best, aside = frozen, " (fine-tuning it on our baskets added nothing measurable)"
    if best == reference or reference not in means:
        judgement = ""
    else:
        tuned = best.endswith(" (tuned)")
        seeds = new_products.tuned_seeds_of(table["model"], best.removesuffix(" (tuned)")) if tuned else []
        template = best.replace("(tuned)", "(tuned seed {seed})") if tuned else best
        said = new_products.seed_verdicts(targeting_tests, seeds or [0], metric, reference, model=template)
        judgement = f" ({_esc(said['verdict'])})"
    n = int(table["products"].max())
    against = (f", against {means[reference]:.0%} for {_esc(NEW_PRODUCT_WORDS[reference])}{judgement}"
               if reference in means and best != reference else "")
    return (f"<b>New products</b> ({n:,} product{'s' if n != 1 else ''} launched or rarely sold before the test weeks, "
            f"which no list above can show): send them to {_esc(NEW_PRODUCT_WORDS.get(best, best))}{aside}: "
            f"{means[best]:.0%} of a new product's buyers are among the 100 customers it picks{against}.")


def _ai_findings(run: _Run) -> list[str]:
    """Per AI model: where it beat the best list without AI and where it did not (verdicts by
    :func:`.tables.judged`), grouped by verdict; for the text-fused Transformer also what the text added."""
    out = []
    present = [m for m in AI_MODELS if any(m in run.values(t).index for t in run.tasks())]
    parts: list[tuple[str, str]] = [(t, METRIC) for t in run.tasks()]
    if len(run.values("next_basket", "ndcg_new")):
        parts.append(("next_basket", "ndcg_new"))
    for model in present:
        groups: dict[str, list[str]] = {}
        for task, metric in parts:
            values = run.values(task, metric)
            reference = run.best_without(task, AI_MODELS, metric)
            if model not in values.index or reference is None:
                continue
            duel = run.duel(task, model, reference, metric)
            label = "products new to the customer in the next shop" if metric == "ndcg_new" else _task(task)[0]
            groups.setdefault(duel["verdict"] if duel else "no paired test", []).append(
                f"{_esc(label)} ({_num(values[model])} vs {_num(values[reference])})")
        if not groups:
            continue
        phrases = [f"{_esc(verdict)} on {', '.join(places)}"
                   for verdict, places in sorted(groups.items(), key=lambda kv: kv[0] != "better")]
        lead = "added something" if "better" in groups else "added nothing"
        text = (f"<b>AI</b>: {_name(model)} {lead} over the best list without AI: " + "; ".join(phrases))
        if model == "sasrec_text" and "sasrec" in present:
            duels = [(task, run.duel(task, "sasrec_text", "sasrec")) for task in run.tasks()]
            said = [f"{_esc(_task(task)[0])} {_signed(d['diff'])}, "
                    f"{_esc({'better': 'helped', 'worse': 'hurt'}.get(d['verdict'], d['verdict']))}" for task, d in duels if d]
            if said:
                text += ". The pretrained product text, against the same Transformer without it: " + "; ".join(said)
        out.append(text + ".")
    return out


def _ab_plans(run: _Run, per_customer: pd.DataFrame | None, choices: dict[str, tuple[str, str | None]],
              weeks: Any) -> list[dict[str, Any]]:
    plans = []
    if per_customer is None or per_customer.empty:
        return plans
    for task, (new, incumbent) in choices.items():
        rows = per_customer[(per_customer["task"] == task) & (per_customer["metric"] == METRIC) & (per_customer["k"] == run.k)]
        if incumbent is None or rows.empty or new not in rows or incumbent not in rows:
            continue
        try:
            plan = ab_sample_size(rows[new].to_numpy(dtype=float), rows[incumbent].to_numpy(dtype=float))
        except ValueError:
            continue
        plans.append({"task": task, "new": new, "incumbent": incumbent, "weeks": weeks,
                      "duel": run.duel(task, new, incumbent), **plan})
    return plans


def _ab_sentence(plan: dict[str, Any]) -> str:
    label, where = _task(plan["task"])
    weeks = f"{plan['weeks']} weeks" if plan["weeks"] else "the length of the test period"
    if not np.isfinite(plan["per_arm"]):
        return (f"<b>{_esc(label)}</b>: {_name(plan['new'])} and {_name(plan['incumbent'])} score the same per customer "
                "offline; no test can tell them apart")
    return (f"<b>{_esc(label)}</b> ({_esc(where)}): {_name(plan['new'])} against {_name(plan['incumbent'])} needs "
            f"<b>about {_about(plan['per_arm'])} customers per arm over {_esc(weeks)}</b>")


def _ab_section(plans: list[dict[str, Any]], k: int) -> str:
    if not plans:
        return ""
    items = []
    for plan in plans:
        duel = plan["duel"]
        sure = "" if duel is None or duel["verdict"] == "better" else (
            f" The offline difference itself is not established ({_esc(duel['verdict'])}): a test this size detects a gain "
            "this large, which the test weeks do not show to exist.")
        items.append(
            f"<li>{_ab_sentence(plan)}. Offline, the per-customer NDCG@{k} is {_num(plan['mean_a'])} against "
            f"{_num(plan['mean_b'])} ({_signed(plan['delta'])} per customer), with standard deviations "
            f"{_num(plan['sd_a'], 2)} and {_num(plan['sd_b'], 2)} over {plan['customers']:,} customers of the test weeks."
            f"{sure}</li>")
    return (
        '<section id="ab-plan"><h2>A/B test plan: confirm it online before rolling it out</h2>'
        f"<p>Split customers at random into two arms: one sees today's list, the other the recommended one. The "
        f"metric is each customer's NDCG@{k} over the test period (how high the products they then buy rank in the "
        "list they were shown). Customers needed per arm to detect the offline gain with a two-sided test at the 5% "
        "level and 80% power, for two independent arms: n = (z<sub>0.975</sub> + z<sub>0.8</sub>)² (s<sub>A</sub>² + "
        "s<sub>B</sub>²) / Δ², with the standard deviations s of the per-customer metric measured on the test weeks.</p>"
        f"<ul>{''.join(items)}</ul>"
        '<p class="note"><b>The assumption</b>: the gain measured offline carries over online, i.e. customers who see a '
        "list buy what they would have bought anyway, and the list is judged by how well it anticipates that. A list "
        "that changes what people buy can do better or worse than offline, so read the numbers as the order of "
        "magnitude of the test, not a promise. The per-customer values of a model trained with several seeds are the "
        "mean over its seeds (a deployed model is one seed: a little more spread).</p></section>"
    )


def _beyond_accuracy(run: _Run, run_dir: Path | None = None) -> str:
    """One paragraph: coverage, novelty and diversity for a shopper, and which model does best on each."""
    meaning = {
        "coverage": ("Coverage", "how much of the range ever reaches a shopper: the share of all products shown in "
                     "at least one customer's list. Low coverage means the same few bestsellers for everyone and no chance "
                     "for the rest of the range", lambda v: f"{v:.1%} of the products"),
        "novelty": ("Novelty", "how far from the obvious the suggestions are: each extra bit means products bought "
                    "in half as many baskets. A novel list surprises, but only helps when the surprise is wanted",
                    lambda v: f"{v:.1f} bits"),
        "diversity": ("Diversity", "how varied one list is: the share of pairs of suggested products from different "
                      "categories. A diverse list walks the shopper through more of the shop",
                      lambda v: f"{v:.1%} of pairs"),
    }
    sentences = []
    for metric, (title, words, fmt) in meaning.items():
        best = []
        for task in run.tasks():
            values = run.values(task, metric)
            if values.empty:
                continue
            top = str(values.idxmax())
            accuracy = run.values(task)
            note = ""
            if top in accuracy.index and len(accuracy) and accuracy[top] < 0.8 * accuracy.max():
                note = (f", but it ranks what customers buy far lower (NDCG@{run.k} {_num(accuracy[top])} against the best "
                        f"{_num(accuracy.max())})")
            best.append(f"for {_esc(_task(task)[0])} {_name(top)} ({_esc(fmt(values[top]))}{note})")
        if best:
            sentences.append(f"<b>{title}</b> is {words}. Best: " + "; ".join(best) + ".")
    if not sentences:
        return ""
    figure = ""
    if run_dir is not None and (Path(run_dir) / "figures" / "05_beyond_accuracy.png").exists():
        figure = ('<a href="figures/05_beyond_accuracy.png"><img class="chart" src="figures/05_beyond_accuracy.png" '
                  'alt="Every model\'s accuracy against its coverage, novelty and diversity"></a>')
    return ('<section id="beyond-accuracy"><h2>Beyond accuracy: what else a list does for a shopper</h2>'
            f"<p>{' '.join(sentences)} Accuracy comes first: a list nobody buys from helps no one, however varied. "
            'Every list\'s values: the leaderboard below.</p>' + figure + '</section>')


def _findings(run: _Run, pairs: pd.DataFrame | None, plans: list[dict[str, Any]], texts: list[str],
              substitutes: pd.DataFrame | None = None, new_product_finding: str | None = None) -> str:
    findings = list(texts)
    for finding in (_cross_sell_finding(pairs), _substitutes_finding(substitutes)):
        if finding:
            findings.append(finding)
    findings += _ai_findings(run)
    if new_product_finding:
        findings.append(new_product_finding)
    if plans:
        findings.append("<b>An online A/B test</b> of the recommended list against today's: "
                        + "; ".join(_ab_sentence(p) for p in plans)
                        + " (assuming the offline gain carries over online; the A/B plan below).")
    findings = findings[:MAX_FINDINGS]
    return ('<section id="key-findings"><h2>Key findings</h2><ul>'
            + "".join(f"<li>{f}</li>" for f in findings) + "</ul>"
            f'<p class="note">Measured on the test weeks, which no model saw, ranking the whole range; NDCG@{run.k} '
            "is 1 when the products a customer then buys top the list, 0 when none is in the first "
            f"{run.k}. A difference is called better or worse only when a paired test on the same customers says it is "
            "unlikely to be chance (p &lt; 0.05) and, for models trained with several seeds, every seed agrees.</p></section>")


def _chart(run_dir: Path, k: int) -> str:
    figure = run_dir / "figures" / "05_leaderboard.png"
    if not figure.exists():
        return ""
    return ('<section id="models"><h2>Every list, by score</h2>'
            f'<p class="note">NDCG@{k} per task with its 95% interval, best on top; each list by its name in words, its '
            'code name in small print. Grey: the "buy it again" list of today; orange: the AI models.</p>'
            '<a href="figures/05_leaderboard.png"><img class="chart" src="figures/05_leaderboard.png" '
            'alt="Every model\'s NDCG@10 per task with its 95% interval, sorted by score"></a></section>')


def write_index(run_dir: str | Path, manifest: dict[str, Any], notebooks: Iterable[str]) -> Path:
    """Write ``index.html``: key findings first, the chart of every model, the A/B plan and beyond accuracy for a
    merchandiser; then the data, leaderboard, ledger, notebooks and figures for the data scientist."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    params = manifest.get("parameters", {})
    top, details = [], []
    leaderboard_path = run_dir / "leaderboard.csv"
    board = pd.read_csv(leaderboard_path) if leaderboard_path.exists() else pd.DataFrame()
    ranked = board[board["metric"] == METRIC] if len(board) else board
    if len(ranked) and ranked["value"].notna().any():
        k = int(ranked["k"].dropna().min())
        tests_path = run_dir / "significance.csv"
        tests = pd.read_csv(tests_path) if tests_path.exists() else pd.DataFrame()
        run = _Run(board, tests, k)
        texts, choices = [], {}
        for task in run.tasks():
            text, new, reference = _task_finding(run, task)
            texts.append(text)
            choices[task] = (new, reference)
        plans = _ab_plans(run, read_per_customer(run_dir), choices, params.get("test_weeks"))
        top += [_findings(run, read_pairs(run_dir), plans, texts, read_substitutes(run_dir),
                          _new_products_finding(read_new_products(run_dir))), _chart(run_dir, k), _ab_section(plans, k),
                _beyond_accuracy(run, run_dir)]
    else:
        top.append('<section id="key-findings"><h2>Key findings</h2><p>This run has no leaderboard: no model was '
                   "evaluated (see the notebooks below).</p></section>")
    if summary:
        facts = pd.DataFrame([(k.replace("_", " "), v) for k, v in summary.get("facts", {}).items()], columns=["", "value"])
        details.append(
            "<section><h2>Data</h2>"
            f"<p>{_esc(summary.get('description', ''))}</p>"
            + _table(facts, "data-summary", float_format="{:.4g}")
            + "".join(f'<p class="note">{_esc(n)}</p>' for n in summary.get("notes", []))
            + f"<p class=\"note\">{_esc(summary.get('split_definition', ''))}</p></section>"
        )
    if len(board):
        k_main = int(board["k"].dropna().min()) if board["k"].notna().any() else 10
        main = board[board["metric"].isin(["recall", "ndcg", "hit_rate", "mrr", "coverage", "novelty", "diversity"])
                     & (board["k"] == k_main)]
        failed = board[board["metric"] == "failed"]
        if len(main):
            pivot = (main.pivot_table(index=["task", "model"], columns="metric", values="value", aggfunc="first")
                     .reset_index().rename_axis(columns=None))
            order = ["task", "ndcg"] if "ndcg" in pivot else ["task"]
            pivot = pivot.sort_values(order, ascending=[True, False][:len(order)], kind="stable")
            pivot.insert(2, "name", pivot["model"].map(model_name))
            columns = ["task", "model", "name"] + [m for m in ("ndcg", "recall", "hit_rate", "mrr", "coverage", "novelty", "diversity") if m in pivot]
            leaderboard_html = _table(pivot[columns], "leaderboard")
        else:
            leaderboard_html = ""
        details.append(
            f"<section><h2>Leaderboard (k = {k_main}, full-catalogue ranking; 95% bootstrap intervals in "
            '<a href="leaderboard.csv">leaderboard.csv</a>, paired tests in <a href="significance.csv">significance.csv</a>)</h2>'
            + leaderboard_html
            + "".join(f'<p class="failed">{_esc(r.model)} failed on {_esc(r.task)}: {_esc(r.note)}</p>' for r in failed.itertuples())
            + "</section>"
        )
    ledger_path = run_dir / "ledger.csv"
    if ledger_path.exists():
        ledger = pd.read_csv(ledger_path)
        details.append("<section><h2>Cleaning ledger</h2>" + _table(ledger[ledger["rows_dropped"] > 0], "ledger") + "</section>")

    rows = []
    status = {n["name"]: n for n in manifest.get("notebooks", [])}
    for name in notebooks:
        info = status.get(name, {})
        cls = "ok" if info.get("status") == "ok" else "failed"
        rows.append(
            f'<tr><td><a href="{_esc(name)}.html">{_esc(name)}</a></td>'
            f'<td class="{cls}">{_esc(info.get("status", ""))}</td>'
            f'<td>{info.get("seconds", 0):.1f}</td><td>{info.get("peak_mb", 0):,.0f}</td>'
            f'<td><a href="{_esc(name)}.ipynb">notebook</a></td></tr>'
        )
    details.append(
        "<section><h2>Notebooks</h2><table id=\"notebooks\"><thead><tr><th>notebook</th><th>status</th>"
        "<th>seconds</th><th>peak MB</th><th>source</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        '<p class="note">Run details: <a href="manifest.json">manifest.json</a> (parameters, versions, git commit, '
        "data fingerprint, timings).</p></section>"
    )
    figures = sorted((run_dir / "figures").glob("*.png")) if (run_dir / "figures").exists() else []
    if figures:
        details.append(
            "<section><h2>Figures</h2><div class=\"figs\">"
            + "".join(f'<a href="figures/{_esc(f.name)}"><img src="figures/{_esc(f.name)}" alt="{_esc(f.stem)}"></a>'
                      for f in figures)
            + "</div></section>"
        )
    title = f"basket-lab run: profile {params.get('profile', '?')}, source {params.get('source', '?')}"
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1><p>{_esc(manifest.get('finished', ''))} · commit "
        f"{_esc(str(manifest.get('git_commit', ''))[:10])} · data {_esc(manifest.get('data_fingerprint', ''))}"
        f"</p></header><main>{''.join(p for p in top if p)}"
        '<h2 class="part">For the data scientist: data, leaderboard, cleaning, notebooks</h2>'
        f"{''.join(details)}</main></body></html>\n"
    )
    path = run_dir / "index.html"
    path.write_text(page)
    return path
