"""TIFU-KNN and the time-aware repeat models: hand computations, brute force, and beating popularity."""
import numpy as np
import pandas as pd
import pytest

from shared import evaluate, split, synthetic
from shared.models.base import Interactions, recommend
from shared.models.repeat_explore import RepeatExplore, TimeAwareRepeat, repurchase_gaps, repurchase_propensity
from shared.models.tifu_knn import TIE, TIFUKNN, basket_positions, user_vectors

ITEMS = np.array(["a", "b", "c", "d", "e"])
IDX = {x: i for i, x in enumerate(ITEMS)}


def history(*baskets):
    """One history (item indices, oldest first) and its basket starts, from strings like "ab"."""
    items = np.array([IDX[x] for b in baskets for x in b], dtype=np.int64)
    breaks = np.cumsum([len(b) for b in baskets])[:-1].astype(np.int64)
    return items, breaks


def interactions(rows):
    """rows: (customer, day, items); baskets get ids in an order unrelated to time."""
    lines = [(f"x{len(rows) - i}", cust, x, pd.Timestamp("2020-01-01") + pd.Timedelta(days=day))
             for i, (cust, day, items) in enumerate(rows) for x in items]
    frame = pd.DataFrame(lines, columns=["basket_id", "customer_id", "item_id", "timestamp"])
    return Interactions.from_lines(frame, ITEMS)


# 5 baskets, m = 2 groups of ceil(5/2) = 3 baskets counted from the newest: [b1 b2] [b3 b4 b5]
FIVE = ("ab", "a", "bc", "ac", "cd")
# group 1 (older, weight r_g = 0.7):  (0.9 * b1 + 1 * b2) / 2          -> a 0.95, b 0.45
# group 2 (newest, weight 1):   (0.81 * b3 + 0.9 * b4 + 1 * b5) / 3    -> a 0.3, b 0.27, c 2.71/3, d 1/3
# user = (0.7 * group 1 + group 2) / 2
HAND = {"a": (0.7 * 0.95 + 0.3) / 2, "b": (0.7 * 0.45 + 0.27) / 2, "c": (2.71 / 3) / 2, "d": (1 / 3) / 2, "e": 0.0}


def test_basket_positions_count_baskets_back_from_the_newest():
    h, b = history(*FIVE)
    rows, items, ago, n = basket_positions([h, np.zeros(0, np.int64), h[:3]], [b, np.zeros(0, np.int64), b[:1]])
    assert ago[rows == 0].tolist() == [4, 4, 3, 2, 2, 1, 1, 0, 0]
    assert ago[rows == 2].tolist() == [1, 1, 0] and n[rows == 2].tolist() == [2, 2, 2]


def test_basket_positions_with_empty_histories_first_between_and_last():
    """Customers first seen in the target weeks have empty histories; one last in a batch used to read past the
    end of the lines (issue 20: IndexError in np.add.at / running[starts])."""
    none = np.zeros(0, np.int64)
    # the issue's own case: baskets [1 2] [3], then an empty history last
    rows, items, ago, n = basket_positions([np.array([1, 2, 3]), none], [np.array([1]), none])
    assert rows.tolist() == [0, 0, 0] and items.tolist() == [1, 2, 3]
    assert ago.tolist() == [1, 0, 0] and n.tolist() == [2, 2, 2]
    # empty histories first, between and last; baskets by hand:
    #   row 1: [a] [b c]      -> ago 1, 0, 0      (2 baskets)
    #   row 3: [d] [e] [a b]  -> ago 2, 1, 0, 0   (3 baskets)
    #   row 5: [c]            -> ago 0            (1 basket)
    h1, b1 = history("a", "bc")
    h3, b3 = history("d", "e", "ab")
    h5, b5 = history("c")
    rows, items, ago, n = basket_positions([none, h1, none, h3, none, h5, none], [none, b1, none, b3, none, b5, none])
    assert rows.tolist() == [1, 1, 1, 3, 3, 3, 3, 5]
    assert ITEMS[items].tolist() == ["a", "b", "c", "d", "e", "a", "b", "c"]
    assert ago.tolist() == [1, 0, 0, 2, 1, 0, 0, 0]
    assert n.tolist() == [2, 2, 2, 3, 3, 3, 3, 1]
    # only empty histories: nothing at all
    assert all(len(x) == 0 for x in basket_positions([none, none], [none, none]))


