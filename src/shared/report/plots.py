"""Every figure of the reports, one function per figure. Each returns a matplotlib Figure; :func:`save`
writes it as PNG under the run's ``figures/`` folder."""
from __future__ import annotations

from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in ("module://matplotlib_inline.backend_inline", "inline"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .tables import AI_MODELS, INCUMBENT, model_name  # noqa: E402

PALETTE = ["#1b6ca8", "#e07a1f", "#3a9d5d", "#c2413b", "#7c5cab", "#8c6d4f", "#d16ba5", "#6b6b6b"]
plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "figure.autolayout": True,
    }
)


def save(fig: plt.Figure, run_dir: str | Path, name: str) -> Path:
    """Write ``fig`` to ``run_dir/figures/name.png`` and return the path."""
    folder = Path(run_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, bbox_inches="tight", metadata={"Software": None})
    return path


def basket_sizes(lines: pd.DataFrame, clip: int = 60) -> plt.Figure:
    sizes = lines.groupby("basket_id", observed=True).size()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.hist(sizes.clip(upper=clip), bins=np.arange(0.5, clip + 1.5), color=PALETTE[0])
    ax.axvline(sizes.median(), color=PALETTE[1], ls="--", label=f"median {sizes.median():.0f}")
    ax.set(xlabel=f"distinct items per basket (>{clip} shown at {clip})", ylabel="baskets", title="Basket sizes")
    ax.legend()
    return fig


def item_popularity(lines: pd.DataFrame) -> plt.Figure:
    counts = np.sort(lines.groupby("item_id", observed=True).size().to_numpy())[::-1]
    rank = np.arange(1, len(counts) + 1)
    share = np.cumsum(counts) / counts.sum()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.loglog(rank, counts, color=PALETTE[0])
    ax1.set(xlabel="item rank", ylabel="baskets containing the item", title="Item popularity (log-log)")
    ax2.plot(rank / len(rank) * 100, share * 100, color=PALETTE[2])
    top = int(np.searchsorted(share, 0.5)) + 1
    ax2.axhline(50, color="grey", lw=0.8)
    ax2.set(
        xlabel="% of items (most popular first)",
        ylabel="% of lines",
        title=f"Long tail: top {top / len(rank):.1%} of items make half the lines",
    )
    return fig


def baskets_per_week(lines: pd.DataFrame) -> plt.Figure:
    baskets = lines.drop_duplicates("basket_id")
    week = baskets["timestamp"].dt.to_period("W-SUN").dt.start_time
    fig, ax = plt.subplots(figsize=(9, 3.6))
    if "split" in baskets:
        table = pd.crosstab(week, baskets["split"])
        for i, part in enumerate(c for c in ("train", "validation", "test") if c in table):
            ax.bar(table.index, table[part], width=6, color=PALETTE[i], label=part)
        ax.legend()
    else:
        counts = week.value_counts().sort_index()
        ax.bar(counts.index, counts.to_numpy(), width=6)
    ax.set(xlabel="week", ylabel="baskets", title="Baskets per week")
    return fig


def share_by(lines: pd.DataFrame, catalogue: pd.DataFrame, column: str = "department", top: int = 15) -> plt.Figure:
    groups = lines["item_id"].map(catalogue.set_index("item_id")[column]).fillna("(unknown)")
    share = groups.value_counts(normalize=True).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(share) + 1.2))
    ax.barh(share.index.astype(str), share.to_numpy() * 100, color=PALETTE[0])
    ax.set(xlabel="% of lines", title=f"Share of lines by {column.replace('_', ' ')} (top {len(share)})")
    return fig


