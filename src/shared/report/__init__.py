"""Everything a run shows: the run folder's files (:mod:`.run_folder`), display tables (:mod:`.tables`; every
table a person sees goes through :func:`.tables.for_people`), plain-words text (:mod:`.prose`), figures
(:mod:`.plots`) and the HTML index (:mod:`.index_page`)."""
from . import plots
from .index_page import best_per_task, write_index
from .results import ResultsError, results_markdown, write_readme_results
from .prose import new_items_verdict, new_products_verdict, pretrained_verdict, stakeholder_summary
from .run_folder import (
    checkpoint_path, data_dir, notebook_artefacts, pretrained_models, read_catalogue, read_csv,
    read_ground_truth, read_json, read_lines, read_pairs, read_per_customer, read_substitutes, read_summary, read_tuned, text_vectors_path,
    tuned_seeds, tuned_text_vectors_path,
    tuned_path, write_cleaned, write_csv, write_evaluation, write_factors, write_json, write_pairs, write_parquet,
    write_per_customer, write_rules, write_substitutes, write_tuned,
)
from .tables import (
    AI_MODELS, INCUMBENT, MODEL_NAMES, P_FLOOR, count_text, cross_sell, for_people, interval_text, item_names, judged,
    leaderboard_table, lift_text, md_text, model_name, named, named_pairs, p_text, p_value_text, partners_table, pct,
    people_frame, percent_text, prediction_table, seed_table, similar_items_table, versus,
)

__all__ = [
    "AI_MODELS", "INCUMBENT", "MODEL_NAMES", "P_FLOOR", "count_text", "cross_sell", "for_people", "interval_text",
    "lift_text", "model_name", "p_value_text", "people_frame", "percent_text", "read_pairs", "read_per_customer", "read_substitutes", "write_substitutes",
    "write_pairs", "write_per_customer",
    "ResultsError", "best_per_task", "checkpoint_path", "data_dir", "item_names", "judged",
    "leaderboard_table", "md_text", "named", "named_pairs", "new_items_verdict", "new_products_verdict",
    "notebook_artefacts", "p_text", "partners_table", "pct", "plots", "prediction_table", "pretrained_models",
    "pretrained_verdict", "read_catalogue", "read_csv", "read_ground_truth", "read_json", "read_lines",
    "read_summary", "read_tuned", "results_markdown", "seed_table", "similar_items_table", "stakeholder_summary", "text_vectors_path", "tuned_path",
    "tuned_seeds", "tuned_text_vectors_path",
    "versus", "write_cleaned", "write_csv", "write_evaluation", "write_factors", "write_index", "write_json",
    "write_parquet", "write_readme_results", "write_rules", "write_tuned"
]