def test_next_basket_models_score_a_batch_ending_in_an_empty_history():
    train = interactions([("u", 1, "ab"), ("u", 2, "a"), ("v", 1, "ac"), ("v", 2, "c"), ("w", 3, "a")])
    none = np.zeros(0, np.int64)
    h, b = history("ab", "a")
    for model in (TimeAwareRepeat(decay=0.9).fit(train), TIFUKNN(k=1, groups=2).fit(train)):
        scores = model.score([h, none], [none, none], breaks=[b, none])
        alone = model.score([h], [none], breaks=[b])
        assert scores[0] == pytest.approx(alone[0])  # the empty history changes nothing for the others
        # the customer without history gets popularity: a (4 baskets), c (2), b (1)
        assert ITEMS[np.argsort(-scores[1], kind="stable")[:3]].tolist() == ["a", "c", "b"]


def test_tifu_user_vector_by_hand():
    h, b = history(*FIVE)
    v = user_vectors([h], [b], len(ITEMS), m=2, within_decay=0.9, group_decay=0.7).toarray()[0]
    assert v == pytest.approx([HAND[x] for x in ITEMS])
    assert HAND["a"] == pytest.approx(0.4825) and HAND["c"] == pytest.approx(0.451667, abs=1e-6)
    # the authors' code: within-basket decay over the whole history (0.9 ** baskets ago), same groups
    v = user_vectors([h], [b], len(ITEMS), 2, 0.9, 0.7, within_decay_scope="history").toarray()[0]
    assert v[IDX["a"]] == pytest.approx((0.7 * (0.9**4 + 0.9**3) / 2 + 0.9 / 3) / 2)
    # fewer baskets than groups: one group per basket, newest weight 1: (0.7 * b1 + b2) / 2
    h2, b2 = history("ab", "bc")
    v = user_vectors([h2], [b2], len(ITEMS), 3, 0.9, 0.7).toarray()[0]
    assert v == pytest.approx([0.35, 0.85, 0.5, 0, 0])


def test_tifu_fit_orders_baskets_by_time_not_by_id():
    train = interactions([("u", day, items) for day, items in zip([1, 2, 3, 4, 5], FIVE)] + [("w", 1, "e")])
    model = TIFUKNN(k=1, within_decay=0.9, group_decay=0.7, groups=2, alpha=1.0).fit(train)
    row = list(train.customer_ids).index("u")
    assert model.vectors.toarray()[row] == pytest.approx([HAND[x] for x in ITEMS])
    # alpha = 1: the own vector (scaled to a maximum of 1) plus the tiny popularity tiebreak
    h, b = history(*FIVE)
    scores = model.score([h], [np.zeros(0, np.int64)], breaks=[b])[0]
    own = np.array([HAND[x] for x in ITEMS]) / HAND["a"]
    assert scores == pytest.approx(own + TIE * model.popularity, abs=1e-9)