def ledger_waterfall(ledger: pd.DataFrame) -> plt.Figure:
    dropped = ledger[ledger["rows_dropped"] > 0]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(dropped) + 1.5))
    labels = ["raw lines", *[f"{s}: {r}" for s, r in zip(dropped["step"], dropped["reason"])], "clean lines"]
    values = [ledger["rows_in"].iat[0], *(-dropped["rows_dropped"]).tolist(), ledger["rows_out"].iat[-1]]
    colours = [PALETTE[0], *[PALETTE[3]] * len(dropped), PALETTE[2]]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, np.abs(values), color=colours)
    for yi, v in zip(y, values):
        ax.text(abs(v), yi, f" {v:+,}" if v < 0 else f" {v:,}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set(xscale="log", xlabel="lines (log scale)", title="Cleaning: where the lines went")
    return fig


# ----------------------------------------------------------------------------------------------------
# evaluation (notebook 05)
# ----------------------------------------------------------------------------------------------------

def leaderboard_intervals(board: pd.DataFrame, metrics: tuple[str, ...] = ("ndcg",), k: int = 10) -> plt.Figure:
    """Every model's metric@k per task with its 95% interval, sorted by score (best on top): each model by its
    name in words (:data:`.tables.MODEL_NAMES`) with its code name in small print, the value at the end of the
    bar; the incumbent ("buy it again") in grey, the AI models in orange."""
    tasks = list(dict.fromkeys(board["task"]))
    n_models = board["model"].nunique()
    fig, axes = plt.subplots(len(metrics), len(tasks), figsize=(5.6 * len(tasks), (0.42 * n_models + 1.2) * len(metrics)),
                             squeeze=False)
    colours = {"incumbent": "#8a949e", "AI": PALETTE[1], "other": PALETTE[0]}
    for i, metric in enumerate(metrics):
        for j, task in enumerate(tasks):
            ax = axes[i][j]
            rows = board[(board["task"] == task) & (board["metric"] == metric) & (board["k"] == k)].dropna(subset=["value"])
            rows = rows.sort_values(["value", "model"], ascending=[True, False], kind="stable")
            y = np.arange(len(rows))
            kind = ["incumbent" if m == INCUMBENT else "AI" if m in AI_MODELS else "other" for m in rows["model"]]
            ax.barh(y, rows["value"], color=[colours[c] for c in kind], alpha=0.85)
            err = np.vstack([rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]])
            ax.errorbar(rows["value"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3, lw=1)
            for yi, value, high in zip(y, rows["value"], rows["ci_high"]):
                ax.text((high if pd.notna(high) else value), yi, f"  {value:.3f}", va="center", fontsize=8)
            ax.set_yticks(y, [model_name(m) for m in rows["model"]], va="bottom", fontsize=9)
            for yi, code in zip(y, rows["model"]):
                ax.annotate(str(code), xy=(0, yi), xycoords=ax.get_yaxis_transform(), xytext=(-4, -1),
                            textcoords="offset points", ha="right", va="top", fontsize=7, color="#6b6b6b",
                            annotation_clip=False)
            ax.tick_params(axis="y", length=0)
            ax.grid(axis="y", visible=False)
            ax.set_xlim(0, max(rows["ci_high"].max() if rows["ci_high"].notna().any() else 0, rows["value"].max() if len(rows) else 0) * 1.18 or 1)
            ax.set(title=f"{task.replace('_', ' ')}: {metric.upper() if metric == 'ndcg' else metric}@{k}",
                   xlabel=f"{metric}@{k}, 95% interval (best on top)")
    handles = [matplotlib.patches.Patch(color=colours[c], label=label)
               for c, label in (("incumbent", '"buy it again" (incumbent)'), ("AI", "AI models"), ("other", "other models"))]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    return fig


def accuracy_and_beyond(board: pd.DataFrame, k: int = 10, task: str = "next_basket",
                        beyond: tuple[str, ...] = ("coverage", "novelty", "diversity")) -> plt.Figure:
    """The trade-off a merchandiser chooses on: every model's NDCG@k (accuracy, x) against coverage, novelty and
    diversity (y), one panel each, on one task (the first task present when ``task`` is not); each point labelled
    with the model's name in words, "buy it again" grey, the AI models orange."""
    tasks = list(dict.fromkeys(board["task"]))
    task = task if task in tasks else tasks[0]
    rows = board[(board["task"] == task) & (board["k"] == k)]
    accuracy = rows[rows["metric"] == "ndcg"].set_index("model")["value"].dropna()
    panels = [m for m in beyond if (rows["metric"] == m).any()]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(5.2 * max(len(panels), 1), 4.4), squeeze=False)
    units = {"coverage": "share of the range shown", "novelty": "bits (higher: less obvious)",
             "diversity": "share of pairs from different categories"}
    for ax, metric in zip(axes[0], panels):
        values = rows[rows["metric"] == metric].set_index("model")["value"].dropna()
        models = [m for m in accuracy.index if m in values.index]
        colour = ["#8a949e" if m == INCUMBENT else PALETTE[1] if m in AI_MODELS else PALETTE[0] for m in models]
        ax.scatter(accuracy[models], values[models], c=colour, s=36, zorder=3)
        for m in models:
            ax.annotate(model_name(m), (accuracy[m], values[m]), xytext=(4, 3), textcoords="offset points", fontsize=7)
        ax.set(xlabel=f"NDCG@{k} (accuracy)", ylabel=f"{metric}@{k}: {units.get(metric, '')}",
               title=f"{task.replace('_', ' ')}: accuracy and {metric}")
    return fig


