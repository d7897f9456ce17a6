"""SASRec training throughput on Complete Journey at product level: sequences and tokens per second, epoch
time and peak memory, on the CPU here and unchanged on a CUDA machine.

    .venv/bin/python benchmarks/sasrec.py [--device auto|cpu|cuda] [--epochs 2] [--dims 32,64] [--threads 2]
                                          [--text] [--label after]   # -> reports/benchmarks/sasrec.csv

Data: the default profile (fit period of the validation target, ~19k products). Settings: the default
profile's SASRec parameters (sampled softmax, 2,048 shared negatives, batch 64, 50 tokens), at each width of
``--dims``. ``--text`` trains the text-fused model (item vectors from :func:`shared.text.item_embeddings`,
cached under ``reports/benchmarks/cache``). Peak memory is the process's maximum resident memory on CPU,
and the CUDA allocator's peak on a GPU. Rows are appended, so CPU and GPU results of several machines (and
``--label``-ed before/after runs of a change) sit side by side.

To compare two versions of the code on the same data and load, run them back to back, e.g. with an older
copy of ``src`` first on the path::

    PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/sasrec.py --epochs 1 --dims 64 --label before
    .venv/bin/python benchmarks/sasrec.py --epochs 1 --dims 64 --label after
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
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--text", action="store_true", help="train the text-fused model")
    parser.add_argument("--label", default="", help="a free tag stored with the rows (e.g. before / after)")
    parser.add_argument("--no-save", action="store_true", help="print the rows only")
    args = parser.parse_args()

    import shared
    from shared import cleaning, config, data, evaluate, split
    from shared.models import sasrec

    torch.set_num_threads(args.threads)
    params = config.load("default")
    params["sasrec_text"] = args.text
    result = cleaning.clean(data.load(params), params)
    lines, _ = split.split_lines(result.lines, params)
    fit = evaluate.fit_interactions(lines, result.catalogue, "validation", params["min_item_count"], params["kcore"])
    text_vectors = None
    if args.text:
        from shared import text

        text_vectors, _ = text.item_embeddings(result.catalogue, fit.item_ids, OUT / "cache", "benchmark", progress=True)
    device = sasrec.pick_device(args.device)
    print(f"code: {Path(shared.__file__).parent}; items: {fit.n_items:,}; threads: {torch.get_num_threads()}", flush=True)
    rows = []
    for dim in (int(d) for d in args.dims.split(",")):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        settings = sasrec.TrainSettings.from_params({**params, "sasrec_dim": dim, "sasrec_device": str(device.type)})
        settings = settings.replace(epochs=args.epochs)
        started = time.perf_counter()
        extra = {"text": text_vectors} if args.text else {}
        run = sasrec.fit_sasrec(fit, settings, validation=None, progress=True, **extra)
        total = time.perf_counter() - started
        history = run.history
        peak = (torch.cuda.max_memory_allocated() / 2**20) if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({
            "label": args.label, "device": str(device),
            "machine": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(), "items": fit.n_items, "loss": run.loss, "dim": dim, "text": args.text,
            "max_len": settings.max_len, "batch_size": settings.batch_size, "negatives": settings.negatives,
            "epochs": len(history), "epoch_s": round(float(history["seconds"].mean()), 2),
            "sequences_per_s": round(float(history["sequences_per_s"].mean()), 1),
            "tokens_per_s": int(history["tokens_per_s"].mean()), "final_loss": round(float(history["loss"].iloc[-1]), 5),
            "total_s": round(total, 1), "peak_mb": round(peak, 1),
        })
        print(rows[-1], flush=True)
    if args.no_save:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "sasrec.csv"
    frame = pd.DataFrame(rows)
    if path.exists():
        frame = pd.concat([pd.read_csv(path), frame], ignore_index=True)
    frame.to_csv(path, index=False)
    print(f"written {path}")


if __name__ == "__main__":
    main()
