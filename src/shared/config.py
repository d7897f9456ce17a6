"""Paths, parameter profiles, and parameter loading and validation.

Parameters come in layers, each overriding the one before:

1. ``params/default.yaml`` (complete: every parameter has its default there),
2. the profile (``params/<profile>.yaml``; ``default`` adds nothing),
3. a ``--params FILE.yaml`` file,
4. ``-p KEY=VALUE`` overrides (values parsed as YAML, so ``-p k_values=[5,10]`` works).

Every layer is checked against :data:`PARAMETERS`: an unknown name, a value of the wrong type or outside its
allowed choices raises :class:`ParameterError` with one line naming the parameter and the problem.
"""
from __future__ import annotations

import json
import os
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = REPO_ROOT / "params"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
REPORTS_DIR = REPO_ROOT / "reports"

ITEM_LEVELS = ("product", "product_type", "product_category", "department")
SOURCES = ("completejourney", "synthetic", "file")


class ParameterError(ValueError):
    """A parameter (or a parameter file) is unknown, missing, or of the wrong type."""


@dataclass(frozen=True)
class Spec:
    kind: type | tuple[type, ...]
    help: str
    choices: tuple | None = None
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None


PARAMETERS: dict[str, Spec] = {
    # --- data source -------------------------------------------------------------------------
    "seed": Spec(int, "random seed for everything that draws random numbers", minimum=0),
    "source": Spec(str, "where the transactions come from", choices=SOURCES),
    "path": Spec(str, "CSV or parquet file for source=file", nullable=True),
    "columns": Spec(dict, "source=file: mapping canonical name -> column name in the file", nullable=True),
    "item_level": Spec(str, "item granularity (Complete Journey: product, product_type, product_category, department)"),
    "sample_customers": Spec(int, "keep a random sample of this many customers (0 = all)", minimum=0),
    "synthetic_customers": Spec(int, "source=synthetic: number of customers", minimum=1),
    "synthetic_items": Spec(int, "source=synthetic: catalogue size", minimum=20),
    "synthetic_weeks": Spec(int, "source=synthetic: weeks of history", minimum=3),
    "synthetic_noise": Spec(float, "source=synthetic: share of dirty lines (duplicates, returns, unknown items)", minimum=0, maximum=0.5),
    "encoding": Spec(str, "source=file, CSV: text encoding of the file (utf-8, latin-1, cp1252, ...)"),
    "delimiter": Spec(str, "source=file, CSV: field delimiter, one character (empty: tab for .tsv, else comma)", nullable=True),
    "timestamp_format": Spec(str, "source=file: strftime format of the timestamp column, e.g. %d/%m/%Y (empty: ISO "
                             "dates, or a day/month order only when every value allows just one)", nullable=True),
    # --- engine ------------------------------------------------------------------------------
    "engine": Spec(str, "pandas (one machine) or spark: cleaning, mining and ALS on Apache Spark", choices=("pandas", "spark")),
    "spark_master": Spec(str, "engine=spark: master URL (local[*], spark://host:7077, yarn, k8s://https://host:port)"),
    "spark_driver_memory": Spec(str, "engine=spark: driver memory (collects the cleaned lines), e.g. 4g"),
    "spark_executor_memory": Spec(str, "engine=spark: memory per executor on a cluster, e.g. 4g"),
    "spark_executor_wait_s": Spec(int, "engine=spark, standalone master (spark://): seconds a session waits for its first executor "
                                  "before it stops with an error", minimum=1),
    "spark_shuffle_partitions": Spec(int, "engine=spark: partitions after a shuffle (about 2-4 per core of the cluster)", minimum=1),
    "mf_cache": Spec(str, "folder where ALS and BPR fits (implicit or Spark) are kept and reused: notebook 05 reads back "
                     "notebook 03's (the run folder's data/mf_fits)", nullable=True),
    # --- cleaning ----------------------------------------------------------------------------
    "max_basket_size": Spec(int, "baskets with more distinct items than this are outliers", minimum=1),
    "min_item_count": Spec(int, "items bought in fewer baskets than this are dropped", minimum=1),
    "kcore": Spec(int, "if > 0, repeat: drop customers and items with fewer than k baskets", minimum=0),
    "salt": Spec(str, "public context label mixed into the keyed customer-ID pseudonyms (the secret is the key, see README)"),
    # --- split -------------------------------------------------------------------------------
    "split_method": Spec(str, "temporal (global, by weeks) or random (stratified per customer)", choices=("temporal", "random")),
    "test_weeks": Spec(int, "temporal split: last weeks held out as test", minimum=1),
    "validation_weeks": Spec(int, "temporal split: weeks before the test period held out as validation", minimum=0),
    "test_fraction": Spec(float, "random split, or data without timestamps: share of each customer's baskets in test", minimum=0.01, maximum=0.9),
    "validation_fraction": Spec(float, "random split, or data without timestamps: share in validation", minimum=0.0, maximum=0.9),
    # --- association rules -------------------------------------------------------------------
    "min_support": Spec((float, str), "itemsets: minimum share of baskets (item level of the run), or auto: the lowest "
                        "of 0.001, 0.002, 0.005, ... that stays under max_itemsets (notebook 02)"),
    "category_min_support": Spec(float, "itemsets at the product_category level: minimum share of baskets", minimum=1e-7, maximum=1.0),
    "min_confidence": Spec(float, "rules shown in reports: minimum confidence", minimum=0.0, maximum=1.0),
    "min_count": Spec(int, "privacy floor: no itemset or rule in fewer baskets is ever reported", minimum=0),
    "max_len": Spec(int, "notebook 02: largest itemset mined (0 = no limit)", minimum=0),
    "p_adjust": Spec(str, "multiple-testing adjustment of rule p-values", choices=("bh", "holm")),
    "alpha": Spec(float, "significance level for adjusted p-values", minimum=1e-6, maximum=0.5),
    "mining_engine": Spec(str, "frequent itemset engine", choices=("fim", "rusket", "mlxtend_fpgrowth", "mlxtend_hmine", "mlxtend_apriori")),
    "max_itemsets": Spec(int, "stop mining (with a suggested support) above this many itemsets", minimum=1),
    "rules_min_support": Spec(float, "rules recommender: minimum support of the itemsets it mines", minimum=1e-7, maximum=1.0),
    "rules_min_confidence": Spec(float, "rules recommender: minimum confidence of the rules it uses", minimum=0.0, maximum=1.0),
    "rules_max_len": Spec(int, "rules recommender: largest itemset it mines (0 = no limit)", minimum=0),
    "rules_score": Spec(str, "rules recommender: score an item by the best rule's confidence or lift", choices=("confidence", "lift")),
    # --- matrix factorization (notebook 03) -------------------------------------------------------
    "mf_weighting": Spec(str, "confidence weighting of customer x item counts", choices=("raw", "log", "bm25")),
    "mf_min_item_count": Spec(int, "items in fewer training baskets are cold: category-popularity fallback", minimum=0),
    "mf_use_gpu": Spec(bool, "fit implicit on the GPU (needs CUDA)"),
    "als_factors": Spec(int, "ALS: latent factors", minimum=1),
    "als_regularization": Spec(float, "ALS: L2 regularisation", minimum=0.0),
    "als_alpha": Spec(float, "ALS: confidence scale (see als_confidence)", minimum=1e-6),
    "als_confidence": Spec(str, "ALS: confidence c = alpha * weight (implicit's convention) or 1 + alpha * weight "
                           "(hkv; engine=spark always)", choices=("implicit", "hkv")),
    "als_iterations": Spec(int, "ALS: iterations", minimum=1),
    "bpr_factors": Spec(int, "BPR: latent factors", minimum=1),
    "bpr_learning_rate": Spec(float, "BPR: SGD learning rate", minimum=1e-9),
    "bpr_regularization": Spec(float, "BPR: L2 regularisation", minimum=0.0),
    "bpr_iterations": Spec(int, "BPR: epochs", minimum=1),
    "als_grid": Spec(dict, "notebook 03: validation sweep, ALS parameter -> values"),
    # --- SASRec (notebook 04) -----------------------------------------------------------------
    "sasrec_max_len": Spec(int, "SASRec: tokens (items) of history read", minimum=2),
    "sasrec_dim": Spec(int, "SASRec: embedding width", minimum=4),
    "sasrec_heads": Spec(int, "SASRec: attention heads (must divide sasrec_dim)", minimum=1),
    "sasrec_blocks": Spec(int, "SASRec: Transformer blocks", minimum=1),
    "sasrec_dropout": Spec(float, "SASRec: dropout", minimum=0.0, maximum=0.9),
    "sasrec_epochs": Spec(int, "SASRec: most epochs (early stopping may end sooner)", minimum=1),
    "sasrec_patience": Spec(int, "SASRec: epochs without validation gain before stopping", minimum=1),
    "sasrec_batch_size": Spec(int, "SASRec: sequences per batch", minimum=1),
    "sasrec_learning_rate": Spec(float, "SASRec: AdamW learning rate", minimum=1e-7),
    "sasrec_weight_decay": Spec(float, "SASRec: AdamW weight decay", minimum=0.0),
    "sasrec_warmup_steps": Spec(int, "SASRec: linear warm-up steps", minimum=0),
    "sasrec_loss": Spec(str, "SASRec: full softmax, sampled softmax, or auto (full while the catalogue fits)", choices=("auto", "full", "sampled")),
    "sasrec_max_full_softmax": Spec(int, "SASRec: largest catalogue for full softmax", minimum=1),
    "sasrec_negatives": Spec(int, "SASRec: shared negatives of sampled softmax", minimum=1),
    "sasrec_windows": Spec(int, "SASRec: windows of sasrec_max_len tokens per customer and epoch, newest first", minimum=1),
    "sasrec_eval_queries": Spec(int, "SASRec: validation queries per task for early stopping (0 = all)", minimum=0),
    "sasrec_workers": Spec(int, "notebook 04: processes training the final models side by side (one torch thread each; 1: one after another)", minimum=1),
    "sasrec_device": Spec(str, "SASRec: auto (CUDA when present), cpu or cuda", choices=("auto", "cpu", "cuda")),
    "sasrec_grid": Spec(dict, "notebook 04: sweep, SASRec parameter -> values"),
    "sasrec_sweep_epochs": Spec(int, "notebook 04: epochs per sweep setting", minimum=1),
    "sasrec_checkpoint": Spec(str, "SASRec weights to load instead of training (notebook 05 gets notebook 04's)", nullable=True),
    "sasrec_text": Spec(bool, "SASRec: add a learned projection of the items' pretrained text vectors to their ID embeddings"),
    "text_embeddings": Spec(str, "item text vectors (parquet) for text_knn and sasrec_text (notebooks 04-05 get notebook 03's fine-tuned ones)", nullable=True),
    "text_tune_steps": Spec(int, "notebook 03: AdamW steps fine-tuning the text encoder on co-purchase pairs (per seed; 0: frozen only)", minimum=0),
    "text_tune_batch_pairs": Spec(int, "notebook 03: co-purchase pairs per fine-tuning step (in-batch negatives)", minimum=2),
    "text_tune_learning_rate": Spec(float, "notebook 03: fine-tuning learning rate", minimum=1e-8),
    "text_tune_layers": Spec(int, "notebook 03: top Transformer layers of the encoder that are fine-tuned (the others stay frozen)", minimum=1, maximum=6),
    # --- next-basket models (notebook 05) -------------------------------------------------------
    "tifu_k": Spec(int, "TIFU-KNN: nearest customers", minimum=1),
    "tifu_within_decay": Spec(float, "TIFU-KNN: decay of baskets within a group (r_b)", minimum=1e-6, maximum=1.0),
    "tifu_group_decay": Spec(float, "TIFU-KNN: decay across groups (r_g)", minimum=1e-6, maximum=1.0),
    "tifu_groups": Spec(int, "TIFU-KNN: groups of baskets (m)", minimum=1),
    "tifu_alpha": Spec(float, "TIFU-KNN: weight of the customer's own vector against the neighbours'", minimum=0.0, maximum=1.0),
    "tifu_metric": Spec(str, "TIFU-KNN: neighbour distance", choices=("euclidean", "cosine")),
    "tifu_context": Spec(str, "TIFU-KNN: the basket so far, as the newest basket, added, or ignored", choices=("basket", "add", "ignore")),
    "repeat_decay": Spec(float, "repeat: weight decay per basket back of a past purchase", minimum=1e-6, maximum=1.0),
    "repeat_item_weight": Spec(float, "repeat: exponent of the item's repurchase rate", minimum=0.0),
    "repeat_smoothing": Spec(float, "repeat: smoothing of the repurchase rate towards the mean", minimum=0.0),
    "repeat_explore_weight": Spec(float, "repeat_explore: weight of TIFU-KNN's scores against the repeat scores", minimum=0.0),
    "repeat_explore_scope": Spec(str, "repeat_explore, sasrec_repeat: explore scores on all items or new items only", choices=("all", "new")),
    "sasrec_repeat_weight": Spec(float, "sasrec_repeat: weight of SASRec's scores against the repeat scores", minimum=0.0),
    "text_knn_history_weight": Spec(float, "text_knn: weight of the history profile against the basket context", minimum=0.0),
    "text_knn_decay": Spec(float, "text_knn: decay per basket back in the history profile", minimum=1e-6, maximum=1.0),
    "validation_grids": Spec(dict, "notebook 05: validation sweep per model, model -> {parameter: values}"),
    # --- evaluation --------------------------------------------------------------------------
    "models": Spec(list, "recommenders to fit and evaluate (see shared.models.MODELS)"),
    "k_values": Spec(list, "cut-offs for the ranking metrics"),
    "metrics": Spec(list, "metrics in the leaderboard (see shared.metrics.METRICS)"),
    "bootstrap_samples": Spec(int, "bootstrap resamples for confidence intervals", minimum=10),
    "n_seeds": Spec(int, "trained neural models (sasrec, sasrec_text, sasrec_repeat): training seeds seed, seed+1, ...; judged on their mean", minimum=1),
    "eval_workers": Spec(int, "evaluation, validation sweeps: processes fitting and ranking models side by side (1: one after another)", minimum=1),
    "max_queries": Spec(int, "evaluate at most this many queries per task (0 = all)", minimum=0),
    "knn_weighting": Spec(str, "item_knn similarity", choices=("cosine", "lift")),
    "knn_neighbours": Spec(int, "item_knn: neighbours kept per item", minimum=1),
    "cold_max_baskets": Spec(int, "new products: evaluated when in fewer fit-period baskets than this (0 baskets: a launch)", minimum=1),
    "new_product_min_buyers": Spec(int, "new products: evaluated when bought by at least this many customers in the test weeks", minimum=1),
}