def metric_by_history(table: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> plt.Figure:
    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        sub = table[table["task"] == task]
        order = list(dict.fromkeys(sub["history_baskets"]))
        for model, rows in sub.groupby("model", sort=False):
            rows = rows.set_index("history_baskets").reindex(order)
            ax.plot(order, rows[metric], marker="o", label=model)
        counts = sub.drop_duplicates("history_baskets").set_index("history_baskets")["queries"].reindex(order)
        ax.set_xticks(range(len(order)), [f"{o}\n(n={c:,})" for o, c in zip(order, counts)], fontsize=8)
        ax.set(title=f"{task}: {metric}@{k} by history length", xlabel="customer's past baskets", ylabel=f"{metric}@{k}")
    axes[0][-1].legend(fontsize=8)
    return fig


def recall_by_popularity(table: pd.DataFrame, k: int = 10) -> plt.Figure:
    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.6), squeeze=False)
    buckets = ["tail", "torso", "head"]
    for ax, task in zip(axes[0], tasks):
        sub = table[table["task"] == task]
        models = list(dict.fromkeys(sub["model"]))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            rows = sub[sub["model"] == model].set_index("bucket").reindex(buckets)
            ax.bar(np.arange(3) + i * width - 0.4 + width / 2, rows["recall"], width, label=model, color=PALETTE[i % len(PALETTE)])
        targets = sub.drop_duplicates("bucket").set_index("bucket")["targets"].reindex(buckets).fillna(0)
        ax.set_xticks(range(3), [f"{b}\n({int(t):,} targets)" for b, t in zip(buckets, targets)])
        ax.set(title=f"{task}: recall@{k} by target item popularity", ylabel=f"share of targets in top {k}")
    axes[0][-1].legend(fontsize=8)
    return fig


