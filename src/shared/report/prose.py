"""Plain-words text for merchandisers, written from the leaderboard and the paired tests."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from .. import new_products
from .tables import cross_sell, judged, md_text, named, p_text, pct, verdict, versus

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
    test = f" (difference {duel.iloc[0][column]:+.4f}, {p_text(duel.iloc[0]['p_value'])})" if len(duel) else ""
    words = duel.iloc[0]["verdict"] if len(duel) else "no test"
    if mine["value"] > best["value"] and words == "better":
        head = f"**Yes: {model} has the best next-basket NDCG@{k} on new items**, {mine['value']:.4f} against {best['model']}'s {best['value']:.4f}{test}."
    elif mine["value"] > best["value"]:
        head = (f"**Not established: {model} scores highest on new items** ({mine['value']:.4f} against {best['model']}'s "
                f"{best['value']:.4f}{test}), **but the difference does not hold**: {words}.")
    else:
        head = (f"**No: {model} does not beat every other model on new items.** Its next-basket NDCG@{k} on items the "
                f"customer never bought is {mine['value']:.4f}; {best['model']} reaches {best['value']:.4f}{test}.")
    return head


def pretrained_verdict(board: pd.DataFrame, tests: pd.DataFrame, fused: str = "sasrec_text", plain: str = "sasrec",
                       k: int = 10, alpha: float = 0.05) -> str:
    """In words: did the pretrained text vectors help the Transformer? ``fused`` against ``plain`` on every task
    and on items new to the customer, from the leaderboard and the paired tests (``ndcg`` and ``ndcg_new``)."""
    names = set(board["model"])
    if not {fused, plain} <= names:
        return f"*The text-fused Transformer ({fused}) is not in this run: nothing to compare.*"
    lines = [f"**Did the pretrained language model help?** {fused} (item vectors = ID embedding + projected text vector) "
             f"against {plain} (ID only), NDCG@{k}, same queries:", ""]
    for metric, label in (("ndcg", ""), ("ndcg_new", ", items new to the customer")):
        for task in dict.fromkeys(board["task"]):
            rows = board[(board["task"] == task) & (board["metric"] == metric) & (board["k"] == k)].set_index("model")["value"]
            if fused not in rows or plain not in rows or pd.isna(rows[fused]):
                continue
            duel = tests[(tests["task"] == task) & (tests["metric"] == f"{metric}@{k}")
                         & (((tests["model_a"] == fused) & (tests["model_b"] == plain)) | ((tests["model_a"] == plain) & (tests["model_b"] == fused)))]
            if duel.empty:
                continue
            t = duel.iloc[0]
            diff = t["diff"] if t["model_a"] == fused else -t["diff"]
            word = judged({**t.to_dict(), "diff": diff}, alpha, "helped", "hurt", "made no measurable difference")
            lines.append(f"- {task.replace('_', ' ')}{label}: {rows[fused]:.4f} vs {rows[plain]:.4f} (difference {diff:+.4f}, "
                         f"{p_text(t['p_value'])}): the text {word}.")
    return "\n".join(lines)


def new_products_verdict(found: Mapping[str, Any], tune_seeds: Sequence[int], alpha: float = 0.05) -> str:
    """In words, from :func:`shared.new_products.evaluate_new_products`' tables: the best model of each direction
    against the category baseline, and whether fine-tuning beat the frozen encoder (a verdict only where every
    fine-tuning seed agrees, :func:`shared.new_products.seed_verdicts`)."""
    lines = ["**New products.**", ""]
    for direction, metric, label in (("targeting", "recall@100", "Finding the buyers of a new product"),
                                     ("launches", "recall@20", "Recommending launched products")):
        table, tests = found.get(direction), found.get(f"{direction}_tests")
        if table is None or table.empty:
            lines.append(f"- {label}: nothing to evaluate (no such product, or no customer bought one).")
            continue
        best = table.loc[table[metric].idxmax()]
        interval = f" [{best[f'{metric} low']:.3f}, {best[f'{metric} high']:.3f}]" if pd.notna(best[f"{metric} low"]) else ""
        text = f"- {label}: best **{best['model']}**, {metric} {best[metric]:.3f}{interval}"
        duel = tests[(tests["metric"] == metric) & (tests["model_a"] == best["model"]) & (tests["model_b"] == new_products.REFERENCE)] if len(tests) else tests
        ref = table[table["model"] == new_products.REFERENCE]
        if len(duel) and len(ref):
            t = duel.iloc[0]
            judgement = f"{p_text(t['p_value'])}: {verdict(t['p_value'], alpha)}" if pd.notna(t["p_value"]) else p_text(t["p_value"])
            text += f", against {new_products.REFERENCE} {ref.iloc[0][metric]:.3f} (difference {t['diff']:+.3f}, {judgement})"
        lines.append(text + ".")
        for frozen in ("text (frozen)", "text_to_factors (frozen)"):
            model = frozen.replace("(frozen)", "(tuned seed {seed})")
            said = new_products.seed_verdicts(tests, tune_seeds, metric, frozen, alpha, model=model)
            if said["verdict"] == "not tested":
                continue
            per_seed = ", ".join(f"{r['diff']:+.3f} ({p_text(r['p_value'])})" for r in said["seeds"])
            lines.append(f"  - fine-tuned against frozen, {model.split(' (')[0]}: **{said['verdict']}** "
                         f"({len(said['seeds'])} seed{'s' if len(said['seeds']) != 1 else ''}: {per_seed}).")
    return "\n".join(lines)


def stakeholder_summary(board: pd.DataFrame, tests: pd.DataFrame, pairs: pd.DataFrame,
                        catalogue: pd.DataFrame | None, k: int = 10, n_pairs: int = 5) -> str:
    """The plain-words section for a merchandiser, every number taken from the tables passed in."""
    lines = ["## In plain words", ""]
    labelled = named(pairs, catalogue)
    if len(labelled):
        lines += ["**Products that go together.** Bought in the same basket far more often than chance:", ""]
        for r in labelled.head(n_pairs).itertuples():
            lines.append(
                f"- {md_text(r.product_a)} + {md_text(r.product_b)}: together in {r.baskets:,} baskets, {r.lift:.1f}x more often than "
                f"if they were unrelated; {pct(r.confidence_a_to_b)} of baskets with the first also hold the second."
            )
        cross = cross_sell(labelled, 3)
        if len(cross):
            lines += ["", "**Cross-sell to try.** When a customer picks the first product, suggest the second "
                      "(pairs from different categories, at least twice as likely together as by chance):", ""]
            lines += [f"- {md_text(r.product_a)} -> {md_text(r.product_b)} ({pct(r.confidence_a_to_b)} of the time today)" for r in cross.itertuples()]
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
        low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
        return {**row.to_dict(), "diff": sign * row["diff"], "p": row["p_value"], "low": low, "high": high}

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
                judgement = (f"no model beats it: the best other, {runner['model']}, is {abs(t['diff']):.3f} NDCG lower "
                             f"({p_text(t['p'])}: {judged(t, 0.05, 'a real difference', 'a real difference', 'not a significant difference')})."
                             if t else "no other model to compare.")
                lines.append(f"- For {label}, what the customer always buys is the best predictor (NDCG {best['value']:.3f}); {judgement}")
            else:
                t = test(task, best["model"], "personal_frequency")
                sure = judged(t, 0.05, "a real difference", "a real difference", "not a significant difference") if t else ""
                gain = (f", {best['value'] / base['value'] - 1:+.1%} relative; difference {t['diff']:+.3f}, 95% interval "
                        f"[{t['low']:+.3f}, {t['high']:+.3f}]") if t and base is not None and base["value"] else ""
                lines.append(
                    f"- For {label}, {best['model']} does best (NDCG {best['value']:.3f} vs {base['value']:.3f}{gain}"
                    + (f", {p_text(t['p'])}: {sure})." if t else ").")
                )
                parts = [(part, value(best["model"], task, f"ndcg_{part}"), value("personal_frequency", task, f"ndcg_{part}"))
                         for part in ("repeat", "new")]
                parts = [(part, b, r) for part, b, r in parts if b is not None and r is not None]
                if parts:
                    lines.append("  Where the gain comes from: " + "; ".join(
                        f"{part} items (bought before / never bought) NDCG {b['value']:.3f} vs {r['value']:.3f} ({b['value'] - r['value']:+.3f})"
                        .replace(" (bought before / never bought)", " (bought before)" if part == "repeat" else " (never bought)")
                        for part, b, r in parts) + ".")
        new = board[(board["task"] == "next_basket") & (board["metric"] == "recall_new") & (board["k"] == k)].dropna(subset=["value"])
        if len(new):
            top = new.loc[new["value"].idxmax()]
            pf = value("personal_frequency", "next_basket", "recall_new")
            lines.append(
                f"- Items new to the customer are the hard part: the best model finds {pct(top['value'])} of them in its "
                f"top {k} ({top['model']}), personal frequency {pct(pf['value']) if pf is not None else 'n/a'}."
            )
        lines.append("")
    lines += [
        "**How sure we are.** Every figure is measured on shopping the models never saw (the test weeks), on every "
        "basket, ranking the full catalogue. Intervals are 95% bootstrap intervals over queries; differences "
        "between two models are tested on the same queries (paired bootstrap), and called real when p < 0.05."
        + (f" The neural models ({', '.join(sorted(set(board.loc[board['seeds'] > 1, 'model'])))}) were each trained with "
           f"{int(board['seeds'].max())} seeds: their figure is the mean over seeds, their interval also covers the spread "
           "between seeds, and a difference involving them is called real only when, in addition, every seed agrees in sign."
           if "seeds" in board and (board["seeds"] > 1).any() else ""),
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# HTML index
# ----------------------------------------------------------------------------------------------------

