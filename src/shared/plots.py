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
