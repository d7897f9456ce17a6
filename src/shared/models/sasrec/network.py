"""SASRec for baskets: a causal Transformer over a customer's purchase sequence, in plain PyTorch.

A customer's history is one token per purchased item, baskets in time order (items inside a basket have no
order: training shuffles them). Each token's input is

    item embedding (tied with the output layer) + learned position + basket-recency embedding,

where basket recency counts baskets back from the newest one in the window (0 = the current basket), so
the model knows where baskets begin and end. Pre-norm blocks (causal multi-head self-attention, then a GELU
feed-forward layer, each with a residual and dropout) read the sequence left to right: the output at a
position sees only that token and the ones before it.

What a position predicts depends on a *flag* added to its output before the tied item layer:

- flag ``continue``: the rest of its own basket (basket completion: the context so far, what else is in it);
- flag ``next``: the next basket (next-basket prediction), asked only at the last token of a basket, so the
  model never sees any item of the basket it is predicting.

The output is repeat-aware: each flag has a learned weight on log(1 + times the item already occurs in the
sequence up to the position), since rebuying is most of grocery shopping (a copy term in the spirit of
repeat-aware next-basket models). Scores are logits over the whole catalogue; training (:mod:`.training`) uses full softmax cross-entropy
over every target item of a position (or sampled softmax above a catalogue-size limit).

Text fusion (``SASRecConfig.text_dim > 0``): an item's vector, at the input and in the tied output layer, is

    ID embedding + Linear(text_dim -> dim, no bias)(the item's fixed pretrained text vector),

so items with few purchases share what their descriptions share, and an item never bought in the fit
period still gets a vector in the learned space from its text. The text matrix is a buffer (not trained),
saved in the state dict and so in checkpoints; an item without text has a zero row (its ID embedding
only). With ``text_dim = 0`` (the default) the model is the ID-only ablation.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

PAD = 0  # item index 0 is padding; catalogue item i is token i + 1
CONTINUE, NEXT = 0, 1


@dataclass
class SASRecConfig:
    n_items: int
    max_len: int = 50
    dim: int = 64
    heads: int = 2
    blocks: int = 2
    dropout: float = 0.2
    max_baskets: int = 50
    text_dim: int = 0  # > 0: item vectors add a learned projection of fixed text vectors of this width

    def to_dict(self) -> dict:
        return asdict(self)


class DropoutMasks:
    """Dropout masks on the CPU from a seeded NumPy bit generator (PCG64, 16 random bits per element): about 8x
    faster than torch's Bernoulli draws, which took a fifth of a CPU training step. An element is dropped with
    probability round(p * 65536) / 65536 (p to within 2e-5) and a kept one is scaled by 1 / (1 - p), as
    ``nn.Dropout`` does. The stream is its own (seed, spawn key 1): it shares nothing with the windows' draws."""

    def __init__(self, seed: int):
        self.bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,)))

    def __call__(self, shape: torch.Size, p: float) -> torch.Tensor:
        n = math.prod(shape)
        words = self.bits.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(tuple(shape))
        mask = (words >= round(p * 65536)).astype(np.float32)
        mask *= np.float32(1 / (1 - p))
        return torch.from_numpy(mask)


class Dropout(nn.Dropout):
    """``nn.Dropout`` that, training on the CPU, takes its masks from the model's :class:`DropoutMasks` once
    :meth:`SASRec.seed_dropout` has set them (elsewhere, and before that, it is ``nn.Dropout``)."""

    masks: DropoutMasks | None = None

    def own_masks(self, x: torch.Tensor) -> bool:
        """Whether dropping out ``x`` now takes :class:`DropoutMasks` (training, on the CPU, once seeded)."""
        return bool(self.training and self.p and self.masks is not None and x.device.type == "cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.own_masks(x):
            return x * self.masks(x.shape, self.p)
        return super().forward(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        if dim % heads:
            raise ValueError(f"parameter 'sasrec_dim' ({dim}) must be divisible by 'sasrec_heads' ({heads})")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, return_weights: bool = False):
        b, length, dim = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        if not return_weights and not self.dropout.own_masks(x):  # fused kernel; in training its dropout draws the same masks in the same order
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed[:, None], dropout_p=self.dropout.p if self.training else 0.0)
            return self.out(y.transpose(1, 2).reshape(b, length, dim)), None
        scores = (q @ k.transpose(-2, -1)) / (dim // self.heads) ** 0.5
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        y = (self.dropout(weights) @ v).transpose(1, 2).reshape(b, length, dim)
        return self.out(y), (weights if return_weights else None)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = CausalSelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), Dropout(dropout), nn.Linear(4 * dim, dim))
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, return_weights: bool = False):
        attended, weights = self.attention(self.norm1(x), allowed, return_weights)
        x = x + self.dropout(attended)
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return x, weights


