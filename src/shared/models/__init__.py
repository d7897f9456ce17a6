"""Recommenders behind one protocol (docs/architecture.md, "Model protocol"): ``fit(train)``,
``score(histories, contexts)``.

:func:`build` (``registry``) makes a model from the run's parameters with typed arguments; ``recommend``
(``base``) turns scores into top-k lists the same way for every model.
"""
from .base import Interactions, Recommender, counts_matrix, popularity_tiebreak, recommend
from .registry import COMPONENTS, MODELS, NEEDS_TEXT, SEEDED_MODELS, available, build, check_names, training_seeds

__all__ = ["Interactions", "Recommender", "COMPONENTS", "MODELS", "NEEDS_TEXT", "SEEDED_MODELS", "available", "build", "check_names", "counts_matrix",
           "popularity_tiebreak", "recommend", "training_seeds"]
