"""The pretrained sentence encoder, fine-tuned on the baskets (the "text tuning" step).

A frozen encoder places products by what their descriptions say; shoppers place them by what they buy
together. Fine-tuning moves the encoder towards the shoppers, so that a product nobody has bought yet can be
placed from its text alone (notebook 05's new-product evaluation asks whether it helps).

- :func:`encode_states` runs the packaged all-MiniLM-L6-v2 once over the distinct descriptions: it returns the
  frozen sentence vectors (mean pooling, L2-normalised: the same numbers as ``SentenceTransformer.encode``,
  tested) and every token's hidden state below the top ``layers`` Transformer layers.
- :func:`description_pairs` turns co-purchase pairs (:func:`shared.mining.frequent_pairs`, every pair above the
  ``min_count`` privacy floor) into pairs of distinct descriptions, each weighted by its basket count times its
  pointwise mutual information (log lift; pairs bought together no more than chance are left out).
- :func:`fine_tune` trains a copy of the top ``layers`` layers (the lower ones stay frozen, their outputs read
  from the states: the same gradients for the trained layers at a fraction of the cost) with a symmetric
  in-batch contrastive loss (sentence-transformers' MultipleNegativesRankingLoss, written in torch: each
  description must pick its partner among the batch's, at ``scale`` x cosine), a fixed number of AdamW steps
  with linear warm-up and decay, pairs drawn in proportion to their weight by a seeded NumPy generator,
  duplicates of a batch's descriptions masked out of its negatives. Then it re-encodes every description.
- :func:`tuned_vectors` is the step as notebook 03 runs it: frozen and fine-tuned vectors (one set per seed),
  cached under the run's ``data/`` by a key of the data fingerprint, the base weights' sha256, the settings,
  the descriptions and the pairs; the trained layers are saved as safetensors, and their sha256 is reported
  (the manifest lists it next to the base weights').

Nothing is downloaded: the encoder comes from :mod:`shared.text` (offline).
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import text
from .text import EncoderStates
from .files import write_atomically


#: Bumped whenever the fine-tuning's recipe changes (loss, sampling, schedule), so that older caches are not reused.
TUNE_VERSION = 1


@dataclass(frozen=True)
class TuneSettings:
    """How the encoder is fine-tuned (``text_tune_*`` parameters)."""

    steps: int = 30
    batch_pairs: int = 64
    learning_rate: float = 3e-4
    layers: int = 1
    scale: float = 20.0
    warmup_share: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int | None = None) -> "TuneSettings":
        return cls(steps=int(params["text_tune_steps"]), batch_pairs=int(params["text_tune_batch_pairs"]),
                   learning_rate=float(params["text_tune_learning_rate"]), layers=int(params["text_tune_layers"]),
                   seed=int(params["seed"] if seed is None else seed))


@dataclass
class TuneResult:
    """A fine-tuned top of the encoder: its layers, the re-encoded texts and the training curve."""

    settings: TuneSettings
    layers: Any                 # torch.nn.ModuleList, eval mode
    vectors: np.ndarray         # float32, len(texts) x dim, unit rows
    history: pd.DataFrame       # step, loss
    seconds: float


def _bert(encoder: text.TextEncoder):
    return encoder.model[0].auto_model


def _extended_mask(mask):
    """Padding mask (batch x tokens, 1 = token) as the additive mask BERT's layers take."""
    import torch

    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def _run_layers(layers, hidden, mask):
    extended = _extended_mask(mask)
    for layer in layers:
        out = layer(hidden, attention_mask=extended)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def encode_states(encoder: text.TextEncoder, texts: Sequence[str], layers: int = 1, batch_size: int = 64,
                  progress: bool = True) -> EncoderStates:
    """The frozen vectors of ``texts`` (distinct, non-empty strings) and the hidden states below the top
    ``layers`` layers, in one pass of the encoder (:meth:`shared.text.TextEncoder.encode_states`)."""
    if layers < 1:
        raise ValueError(f"parameter 'text_tune_layers': must be at least 1, got {layers}")
    return encoder.encode_states(texts, layers=layers, batch_size=batch_size, progress=progress)


