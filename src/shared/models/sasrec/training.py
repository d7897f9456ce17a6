"""Training SASRec (:mod:`.network`) on purchase sequences, and its place in the model protocol.

- Sequences: each customer's fit-period baskets in time order; customers with fewer than two baskets are
  skipped and counted. Every epoch shuffles the items inside each basket (they have no order) and cuts each
  customer's sequence into up to ``sasrec_windows`` windows of ``sasrec_max_len`` tokens, newest first. The
  newest window ends where a query does (queries are right-aligned, asked at the last position): at the end
  of the second-to-last basket (next-basket question) or inside the last one (completion question).
- Targets: at every token, the rest of its basket (flag *continue*); at a basket's last token, the next
  basket (flag *next*). A position with several target items averages their cross-entropy.
- Loss: full softmax cross-entropy over the catalogue while it has at most ``sasrec_max_full_softmax``
  items (``sasrec_loss: auto`` or ``full``), else sampled softmax over the batch's targets plus
  ``sasrec_negatives`` shared uniform negatives (``sampled``).
- AdamW with linear warm-up, gradient clipping at 1, early stopping on validation NDCG@10 (mean of the two
  tasks) with the best weights kept; seeded and deterministic on CPU; a tqdm bar with loss and throughput
  (tokens/s counts the whole epoch, window building included); device ``auto`` picks CUDA when present.
- Text fusion (``sasrec_text``): ``fit_sasrec(..., text=vectors)`` with one fixed text vector per catalogue
  item (rows in ``train.item_ids`` order, zero rows for items without text) adds their learned projection
  to the item embeddings (:mod:`.network`); ``sasrec_text: false`` is the ID-only ablation.
- Checkpoints hold the config, the weights (the text matrix included, as a buffer), the catalogue's item
  ids and the settings; :func:`load_checkpoint` takes a file or a folder of ``*.pt`` files and uses the one
  trained on the same catalogue (and with the same ``text`` choice).

Speed (the same results as the straightforward loops, checked by tests/test_sasrec.py): windows are cut
with array operations per customer, the repeat term's prefix counts are built and applied as sparse
entries (:func:`.network.prefix_seen`) instead of a dense positions x candidates matrix, and deterministic
mode skips filling fresh tensors with NaN (``torch.utils.deterministic.fill_uninitialized_memory``), which
only matters to kernels that read memory they never wrote. The softmax loss (:func:`softmax_loss`, most of a
step) runs over cache-sized blocks of positions in one reused buffer, takes the softmax in place and the log of
the targets' probabilities only, and computes its gradients in the same pass, so the positions x candidates
logits, their log-softmax and the gather's dense gradient are never held whole (the plain formulation's loss
and gradients to float rounding). On the CPU, dropout masks come from a seeded NumPy bit generator
(:class:`.network.DropoutMasks`, 8x faster than torch's Bernoulli draws) and attention is written out in
training (its weights' dropout takes those masks); evaluation runs the fused
``scaled_dot_product_attention``. AdamW is fused. What is left on the CPU is mostly the three positions x
candidates matrix products and the softmax of the loss.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ... import metrics
from ...config import ParameterError
from ...processes import shared_data, side_by_side
from ..base import Interactions, recommend
from .network import CONTINUE, NEXT, SASRec, SASRecConfig, Seen, prefix_seen
from .scorer import SequenceScorer, popularity_fallback


@dataclass
class TrainSettings:
    """Architecture and training of SASRec: the ``sasrec_*`` parameters, with no defaults of their own
    (``params/default.yaml`` is the one source of defaults)."""

    max_len: int
    dim: int
    heads: int
    blocks: int
    dropout: float
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_steps: int
    patience: int
    loss: str
    max_full_softmax: int
    negatives: int
    windows: int
    eval_queries: int
    device: str
    text: bool  # sasrec_text: fuse the items' pretrained text vectors into their embeddings
    seed: int
    clip: float = 1.0  # gradient-norm clipping: a fixed part of the recipe, not a parameter
    max_targets: int = 30  # target items kept per position (a memory bound, not a parameter)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "TrainSettings":
        fields = [f for f in cls.__dataclass_fields__ if f not in ("seed", "clip", "max_targets")]
        return cls(seed=params["seed"], **{f: params[f"sasrec_{f}"] for f in fields})

    def replace(self, **changes: Any) -> "TrainSettings":
        return dataclasses.replace(self, **changes)


@dataclass
class TrainResult:
    model: SASRec
    history: pd.DataFrame  # epoch, loss, validation ndcg@10, seconds, tokens/s
    best_epoch: int
    skipped_customers: int
    loss: str
    device: str
    item_ids: np.ndarray = field(default_factory=lambda: np.zeros(0))
    settings: TrainSettings | None = None  # what it was trained with (the seed included)


def model_config(settings: TrainSettings, n_items: int, text_dim: int = 0) -> SASRecConfig:
    return SASRecConfig(n_items=n_items, max_len=settings.max_len, dim=settings.dim, heads=settings.heads,
                        blocks=settings.blocks, dropout=settings.dropout, text_dim=text_dim)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ParameterError("parameter 'sasrec_device': cuda was asked for but CUDA is not available")
    return torch.device(name)


def choose_loss(settings: TrainSettings, n_items: int) -> str:
    if settings.loss not in ("auto", "full", "sampled"):
        raise ParameterError(f"parameter 'sasrec_loss': unknown loss {settings.loss!r} (auto, full or sampled)")
    if settings.loss == "full" and n_items > settings.max_full_softmax:
        raise ParameterError(
            f"the catalogue has {n_items:,} items, too many for full softmax (parameter 'sasrec_max_full_softmax' = "
            f"{settings.max_full_softmax:,}): set 'sasrec_loss' to sampled or auto, or raise 'sasrec_max_full_softmax'"
        )
    if settings.loss == "sampled" and settings.negatives < 1:
        raise ParameterError("parameter 'sasrec_negatives' must be at least 1 for sampled softmax")
    if settings.loss == "auto":
        return "full" if n_items <= settings.max_full_softmax else "sampled"
    return settings.loss


def customer_baskets(train: Interactions) -> tuple[list[list[np.ndarray]], int]:
    """Each customer's fit-period baskets (item indices) in time order; customers with < 2 baskets skipped."""
    lines = train.lines
    order = "timestamp" if "timestamp" in lines else "sequence"
    ordered = lines.sort_values([order, "basket_id", "item_id"], kind="stable")
    items = pd.Index(train.item_ids).get_indexer(ordered["item_id"])
    basket_codes = pd.factorize(ordered["basket_id"])[0]
    sequences, skipped = [], 0
    for _, idx in ordered.groupby("customer_id", sort=True).indices.items():
        codes = basket_codes[idx]
        cuts = np.flatnonzero(np.diff(codes) != 0) + 1
        baskets = np.split(items[idx], cuts)
        if len(baskets) < 2:
            skipped += 1
            continue
        sequences.append(baskets)
    return sequences, skipped


