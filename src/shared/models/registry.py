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
from ..text import read_item_vectors
from .association_rules import RulesRecommender
from .base import Recommender
from .factorization import ALS, BPR, SparkALS
from .item_knn import ItemKNN
from .personal_frequency import PersonalFrequency
from .popularity import CategoryPopularity, Popularity
from .repeat_explore import RepeatExplore, TimeAwareRepeat
from .sasrec import SASRecRecommender, TrainSettings
from .text_knn import TextKNN
from .tifu_knn import TIFUKNN

Params = Mapping[str, Any]


def rules_arguments(p: Params) -> dict[str, Any]:
    return dict(min_support=p["rules_min_support"], min_confidence=p["rules_min_confidence"], score=p["rules_score"],
                min_count=p["min_count"], max_len=p["rules_max_len"], engine=engine_of(p),
                spark=SparkSettings.from_params(p) if p["engine"] == "spark" else None)


def mf_arguments(p: Params) -> dict[str, Any]:
    return dict(weighting=p["mf_weighting"], min_item_count=p["mf_min_item_count"], seed=p["seed"], use_gpu=p["mf_use_gpu"],
                cache=p["mf_cache"])


def als_arguments(p: Params) -> dict[str, Any]:
    return dict(factors=p["als_factors"], regularization=p["als_regularization"], alpha=p["als_alpha"],
                iterations=p["als_iterations"], confidence=p["als_confidence"], **mf_arguments(p))


def bpr_arguments(p: Params) -> dict[str, Any]:
    return dict(factors=p["bpr_factors"], regularization=p["bpr_regularization"], learning_rate=p["bpr_learning_rate"],
                iterations=p["bpr_iterations"], **mf_arguments(p))


def tifu_arguments(p: Params) -> dict[str, Any]:
    return dict(k=p["tifu_k"], within_decay=p["tifu_within_decay"], group_decay=p["tifu_group_decay"],
                groups=p["tifu_groups"], alpha=p["tifu_alpha"], metric=p["tifu_metric"], context=p["tifu_context"])


def repeat_arguments(p: Params) -> dict[str, Any]:
    return dict(decay=p["repeat_decay"], item_weight=p["repeat_item_weight"], smoothing=p["repeat_smoothing"])


def sasrec_arguments(p: Params, text: bool = False) -> dict[str, Any]:
    settings = TrainSettings.from_params(p)
    arguments: dict[str, Any] = dict(settings=settings.replace(text=text) if text else settings,
                                     checkpoint=p["sasrec_checkpoint"])
    if text:
        if not p["text_embeddings"]:
            raise ParameterError("model 'sasrec_text' needs item text vectors: parameter 'text_embeddings' (notebook 03 writes them)")
        arguments["text_item_ids"], arguments["text_vectors"] = read_item_vectors(p["text_embeddings"])
    return arguments


def text_knn_arguments(p: Params) -> dict[str, Any]:
    if not p["text_embeddings"]:
        raise ParameterError("model 'text_knn' needs item text vectors: parameter 'text_embeddings' (notebook 03 writes them)")
    item_ids, vectors = read_item_vectors(p["text_embeddings"])
    return dict(embeddings=vectors, item_ids=item_ids, history_weight=p["text_knn_history_weight"], decay=p["text_knn_decay"])


def make_repeat_explore(p: Params) -> RepeatExplore:
    """Repeat purchases by time-aware weighting, new items from TIFU-KNN's neighbours."""
    return RepeatExplore(TimeAwareRepeat(**repeat_arguments(p)), TIFUKNN(**tifu_arguments(p)),
                         explore_weight=p["repeat_explore_weight"], explore_scope=p["repeat_explore_scope"])


def make_sasrec_repeat(p: Params) -> RepeatExplore:
    """The frequency-aware Transformer: a repeat/explore gate over the time-aware repeat scores (each item's
    personal purchase frequency and recency) and SASRec's scores; the gate's weight is tuned on validation."""
    return RepeatExplore(TimeAwareRepeat(**repeat_arguments(p)), SASRecRecommender(**sasrec_arguments(p)),
                         explore_weight=p["sasrec_repeat_weight"], explore_scope=p["repeat_explore_scope"])


def make_als(p: Params) -> ALS:
    """ALS of the run's engine: implicit's under ``engine: pandas``, Spark's under ``engine: spark``."""
    if p["engine"] == "spark":
        return SparkALS(spark=SparkSettings.from_params(p), **als_arguments(p))
    return ALS(**als_arguments(p))


#: name -> (model class, parameters -> keyword arguments). ``build`` calls ``cls(**arguments(params))``.
ARGUMENTS: dict[str, tuple[type, Callable[[Params], dict[str, Any]]]] = {
    "popularity": (Popularity, lambda p: {}),
    "category_popularity": (CategoryPopularity, lambda p: {}),
    "personal_frequency": (PersonalFrequency, lambda p: {}),
    "item_knn": (ItemKNN, lambda p: dict(weighting=p["knn_weighting"], neighbours=p["knn_neighbours"])),
    "rules": (RulesRecommender, rules_arguments),
    "als": (ALS, als_arguments),
    "bpr": (BPR, bpr_arguments),
    "sasrec": (SASRecRecommender, sasrec_arguments),
    "sasrec_text": (SASRecRecommender, lambda p: sasrec_arguments(p, text=True)),
    "tifu_knn": (TIFUKNN, tifu_arguments),
    "repeat": (TimeAwareRepeat, repeat_arguments),
    "text_knn": (TextKNN, text_knn_arguments),
    "repeat_explore": (RepeatExplore, lambda p: dict(explore_weight=p["repeat_explore_weight"], explore_scope=p["repeat_explore_scope"])),
    "sasrec_repeat": (RepeatExplore, lambda p: dict(explore_weight=p["sasrec_repeat_weight"], explore_scope=p["repeat_explore_scope"])),
}

#: builders that compose models or pick a class by the engine
SPECIAL: dict[str, Callable[[Params], Recommender]] = {
    "als": make_als, "repeat_explore": make_repeat_explore, "sasrec_repeat": make_sasrec_repeat,
}

#: combined models -> the models they are built from (tuning sweeps the parts first: shared.tuning.sweep_stages)
COMPONENTS: dict[str, tuple[str, ...]] = {"repeat_explore": ("repeat", "tifu_knn"), "sasrec_repeat": ("repeat", "sasrec")}

MODELS = tuple(ARGUMENTS)
#: models that need item text vectors (a model without them is reported as not evaluated, with the reason)
NEEDS_TEXT = ("text_knn", "sasrec_text")


#: trained neural models: each is trained with ``n_seeds`` seeds (:func:`training_seeds`) and judged on their mean
SEEDED_MODELS = ("sasrec", "sasrec_text", "sasrec_repeat")


def training_seeds(name: str, params: Params) -> list[int]:
    """The training seeds of model ``name``: ``seed``, ``seed + 1``, ... (``n_seeds`` of them) for the models of
    :data:`SEEDED_MODELS`, the run's ``seed`` alone for every other model."""
    count = params["n_seeds"] if name in SEEDED_MODELS else 1
    return [int(params["seed"]) + i for i in range(count)]


def available(name: str, params: Params) -> bool:
    """Whether the run has what model ``name`` needs (item text vectors for the text models)."""
    return not (name in NEEDS_TEXT and not params.get("text_embeddings"))


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