def _padded(states: EncoderStates, rows: np.ndarray):
    """The states of texts ``rows`` as a padded batch (rows x longest x dim) and its mask."""
    import torch

    lengths = states.lengths[rows]
    longest = int(lengths.max())
    hidden = torch.zeros((len(rows), longest, states.states.shape[1]), dtype=torch.float32)
    mask = torch.zeros((len(rows), longest), dtype=torch.int64)
    for r, i in enumerate(rows):
        n = int(lengths[r])
        hidden[r, :n] = states.states[states.offsets[i] : states.offsets[i] + n]
        mask[r, :n] = 1
    return hidden, mask


def encode_top(layers, states: EncoderStates, batch_size: int = 256, threads: int | None = None) -> np.ndarray:
    """Sentence vectors of every text of ``states`` through ``layers`` (the frozen top, or a fine-tuned one)."""
    import torch

    out = np.zeros((len(states.texts), states.states.shape[1]), dtype=np.float32)
    order = np.argsort(states.lengths, kind="stable")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or text.default_threads())
    layers.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                part = order[start : start + batch_size]
                hidden, mask = _padded(states, part)
                out[part] = text.mean_pool(_run_layers(layers, hidden, mask), mask).numpy()
    finally:
        torch.set_num_threads(previous)
    return out


def description_pairs(pairs: pd.DataFrame, descriptions: Mapping[str, str]) -> pd.DataFrame:
    """Co-purchase pairs of items (``item_a``, ``item_b``, ``baskets``, ``lift``) as pairs of distinct
    descriptions (``text_a`` < ``text_b``) with ``baskets`` summed and ``weight`` = baskets x log(lift) summed
    (pointwise mutual information, weighted by how often it was seen). Pairs with lift <= 1, items without a
    description, and pairs of two items with the same description are left out. Sorted by weight."""
    columns = ["text_a", "text_b", "baskets", "weight"]
    if pairs is None or not len(pairs):
        return pd.DataFrame(columns=columns)
    frame = pairs[pairs["lift"] > 1.0]
    a = frame["item_a"].astype("str").map(descriptions)
    b = frame["item_b"].astype("str").map(descriptions)
    keep = a.notna() & b.notna() & (a != "") & (b != "") & (a != b)
    a, b, frame = a[keep], b[keep], frame[keep]
    low = np.where(a < b, a, b)
    high = np.where(a < b, b, a)
    out = pd.DataFrame({"text_a": low, "text_b": high, "baskets": frame["baskets"].to_numpy(),
                        "weight": frame["baskets"].to_numpy() * np.log(frame["lift"].to_numpy())})
    out = out.groupby(["text_a", "text_b"], as_index=False, sort=True)[["baskets", "weight"]].sum()
    return out.sort_values(["weight", "text_a", "text_b"], ascending=[False, True, True], kind="stable").reset_index(drop=True)


def contrastive_loss(anchors, partners, anchor_ids, partner_ids, scale: float):
    """Symmetric in-batch contrastive loss (MultipleNegativesRankingLoss both ways): row i of ``anchors`` must
    pick row i of ``partners`` among all partners at ``scale`` x cosine, and the other way round. A negative
    that is the same text as the anchor or its partner (``*_ids``) is masked out, not punished."""
    import torch

    logits = scale * anchors @ partners.T
    n = len(anchor_ids)
    eye = torch.eye(n, dtype=torch.bool)
    same = (partner_ids[None, :] == partner_ids[:, None]) | (partner_ids[None, :] == anchor_ids[:, None])
    same_t = (anchor_ids[None, :] == anchor_ids[:, None]) | (anchor_ids[None, :] == partner_ids[:, None])
    target = torch.arange(n)
    forward = torch.nn.functional.cross_entropy(logits.masked_fill(same & ~eye, float("-inf")), target)
    backward = torch.nn.functional.cross_entropy(logits.T.masked_fill(same_t & ~eye, float("-inf")), target)
    return (forward + backward) / 2


