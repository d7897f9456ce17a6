"""The text step (shared.text), the text_knn model and substitutes/complements, with the real packaged
all-MiniLM-L6-v2 encoder (loaded once; the whole file runs in well under a minute on two cores)."""
from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from shared import text
from shared.models.base import Interactions, recommend
from shared.models.text_knn import TextKNN
from shared.mining.substitutes import substitutes_and_complements


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def encoder():
    return text.load_encoder()


CATALOGUE = pd.DataFrame({
    "item_id": ["1", "2", "3", "4", "5"],
    "name": ["Soft Drinks 12 Oz (National)", "Soft Drinks (Private)", "Pizza/Premium (National)", "Coca-Cola Zero", None],
    "product_type": ["SOFT DRINKS", "SOFT DRINKS", "PIZZA/PREMIUM", None, None],
    "product_category": ["SOFT DRINKS", "SOFT DRINKS", "FRZN PIZZA", "SOFT DRINKS", None],
    "department": ["GROCERY", "GROCERY", "GROCERY", "GROCERY", None],
    "brand": ["National", "Private", "National", "National", None],
})


def test_describe_items_is_readable_and_skips_labels():
    d = text.describe_items(CATALOGUE, ["1", "2", "3", "4", "5", "unknown"])
    assert d.tolist() == [
        "soft drinks; grocery; national brand",
        "soft drinks; grocery; private label",
        "pizza/premium; frozen pizza; grocery; national brand",
        "coca-cola zero; soft drinks; grocery; national brand",  # a real name is kept, first
        "",
        "",
    ]
    with_size = text.describe_items(CATALOGUE.assign(package_size=["12 OZ", None, None, None, None]), ["1"],
                                    columns=text.TEXT_COLUMNS)
    assert with_size.tolist() == ["soft drinks; grocery; national brand; 12 oz"]


def test_description_counts_and_the_complete_journey_catalogue():
    """Distinct descriptions by the columns used, counted by hand; manufacturer reads "manufacturer N"; and the
    Complete Journey catalogue carries brand, manufacturer and package size (all three in the default text)."""
    from shared.data.pandas_sources import completejourney_catalogue

    catalogue = CATALOGUE.assign(package_size=["12 OZ", "12 OZ", None, "2 LTR", None], manufacturer=["69", "69", "2", "69", None])
    counts = text.description_counts(catalogue, ["1", "2", "3", "4", "5"])
    assert counts["distinct descriptions"].tolist() == [4, 5, 5, 5]  # 1 = 2 by category; the brand splits them
    assert counts["text from"].tolist()[1] == "+ brand" and set(counts["items"]) == {5}
    assert text.describe_items(catalogue, ["3"], columns=text.TEXT_COLUMNS).tolist() == [
        "pizza/premium; frozen pizza; grocery; national brand; manufacturer 2"]
    products = pd.DataFrame({"product_id": [7, 8], "manufacturer_id": [69, None], "department": ["GROCERY", "PASTRY"],
                             "brand": ["National", "Private"], "product_category": ["SOFT DRINKS", "BREAD"],
                             "product_type": ["SOFT DRINKS", None], "package_size": ["12 OZ", None]})
    cj = completejourney_catalogue(products)
    assert cj["brand"].tolist() == ["National", "Private"] and cj["package_size"].tolist()[0] == "12 OZ"
    assert cj["manufacturer"].tolist()[0] == "69" and pd.isna(cj["manufacturer"].tolist()[1])
    # the run's text has every column: brand, package size and manufacturer too
    assert text.describe_items(cj, ["7", "8"]).tolist() == ["soft drinks; grocery; national brand; 12 oz; manufacturer 69",
                                                            "bread; pastry; private label"]
    assert text.DEFAULT_COLUMNS == text.TEXT_COLUMNS


def test_describe_items_at_a_category_level():
    from shared.data import catalogue_at_level

    level = catalogue_at_level(CATALOGUE.drop(columns="brand"), "product_category")
    d = text.describe_items(level, level["item_id"])
    assert dict(zip(level["item_id"], d)) == {"FRZN PIZZA": "frozen pizza; grocery", "SOFT DRINKS": "soft drinks; grocery"}


def test_no_item_text_is_one_clear_error(tmp_path):
    bare = pd.DataFrame({"item_id": ["1", "2"]})
    for catalogue in (bare, None):
        with pytest.raises(text.NoItemText, match="no item text") as info:
            text.item_embeddings(catalogue, ["1", "2"], tmp_path, "fp")
        assert "\n" not in str(info.value)


