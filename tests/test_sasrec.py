"""SASRec: it can learn (overfits a tiny set), it cannot cheat (causal mask, targets), it is reproducible."""
import numpy as np
import pandas as pd
import pytest
import torch

from shared import config
from shared.models import sasrec as train
from shared.config import ParameterError
from shared.models import build, recommend
from shared.models.base import Interactions
from shared.models.sasrec.network import NEXT, SASRec, SASRecConfig, encode, prefix_counts, split_baskets

ITEMS = np.array([f"i{j}" for j in range(12)])


def cyclic_shop(customers=24, baskets=8, cycle=(("i0", "i1"), ("i2", "i3"), ("i4", "i5"))):
    """Each customer walks a fixed cycle of baskets, starting at a customer-specific point."""
    rows = []
    for c in range(customers):
        for b in range(baskets - c % 4):  # histories of different lengths, so windows are padded too
            for item in cycle[(c + b) % len(cycle)]:
                rows.append((f"c{c}-b{b}", f"c{c}", item, pd.Timestamp("2020-01-01") + pd.Timedelta(days=b)))
    rows.append(("lonely-b0", "lonely", "i9", pd.Timestamp("2020-01-01")))  # one basket only: skipped
    lines = pd.DataFrame(rows, columns=["basket_id", "customer_id", "item_id", "timestamp"])
    return Interactions.from_lines(lines, ITEMS)


def tiny(**kw):
    return {**config.load("smoke"), "sasrec_max_len": 16, "sasrec_dim": 32, "sasrec_heads": 2, "sasrec_blocks": 1,
            "sasrec_dropout": 0.0, "sasrec_learning_rate": 0.01, "sasrec_warmup_steps": 1, "sasrec_batch_size": 16,
            "sasrec_windows": 2, **kw}


def settings(params, **changes):
    return train.TrainSettings.from_params(params).replace(**changes)


def training_accuracy(model, sequences, max_len):
    """Share of positions whose top-scored item is one of the position's targets."""
    tokens, recency, flags, targets = (torch.from_numpy(x) for x in train.make_windows(sequences, max_len, 2, 5, np.random.default_rng(1)))
    with torch.no_grad():
        hidden, _ = model.eval().hidden(tokens, recency)
        rows = targets[..., 0] >= 0
        candidates = torch.arange(model.config.n_items)
        logits = model.logits(hidden[rows], flags[rows], candidates + 1, seen=prefix_counts(tokens, candidates + 1, rows))
    best = logits.argmax(dim=1)
    return float((targets[rows] == best[:, None]).any(dim=1).float().mean())


def test_overfits_a_tiny_sequence_set():
    """Baskets of two: the first item's partner and, at a basket's end, the next basket are fully determined."""
    shop = cyclic_shop()
    result = train.fit_sasrec(shop, settings(tiny(), epochs=40), progress=False)
    assert result.skipped_customers == 1 and result.loss == "full"
    sequences, _ = train.customer_baskets(shop)
    assert training_accuracy(result.model, sequences, 16) >= 0.95
    # scoring through the protocol path: a customer's own sequence, asked for its next basket
    scorer = train.SequenceScorer(result.model, torch.device("cpu"), np.zeros(len(ITEMS), np.float32))
    hits = []
    for baskets in sequences:
        history, target = np.concatenate(baskets[:-1]), baskets[-1]
        breaks = np.cumsum([len(b) for b in baskets[:-2]])
        scores = scorer.score([history], [np.zeros(0, int)], [breaks])[0]
        hits.append(set(np.argsort(-scores)[:2]) == set(target))
    assert np.mean(hits) >= 0.9


def test_causal_mask_no_future_leaks():
    torch.manual_seed(0)
    model = SASRec(SASRecConfig(n_items=20, max_len=8, dim=16, heads=2, blocks=2, dropout=0.0)).eval()
    tokens = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    recency = torch.tensor([[0, 0, 2, 2, 1, 1, 0, 0]])
    changed = tokens.clone()
    changed[0, 6] = 15
    a, _ = model.hidden(tokens, recency)
    b, _ = model.hidden(changed, recency)
    assert torch.allclose(a[0, :6], b[0, :6], atol=1e-6)
    assert not torch.allclose(a[0, 6], b[0, 6])