def new_products(targeting: pd.DataFrame, launches: pd.DataFrame) -> plt.Figure:
    """New products, both directions: each model's recall (targeting: @100 of a product's buyers; launches: @20
    of a customer's launched products) with its 95% interval, best on top; text models in orange."""
    panels = [(t, m, title) for t, m, title in ((targeting, "recall@100", "targeting: recall@100 of each new product's buyers"),
                                               (launches, "recall@20", "launches: recall@20 of each customer's launched products"))
              if len(t) and m in t]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(6.4 * max(len(panels), 1), 0.42 * max((len(t) for t, _, _ in panels), default=1) + 1.6),
                             squeeze=False)
    if not panels:
        axes[0][0].text(0.5, 0.5, "no new product to evaluate", ha="center", transform=axes[0][0].transAxes)
        return fig
    for ax, (table, metric, title) in zip(axes[0], panels):
        rows = table.sort_values([metric, "model"], ascending=[True, False], kind="stable")
        y = np.arange(len(rows))
        colours = [PALETTE[1] if str(m).startswith("text") else PALETTE[0] for m in rows["model"]]
        ax.barh(y, rows[metric], color=colours, alpha=0.85)
        err = np.vstack([rows[metric] - rows[f"{metric} low"], rows[f"{metric} high"] - rows[metric]])
        ax.errorbar(rows[metric], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3, lw=1)
        for yi, value in zip(y, rows[metric]):
            ax.text(value, yi, f"  {value:.3f}", va="center", fontsize=8)
        ax.set_yticks(y, rows["model"], fontsize=8)
        ax.set(title=title, xlabel=f"{metric}, 95% interval (best on top)")
    return fig


def repeat_share(table: pd.DataFrame, k: int = 10) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    colours = [PALETTE[1] if w == "actual next baskets" else PALETTE[0] for w in table["who"]]
    ax.barh(y, table["repeat_share"] * 100, color=colours)
    ax.barh(y, 100 - table["repeat_share"] * 100, left=table["repeat_share"] * 100, color="#d9dee4")
    ax.set_yticks(y, table["who"])
    ax.set(xlim=(0, 100), xlabel=f"% of items that are repeats (coloured) vs new (grey), top {k}",
           title="next_basket: repeat vs new items")
    return fig


# ----------------------------------------------------------------------------------------------------
# association rules (notebook 02)
# ----------------------------------------------------------------------------------------------------

def support_confidence(rules: pd.DataFrame, title: str = "Rules: support vs confidence") -> plt.Figure:
    """Every rule as a dot, coloured by lift (log scale); trustworthy rules (significant, non-redundant) ringed."""
    from matplotlib.colors import LogNorm

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    if rules.empty:
        ax.text(0.5, 0.5, "no rules", ha="center", transform=ax.transAxes)
        return fig
    lift = rules["lift"].clip(lower=1e-3)
    dots = ax.scatter(rules["support"], rules["confidence"], c=lift, cmap="viridis", s=10,
                      norm=LogNorm(vmin=max(lift.min(), 0.1), vmax=max(lift.max(), 1.01)), alpha=0.8)
    if "trusted" in rules:
        good = rules[rules["trusted"]]
        ax.scatter(good["support"], good["confidence"], s=40, facecolors="none", edgecolors=PALETTE[3], lw=0.8,
                   label=f"significant and non-redundant ({len(good):,})")
        ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(dots, ax=ax, label="lift (log scale)")
    ax.set(xscale="log", xlabel="support (share of baskets, log scale)", ylabel="confidence", title=title)
    return fig


def rule_network(rules: pd.DataFrame, names: pd.Series | None = None, top: int = 25) -> plt.Figure:
    """The strongest single-antecedent rules as a graph: arrows antecedent -> consequent, width by lift."""
    fig, ax = plt.subplots(figsize=(9, 9))
    ax.set_axis_off()
    single = rules[rules["antecedent"].map(len) == 1].head(top)
    if single.empty:
        ax.text(0.5, 0.5, "no rules to draw", ha="center")
        return fig
    src = single["antecedent"].map(lambda s: next(iter(s)))
    dst = single["consequent"].map(lambda s: next(iter(s)))
    nodes = list(dict.fromkeys([*src, *dst]))
    angle = np.linspace(0, 2 * np.pi, len(nodes), endpoint=False)
    pos = {n: (np.cos(a), np.sin(a)) for n, a in zip(nodes, angle)}
    lifts = single["lift"].to_numpy()
    widths = 0.5 + 3.5 * (np.log(lifts) - np.log(lifts).min()) / max(np.ptp(np.log(lifts)), 1e-9)
    for a, b, w in zip(src, dst, widths):
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="-|>", lw=w, color=PALETTE[0], alpha=0.6, shrinkA=8, shrinkB=8,
                                    connectionstyle="arc3,rad=0.12"))
    for node, (x, y) in pos.items():
        label = str(names.get(node, node)) if names is not None else str(node)
        label = label if len(label) <= 28 else label[:26] + "…"
        ax.scatter([x], [y], s=80, color=PALETTE[1], zorder=3)
        ax.text(x * 1.08, y * 1.08, label, fontsize=7.5, ha="left" if x >= 0 else "right", va="center")
    ax.set(xlim=(-2.1, 2.1), ylim=(-1.4, 1.4), title=f"The {len(single)} strongest rules (arrow width: lift)")
    return fig


