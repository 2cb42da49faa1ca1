"""Running independent tasks through Dask (``dask.distributed``): here, on a local cluster, or on any cluster.

Sweeps of the spin models (:mod:`jijtutorial.spins`) and the model data set
(:mod:`jijtutorial.model_data`) are embarrassingly parallel: a list of tasks, each a function of
its own arguments and of one shared object. :func:`run_tasks` runs them

* one after the other in this process (``client='sync'``),
* on a local cluster of single-threaded worker processes (``client=None``, ``n_workers``),
* or on an existing cluster: a ``distributed.Client`` or a scheduler address. On an HPC
  machine, ``dask-jobqueue`` starts workers as batch jobs::

      from dask_jobqueue import SLURMCluster
      from distributed import Client
      cluster = SLURMCluster(cores=1, memory="2GB", walltime="01:00:00")
      cluster.scale(jobs=32)
      client = Client(cluster)      # pass it as client=, or cluster.scheduler_address to --scheduler

Results come back in the order of the tasks, whatever order they finish in, so a run is identical
with one worker, several, or none, provided each task seeds its own random numbers.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence


def dask_client(scheduler: str | None = None, n_workers: int | None = None):
    """A ``distributed.Client``: connected to ``scheduler`` (address) if given, else to a new local cluster of
    ``n_workers`` single-threaded worker processes (default: the number of cores). Close it when done."""
    from distributed import Client

    if scheduler:
        return Client(scheduler)
    n = int(n_workers or os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"n_workers must be a positive number of worker processes, not {n_workers!r}.")
    # a client that starts its own local cluster also shuts it down on close()
    return Client(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                  silence_logs=logging.ERROR)


def run_tasks(function, tasks: Sequence, *, shared=None, client=None, n_workers: int | None = None,
              progress: bool = True, desc: str = "tasks", on_result=None) -> list:
    """Run ``function(shared, task)`` for every task through Dask; results in the order of ``tasks``.

    client : a ``distributed.Client`` (any cluster), a scheduler address ('tcp://host:8786'), or
        None for a local cluster of ``n_workers`` single-threaded worker processes (default: the
        number of cores). ``client='sync'`` runs the tasks here, one after the other, without Dask.
    shared : an object every task needs (sent to each worker once).
    on_result : called as ``on_result(index, result)`` as each task finishes (e.g. to cache it).
    """
    tasks = list(tasks)
    if not tasks:
        return []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="task", disable=not progress)
    if isinstance(client, str) and client == "sync":
        out = []
        for k, t in enumerate(tasks):
            out.append(function(shared, t))
            if on_result is not None:
                on_result(k, out[-1])
            bar.update(1)
        bar.close()
        return out
    from distributed import as_completed

    own = None
    if client is None or isinstance(client, str):
        own = client = dask_client(client, n_workers)
    try:
        shared_f = client.scatter(shared, broadcast=True) if shared is not None else None
        futures = [client.submit(function, shared_f, t, pure=False) for t in tasks]
        index = {f.key: k for k, f in enumerate(futures)}
        out = [None] * len(tasks)
        for fut in as_completed(futures):
            k = index[fut.key]
            out[k] = fut.result()
            if on_result is not None:
                on_result(k, out[k])
            bar.update(1)
        return out
    finally:
        bar.close()
        if own is not None:
            own.close()


__all__ = ["dask_client", "run_tasks"]