def fine_tune(encoder: text.TextEncoder, states: EncoderStates, pairs: pd.DataFrame, settings: TuneSettings,
              progress: bool = True) -> TuneResult:
    """Fine-tune a copy of the encoder's top ``settings.layers`` layers on ``pairs`` (:func:`description_pairs`
    over ``states.texts``) and re-encode every text. Deterministic for given settings on one machine."""
    import torch
    from tqdm.auto import tqdm

    if settings.layers != states.layers:
        raise ValueError(f"fine_tune: the states were taken below {states.layers} layers, the settings train {settings.layers}")
    index = {t: i for i, t in enumerate(states.texts)}
    a = pairs["text_a"].map(index)
    b = pairs["text_b"].map(index)
    keep = (a.notna() & b.notna()).to_numpy()
    if not keep.any():
        raise ValueError("fine_tune: no co-purchase pair of two described products above the privacy floor")
    a = a[keep].to_numpy(np.int64)
    b = b[keep].to_numpy(np.int64)
    weight = pairs["weight"].to_numpy(float)[keep]
    probability = weight / weight.sum()
    batch = min(settings.batch_pairs, len(a))
    started = time.perf_counter()
    bert = _bert(encoder)
    layers = copy.deepcopy(bert.encoder.layer[len(bert.encoder.layer) - settings.layers :])
    for parameter in layers.parameters():
        parameter.requires_grad_(True)
    optimiser = torch.optim.AdamW(layers.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    warmup = max(1, int(settings.warmup_share * settings.steps))

    def rate(step: int) -> float:
        return (step + 1) / warmup if step < warmup else max(0.0, (settings.steps - step) / max(1, settings.steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    rng = np.random.default_rng([settings.seed, 22])
    losses = []
    previous = torch.get_num_threads()
    torch.set_num_threads(encoder.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            layers.train()
            bar = tqdm(range(settings.steps), desc=f"fine-tuning the encoder (seed {settings.seed})", unit="step",
                       disable=not progress)
            for step in bar:
                chosen = rng.choice(len(a), size=batch, replace=False, p=probability)
                flip = rng.random(batch) < 0.5  # either text may be the anchor
                anchor = np.where(flip, b[chosen], a[chosen])
                partner = np.where(flip, a[chosen], b[chosen])
                rows = np.concatenate([anchor, partner])
                hidden, mask = _padded(states, rows)
                vectors = text.mean_pool(_run_layers(layers, hidden, mask), mask)
                loss = contrastive_loss(vectors[:batch], vectors[batch:], torch.from_numpy(anchor),
                                        torch.from_numpy(partner), settings.scale)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(layers.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                losses.append(float(loss.detach()))
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
            bar.close()
    finally:
        torch.set_num_threads(previous)
    layers.eval()
    vectors = encode_top(layers, states, threads=encoder.threads)
    history = pd.DataFrame({"step": np.arange(1, len(losses) + 1), "loss": losses})
    return TuneResult(settings, layers, vectors, history, time.perf_counter() - started)


# ----------------------------------------------------------------------------------------------------
# The step as notebook 03 runs it, cached
# ----------------------------------------------------------------------------------------------------

def _digest(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, (list, tuple)):
            digest.update("\x1f".join(map(str, part)).encode())
        else:
            digest.update(str(part).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def tuned_vectors(
    descriptions: Sequence[str],
    pairs: pd.DataFrame,
    settings: Sequence[TuneSettings],
    cache_dir: Path | str | None,
    fingerprint: str,
    encoder: text.TextEncoder | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, dict[int, np.ndarray], dict[str, Any]]:
    """Frozen and fine-tuned vectors of ``descriptions`` (one row each, in that order; "" gets a zero row).

    ``pairs``: :func:`description_pairs`. One fine-tuning per entry of ``settings`` (seeds), all from one
    frozen pass. Returns (frozen vectors, {seed: fine-tuned vectors}, info: the base model and, per seed, the
    trained layers' file, its sha256, the steps, the last losses and the seconds). Cached under ``cache_dir``
    (None: no cache): a full hit never loads the model."""
    started = time.perf_counter()
    values = pd.Series(list(descriptions), dtype="object").fillna("").astype("str").str.strip()
    codes, uniques = pd.factorize(values, sort=True)
    uniques = [str(u) for u in uniques]
    present = [u for u in uniques if u]
    path = encoder.path if encoder is not None else text.model_path()
    base_sha = encoder.weights_sha256 if encoder is not None else text.weights_sha256(path)
    pair_key = _digest(list(pairs["text_a"]), list(pairs["text_b"]), list(np.round(pairs["weight"].to_numpy(float), 9)))
    texts_key = _digest(text.RECIPE_VERSION, text.MODEL_NAME, base_sha, fingerprint, present)
    info: dict[str, Any] = {"model": text.MODEL_NAME, "package": f"{text.MODEL_PACKAGE}=={text.package_version()}",
                            "weights_sha256": base_sha, "unique_texts": len(present), "pairs": int(len(pairs)),
                            "tuned": []}
    folder = Path(cache_dir) if cache_dir is not None else None
    frozen_file = folder / f"text_frozen_{texts_key}.npy" if folder else None
    keys = {s.seed: _digest(TUNE_VERSION, texts_key, pair_key, json.dumps(asdict(s), sort_keys=True)) for s in settings}

    def seed_files(seed: int) -> tuple[Path, Path, Path] | None:
        if folder is None:
            return None
        stem = folder / f"text_tuned_{keys[seed]}"
        return stem.with_suffix(".npy"), stem.with_suffix(".safetensors"), stem.with_suffix(".json")

    frozen = _load(frozen_file, len(present))
    tuned: dict[int, np.ndarray] = {}
    for s in settings:
        files = seed_files(s.seed)
        loaded = _load(files[0] if files else None, len(present))
        if loaded is not None and files[2].is_file():
            tuned[s.seed] = loaded
            info["tuned"].append({**json.loads(files[2].read_text()), "cache_hit": True})
    if frozen is None or len(tuned) < len(settings):
        encoder = encoder or text.load_encoder()
        layers = {s.layers for s in settings} or {0}  # nothing to fine-tune: no hidden states to keep
        if len(layers) > 1:
            raise ValueError("tuned_vectors: every seed must train the same number of layers")
        states = encoder.encode_states(present, layers=layers.pop(), progress=progress)
        frozen = states.vectors
        info["frozen_seconds"] = round(states.seconds, 1)
        if frozen_file is not None:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(frozen_file, lambda partial: np.save(partial, frozen))
        for s in settings:
            if s.seed in tuned:
                continue
            result = fine_tune(encoder, states, pairs, s, progress=progress)
            tuned[s.seed] = result.vectors
            entry = {"seed": s.seed, "settings": asdict(s), "steps": len(result.history),
                     "first_loss": round(float(result.history["loss"].head(10).mean()), 4),
                     "last_loss": round(float(result.history["loss"].tail(10).mean()), 4),
                     "seconds": round(result.seconds, 1)}
            files = seed_files(s.seed)
            if files is not None:
                from safetensors.torch import save_file

                weights = {k: v.detach().contiguous() for k, v in result.layers.state_dict().items()}
                write_atomically(files[1], lambda partial: save_file(weights, str(partial)))
                write_atomically(files[0], lambda partial: np.save(partial, result.vectors))
                entry.update(weights_file=files[1].name, weights_sha256=text.file_sha256(files[1]))
                files[2].write_text(json.dumps(entry, indent=1))
            info["tuned"].append({**entry, "cache_hit": False})
    info["tuned"].sort(key=lambda e: e["seed"])
    info["seconds"] = round(time.perf_counter() - started, 1)

    def scatter(rows: np.ndarray) -> np.ndarray:
        full = np.zeros((len(uniques), rows.shape[1]), dtype=np.float32)
        full[[i for i, u in enumerate(uniques) if u]] = rows
        return full[codes] if len(codes) else np.zeros((0, rows.shape[1]), dtype=np.float32)

    return scatter(frozen), {seed: scatter(v) for seed, v in tuned.items()}, info


def _load(path: Path | None, rows: int) -> np.ndarray | None:
    if path is None or not path.is_file():
        return None
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return values.astype(np.float32, copy=False) if values.shape[0] == rows else None


__all__ = ["TuneSettings", "EncoderStates", "TuneResult", "encode_states", "encode_top", "description_pairs",
           "contrastive_loss", "fine_tune", "tuned_vectors"]
