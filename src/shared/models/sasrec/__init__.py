"""SASRec for baskets, split as nanoGPT is: the network (:mod:`.network`), scoring (:mod:`.scorer`), the
training loop and checkpoints (:mod:`.training`), and the recommender in the model protocol
(:mod:`.recommender`)."""
from .network import CONTINUE, NEXT, SASRec, SASRecConfig, Seen, encode, prefix_counts, prefix_seen, split_baskets
from .recommender import SASRecRecommender, align_text, explain, next_purchase_lift
from .scorer import SequenceScorer, popularity_fallback
from .training import (
    TrainResult, TrainSettings, checkpoint_files, choose_loss, customer_baskets, fit_sasrec, fit_seeds, load_checkpoint, make_windows,
    pick_device, runs_table, save_checkpoint,
)

__all__ = [
    "CONTINUE", "NEXT", "SASRec", "SASRecConfig", "SASRecRecommender", "Seen", "SequenceScorer", "TrainResult",
    "TrainSettings", "align_text", "checkpoint_files", "choose_loss", "customer_baskets", "encode", "explain",
    "fit_sasrec", "fit_seeds", "load_checkpoint", "make_windows", "next_purchase_lift", "pick_device", "popularity_fallback",
    "prefix_counts", "prefix_seen", "runs_table", "save_checkpoint", "split_baskets",
]
