"""SASRec in the model protocol, and what one can read off a trained SASRec (attention, next purchases)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ...text import align_vectors
from ..base import Interactions
from .network import NEXT, SASRec, encode
from .scorer import SequenceScorer, popularity_fallback
from .training import TrainSettings, fit_sasrec, load_checkpoint, pick_device


class SASRecRecommender:
    """The model protocol around SASRec.

    - ``checkpoint`` (trained by notebook 04): a ``.pt`` file, or a folder whose ``*.pt`` files are tried
      in name order; the first trained on the same catalogue (``train.item_ids``, in order), with the same
      ``settings.text`` and the same ``settings.seed`` is loaded (so one folder can hold the validation-period and the test-period
      checkpoints). Without a match it trains for ``settings.epochs`` epochs.
    - ``settings.text`` (``sasrec_text``): the text-fused model. ``text_vectors`` (items x d, e.g. from
      :func:`shared.text.item_embeddings`) are the items' fixed text vectors, ``text_item_ids`` their item
      ids (None: rows already in ``train.item_ids`` order); at fit time rows are aligned to
      ``train.item_ids`` by id (compared as strings), items without a row get a zero vector. A loaded
      text-fused checkpoint uses the text matrix saved in it.
    """

    name = "sasrec"
    uses_basket_breaks = True

    def __init__(self, settings: TrainSettings, checkpoint: str | None = None, text_vectors: np.ndarray | None = None,
                 text_item_ids: np.ndarray | None = None):
        self.settings, self.checkpoint = settings, checkpoint
        self.text_vectors, self.text_item_ids = text_vectors, text_item_ids
        if text_vectors is not None and text_item_ids is not None and len(text_vectors) != len(text_item_ids):
            raise ValueError(f"text_vectors has {len(text_vectors):,} rows but text_item_ids {len(text_item_ids):,} ids")

    def aligned_text(self, item_ids: np.ndarray) -> np.ndarray | None:
        """The text vectors in the order of ``item_ids`` (zero rows for items without one); None without text."""
        if self.text_vectors is None:
            return None
        return align_text(self.text_vectors, self.text_item_ids, item_ids)

    def fit(self, train: Interactions) -> "SASRecRecommender":
        device = pick_device(self.settings.device)
        model = None
        if self.checkpoint:
            model = load_checkpoint(self.checkpoint, train.item_ids, str(device), text=self.settings.text,
                                    seed=self.settings.seed)
        if model is None:
            text = self.aligned_text(train.item_ids) if self.settings.text else None
            model = fit_sasrec(train, self.settings, progress=False, text=text).model
        self.model = model
        self.scorer = SequenceScorer(model, device, popularity_fallback(train))
        return self

    def score(self, histories, contexts, breaks) -> np.ndarray:
        return self.scorer.score(histories, contexts, breaks)


def align_text(vectors: np.ndarray, vector_ids: np.ndarray | None, item_ids: np.ndarray) -> np.ndarray:
    """Rows of ``vectors`` (ids ``vector_ids``; None: already in ``item_ids`` order) for ``item_ids``
    (:func:`shared.text.align_vectors`)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vector_ids is None:
        if vectors.ndim != 2 or len(vectors) != len(item_ids):
            raise ValueError(f"text vectors without item ids must have one row per catalogue item "
                             f"({len(item_ids):,}), got shape {vectors.shape}")
        return vectors
    return align_vectors(vector_ids, vectors, item_ids)


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