class SASRec(nn.Module):
    """``text`` (n_items x text_dim, catalogue order) is needed to build a fresh text-fused model
    (``config.text_dim > 0``); without it the text buffer is zeros, to be filled by ``load_state_dict``."""

    def __init__(self, config: SASRecConfig, text: torch.Tensor | np.ndarray | None = None):
        super().__init__()
        self.config = config
        self.items = nn.Embedding(config.n_items + 1, config.dim, padding_idx=PAD)
        if config.text_dim:
            table = torch.zeros(config.n_items + 1, config.text_dim)  # row 0: padding, no text
            if text is not None:
                text = torch.as_tensor(np.asarray(text, dtype=np.float32)) if isinstance(text, np.ndarray) else text.float().cpu()
                if tuple(text.shape) != (config.n_items, config.text_dim):
                    raise ValueError(f"text vectors: expected {config.n_items} x {config.text_dim}, got {tuple(text.shape)}")
                table[1:] = text
            self.register_buffer("text", table)  # fixed, not trained; saved with the weights
            self.text_projection = nn.Linear(config.text_dim, config.dim, bias=False)
        elif text is not None:
            raise ValueError("text vectors were given, but the config has text_dim = 0 (the ID-only model)")
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.recency = nn.Embedding(config.max_baskets, config.dim)
        self.flags = nn.Embedding(2, config.dim)
        # repeat-aware output: a learned bonus per flag for items already in the window, log(1 + times seen)
        self.repeat = nn.Parameter(torch.ones(2))
        self.dropout = Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config.dim, config.heads, config.dropout) for _ in range(config.blocks))
        self.norm = nn.LayerNorm(config.dim)
        for table in (self.items, self.positions, self.recency, self.flags):
            nn.init.normal_(table.weight, std=0.02)  # GPT-style: no table dominates the sum at the start
        with torch.no_grad():
            self.items.weight[PAD].zero_()
        if config.text_dim:  # unit-norm text rows -> projected components of std 0.02, like the ID table's
            nn.init.normal_(self.text_projection.weight, std=0.02)

    def seed_dropout(self, seed: int) -> "SASRec":
        """Every dropout layer of the model takes its CPU masks from one :class:`DropoutMasks` stream of ``seed``
        (what training does); the written-out attention then runs in training, for its weights' dropout."""
        masks = DropoutMasks(seed)
        for module in self.modules():
            if isinstance(module, Dropout):
                module.masks = masks
        return self

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Vectors of the token indices ``items`` (any shape; None: the whole catalogue, n_items x dim): the
        ID embedding, plus the projected text vector when the model is text-fused."""
        if items is None:
            vectors = self.items.weight[1:]
            return vectors + self.text_projection(self.text[1:]) if self.config.text_dim else vectors
        vectors = self.items(items)
        return vectors + self.text_projection(self.text[items]) if self.config.text_dim else vectors

    def hidden(self, tokens: torch.Tensor, recency: torch.Tensor, return_weights: bool = False):
        """Hidden states (batch x length x dim) of left-padded token sequences; optionally the attention
        weights of every block (batch x heads x length x length)."""
        b, length = tokens.shape
        position = torch.arange(length, device=tokens.device)
        x = self.item_vectors(tokens) + self.positions(position)[None] + self.recency(recency.clamp(max=self.config.max_baskets - 1))
        x = self.dropout(x) * (tokens != PAD)[..., None]
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        allowed = causal[None] & (tokens != PAD)[:, None, :]
        allowed = allowed | torch.eye(length, dtype=torch.bool, device=tokens.device)[None]  # padding sees itself
        weights = []
        for block in self.blocks:
            x, w = block(x, allowed, return_weights)
            weights.append(w)
        return self.norm(x), weights

    def query(self, hidden: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        """What the tied item layer scores against: hidden states plus their flags' vectors."""
        return hidden + self.flags(flags)

    def repeat_bonus(self, flags: torch.Tensor, seen: "Seen") -> torch.Tensor:
        """The repeat term at the nonzero entries ``seen`` of the prefix counts (one value per entry)."""
        return self.repeat[flags[seen.rows]] * torch.log1p(seen.counts)

    def logits(self, hidden: torch.Tensor, flags: torch.Tensor, items: torch.Tensor | None = None,
               seen: "torch.Tensor | Seen | None" = None) -> torch.Tensor:
        """Scores of catalogue items (or of the token indices ``items``) for hidden states and their flags;
        ``seen`` counts how often each scored item is already in the sequence up to that position: a dense
        (positions x items) matrix, or its nonzero entries as :class:`Seen` (what training passes: the same
        scores without building or differentiating through the dense matrix)."""
        scores = self.query(hidden, flags) @ self.item_vectors(items).T
        if isinstance(seen, Seen):
            scores = scores.index_put_((seen.rows, seen.columns), self.repeat_bonus(flags, seen), accumulate=True)  # distinct entries
        elif seen is not None:
            scores = scores + self.repeat[flags][:, None] * torch.log1p(seen)
        return scores

    def forward(self, tokens: torch.Tensor, recency: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        """Catalogue scores at the last position of each sequence, asked with ``flags`` (one per sequence)."""
        hidden, _ = self.hidden(tokens, recency)
        return self.logits(hidden[:, -1], flags, seen=seen_counts(tokens, self.config.n_items))


def seen_counts(tokens: torch.Tensor, n_items: int) -> torch.Tensor:
    """batch x items: how often each catalogue item occurs in each (whole) token sequence."""
    counts = torch.zeros(tokens.shape[0], n_items + 1, device=tokens.device)
    counts.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=counts.dtype))
    return counts[:, 1:]