#: What the runner injects into every notebook's ``parameters`` cell; the rest comes from ``params.json``.
RUN_PARAMETERS = ("run_dir",)
#: The resolved parameters of a run, written by the runner into the run folder before the first notebook.
PARAMS_FILE = "params.json"


def _check_value(name: str, value: Any) -> Any:
    spec = PARAMETERS[name]
    if value is None:
        if spec.nullable:
            return None
        raise ParameterError(f"parameter '{name}': must not be empty ({spec.help})")
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise ParameterError(
            f"parameter '{name}': expected {wanted}, got {type(value).__name__} {value!r} ({spec.help})"
        )
    if spec.choices is not None and value not in spec.choices:
        raise ParameterError(f"parameter '{name}': {value!r} is not one of {', '.join(map(str, spec.choices))}")
    if spec.minimum is not None and value < spec.minimum:
        raise ParameterError(f"parameter '{name}': {value!r} is below the minimum {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise ParameterError(f"parameter '{name}': {value!r} is above the maximum {spec.maximum}")
    return value


def validate(values: Mapping[str, Any], where: str = "parameters") -> dict[str, Any]:
    """Check names and types of ``values``; return them (ints promoted to floats where floats are wanted)."""
    checked = {}
    for name, value in values.items():
        if name not in PARAMETERS:
            close = [p for p in PARAMETERS if p.split("_")[0] == name.split("_")[0]]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ParameterError(f"{where}: unknown parameter '{name}'{hint}")
        checked[name] = _check_value(name, value)
    _check_lists(checked)
    return checked


def _check_lists(values: dict[str, Any]) -> None:
    if "min_support" in values:  # a share of baskets in [1e-7, 1], or auto (checked here: a str has no minimum)
        values["min_support"] = _min_support(values["min_support"])
    if "k_values" in values:
        ks = values["k_values"]
        if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in ks):
            raise ParameterError(f"parameter 'k_values': expected a non-empty list of positive integers, got {ks!r}")
    for name in ("models", "metrics"):  # the names themselves are checked by the runner (shared.runner.preflight)
        if name in values and not all(isinstance(m, str) for m in values[name]):
            raise ParameterError(f"parameter '{name}': expected a list of names, got {values[name]!r}")