def test_encoder_loads_and_embeds_without_network(monkeypatch):
    _no_network(monkeypatch)
    fresh = text.TextEncoder()  # a new load, not the cached one
    vectors = fresh.embed(["soft drinks", "frozen pizza"], progress=False)
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert fresh.model_name == "sentence-transformers/all-MiniLM-L6-v2"
    assert fresh.package_version == "0.1.0"
    assert len(fresh.weights_sha256) == 64


def test_semantics_and_unique_scatter(encoder):
    before = encoder.texts_embedded
    vectors = encoder.embed(["soft drinks", "soda", "frozen pizza", "soft drinks", "", "soda"], progress=False)
    assert encoder.texts_embedded - before == 3  # three distinct non-empty strings
    assert np.allclose(np.linalg.norm(vectors[[0, 1, 2]], axis=1), 1.0, atol=1e-5)
    assert not vectors[4].any()  # no text, no direction
    assert np.array_equal(vectors[0], vectors[3]) and np.array_equal(vectors[1], vectors[5])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_item_embeddings_cache_hit(encoder, tmp_path):
    ids = CATALOGUE["item_id"]
    first, info1 = text.item_embeddings(CATALOGUE, ids, tmp_path, "fp1", progress=False, encoder=encoder)
    embedded = encoder.texts_embedded
    second, info2 = text.item_embeddings(CATALOGUE, ids, tmp_path, "fp1", progress=False, encoder=encoder)
    assert not info1["cache_hit"] and info2["cache_hit"]
    assert encoder.texts_embedded == embedded  # nothing re-embedded
    assert np.array_equal(first, second)
    assert info1["unique_texts"] == 4 and info1["empty_texts"] == 1
    assert info2["weights_sha256"] == encoder.weights_sha256
    # another fingerprint is another cache entry
    _, info3 = text.item_embeddings(CATALOGUE, ids, tmp_path, "fp2", progress=False, encoder=encoder)
    assert not info3["cache_hit"]


def _tiny_train(n_items=6):
    lines = pd.DataFrame({
        "basket_id": ["b1", "b1", "b2", "b3", "b3", "b3", "b4"],
        "customer_id": ["c1", "c1", "c1", "c2", "c2", "c2", "c2"],
        "item_id": ["i0", "i1", "i1", "i2", "i3", "i0", "i0"],
    })
    return Interactions.from_lines(lines, np.array([f"i{i}" for i in range(n_items)]))


def test_text_knn_matches_brute_force():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    emb[5] = 0.0  # an item without text
    order = np.array([3, 0, 5, 1, 4, 2])  # embeddings handed over in another order than the training items
    ids = np.array([f"i{i}" for i in range(6)])
    model = TextKNN(emb[order], ids[order], history_weight=0.5, decay=0.8).fit(_tiny_train())
    histories = [np.array([0, 1, 1, 2]), np.array([], dtype=np.int64), np.array([3])]
    breaks = [np.array([2, 3]), np.array([], dtype=np.int64), np.array([], dtype=np.int64)]
    contexts = [np.array([4]), np.array([0, 2]), np.array([], dtype=np.int64)]
    got = model.score(histories, contexts, breaks=breaks)

    pop = np.array([3, 2, 1, 1, 0, 0], dtype=float)
    tiebreak = pop / (pop.max() + 1) * 1e-4
    for q in range(3):
        h = np.zeros(8)
        n_baskets = len(breaks[q]) + 1
        for pos, item in enumerate(histories[q]):
            basket = int(np.sum(breaks[q] <= pos))
            h += 0.8 ** (n_baskets - 1 - basket) * emb[item]
        c = emb[contexts[q]].sum(axis=0) if len(contexts[q]) else np.zeros(8)
        unit = lambda v: v / np.linalg.norm(v) if np.linalg.norm(v) > 0 else v  # noqa: E731
        profile = 0.5 * unit(h) + unit(c)
        np.testing.assert_allclose(got[q], emb @ profile + tiebreak, rtol=1e-5, atol=1e-6)
    recs = recommend(model, histories, contexts, 3, breaks=breaks)
    assert recs.shape == (3, 3) and 4 not in recs[0]  # the context item is never recommended


def test_text_knn_checks_its_arguments():
    with pytest.raises(ValueError, match="do not match"):
        TextKNN(np.zeros((3, 4)), ["a", "b"])
    with pytest.raises(ValueError, match="decay"):
        TextKNN(np.zeros((2, 4)), ["a", "b"], decay=0)


