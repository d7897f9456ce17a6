"""Scoring with a trained SASRec: history baskets (+ the basket context) -> catalogue logits."""
from __future__ import annotations

import numpy as np
import torch

from ..base import Interactions, popularity_tiebreak
from .network import CONTINUE, NEXT, SASRec, encode_query


def popularity_fallback(train: Interactions) -> np.ndarray:
    """Scores for customers the model knows nothing about yet: log popularity."""
    return np.log(popularity_tiebreak(train) + 1e-6).astype(np.float32)


class SequenceScorer:
    """Scores queries with a trained SASRec: history baskets (+ the basket context) -> catalogue logits.
    It follows the model protocol's ``score``, so ``recommend`` can rank with it directly."""

    name = "sasrec"
    uses_basket_breaks = True

    def __init__(self, model: SASRec, device: torch.device, fallback: np.ndarray, batch_size: int = 256):
        self.model, self.device, self.fallback, self.batch_size = model, device, fallback, batch_size

    def sequences(self, histories, contexts, breaks):
        length = self.model.config.max_len
        tokens = np.zeros((len(histories), length), np.int64)
        recency = np.zeros_like(tokens)
        flags = np.zeros(len(histories), np.int64)
        for i, (h, c, b) in enumerate(zip(histories, contexts, breaks)):
            flags[i] = CONTINUE if len(c) else NEXT
            tokens[i], recency[i] = encode_query(h, b, c, length)
        return tokens, recency, flags

    @torch.no_grad()
    def score(self, histories, contexts, breaks) -> np.ndarray:
        self.model.eval()
        tokens, recency, flags = self.sequences(histories, contexts, breaks)
        out = np.empty((len(tokens), self.model.config.n_items), dtype=np.float32)
        for start in range(0, len(tokens), self.batch_size):
            sl = slice(start, start + self.batch_size)
            logits = self.model(torch.from_numpy(tokens[sl]).to(self.device), torch.from_numpy(recency[sl]).to(self.device),
                                torch.from_numpy(flags[sl]).to(self.device))
            out[sl] = logits.float().cpu().numpy()
        empty = ~(tokens != 0).any(axis=1)
        out[empty] = self.fallback  # nothing known about the customer yet: popularity
        return out


