"""Fine-tuning the packaged encoder on co-purchase pairs (shared.text_tuning), with the real all-MiniLM-L6-v2:
the frozen pass against sentence-transformers, the pair table and the loss by hand, a planted pairing that the
fine-tuning learns, determinism, and the cache."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import torch

from shared import text, text_tuning

TEXTS = ["soft drinks; grocery; national brand; 12 oz", "frozen pizza; grocery; private label",
         "bananas; tropical fruit; produce", "fluid milk white only; fluid milk products; grocery; 1 ga",
         "paper towels; household", "toilet tissue; household; private label; 4 roll",
         "hot dog buns; bakery", "hot dogs; meat - packaged"]


@pytest.fixture(scope="module")
def encoder():
    return text.load_encoder()


@pytest.fixture(scope="module")
def states(encoder):
    return text_tuning.encode_states(encoder, TEXTS, layers=1, progress=False)


def test_frozen_pass_is_sentence_transformers_encode(encoder, states):
    """The frozen vectors are the library's own (mean pooling, normalised), and the untouched top layer run on
    the kept states gives them again: the states are what enters that layer."""
    reference = encoder.model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(states.vectors - reference).max() < 1e-5
    top = encoder.model[0].auto_model.encoder.layer[-1:]
    assert np.abs(text_tuning.encode_top(top, states) - states.vectors).max() < 1e-5
    assert states.offsets[-1] == states.states.shape[0] and (states.lengths >= 3).all()
    with pytest.raises(ValueError, match="empty text"):
        text_tuning.encode_states(encoder, ["milk", " "], progress=False)


def test_description_pairs_by_hand():
    pairs = pd.DataFrame({"item_a": ["1", "1", "3", "2", "5"], "item_b": ["2", "3", "4", "4", "6"],
                          "baskets": [10, 20, 30, 40, 50], "lift": [2.0, 0.9, 4.0, 2.0, 3.0]})
    descriptions = {"1": "milk", "2": "bread", "3": "milk", "4": "bread", "5": "eggs", "6": "eggs"}
    out = text_tuning.description_pairs(pairs, descriptions)
    # 1-3 has lift below 1, 5-6 share one description; 1-2 (milk, bread), 3-4 (milk, bread) and 2-4 (bread, bread:
    # the same description) -> one pair, milk/bread, baskets 10 + 30, weight 10 log 2 + 30 log 4
    assert out[["text_a", "text_b"]].values.tolist() == [["bread", "milk"]]
    assert out["baskets"].tolist() == [40]
    assert out["weight"].iloc[0] == pytest.approx(10 * np.log(2) + 30 * np.log(4))


def test_contrastive_loss_against_brute_force():
    rng = np.random.default_rng(0)
    a = torch.nn.functional.normalize(torch.tensor(rng.normal(size=(4, 5)), dtype=torch.float32), dim=1)
    b = torch.nn.functional.normalize(torch.tensor(rng.normal(size=(4, 5)), dtype=torch.float32), dim=1)
    a_ids, b_ids = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 4, 0])  # partner 2 repeats partner 0; partner 3 is anchor 0
    got = float(text_tuning.contrastive_loss(a, b, a_ids, b_ids, 10.0))
    s = 10.0 * (a @ b.T).numpy()
    total = 0.0
    for i in range(4):  # anchor i picks partner i among partners that are not the same text as partner i or anchor i
        keep = [j for j in range(4) if j == i or (b_ids[j] != b_ids[i] and b_ids[j] != a_ids[i])]
        total += -(s[i, i] - np.log(np.exp(s[i, keep]).sum())) / 4
    for i in range(4):  # partner i picks anchor i among anchors that are not the same text as anchor i or partner i
        keep = [j for j in range(4) if j == i or (a_ids[j] != a_ids[i] and a_ids[j] != b_ids[i])]
        total += -(s[i, i] - np.log(np.exp(s[keep, i]).sum())) / 4
    assert got == pytest.approx(total / 2, rel=1e-5)


def test_fine_tuning_learns_a_planted_pairing_and_is_seeded(encoder, states):
    """Planted pairs of unrelated products (bananas with paper towels, ...): after fine-tuning, each product's
    partner is nearer than before, relative to the other products; the same seed gives the same vectors."""
    planted = [(0, 4), (1, 2), (3, 6), (5, 7)]
    pairs = pd.DataFrame({"text_a": [TEXTS[a] for a, _ in planted], "text_b": [TEXTS[b] for _, b in planted],
                          "baskets": 50, "weight": 1.0})
    settings = text_tuning.TuneSettings(steps=30, batch_pairs=4, learning_rate=3e-4, seed=7)
    result = text_tuning.fine_tune(encoder, states, pairs, settings, progress=False)

    def margin(vectors):
        sims = vectors @ vectors.T
        gains = []
        for a, b in planted:
            others = [j for j in range(len(TEXTS)) if j not in (a, b)]
            gains.append(sims[a, b] - sims[a, others].mean())
        return float(np.mean(gains))

    assert margin(result.vectors) > margin(states.vectors) + 0.1
    assert result.history["loss"].tail(5).mean() < result.history["loss"].head(5).mean()
    again = text_tuning.fine_tune(encoder, states, pairs, settings, progress=False)
    assert np.array_equal(again.vectors, result.vectors)
    other = text_tuning.fine_tune(encoder, states, pairs, settings.__class__(**{**settings.__dict__, "seed": 8}), progress=False)
    assert not np.array_equal(other.vectors, result.vectors)
    assert np.allclose(np.linalg.norm(result.vectors, axis=1), 1, atol=1e-5)


def test_tuned_vectors_are_cached_with_their_weights_hash(encoder, tmp_path, monkeypatch):
    descriptions = TEXTS[:4] + ["", TEXTS[0]]
    pairs = pd.DataFrame({"text_a": [TEXTS[0], TEXTS[1]], "text_b": [TEXTS[2], TEXTS[3]], "baskets": 20, "weight": 1.0})
    settings = [text_tuning.TuneSettings(steps=3, batch_pairs=2, seed=s) for s in (1, 2)]
    frozen, tuned, info = text_tuning.tuned_vectors(descriptions, pairs, settings, tmp_path, "fp", encoder, progress=False)
    assert frozen.shape == (6, 384) and not frozen[4].any() and np.array_equal(frozen[0], frozen[5])
    assert sorted(tuned) == [1, 2] and not np.array_equal(tuned[1], tuned[2])
    for entry in info["tuned"]:
        weights = tmp_path / entry["weights_file"]
        assert hashlib.sha256(weights.read_bytes()).hexdigest() == entry["weights_sha256"]
    assert info["weights_sha256"] == text.weights_sha256()

    def no_model(*args, **kwargs):
        raise AssertionError("a cache hit must not load the encoder")

    monkeypatch.setattr(text, "load_encoder", no_model)
    frozen2, tuned2, info2 = text_tuning.tuned_vectors(descriptions, pairs, settings, tmp_path, "fp", progress=False)
    assert np.array_equal(frozen2, frozen) and all(np.array_equal(tuned2[s], tuned[s]) for s in tuned)
    assert all(e["cache_hit"] for e in info2["tuned"])
    assert [e["weights_sha256"] for e in info2["tuned"]] == [e["weights_sha256"] for e in info["tuned"]]
