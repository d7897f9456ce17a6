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
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

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

    def to_dict(self) -> dict:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        if dim % heads:
            raise ValueError(f"parameter 'sasrec_dim' ({dim}) must be divisible by 'sasrec_heads' ({heads})")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, return_weights: bool = False):
        b, length, dim = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
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
        self.feed_forward = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * dim, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, return_weights: bool = False):
        attended, weights = self.attention(self.norm1(x), allowed, return_weights)
        x = x + self.dropout(attended)
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return x, weights


class SASRec(nn.Module):
    def __init__(self, config: SASRecConfig):
        super().__init__()
        self.config = config
        self.items = nn.Embedding(config.n_items + 1, config.dim, padding_idx=PAD)
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.recency = nn.Embedding(config.max_baskets, config.dim)
        self.flags = nn.Embedding(2, config.dim)
        # repeat-aware output: a learned bonus per flag for items already in the window, log(1 + times seen)
        self.repeat = nn.Parameter(torch.ones(2))
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config.dim, config.heads, config.dropout) for _ in range(config.blocks))
        self.norm = nn.LayerNorm(config.dim)
        for table in (self.items, self.positions, self.recency, self.flags):
            nn.init.normal_(table.weight, std=0.02)  # GPT-style: no table dominates the sum at the start
        with torch.no_grad():
            self.items.weight[PAD].zero_()

    def hidden(self, tokens: torch.Tensor, recency: torch.Tensor, return_weights: bool = False):
        """Hidden states (batch x length x dim) of left-padded token sequences; optionally the attention
        weights of every block (batch x heads x length x length)."""
        b, length = tokens.shape
        position = torch.arange(length, device=tokens.device)
        x = self.items(tokens) + self.positions(position)[None] + self.recency(recency.clamp(max=self.config.max_baskets - 1))
        x = self.dropout(x) * (tokens != PAD)[..., None]
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        allowed = causal[None] & (tokens != PAD)[:, None, :]
        allowed = allowed | torch.eye(length, dtype=torch.bool, device=tokens.device)[None]  # padding sees itself
        weights = []
        for block in self.blocks:
            x, w = block(x, allowed, return_weights)
            weights.append(w)
        return self.norm(x), weights

    def logits(self, hidden: torch.Tensor, flags: torch.Tensor, items: torch.Tensor | None = None,
               seen: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of catalogue items (or of the token indices ``items``) for hidden states and their flags;
        ``seen`` counts how often each scored item is already in the sequence up to that position."""
        query = hidden + self.flags(flags)
        table = self.items.weight[1:] if items is None else self.items(items)
        scores = query @ table.T
        if seen is not None:
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


def prefix_counts(tokens: torch.Tensor, candidates: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """For the positions ``rows`` (a boolean batch x length mask): occurrences of each candidate token
    (sorted) in the sequence up to and including the position, as a (positions x candidates) matrix."""
    b, length = tokens.shape
    earlier = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
    pairs = earlier[None] & (tokens != PAD)[:, None, :]  # (batch, position, earlier position)
    bi, ti, ji = pairs.nonzero(as_tuple=True)
    token = tokens[bi, ji]
    slot = torch.searchsorted(candidates, token).clamp(max=len(candidates) - 1)
    row_of = torch.full((b, length), -1, dtype=torch.long, device=tokens.device)
    row_of[rows] = torch.arange(int(rows.sum()), device=tokens.device)
    row = row_of[bi, ti]
    keep = (candidates[slot] == token) & (row >= 0)
    out = torch.zeros(int(rows.sum()), len(candidates), device=tokens.device)
    out.index_put_((row[keep], slot[keep]), torch.ones(int(keep.sum()), device=tokens.device), accumulate=True)
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


def split_baskets(history: np.ndarray, breaks: np.ndarray) -> list[np.ndarray]:
    """A flat history and the positions where a new basket starts -> list of baskets."""
    return [b for b in np.split(np.asarray(history, dtype=np.int64), breaks) if len(b)]