def _min_support(value: float | str) -> float | str:
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return "auto"
        try:
            value = float(value)  # "1e-3": YAML 1.1 reads it as text
        except ValueError:
            raise ParameterError(f"parameter 'min_support': expected a share of baskets or auto, got {value!r}") from None
    if not 1e-7 <= value <= 1.0:  # also refuses nan
        raise ParameterError(f"parameter 'min_support': {value!r} is outside [1e-07, 1.0] (a share of baskets, or auto)")
    return value


def read_yaml(path: Path | str) -> dict[str, Any]:
    """Read a YAML mapping of parameters, with errors that name the file."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"{path}: parameter file does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values, got {type(data).__name__}")
    return data


def profiles() -> list[str]:
    return sorted(p.stem for p in PARAMS_DIR.glob("*.yaml"))


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``KEY=VALUE`` override; the value is read as YAML (``3`` is an int, ``[1,2]`` a list)."""
    if "=" not in text:
        raise ParameterError(f"override '{text}': expected KEY=VALUE")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key, value


def load(
    profile: str = "default",
    params_file: Path | str | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
) -> dict[str, Any]:
    """Resolve the full parameter set: defaults, profile, parameter file, then overrides."""
    if profile not in profiles():
        raise ParameterError(f"unknown profile '{profile}' (choose from {', '.join(profiles())})")
    params = validate(read_yaml(PARAMS_DIR / "default.yaml"), where=str(PARAMS_DIR / "default.yaml"))
    missing = sorted(set(PARAMETERS) - set(params))
    if missing:
        raise ParameterError(f"{PARAMS_DIR / 'default.yaml'}: no default for {', '.join(missing)}")
    if profile != "default":
        path = PARAMS_DIR / f"{profile}.yaml"
        params.update(validate(read_yaml(path), where=str(path)))
    if params_file is not None:
        params.update(validate(read_yaml(params_file), where=str(params_file)))
    if overrides:
        if not isinstance(overrides, Mapping):
            overrides = dict(parse_override(o) for o in overrides)
        params.update(validate(overrides, where="-p override"))
    params["profile"] = profile
    check_consistency(params)
    return params


