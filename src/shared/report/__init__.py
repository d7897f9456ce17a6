"""Everything a run shows: the run folder's files (:mod:`.run_folder`), display tables (:mod:`.tables`),
plain-words text (:mod:`.prose`), figures (:mod:`.plots`) and the HTML index (:mod:`.index_page`)."""
from . import plots
from .index_page import best_per_task, write_index
from .results import ResultsError, results_markdown, write_readme_results
from .prose import cold_items_verdict, new_items_verdict, pretrained_verdict, stakeholder_summary
from .run_folder import (
    checkpoint_path, data_dir, notebook_artefacts, pretrained_models, read_catalogue, read_csv,
    read_ground_truth, read_json, read_lines, read_pairs, read_per_customer, read_summary, read_tuned, text_vectors_path,
    tuned_path, write_cleaned, write_csv, write_evaluation, write_factors, write_json, write_pairs, write_parquet,
    write_per_customer, write_rules, write_tuned,
)
from .tables import (
    AI_MODELS, INCUMBENT, MODEL_NAMES, cross_sell, item_names, judged, leaderboard_table, md_text, model_name, named,
    named_pairs, p_text, partners_table, pct, prediction_table, seed_table, similar_items_table, versus,
)

__all__ = [
    "AI_MODELS", "INCUMBENT", "MODEL_NAMES", "ResultsError", "cross_sell", "model_name", "read_pairs", "read_per_customer",
    "write_pairs", "write_per_customer", "best_per_task", "checkpoint_path", "cold_items_verdict", "data_dir", "item_names", "judged",
    "leaderboard_table", "md_text", "named", "named_pairs", "new_items_verdict",
    "notebook_artefacts", "p_text", "partners_table", "pct", "plots", "prediction_table", "pretrained_models",
    "pretrained_verdict", "read_catalogue", "read_csv", "read_ground_truth", "read_json", "read_lines",
    "read_summary", "read_tuned", "results_markdown", "seed_table", "similar_items_table", "stakeholder_summary", "text_vectors_path", "tuned_path",
    "versus", "write_cleaned", "write_csv", "write_evaluation", "write_factors", "write_index", "write_json",
    "write_parquet", "write_readme_results", "write_rules", "write_tuned"
]