class Seen(NamedTuple):
    """The nonzero entries of a (positions x candidates) count matrix: row, column, count (float)."""

    rows: torch.Tensor
    columns: torch.Tensor
    counts: torch.Tensor


def prefix_seen(tokens: torch.Tensor, candidates: torch.Tensor, rows: torch.Tensor) -> Seen:
    """For the positions ``rows`` (a boolean batch x length mask): occurrences of each candidate token
    (sorted) in the sequence up to and including the position, as the nonzero entries of the
    (positions x candidates) matrix, row by row.

    Each entry comes from the latest occurrence ``j`` of a token at or before the position ``t`` (``j <= t
    <`` the token's next occurrence), and its count is the occurrence number of ``j``: batch x length x
    length masks, no sort and no dense positions x candidates matrix."""
    b, length = tokens.shape
    steps = torch.arange(length, device=tokens.device)
    slot = torch.searchsorted(candidates, tokens).clamp(max=len(candidates) - 1)
    known = (candidates[slot] == tokens) & (tokens != PAD)
    same = tokens[:, :, None] == tokens[:, None, :]  # (batch, j, k): the same token at j and k
    upto = steps[None, :] <= steps[:, None]  # (j, k): k <= j
    occurrence = (same & upto).sum(-1)  # (batch, j): the how-manieth occurrence of its token j is
    following = torch.where(same & ~upto, steps, length).amin(-1)  # (batch, j): the token's next occurrence
    pairs = upto[None] & (steps[None, :, None] < following[:, None, :]) & known[:, None, :] & rows[:, :, None]
    bi, ti, ji = pairs.nonzero(as_tuple=True)  # (batch, position t, latest occurrence j <= t of a token)
    row_of = torch.cumsum(rows.reshape(-1).long(), 0).reshape(b, length) - 1
    return Seen(row_of[bi, ti], slot[bi, ji], occurrence[bi, ji].float())


def prefix_counts(tokens: torch.Tensor, candidates: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """For the positions ``rows`` (a boolean batch x length mask): occurrences of each candidate token
    (sorted) in the sequence up to and including the position, as a dense (positions x candidates) matrix
    (:func:`prefix_seen` gives its nonzero entries)."""
    seen = prefix_seen(tokens, candidates, rows)
    out = torch.zeros(int(rows.sum()), len(candidates), device=tokens.device)
    out[seen.rows, seen.columns] = seen.counts
    return out


# ----------------------------------------------------------------------------------------------------
# sequences
# ----------------------------------------------------------------------------------------------------

def encode(baskets: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (item index + 1) and basket recency of the last ``max_len`` items of a list of baskets,
    left-padded to ``max_len``."""
    tokens = np.zeros(max_len, dtype=np.int64)
    recency = np.zeros(max_len, dtype=np.int64)
    if not baskets:
        return tokens, recency
    items = np.concatenate(baskets)[-max_len:] + 1
    age = np.concatenate([np.full(len(b), len(baskets) - 1 - i) for i, b in enumerate(baskets)])[-max_len:]
    tokens[max_len - len(items):] = items
    recency[max_len - len(items):] = age
    return tokens, recency


def encode_query(history: np.ndarray, breaks: np.ndarray, context: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode` of a query's baskets (``split_baskets(history, breaks)``, then the context as the newest
    basket when it is not empty), from the flat arrays: only the last ``max_len`` items are looked at, and
    their basket recency is the number of distinct baskets after theirs (what scoring runs per query)."""
    history = np.asarray(history, dtype=np.int64)
    context = np.asarray(context, dtype=np.int64)
    breaks = np.asarray(breaks, dtype=np.int64)
    tokens = np.zeros(max_len, dtype=np.int64)
    recency = np.zeros(max_len, dtype=np.int64)
    kept = max(0, min(len(history), max_len - len(context)))  # history items that fit beside the context
    start = len(history) - kept
    # basket number of each kept item: the basket starts at or before its position (the context: after all)
    basket = np.concatenate([np.searchsorted(breaks, np.arange(start, len(history)), side="right"),
                             np.full(len(context), len(breaks) + 1)])[-max_len:]
    items = np.concatenate([history[start:], context])[-max_len:]
    if len(items):
        order = np.cumsum(np.diff(basket, prepend=basket[0]) != 0)  # 0 for the oldest kept basket, +1 per new basket
        tokens[max_len - len(items):] = items + 1
        recency[max_len - len(items):] = order[-1] - order
    return tokens, recency


def split_baskets(history: np.ndarray, breaks: np.ndarray) -> list[np.ndarray]:
    """A flat history and the positions where a new basket starts -> list of baskets."""
    return [b for b in np.split(np.asarray(history, dtype=np.int64), breaks) if len(b)]