def check_consistency(params: Mapping[str, Any]) -> None:
    """Checks that involve several parameters at once."""
    if params["source"] == "file":
        if not params.get("path"):
            raise ParameterError("parameter 'path': source=file needs the path of a CSV or parquet file")
        if not params.get("columns"):
            raise ParameterError("parameter 'columns': source=file needs a mapping from canonical names to file columns")
        remote = params.get("engine") == "spark" and "://" in params["path"]  # hdfs://, s3a://: Spark reads it
        if not remote and not os.path.exists(params["path"]):
            raise ParameterError(f"parameter 'path': {params['path']} does not exist")
    elif params["item_level"] not in ITEM_LEVELS:
        raise ParameterError(
            f"parameter 'item_level': {params['item_level']!r} is not one of {', '.join(ITEM_LEVELS)}"
        )
    if params["split_method"] == "random" and params["test_fraction"] + params["validation_fraction"] >= 1:
        raise ParameterError("parameters 'test_fraction' + 'validation_fraction' must be below 1")


def collect(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Pick and validate the known parameters from a notebook's namespace (papermill's ``-p`` overrides);
    imported modules that share a parameter's name (``models``) are not parameters."""
    found = {k: namespace[k] for k in PARAMETERS if k in namespace and not isinstance(namespace[k], types.ModuleType)}
    return validate(found, where="notebook parameters")


def for_notebook(run_dir: str | Path, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """A notebook's parameters: the run's resolved set (``run_dir/params.json``, written by the runner), or
    ``params/default.yaml`` for a notebook run alone, then any parameter papermill injected (``-p``)."""
    path = Path(run_dir) / PARAMS_FILE
    if path.exists():
        params = validate({k: v for k, v in json.loads(path.read_text()).items() if k != "profile"}, where=str(path))
    else:
        params = load("default")
    params.update(collect(namespace))
    check_consistency(params)
    return params