def make_windows(sequences: Sequence[list[np.ndarray]], max_len: int, windows: int, max_targets: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One epoch of training windows: tokens, recency, flags (N x L) and targets (N x L x max_targets, -1 pad).

    Per customer: shuffle each basket, then cut up to ``windows`` windows of ``max_len`` tokens, newest
    first. A position's targets are a slice of the shuffled sequence (the rest of its basket, or at a
    basket's last token the next basket), sampled down to ``max_targets`` when longer. Random draws are the
    same, in the same order, as a token-by-token loop would make (tests/test_sasrec.py keeps one)."""
    arange_targets = np.arange(max_targets)
    all_tokens, all_recency, all_flags, all_targets = [], [], [], []
    for baskets in sequences:
        # a one-item basket's permutation draws nothing: skip the call, the stream is unchanged
        shuffled = [rng.permutation(b) if len(b) > 1 else b for b in baskets]
        lengths = np.fromiter(map(len, shuffled), dtype=np.int64, count=len(shuffled))
        flat = np.concatenate(shuffled).astype(np.int64, copy=False)
        starts = np.zeros(len(shuffled) + 1, np.int64)
        np.cumsum(lengths, out=starts[1:])
        # the newest window ends where a query would: half the time at the end of the second-to-last basket
        # (its last position asks for the next basket), otherwise inside the last basket (it asks for the rest)
        last = int(lengths[-1])
        cut = 0 if last == 1 or rng.random() < 0.5 else int(rng.integers(1, last))
        newest_end = int(starts[-2]) + cut
        count = min(windows, max(0, (newest_end - 2) // max_len + 1))  # windows whose end is above 1
        if not count:
            continue
        first = max(0, newest_end - count * max_len)
        basket_of = np.repeat(np.arange(len(shuffled)), lengths)[first:newest_end]
        place = np.arange(first, newest_end)
        basket_end = starts[basket_of + 1]
        is_last = place == basket_end - 1
        # targets: flat[target_start:target_end], the rest of the basket or (at its last token) the next one
        target_start = np.where(is_last, basket_end, place + 1)
        target_end = np.where(is_last, starts[np.minimum(basket_of + 2, len(shuffled))], basket_end)
        index = target_start[:, None] + arange_targets
        targets = np.where(index < target_end[:, None], flat[np.minimum(index, len(flat) - 1)], -1)
        tokens = flat[first:newest_end] + 1
        flags = np.where(is_last, NEXT, CONTINUE)
        long = target_end - target_start > max_targets
        for w in range(count):
            end = newest_end - w * max_len
            start = max(0, end - max_len)
            part = slice(start - first, end - first)
            width = end - start
            for p in np.flatnonzero(long[part]) + (start - first):  # in token order, as the draws must be
                targets[p] = rng.choice(flat[target_start[p] : target_end[p]], max_targets, replace=False)
            window_tokens = np.zeros(max_len, np.int64)
            window_recency = np.zeros(max_len, np.int64)
            window_flags = np.zeros(max_len, np.int64)
            window_targets = np.full((max_len, max_targets), -1, np.int64)
            window_tokens[max_len - width :] = tokens[part]
            window_recency[max_len - width :] = basket_of[end - 1 - first] - basket_of[part]
            window_flags[max_len - width :] = flags[part]
            window_targets[max_len - width :] = targets[part]
            all_tokens.append(window_tokens)
            all_recency.append(window_recency)
            all_flags.append(window_flags)
            all_targets.append(window_targets)
    return np.stack(all_tokens), np.stack(all_recency), np.stack(all_flags), np.stack(all_targets)


def batch_loss(model: SASRec, tokens, recency, flags, targets, loss: str, negatives: int, generator: torch.Generator) -> torch.Tensor:
    hidden, _ = model.hidden(tokens, recency)
    has = targets[..., 0] >= 0
    t = targets[has]
    valid = t >= 0
    if loss == "full":
        candidates = torch.arange(model.config.n_items, device=t.device)
    else:
        sampled = torch.randint(0, model.config.n_items, (negatives,), generator=generator).to(t.device)
        candidates = torch.unique(torch.cat([t[valid], sampled]))
    seen = prefix_seen(tokens, candidates + 1, has)
    position_flags = flags[has]
    return softmax_loss(model.query(hidden[has], position_flags), model.item_vectors(candidates + 1), seen,
                        model.repeat_bonus(position_flags, seen), torch.searchsorted(candidates, t.clamp(min=0)), valid)


#: elements of a positions x candidates block of logits that :func:`softmax_loss` handles at once: 4 MB of
#: float32 on the CPU (the block stays in cache through all its passes); on a GPU 256 MB (a few blocks per batch)
LOGIT_BLOCK = {"cpu": 2**20, "cuda": 2**26}


def softmax_loss(query: torch.Tensor, vectors: torch.Tensor, seen: Seen, bonus: torch.Tensor, slots: torch.Tensor,
                 valid: torch.Tensor, block: int | None = None) -> torch.Tensor:
    """The softmax cross-entropy of training, averaged over a position's target items and then over positions:

        scores = query @ vectors.T, plus ``bonus`` at the entries ``seen`` (the repeat term, rows sorted);
        loss = -mean over positions p of mean over valid targets j of log_softmax(scores[p])[slots[p, j]]

    as the plain autograd formulation (``logits`` -> ``log_softmax`` -> ``gather``: tests/test_sasrec.py keeps
    it), but in blocks of positions that stay in cache, and with the
    gradients computed in the same pass (the loss is a scalar with no other use): the positions x candidates
    matrix is never held whole, nor its log-softmax, nor the dense gradient of the gather. One buffer of a block
    serves every block; the softmax is taken in place and only the targets' probabilities are logged (the same
    loss to float rounding; a target whose probability is below the smallest normal float, about 1e-38, counts
    as that: its logged loss is capped at about 87 nats, its gradient is exact)."""
    if block is None:
        block = LOGIT_BLOCK.get(query.device.type, LOGIT_BLOCK["cuda"])
    rows = max(1, block // max(1, len(vectors)))
    return _SoftmaxLoss.apply(query, vectors, bonus, seen.rows, seen.columns, slots, valid, rows)


class _SoftmaxLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, vectors, bonus, seen_rows, seen_columns, slots, valid, rows):
        gradients = any(ctx.needs_input_grad[:3])
        n = len(query)
        counts = valid.sum(1)
        per_position = torch.empty(n, dtype=query.dtype, device=query.device)
        # d loss / d picked (the gather's output) for an upstream gradient of 1, in autograd's order of operations
        weight = (torch.full((), -1.0, dtype=query.dtype, device=query.device) / n / counts[:, None]) * valid
        grad_query = torch.empty_like(query) if gradients else None
        grad_vectors = torch.zeros_like(vectors) if gradients else None
        grad_bonus = torch.empty_like(bonus) if gradients else None
        edges = torch.searchsorted(seen_rows, torch.arange(0, n + rows, rows, device=query.device).clamp(max=n)).tolist()
        # one block buffer for the whole call (fresh multi-MB tensors per block cost page faults), softmax in place
        buffer = torch.empty(min(rows, n), len(vectors), dtype=query.dtype, device=query.device)
        tiny = torch.finfo(query.dtype).tiny
        for i, start in enumerate(range(0, n, rows)):
            end = min(n, start + rows)
            entries = slice(edges[i], edges[i + 1])
            local = (seen_rows[entries] - start, seen_columns[entries])
            scores = torch.mm(query[start:end], vectors.T, out=buffer[: end - start])
            scores.index_put_(local, bonus[entries], accumulate=True)
            probability = torch._softmax(scores, -1, False, out=scores)
            # log p of the targets only (p below the smallest normal float counts as that: the logged loss is capped)
            picked = probability.gather(1, slots[start:end]).clamp_(min=tiny).log_()
            per_position[start:end] = (picked * valid[start:end]).sum(1) / counts[start:end]
            if not gradients:
                continue
            # log_softmax's backward, d = g - softmax * sum(g), with g the gather's scattered weights
            w = weight[start:end]
            grad = probability.mul_(-w.sum(1, keepdim=True))
            grad.scatter_add_(1, slots[start:end], w)
            grad_bonus[entries] = grad[local]
            torch.mm(grad, vectors, out=grad_query[start:end])
            grad_vectors.addmm_(grad.T, query[start:end])
        if gradients:
            ctx.save_for_backward(grad_query, grad_vectors, grad_bonus)
        return -per_position.mean()

    @staticmethod
    def backward(ctx, grad_output):
        grad_query, grad_vectors, grad_bonus = ctx.saved_tensors
        return grad_query * grad_output, grad_vectors * grad_output, grad_bonus * grad_output, None, None, None, None, None


def validation_ndcg(scorer: SequenceScorer, validation: Mapping[str, Any], k: int = 10) -> float:
    values = []
    for queries in validation.values():
        shown = recommend(scorer, queries.histories, queries.contexts, k, breaks=queries.history_breaks)
        values.append(float(metrics.ranking(shown, queries.targets, k)["ndcg"].mean()))
    return float(np.mean(values))


@contextlib.contextmanager
def deterministic(on: bool):
    """Deterministic algorithms while training on the CPU, without NaN-filling every fresh tensor (that
    only guards kernels that read memory they never wrote, and costs a write of every new tensor); the
    previous settings are restored afterwards."""
    if not on:
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = fill
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])


def text_matrix(train: Interactions, text: np.ndarray | None) -> np.ndarray:
    if text is None:
        raise ParameterError("parameter 'sasrec_text': the text-fused SASRec needs the items' text vectors "
                             "(fit_sasrec(..., text=...), or SASRecRecommender(text_vectors=...)); set it to false for the ID-only model")
    matrix = np.asarray(text, dtype=np.float32)
    if matrix.ndim != 2 or len(matrix) != train.n_items:
        raise ValueError(f"text vectors: expected one row per catalogue item ({train.n_items:,}), got shape {matrix.shape}")
    return matrix


def fit_sasrec(train: Interactions, settings: TrainSettings, validation: Mapping[str, Any] | None = None,
               progress: bool = True, text: np.ndarray | None = None) -> TrainResult:
    """Train SASRec on ``train``; with ``validation`` (task -> Queries), stop early on NDCG@10. With
    ``settings.text``, ``text`` holds one fixed text vector per catalogue item (rows in ``train.item_ids``
    order, zero rows for items without text), fused into the item embeddings; otherwise it is not used."""
    device = pick_device(settings.device)
    with deterministic(device.type == "cpu"):
        return _fit(train, settings, validation, progress, text_matrix(train, text) if settings.text else None, device)


def _fit(train: Interactions, settings: TrainSettings, validation: Mapping[str, Any] | None, progress: bool,
         text: np.ndarray | None, device: torch.device) -> TrainResult:
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    loss_kind = choose_loss(settings, train.n_items)
    sequences, skipped = customer_baskets(train)
    if not sequences:
        raise ValueError("no customer has two or more baskets in the fit period: nothing to train SASRec on")
    config = model_config(settings, train.n_items, text_dim=0 if text is None else text.shape[1])
    model = SASRec(config, text).to(device).seed_dropout(settings.seed)
    # fused: one kernel for all parameters (CPU and CUDA) instead of a loop of small foreach steps
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay, fused=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: min(1.0, (step + 1) / max(settings.warmup_steps, 1)))
    scorer = SequenceScorer(model, device, popularity_fallback(train))
    if validation is not None and settings.eval_queries:
        validation = {t: q.subset(np.sort(np.random.default_rng(settings.seed).choice(len(q), min(len(q), settings.eval_queries), replace=False)))
                      for t, q in validation.items() if len(q)}

    rows, best, best_state, best_epoch, waited = [], -math.inf, None, settings.epochs, 0
    bar = tqdm(range(1, settings.epochs + 1), desc="sasrec", disable=not progress)
    for epoch in bar:
        model.train()
        started, total, seen = time.perf_counter(), 0.0, 0
        tokens, recency, flags, targets = make_windows(sequences, config.max_len, settings.windows, settings.max_targets, rng)
        order = rng.permutation(len(tokens))
        for start in range(0, len(order), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            batch = [torch.from_numpy(x[idx]).to(device) for x in (tokens, recency, flags, targets)]
            loss = batch_loss(model, *batch, loss_kind, settings.negatives, generator)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
            seen += int((tokens[idx] != 0).sum())
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}", tok_s=f"{seen / max(time.perf_counter() - started, 1e-9):,.0f}")
        seconds = time.perf_counter() - started
        row = {"epoch": epoch, "loss": total / len(order), "seconds": round(seconds, 2),
               "tokens_per_s": round(seen / seconds), "sequences_per_s": round(len(order) / seconds, 1)}
        if validation:
            row["val_ndcg@10"] = validation_ndcg(scorer, validation)
            if row["val_ndcg@10"] > best:
                best, best_epoch, waited = row["val_ndcg@10"], epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
        rows.append(row)
        if validation and waited >= settings.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(model, pd.DataFrame(rows), best_epoch if validation else len(rows), skipped, loss_kind,
                       str(device), np.asarray(train.item_ids), settings)


def fit_seeds(train: Interactions, runs: Sequence[TrainSettings], text: np.ndarray | None = None, workers: int = 1,
              progress: bool = True) -> list[TrainResult]:
    """:func:`fit_sasrec` for each of ``runs`` (settings that differ in ``seed`` and ``text``; no early stopping:
    the number of epochs was chosen before), results in the order of ``runs``. ``text`` holds the items' text
    vectors for the runs with ``settings.text``.

    ``workers`` > 1 (on the CPU, with several runs) trains them side by side in that many processes of one torch
    thread each: on 2 cores two one-thread trainings do about 1.3x the work of one two-thread training (one
    training does not keep two cores busy: its window building, Python and small kernels are serial). A run's
    result then depends only on its settings, never on which worker trained it or in what order (one thread,
    seeded), but differs in the last digits from the same run on two threads: the choice of ``workers`` is part
    of the recipe."""
    runs = list(runs)
    if workers <= 1 or len(runs) < 2 or pick_device(runs[0].device).type != "cpu":
        bar = tqdm(runs, desc="training runs", disable=not progress or len(runs) < 2)
        return [fit_sasrec(train, run, progress=progress, text=text) for run in bar]
    results: list[TrainResult | None] = [None] * len(runs)
    # the text-fused runs (the slower ones) first: two workers then finish close together
    order = sorted(range(len(runs)), key=lambda i: not runs[i].text)
    bar = tqdm(total=len(runs), desc=f"training runs ({min(workers, len(runs))} processes)", disable=not progress)
    for i, future in side_by_side(_worker_fit, [(run,) for run in runs], workers, {"train": train, "text": text}, order):
        state, history, best_epoch, skipped, loss, text_dim = future.result()
        run = runs[i]
        model = SASRec(model_config(run, train.n_items, text_dim), text if text_dim else None)
        model.load_state_dict(state)
        results[i] = TrainResult(model.eval(), history, best_epoch, skipped, loss, "cpu", np.asarray(train.item_ids), run)
        bar.update()
    bar.close()
    return results  # type: ignore[return-value]


def runs_table(results: Sequence[TrainResult]) -> pd.DataFrame:
    """One row per training run: variant, seed, epochs, seconds, tokens/s and the last epoch's loss."""
    return pd.DataFrame([{"model": "sasrec_text" if r.settings and r.settings.text else "sasrec",
                          "seed": r.settings.seed if r.settings else None, "epochs": len(r.history),
                          "seconds": round(float(r.history["seconds"].sum())),
                          "tokens_per_s": round(float(r.history["tokens_per_s"].mean())),
                          "last_loss": round(float(r.history["loss"].iloc[-1]), 4)} for r in results])


