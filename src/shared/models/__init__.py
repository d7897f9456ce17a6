"""Recommenders behind one protocol (DESIGN §4): ``fit(train)``, ``score(histories, contexts)``.

``make(name, params)`` builds a model from the run's parameters; ``recommend`` (in ``base``) turns scores
into top-k lists the same way for every model.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..config import ParameterError
from ..rules import engine_of
from .association_rules import RulesRecommender
from .base import Interactions, Recommender, recommend
from .factorization import make_als, make_bpr
from .item_knn import ItemKNN
from .personal_frequency import PersonalFrequency
from .popularity import Popularity

MODELS: dict[str, Callable[[Mapping[str, Any]], Recommender]] = {
    "popularity": lambda p: Popularity(),
    "personal_frequency": lambda p: PersonalFrequency(),
    "item_knn": lambda p: ItemKNN(weighting=p.get("knn_weighting", "cosine"), neighbours=p.get("knn_neighbours", 200)),
    "rules": lambda p: RulesRecommender(
        min_support=p.get("rules_min_support", 0.0002), min_confidence=p.get("rules_min_confidence", 0.02),
        score=p.get("rules_score", "confidence"), min_count=p.get("min_count", 10),
        max_len=p.get("max_len", 3) or 3, engine=engine_of(p), spark_params=dict(p),
    ),
    "als": make_als,
    "bpr": make_bpr,
    "sasrec": lambda p: _sasrec(p),
}


def _sasrec(params: Mapping[str, Any]) -> Recommender:
    from ..train import SASRecRecommender  # torch is imported only when SASRec is used

    return SASRecRecommender(params)


def check_names(names) -> None:
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ParameterError(
            f"parameter 'models': unknown model {', '.join(map(repr, unknown))} (known: {', '.join(MODELS)})"
        )


def make(name: str, params: Mapping[str, Any]) -> Recommender:
    check_names([name])
    return MODELS[name](params)


__all__ = ["Interactions", "Recommender", "recommend", "MODELS", "make", "check_names"]