def test_windows_targets_never_show_the_predicted_basket():
    baskets = [np.array([0, 1]), np.array([2, 3, 4]), np.array([5])]
    tokens, recency, flags, targets = train.make_windows([baskets], 8, 1, 5, np.random.default_rng(0))
    real = tokens[0] != 0
    items = tokens[0][real] - 1
    basket_of = np.array([0, 0, 1, 1, 1, 2])[: len(items)]
    assert len(items) == 5 and flags[0][-1] == NEXT  # the newest window ends before the last basket
    for pos, (item, flag, target) in enumerate(zip(items, flags[0][real], targets[0][real])):
        wanted = set(target[target >= 0])
        seen = set(items[: pos + 1])
        assert not wanted & seen  # a position never predicts what it has already seen
        if flag == NEXT:
            nxt = basket_of[pos] + 1
            assert wanted == (set(baskets[nxt]) if nxt < 3 else set())
        else:
            assert wanted <= set(baskets[basket_of[pos]])
    assert list(recency[0][real]) == [1, 1, 0, 0, 0]


def test_prefix_counts_by_brute_force():
    tokens = torch.tensor([[0, 3, 5, 3, 7], [2, 2, 2, 9, 3]])
    candidates = torch.tensor([2, 3, 7])
    rows = torch.ones_like(tokens, dtype=torch.bool)
    rows[0, 0] = False
    counts = prefix_counts(tokens, candidates, rows)
    expected = []
    for b in range(2):
        for t in range(5):
            if rows[b, t]:
                prefix = tokens[b, : t + 1].tolist()
                expected.append([prefix.count(int(c)) for c in candidates])
    assert counts.tolist() == expected


def test_same_seed_same_weights():
    shop = cyclic_shop()
    a = train.fit_sasrec(shop, settings(tiny(), epochs=2), progress=False).model.state_dict()
    b = train.fit_sasrec(shop, settings(tiny(), epochs=2), progress=False).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = train.fit_sasrec(shop, settings(tiny(seed=7), epochs=2), progress=False).model.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_sampled_softmax_trains_and_bad_settings_are_named():
    shop = cyclic_shop()
    result = train.fit_sasrec(shop, settings(tiny(sasrec_loss="sampled", sasrec_negatives=4), epochs=3), progress=False)
    assert result.loss == "sampled" and np.isfinite(result.history["loss"]).all()
    with pytest.raises(ParameterError, match="'sasrec_max_full_softmax'"):
        train.fit_sasrec(shop, settings(tiny(sasrec_loss="full", sasrec_max_full_softmax=5), epochs=1), progress=False)
    assert train.choose_loss(settings(tiny(), loss="auto", max_full_softmax=5), 12) == "sampled"
    with pytest.raises(ValueError, match="divisible"):
        train.fit_sasrec(shop, settings(tiny(sasrec_dim=30, sasrec_heads=4), epochs=1), progress=False)


def test_checkpoint_round_trip_through_the_protocol(tmp_path):
    shop = cyclic_shop()
    result = train.fit_sasrec(shop, settings(tiny(), epochs=2), progress=False)
    path = train.save_checkpoint(result, tmp_path / "sasrec.pt", settings(tiny()))
    model = build("sasrec", {**tiny(), "sasrec_checkpoint": str(path)}).fit(shop)
    direct = train.SequenceScorer(result.model, torch.device("cpu"), np.zeros(len(ITEMS), np.float32))
    h, c, b = [np.array([0, 1, 2])], [np.zeros(0, int)], [np.zeros(0, int)]
    assert np.allclose(model.score(h, c, b), direct.score(h, c, b), atol=1e-5)
    assert train.load_checkpoint(path, ITEMS[:5]) is None  # another catalogue: not reused
    recs = recommend(model, h, [np.array([3])], 3, breaks=b)
    assert 3 not in recs[0]
    with pytest.raises(ValueError, match="basket boundaries"):
        recommend(model, h, c, 3)


def test_encode_and_split_baskets():
    tokens, recency = encode([np.array([4, 5]), np.array([6])], 5)
    assert tokens.tolist() == [0, 0, 5, 6, 7] and recency.tolist() == [0, 0, 1, 1, 0]
    assert [b.tolist() for b in split_baskets(np.array([1, 2, 3]), np.array([2]))] == [[1, 2], [3]]
