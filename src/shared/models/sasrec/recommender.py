"""SASRec in the model protocol, and what one can read off a trained SASRec (attention, next purchases)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..base import Interactions
from .network import NEXT, SASRec, encode
from .scorer import SequenceScorer, popularity_fallback
from .training import TrainSettings, fit_sasrec, load_checkpoint, pick_device


class SASRecRecommender:
    """The model protocol around SASRec. With ``checkpoint`` (trained by notebook 04 on the same fit period
    and catalogue) it loads those weights; otherwise it trains for ``settings.epochs`` epochs."""

    name = "sasrec"
    uses_basket_breaks = True

    def __init__(self, settings: TrainSettings, checkpoint: str | None = None):
        self.settings, self.checkpoint = settings, checkpoint

    def fit(self, train: Interactions) -> "SASRecRecommender":
        device = pick_device(self.settings.device)
        model = load_checkpoint(self.checkpoint, train.item_ids, str(device)) if self.checkpoint else None
        if model is None:
            model = fit_sasrec(train, self.settings, progress=False).model
        self.scorer = SequenceScorer(model, device, popularity_fallback(train))
        return self

    def score(self, histories, contexts, breaks) -> np.ndarray:
        return self.scorer.score(histories, contexts, breaks)


@torch.no_grad()
def explain(model: SASRec, baskets: list[np.ndarray], flag: int = NEXT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one customer's baskets: the attention of the last position in every block and head (rows) over
    the sequence's tokens, the token items, and each token's basket number."""
    tokens, recency = encode(baskets, model.config.max_len)
    device = next(model.parameters()).device
    model.eval()
    _, weights = model.hidden(torch.from_numpy(tokens[None]).to(device), torch.from_numpy(recency[None]).to(device), return_weights=True)
    real = tokens != 0
    rows = np.concatenate([w[0, :, -1, :].cpu().numpy() for w in weights])[:, real]
    return rows, tokens[real] - 1, (recency.max() - recency)[real]


@torch.no_grad()
def next_purchase_lift(model: SASRec, items: Sequence[int], reference: Sequence[int], n: int = 5) -> dict[int, list[tuple[int, float]]]:
    """Items each of ``items`` most raises as the next purchase: log-probability after a one-item basket
    of it, minus the mean log-probability after one-item baskets of the ``reference`` items."""
    device = next(model.parameters()).device
    model.eval()

    def logp(item_list: Sequence[int]) -> np.ndarray:
        length = model.config.max_len
        tokens = np.zeros((len(item_list), length), np.int64)
        tokens[:, -1] = np.asarray(item_list) + 1
        recency = np.zeros_like(tokens)
        flags = np.full(len(item_list), NEXT)
        out = model(torch.from_numpy(tokens).to(device), torch.from_numpy(recency).to(device), torch.from_numpy(flags).to(device))
        return torch.log_softmax(out, dim=-1).cpu().numpy()

    base = logp(list(reference)).mean(axis=0)
    raised = logp(list(items)) - base
    result = {}
    for row, item in zip(raised, items):
        row[item] = -np.inf
        top = np.argsort(-row, kind="stable")[:n]
        result[int(item)] = [(int(i), float(row[i])) for i in top]
    return result
