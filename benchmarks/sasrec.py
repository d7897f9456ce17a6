"""SASRec training throughput on Complete Journey at product level: sequences and tokens per second, epoch
time and peak memory, on the CPU here and unchanged on a CUDA machine.

    .venv/bin/python benchmarks/sasrec.py [--device auto|cpu|cuda] [--epochs 2]   # -> reports/benchmarks/sasrec.csv

Data: the default profile (train weeks, ~20k products). Settings: the default profile's SASRec parameters,
at two widths. Peak memory is the process's maximum resident memory on CPU, and the CUDA allocator's peak
on a GPU. Rows are appended, so CPU and GPU results of several machines sit side by side.
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
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dims", default="32,64")
    args = parser.parse_args()

    from shared import cleaning, config, data, evaluate, split, train

    params = config.load("default")
    result = cleaning.clean(data.load(params), params)
    lines, _ = split.split_lines(result.lines, params)
    fit = evaluate.fit_interactions(lines, result.catalogue, "validation", params["min_item_count"], params["kcore"])
    device = train.pick_device(args.device)
    rows = []
    for dim in (int(d) for d in args.dims.split(",")):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        run = train.fit_sasrec(fit, {**params, "sasrec_dim": dim, "sasrec_device": str(device.type)}, epochs=args.epochs, progress=True)
        total = time.perf_counter() - started
        history = run.history
        peak = (torch.cuda.max_memory_allocated() / 2**20) if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({
            "device": str(device), "machine": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(), "items": fit.n_items, "loss": run.loss, "dim": dim,
            "max_len": params["sasrec_max_len"], "batch_size": params["sasrec_batch_size"], "epochs": len(history),
            "epoch_s": round(float(history["seconds"].mean()), 2), "sequences_per_s": round(float(history["sequences_per_s"].mean()), 1),
            "tokens_per_s": int(history["tokens_per_s"].mean()), "total_s": round(total, 1), "peak_mb": round(peak, 1),
        })
        print(rows[-1], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "sasrec.csv"
    frame = pd.DataFrame(rows)
    if path.exists():
        frame = pd.concat([pd.read_csv(path), frame], ignore_index=True)
    frame.to_csv(path, index=False)
    print(f"written {path}")


if __name__ == "__main__":
    main()