def test_tifu_neighbours_and_blend_against_brute_force():
    rng = np.random.default_rng(0)
    rows = [(f"u{c}", day, "".join(ITEMS[rng.random(5) < 0.5]) or "a") for c in range(8) for day in range(rng.integers(1, 6))]
    train = interactions(rows)
    queries = [history("ab", "c", "ad"), history("e"), history("bcd", "a", "a", "ab", "e")]
    hs, bs = [q[0] for q in queries], [q[1] for q in queries]
    empty = [np.zeros(0, np.int64)] * len(hs)
    for metric in ("euclidean", "cosine"):
        model = TIFUKNN(k=3, within_decay=0.8, group_decay=0.6, groups=2, alpha=0.4, metric=metric).fit(train)
        users = model.vectors.toarray()
        own = user_vectors(hs, bs, len(ITEMS), 2, 0.8, 0.6).toarray()
        for i in range(len(hs)):
            if metric == "euclidean":
                closeness = [-np.sum((own[i] - u) ** 2) for u in users]
            else:
                closeness = [own[i] @ u / (np.linalg.norm(own[i]) * np.linalg.norm(u)) for u in users]
            nearest = np.argsort(closeness)[::-1][:3]
            assert sorted(model.neighbours(model.query_vectors(hs[i:i + 1], empty[:1], bs[i:i + 1]))[0]) == sorted(nearest)
            expected = 0.4 * own[i] + 0.6 * users[nearest].mean(axis=0)
            expected = expected / expected.max() + TIE * model.popularity
            # the neighbours' mean is summed in float32 (TIFUKNN.neighbour_scores): exact to float32 precision
            assert model.score(hs[i:i + 1], empty[:1], breaks=bs[i:i + 1])[0] == pytest.approx(expected, abs=1e-6)


def test_tifu_context_and_empty_history():
    train = interactions([("u", 1, "ab"), ("u", 2, "ab"), ("v", 1, "cd"), ("w", 3, "a")])
    model = TIFUKNN(k=1, alpha=0.5, groups=2, context="basket").fit(train)
    none = np.zeros(0, np.int64)
    # no history, no context: popularity (a in 3 baskets, b in 2, c and d in 1)
    recs = recommend(model, [none], [none], k=2, breaks=[none])
    assert ITEMS[recs[0]].tolist() == ["a", "b"]
    # a context of "c" is the newest basket: the nearest customer is v, whose d comes first
    recs = recommend(model, [none], [np.array([IDX["c"]])], k=1, breaks=[none])
    assert ITEMS[recs[0, 0]] == "d"
    with pytest.raises(ValueError, match="tifu_metric"):
        TIFUKNN(metric="manhattan")


def test_repeat_scores_by_hand():
    # u: a, b in basket 1, a in basket 2;  v: a in basket 1, c in baskets 1 and 2
    train = interactions([("u", 1, "ab"), ("u", 2, "a"), ("v", 1, "ac"), ("v", 2, "c")])
    # purchases a 3, b 1, c 2; buyers a 2, b 1, c 1; repeats a 1, b 0, c 1; mean 2/6; smoothing 1
    q = repurchase_propensity(train, smoothing=1.0)
    assert q[:3] == pytest.approx([(1 + 1 / 3) / 4, (1 / 3) / 2, (1 + 1 / 3) / 3])
    h, b = history("ab", "a", "ac")
    model = TimeAwareRepeat(decay=0.5, item_weight=1.0, smoothing=1.0).fit(train)
    raw = model.repeat_scores([h], [b]).toarray()[0]
    # a: 0.25 + 0.5 + 1 = 1.75, b: 0.25, c: 1, each times its propensity
    assert raw == pytest.approx([1.75 * q[0], 0.25 * q[1], 1.0 * q[2], 0, 0])
    scores = model.score([h], [np.zeros(0, np.int64)], breaks=[b])[0]
    assert scores[:3] == pytest.approx(1 + raw[:3] / raw.max(), abs=1e-5)
    assert scores[3:].max() < 1  # never-bought items after every repeat item
    plain = TimeAwareRepeat(decay=0.5, item_weight=0.0).fit(train)  # item_weight 0: the decayed frequency alone
    assert plain.repeat_scores([h], [b]).toarray()[0] == pytest.approx([1.75, 0.25, 1.0, 0, 0])


