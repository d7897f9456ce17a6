"""The text step of notebook 03 on Complete Journey's default profile: the frozen pass of all-MiniLM-L6-v2 over
the distinct descriptions the run encodes, and one fine-tuning of its top layer(s) on the co-purchase pairs:
texts per second, steps per second, seconds, peak memory.

    .venv/bin/python benchmarks/text_tuning.py [--steps 60] [--layers 1] [--threads 2] [--label after]
                                               # -> reports/benchmarks/text_tuning.csv

Data and settings: the default profile (test target: the vocabulary, the targeted new products and the
launches, :func:`shared.new_products.items_to_embed`), ``text_tune_*`` from ``params/default.yaml`` unless
given. Nothing is cached: every number is a fresh pass. Rows are appended, so machines and ``--label``-ed
before/after runs sit side by side.
"""
from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--label", default="", help="a free tag stored with the rows (e.g. before / after)")
    parser.add_argument("--no-save", action="store_true", help="print the row only")
    args = parser.parse_args()

    from shared import cleaning, config, data, mining, new_products, split, text, text_tuning

    params = config.load("default")
    if args.steps is not None:
        params["text_tune_steps"] = args.steps
    if args.layers is not None:
        params["text_tune_layers"] = args.layers
    result = cleaning.clean(data.load(params), params)
    lines, _ = split.split_lines(result.lines, params)
    started = time.perf_counter()
    products = new_products.new_product_sets(lines, result.catalogue, params)
    ids = new_products.items_to_embed(products)
    descriptions = text.describe_items(result.catalogue, ids)
    every_pair = mining.frequent_pairs(split.fit_lines(lines, "test"), 1e-12, params["min_count"])
    pairs = text_tuning.description_pairs(every_pair, dict(zip(map(str, ids), descriptions)))
    prepare_s = time.perf_counter() - started
    encoder = text.load_encoder()
    encoder.threads = args.threads
    texts = sorted(set(descriptions) - {""})
    states = text_tuning.encode_states(encoder, texts, layers=params["text_tune_layers"], progress=True)
    settings = text_tuning.TuneSettings.from_params(params)
    tuned = text_tuning.fine_tune(encoder, states, pairs, settings, progress=True)
    row = {
        "label": args.label, "machine": platform.processor() or platform.machine(), "threads": args.threads,
        "torch": torch.__version__, "items": len(ids), "distinct_texts": len(texts), "pairs": len(pairs),
        "prepare_s": round(prepare_s, 1), "frozen_s": round(states.seconds, 1),
        "frozen_texts_per_s": round(len(texts) / states.seconds, 1), "layers": settings.layers,
        "steps": settings.steps, "batch_pairs": settings.batch_pairs, "tune_s": round(tuned.seconds, 1),
        "first_loss": round(float(tuned.history["loss"].head(10).mean()), 3),
        "last_loss": round(float(tuned.history["loss"].tail(10).mean()), 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    frame = pd.DataFrame([row])
    print(frame.to_string(index=False))
    if not args.no_save:
        OUT.mkdir(parents=True, exist_ok=True)
        target = OUT / "text_tuning.csv"
        frame.to_csv(target, mode="a", header=not target.exists(), index=False)
        print(f"appended to {target}")


if __name__ == "__main__":
    main()