def planted_associations():
    """Items: 0 cola A, 1 cola B (same text, bought instead of each other: together in about 1.5% of baskets,
    a quarter of chance), 2 chips, 3 salsa (bought together), 4 milk (everywhere), 5 bread; 2,000 baskets."""
    ids = np.array(["colaA", "colaB", "chips", "salsa", "milk", "bread"])
    emb = np.zeros((6, 4), dtype=np.float32)
    emb[[0, 1], 0] = 1.0
    emb[2] = [0, 1, 0, 0]
    emb[3] = [0, 0.6, 0.8, 0]
    emb[4] = [0, 0, 0, 1]
    emb[5] = [0, 0, 0.6, 0.8]
    rng = np.random.default_rng(1)
    rows = []
    for basket in range(2000):
        items = {4} if rng.random() < 0.5 else set()
        items.add(0 if basket % 2 else 1) if rng.random() < 0.4 else None
        if basket % 50 == 0:  # no random draw: the stream, and so every other pair, stays as it was
            items |= {0, 1}
        if rng.random() < 0.15:
            items |= {2, 3}
        if rng.random() < 0.3:
            items.add(5)
        rows.extend((basket, i) for i in items)
    r, c = np.array(rows).T
    baskets = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(2000, 6))
    catalogue = pd.DataFrame({"item_id": ids, "name": ["Cola A", "Cola B", "Chips", "Salsa", "Milk", "Bread"],
                              "product_type": ["soda", "soda", "chips", "salsa", "milk", "bread"]})
    counts = np.asarray(baskets.sum(axis=0)).ravel()
    both = (baskets.T @ baskets).toarray()
    pairs = pd.DataFrame({"item_a": ["chips", "milk"], "item_b": ["salsa", "bread"],
                          "count": [both[2, 3], both[4, 5]],
                          "lift": [both[2, 3] * 2000 / (counts[2] * counts[3]), both[4, 5] * 2000 / (counts[4] * counts[5])]})
    return ids, emb, catalogue, baskets, both, pairs


def test_substitutes_and_complements_on_a_planted_shop():
    ids, emb, catalogue, baskets, both, pairs = planted_associations()
    assert 10 <= both[0, 1] < 0.5 * (both[0, 0] * both[1, 1] / 2000)  # the colas: above the floor, far below chance
    result = substitutes_and_complements(pairs, ids, emb, catalogue, baskets, min_item_baskets=50, neighbours=3)
    subs, comps = result.substitutes, result.complements
    assert list(subs.columns) == ["item_a", "name_a", "item_b", "name_b", "similarity", "lift", "count", "expected",
                                  "p_value", "source"]
    assert subs.iloc[0][["item_a", "item_b"]].tolist() == ["colaA", "colaB"]
    assert subs.iloc[0]["count"] == both[0, 1] and subs.iloc[0]["source"] == "text neighbours"
    assert len(subs) == 1
    assert comps.iloc[0][["name_a", "name_b"]].tolist() == ["Chips", "Salsa"] and comps.iloc[0]["lift"] > 3
    assert not ((comps["item_a"] == "milk") & (comps["item_b"] == "bread")).any()  # independent: lift about 1
    # without baskets, only the table's pairs are judged (no counts to test substitutes against)
    only = substitutes_and_complements(pairs, ids, emb, catalogue)
    assert only.substitutes.empty and only.complements.iloc[0]["item_a"] == "chips"


def test_substitutes_and_complements_show_no_pair_under_min_count():
    """min_count is the privacy floor: a pair shared by fewer baskets is in no table (substitutes, complements,
    candidates), whether its count comes from the basket matrix or from the pair table."""
    ids, emb, catalogue, baskets, both, pairs = planted_associations()
    # shared baskets: colas 40 (every 50th basket, by construction); chips + salsa 296 and milk + bread 320 (counted)
    assert (both[0, 1], both[2, 3], both[4, 5]) == (40, 296, 320)
    low = substitutes_and_complements(pairs, ids, emb, catalogue, baskets, min_item_baskets=50, neighbours=3, min_count=40)
    assert low.substitutes[["item_a", "item_b", "count"]].values.tolist() == [["colaA", "colaB", 40]]
    high = substitutes_and_complements(pairs, ids, emb, catalogue, baskets, min_item_baskets=50, neighbours=3, min_count=41)
    assert high.substitutes.empty and high.complements["item_a"].tolist() == ["chips"]
    assert sorted(high.candidates["item_a"]) == ["chips", "milk"]  # the colas are in no table, candidates included
    # counts from the pair table alone (no baskets): a floor of 297 keeps milk + bread only
    only = substitutes_and_complements(pairs, ids, emb, catalogue, min_count=297)
    assert only.candidates["item_a"].tolist() == ["milk"] and only.complements.empty
    for result, floor in ((low, 40), (high, 41), (only, 297)):
        for table in result:
            assert (table["count"] >= floor).all()
