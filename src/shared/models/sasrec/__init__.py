"""SASRec for baskets, split as nanoGPT is: the network (:mod:`.network`), scoring (:mod:`.scorer`), the
training loop and checkpoints (:mod:`.training`), and the recommender in the model protocol
(:mod:`.recommender`)."""
from .network import CONTINUE, NEXT, SASRec, SASRecConfig, encode, split_baskets
from .recommender import SASRecRecommender, explain, next_purchase_lift
from .scorer import SequenceScorer, popularity_fallback
from .training import (
    TrainResult, TrainSettings, choose_loss, customer_baskets, fit_sasrec, load_checkpoint, make_windows,
    pick_device, save_checkpoint,
)

__all__ = [
    "CONTINUE", "NEXT", "SASRec", "SASRecConfig", "SASRecRecommender", "SequenceScorer", "TrainResult",
    "TrainSettings", "choose_loss", "customer_baskets", "encode", "explain", "fit_sasrec", "load_checkpoint",
    "make_windows", "next_purchase_lift", "pick_device", "popularity_fallback", "save_checkpoint", "split_baskets",
]