def _worker_fit(run: TrainSettings):
    """One run of :func:`fit_seeds` in a process of :func:`shared.processes.side_by_side`."""
    data = shared_data()
    result = fit_sasrec(data["train"], run, progress=False, text=data["text"])
    return (result.model.state_dict(), result.history, result.best_epoch, result.skipped_customers, result.loss,
            result.model.config.text_dim)


def save_checkpoint(result: TrainResult, path: str | Path, settings: TrainSettings | None = None) -> Path:
    """Config, weights (with a text-fused model's text matrix: the checkpoint is self-contained), the
    catalogue's item ids, the best epoch and the settings (``settings``, else those it was trained with; their
    seed tells the checkpoints of several training seeds apart)."""
    settings = settings or result.settings
    if settings is None:
        raise ValueError("save_checkpoint: the training settings are unknown; pass settings")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": result.model.config.to_dict(), "state_dict": result.model.state_dict(),
                "item_ids": [str(x) for x in result.item_ids], "best_epoch": result.best_epoch,
                "settings": dataclasses.asdict(settings)}, path)
    return path


def checkpoint_files(path: str | Path) -> list[Path]:
    """A checkpoint file, or every ``*.pt`` file of a folder (sorted by name); none when it does not exist."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob("*.pt") if p.is_file())
    return [path] if path.is_file() else []


def load_checkpoint(path: str | Path, item_ids: np.ndarray, device: str = "auto", text: bool | None = None,
                    seed: int | None = None) -> SASRec | None:
    """The model of the checkpoint ``path`` if it was trained on the same catalogue (``item_ids``, in order),
    when ``text`` is given is text-fused exactly when ``text`` is, and when ``seed`` is given was trained with
    that seed; else None. ``path`` may be a folder: its ``*.pt`` files are tried in name order and the first
    that matches is used (so one folder holds the checkpoints of several fit periods, of both the ID-only and
    the text-fused model, and of every training seed)."""
    wanted = [str(x) for x in item_ids]
    for file in checkpoint_files(path):
        try:
            saved = torch.load(file, map_location="cpu", weights_only=False)
        except Exception:  # not a checkpoint (or a broken one): not ours to use
            continue
        if not isinstance(saved, dict) or saved.get("item_ids") != wanted:
            continue
        config = SASRecConfig(**saved["config"])
        if text is not None and bool(config.text_dim) != text:
            continue
        if seed is not None and saved.get("settings", {}).get("seed") != seed:
            continue
        model = SASRec(config)
        model.load_state_dict(saved["state_dict"])
        return model.to(pick_device(device)).eval()
    return None