def lift_heatmap(matrix: pd.DataFrame, title: str = "Lift between the most common categories") -> plt.Figure:
    from matplotlib.colors import LogNorm

    size = 0.38 * len(matrix) + 3
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    values = matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.5, 2)
    bound = max(1 / max(vmin, 1e-3), vmax, 1.5)
    image = ax.imshow(values, cmap="RdBu_r", norm=LogNorm(vmin=1 / bound, vmax=bound))
    labels = [str(x)[:22] for x in matrix.index]
    ax.set_xticks(range(len(labels)), labels, rotation=75, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="lift (log scale; red: together more than chance)", shrink=0.8)
    ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------------------------------
# matrix factorization (notebook 03)
# ----------------------------------------------------------------------------------------------------

def sweep(table: pd.DataFrame, metric: str = "ndcg@10") -> plt.Figure:
    """Validation metric of every setting of a sweep, per task, with intervals; best setting highlighted."""
    settings = [c for c in table.columns if c not in ("task", metric, "ci_low", "ci_high")]
    label = table[settings].astype(str).agg(", ".join, axis=1)
    table = table.assign(setting=label)
    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 0.35 * table["setting"].nunique() + 1.8), squeeze=False)
    mean = table.groupby("setting", sort=False)[metric].mean()
    for ax, task in zip(axes[0], tasks):
        rows = table[table["task"] == task].set_index("setting").loc[mean.sort_values().index]
        y = np.arange(len(rows))
        colours = [PALETTE[1] if s == mean.idxmax() else PALETTE[0] for s in rows.index]
        ax.barh(y, rows[metric], color=colours)
        ax.errorbar(rows[metric], y, xerr=[rows[metric] - rows["ci_low"], rows["ci_high"] - rows[metric]], fmt="none", ecolor="black", capsize=2, lw=0.8)
        ax.set_yticks(y, rows.index, fontsize=8)
        ax.set(title=f"validation {task}: {metric}", xlabel=metric)
    fig.suptitle(f"Sweep over {', '.join(settings)} (orange: chosen)", fontsize=10)
    return fig


def training_curves(curves: dict[str, list[tuple]]) -> plt.Figure:
    """Per-iteration training curves: ALS loss, BPR share of correctly ordered sampled pairs."""
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 3.5), squeeze=False)
    for ax, (name, curve) in zip(axes[0], curves.items()):
        if not curve:
            ax.text(0.5, 0.5, "no curve recorded", ha="center", transform=ax.transAxes)
            continue
        it = [c[0] for c in curve]
        if name == "bpr":
            values = [c[2] / max(c[2] + c[3], 1) if len(c) > 3 else c[2] for c in curve]
            ax.plot(it, values, marker=".", color=PALETTE[2])
            ax.set(ylabel="share of sampled pairs ranked right")
        else:
            ax.plot(it, [c[2] for c in curve], marker=".", color=PALETTE[0])
            ax.set(ylabel="training loss")
        ax.set(xlabel="iteration", title=f"{name}: training curve")
    return fig


