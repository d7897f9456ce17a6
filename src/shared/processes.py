"""Work side by side in spawned processes of one torch thread each: what ``sasrec_workers`` (notebook 04's final
trainings) and ``eval_workers`` (evaluations and validation sweeps) use.

:func:`side_by_side` starts the processes in a clean interpreter (``spawn``: no forked torch or kernel threads),
hands each the ``shared`` data once (a process reads it back with :func:`shared_data`, so jobs send only their
own small arguments), submits the jobs in the order asked, and yields each job's index and future as it
finishes; the caller decides what a failed future means. One thread per process: two one-thread processes on two
cores, never four threads fighting, and a job's result depends on the job alone, never on the process or the
order that ran it.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
from typing import Any, Callable, Iterator, Mapping, Sequence

_SHARED: dict[str, Any] = {}


def _start(shared: Mapping[str, Any]) -> None:
    import torch

    torch.set_num_threads(1)
    _SHARED.update(shared)


def shared_data() -> dict[str, Any]:
    """In a process of :func:`side_by_side`: the ``shared`` data it was started with."""
    return _SHARED


def side_by_side(function: Callable[..., Any], jobs: Sequence[tuple], workers: int, shared: Mapping[str, Any],
                 order: Sequence[int] | None = None) -> Iterator[tuple[int, concurrent.futures.Future]]:
    """``function(*jobs[i])`` for every job in ``min(workers, len(jobs))`` spawned one-thread processes (submitted in
    ``order``, default as given); yields ``(i, future)`` as each job finishes. ``function`` must be importable
    (module level) and reads the ``shared`` data with :func:`shared_data`."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_start,
                                                initargs=(dict(shared),)) as pool:
        futures = {pool.submit(function, *jobs[i]): i for i in (order if order is not None else range(len(jobs)))}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future