def test_repeat_cycle_term_by_hand():
    # u: ab | c | a | b  (a: gap 2 baskets, b: gap 3);  v: c | c  (c: gap 1); mean log gap (ln 2 + ln 3 + 0) / 3
    train = interactions([("u", 1, "ab"), ("u", 2, "c"), ("u", 3, "a"), ("u", 4, "b"), ("v", 1, "c"), ("v", 2, "c")])
    prior = np.log(6) / 3
    g = np.exp(np.array([(np.log(2) + prior) / 2, (np.log(3) + prior) / 2, prior / 2, prior, prior]))  # smoothing 1
    assert repurchase_gaps(train, smoothing=1.0) == pytest.approx(g)
    h, b = history("ab", "a", "c")  # newest purchase: a 1 basket ago, b 2, c 0 -> since 2, 3, 1
    model = TimeAwareRepeat(decay=0.5, item_weight=0.0, smoothing=1.0, cycle_weight=2.0, cycle_width=0.5).fit(train)
    since = np.array([2.0, 3.0, 1.0])
    boost = 1 + 2.0 * np.exp(-np.log(since / g[:3]) ** 2 / (2 * 0.5**2))
    raw = model.repeat_scores([h], [b]).toarray()[0]
    assert raw == pytest.approx([0.75 * boost[0], 0.25 * boost[1], 1.0 * boost[2], 0, 0])
    # weight 0 (the default): no gaps are computed and the scores are the plain decayed frequency
    plain = TimeAwareRepeat(decay=0.5, item_weight=0.0, smoothing=1.0).fit(train)
    assert plain.gaps is None and plain.repeat_scores([h], [b]).toarray()[0] == pytest.approx([0.75, 0.25, 1.0, 0, 0])
    with pytest.raises(ValueError, match="repeat_cycle_weight"):
        TimeAwareRepeat(cycle_weight=-1)


def test_repeat_explore_mixing_rule():
    class Fixed:
        name, uses_basket_breaks = "fixed", False

        def fit(self, train):
            return self

        def score(self, histories, contexts):
            return np.tile(np.array([0.0, 0.0, 0.0, 4.0, 8.0]), (len(histories), 1))

    train = interactions([("u", 1, "ab"), ("u", 2, "a"), ("v", 1, "cde")])
    h, b = history("ab", "a", "ac")  # repeat scores with decay 0.5: a 1.75, b 0.25, c 1
    none = [np.zeros(0, np.int64)]
    for weight, top in ((0.0, "acb"), (0.2, "acebd"), (0.5, "acedb"), (2.0, "eadcb")):
        model = RepeatExplore(TimeAwareRepeat(decay=0.5, item_weight=0.0), Fixed(), explore_weight=weight, explore_scope="new").fit(train)
        recs = recommend(model, [h], none, k=len(top), breaks=[b])
        assert "".join(ITEMS[recs[0]]) == top, weight
    # scaled repeat a 1, b 0.25/1.75, c 1/1.75; explore d 4/8, e 8/8 times 0.5 (a tie of a and d at w = 2: popularity)
    model = RepeatExplore(TimeAwareRepeat(decay=0.5, item_weight=0.0), Fixed(), explore_weight=0.5).fit(train)
    assert model.score([h], none, breaks=[b])[0] == pytest.approx([1, 0.25 / 1.75, 1 / 1.75, 0.25, 0.5], abs=1e-5)


def _dense_scale_rows(scores):
    """The dense formula the repeat models' scores are defined by (their sparse code must match it exactly)."""
    scores = np.where(np.isfinite(scores), scores, 0.0)
    scores = np.maximum(scores, 0.0)
    peak = scores.max(axis=1, keepdims=True)
    return scores / np.where(peak > 0, peak, 1.0)


