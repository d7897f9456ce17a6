"""The model registry: model names -> builders that turn the run's parameters into typed constructor arguments.

Models never read the parameter dict themselves: each builder here picks the parameters its model needs
(``params/default.yaml`` holds every default) and passes them as arguments. A test checks that no constructor
default disagrees with ``params/default.yaml``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..config import ParameterError
from ..mining import engine_of
from ..spark_session import SparkSettings
from .association_rules import RulesRecommender
from .base import Recommender
from .factorization import ALS, BPR, SparkALS
from .item_knn import ItemKNN
from .personal_frequency import PersonalFrequency
from .popularity import Popularity
from .sasrec import SASRecRecommender, TrainSettings

Params = Mapping[str, Any]


def rules_arguments(p: Params) -> dict[str, Any]:
    return dict(min_support=p["rules_min_support"], min_confidence=p["rules_min_confidence"], score=p["rules_score"],
                min_count=p["min_count"], max_len=p["rules_max_len"], engine=engine_of(p),
                spark=SparkSettings.from_params(p) if p["engine"] == "spark" else None)


def mf_arguments(p: Params) -> dict[str, Any]:
    return dict(weighting=p["mf_weighting"], min_item_count=p["mf_min_item_count"], seed=p["seed"], use_gpu=p["mf_use_gpu"])


def als_arguments(p: Params) -> dict[str, Any]:
    return dict(factors=p["als_factors"], regularization=p["als_regularization"], alpha=p["als_alpha"],
                iterations=p["als_iterations"], confidence=p["als_confidence"], **mf_arguments(p))


def bpr_arguments(p: Params) -> dict[str, Any]:
    return dict(factors=p["bpr_factors"], regularization=p["bpr_regularization"], learning_rate=p["bpr_learning_rate"],
                iterations=p["bpr_iterations"], **mf_arguments(p))


def make_als(p: Params) -> ALS:
    """ALS of the run's engine: implicit's under ``engine: pandas``, Spark's under ``engine: spark``."""
    if p["engine"] == "spark":
        return SparkALS(spark=SparkSettings.from_params(p), **als_arguments(p))
    return ALS(**als_arguments(p))


#: name -> (model class, parameters -> keyword arguments). ``build`` calls ``cls(**arguments(params))``.
ARGUMENTS: dict[str, tuple[type, Callable[[Params], dict[str, Any]]]] = {
    "popularity": (Popularity, lambda p: {}),
    "personal_frequency": (PersonalFrequency, lambda p: {}),
    "item_knn": (ItemKNN, lambda p: dict(weighting=p["knn_weighting"], neighbours=p["knn_neighbours"])),
    "rules": (RulesRecommender, rules_arguments),
    "als": (ALS, als_arguments),
    "bpr": (BPR, bpr_arguments),
    "sasrec": (SASRecRecommender, lambda p: dict(settings=TrainSettings.from_params(p), checkpoint=p["sasrec_checkpoint"])),
}

#: builders whose class depends on more than the arguments (the engine)
SPECIAL: dict[str, Callable[[Params], Recommender]] = {"als": make_als}

MODELS = tuple(ARGUMENTS)


def check_names(names) -> None:
    unknown = [n for n in names if n not in ARGUMENTS]
    if unknown:
        raise ParameterError(
            f"parameter 'models': unknown model {', '.join(map(repr, unknown))} (known: {', '.join(ARGUMENTS)})"
        )


def build(name: str, params: Params) -> Recommender:
    """The model ``name`` with its arguments taken from ``params``."""
    check_names([name])
    if name in SPECIAL:
        return SPECIAL[name](params)
    cls, arguments = ARGUMENTS[name]
    return cls(**arguments(params))