def lift_vs_cosine(pairs: pd.DataFrame, agreement: dict) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.scatter(pairs["lift"], pairs["cosine"], s=6, alpha=0.4, color=PALETTE[0])
    ax.set(xscale="log", xlabel="rule lift (log scale)", ylabel="cosine of ALS item factors",
           title=f"Embedding similarity vs lift over {agreement['pairs']:,} frequent pairs: Spearman {agreement['spearman']:.2f}")
    return fig


def factor_map(coords: np.ndarray, groups: pd.Series, title: str = "ALS item factors, first two principal components") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 6))
    groups = pd.Series(groups).fillna("(unknown)").astype(str).to_numpy()
    top = pd.Series(groups).value_counts().index[:8]
    for i, group in enumerate(top):
        mask = groups == group
        ax.scatter(coords[mask, 0], coords[mask, 1], s=6, alpha=0.6, color=PALETTE[i % len(PALETTE)], label=group)
    rest = ~np.isin(groups, top)
    if rest.any():
        ax.scatter(coords[rest, 0], coords[rest, 1], s=4, alpha=0.3, color="#bbbbbb", label="other")
    ax.legend(fontsize=8, markerscale=2)
    ax.set(xlabel="component 1", ylabel="component 2", title=title)
    return fig


# ----------------------------------------------------------------------------------------------------
# SASRec (notebook 04)
# ----------------------------------------------------------------------------------------------------

def training_history(history: pd.DataFrame, title: str = "SASRec training") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(history["epoch"], history["loss"], marker="o", color=PALETTE[0], label="training loss")
    ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title=title)
    if "val_ndcg@10" in history:
        other = ax.twinx()
        other.plot(history["epoch"], history["val_ndcg@10"], marker="s", color=PALETTE[1], label="validation NDCG@10")
        other.set_ylabel("validation NDCG@10")
        other.grid(False)
        best = history.loc[history["val_ndcg@10"].idxmax()]
        other.axvline(best["epoch"], color=PALETTE[1], ls=":", lw=1)
        fig.legend(loc="upper center", ncol=2, fontsize=8, bbox_to_anchor=(0.5, 0.9))
    return fig


def attention(weights: np.ndarray, labels: list[str], baskets: np.ndarray, rows: list[str], title: str) -> plt.Figure:
    """Attention of the last position over the sequence (one row per block and head); red lines part baskets."""
    fig, ax = plt.subplots(figsize=(max(7, 0.28 * len(labels) + 2), 0.5 * len(weights) + 2.6))
    image = ax.imshow(weights, aspect="auto", cmap="Blues")
    for start in np.flatnonzero(np.diff(baskets) != 0) + 0.5:
        ax.axvline(start, color=PALETTE[3], lw=0.8)
    ax.set_xticks(range(len(labels)), [lab[:18] for lab in labels], rotation=80, fontsize=6.5)
    ax.set_yticks(range(len(weights)), rows, fontsize=7)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    ax.set_title(title)
    return fig


def substitutes_complements(candidates: pd.DataFrame, substitutes: pd.DataFrame, complements: pd.DataFrame,
                            title: str = "Substitutes and complements: text similarity against lift") -> plt.Figure:
    """Every candidate pair by text similarity (x) and lift (y, log scale); substitutes (alike, bought
    instead of each other) and complements (different, bought together) highlighted."""
    fig, ax = plt.subplots(figsize=(8, 5))
    lift = candidates["lift"].clip(lower=1e-2)
    ax.scatter(candidates["similarity"], lift, s=6, color="#bbbbbb", alpha=0.5, label="other pairs", rasterized=True)
    for frame, colour, label in ((substitutes, PALETTE[1], "substitutes"), (complements, PALETTE[0], "complements")):
        if len(frame):
            ax.scatter(frame["similarity"], frame["lift"].clip(lower=1e-2), s=18, color=colour, label=label)
    ax.axhline(1.0, color="#444444", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_xlabel("text similarity of the two products (pretrained sentence encoder, cosine)")
    ax.set_ylabel("lift (1 = independent)")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