def test_repeat_scores_equal_the_dense_formulas_exactly(synthetic_lines):
    """repeat and repeat_explore build their scores from sparse entries in one array; the values equal the dense
    formulas of their docstrings number for number (so rankings cannot move): repeat in [1, 2] on history
    items, popularity elsewhere; repeat_explore = scaled repeat + weight * scaled explore + TIE * popularity,
    explore on all items or only new ones, with the time-aware repeat model (kept sparse) and a dense one."""
    from shared.models.base import counts_matrix
    from shared.models.repeat_explore import TIE

    lines, catalogue = synthetic_lines
    train = evaluate.fit_interactions(lines, catalogue, "test", 1, 0)
    queries = split.build_tasks(lines, train.item_ids, "test", 3)["next_basket"]
    h, c, b = queries.histories, queries.contexts, queries.history_breaks
    for cycle in (0.0, 0.5):
        repeat = TimeAwareRepeat(decay=0.8, item_weight=0.5, cycle_weight=cycle).fit(train)
        rep = repeat.repeat_scores(h, b).toarray()
        seen = rep > 0
        expected = np.where(seen, 1.0 + _dense_scale_rows(rep), 0.0) + repeat.popularity * np.where(seen, TIE, 1.0)
        assert np.array_equal(repeat.score(h, c, b), expected)
    explore = TIFUKNN(k=10, within_decay=0.9, group_decay=0.7, groups=2, alpha=0.5)

    class DenseRepeat:  # a repeat model that is not TimeAwareRepeat: scores on every item, some negative
        name, uses_basket_breaks = "dense", False

        def fit(self, train):
            return self

        def score(self, histories, contexts):
            return np.sin(np.arange(len(histories))[:, None] + np.arange(train.n_items)[None, :])

    history_items = counts_matrix(h, train.n_items).toarray() > 0
    for part in (TimeAwareRepeat(decay=0.8, item_weight=0.5), DenseRepeat()):
        for scope in ("all", "new"):
            model = RepeatExplore(part, explore, explore_weight=0.3, explore_scope=scope).fit(train)
            raw = part.repeat_scores(h, b).toarray() if isinstance(part, TimeAwareRepeat) else part.score(h, c)
            rep = _dense_scale_rows(np.where(history_items, raw, 0.0))
            exp = _dense_scale_rows(explore.score(h, c, breaks=b))
            if scope == "new":
                exp = np.where(history_items, 0.0, exp)
            assert np.array_equal(model.score(h, c, breaks=b), rep + 0.3 * exp + TIE * model.popularity), (part, scope)


@pytest.fixture(scope="module")
def synthetic_lines():
    """A small synthetic shop without dirty lines; customers re-buy their favourites (repeat_share)."""
    gen = synthetic.generate(n_customers=300, n_items=200, n_weeks=16, seed=7, noise=0.0, repeat_share=0.5)
    lines, _ = split.split_lines(gen.lines, {"split_method": "temporal", "test_weeks": 2, "validation_weeks": 2})
    return lines, gen.catalogue


def test_new_models_beat_popularity_on_next_basket(synthetic_lines, smoke_params):
    lines, catalogue = synthetic_lines
    params = {**smoke_params, "metrics": ["ndcg"], "k_values": [10], "bootstrap_samples": 20, "max_queries": 0}
    factories = {
        "tifu_knn": lambda p: TIFUKNN(k=20, within_decay=1.0, group_decay=0.9, groups=3, alpha=0.7),
        "repeat": lambda p: TimeAwareRepeat(decay=0.95, item_weight=0.5),
        "repeat_explore": lambda p: RepeatExplore(TimeAwareRepeat(decay=0.95), TIFUKNN(k=20, alpha=0.0), 0.3),
    }
    result = evaluate.evaluate(lines, catalogue, params, ["popularity", *factories], factories=factories, progress=False)
    assert not result.failures
    tests = evaluate.paired_tests(result, "ndcg", 10, 200)
    for name in factories:
        row = tests[(tests["task"] == "next_basket") & (tests["model_a"] == "popularity") & (tests["model_b"] == name)].iloc[0]
        assert row["diff"] < 0 and row["p_value"] < 0.05, (name, row.to_dict())
