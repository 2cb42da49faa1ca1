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


class LazyClient:
    """A Dask client that connects (or starts its local cluster) only when a task has to run.

    Pass it as ``client=`` wherever a ``distributed.Client`` goes (:func:`run_tasks` and the sweeps
    that use it). A chapter whose sweeps are all cached then never pays for starting workers.
    ``close()`` closes the client if it was started.
    """

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None):
        self.scheduler, self.n_workers = scheduler, _check_workers(n_workers)
        self._client = None

    @property
    def started(self) -> bool:
        return self._client is not None

    def get(self):
        """The ``distributed.Client``, started on first use."""
        if self._client is None:
            self._client = dask_client(self.scheduler, self.n_workers)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            close_client(client)

    def __repr__(self) -> str:
        where = self.scheduler or f"a local cluster of {self.n_workers} workers"
        return f"LazyClient({where}, {'started' if self.started else 'not started yet'})"


def _check_workers(n_workers) -> int:
    """``n_workers`` as a positive int; None means the number of cores. 0 is an error, not "all cores"."""
    if n_workers is None:
        return os.cpu_count() or 1
    try:
        n = int(n_workers)
    except (TypeError, ValueError):
        raise ValueError(f"n_workers must be a positive number of worker processes, not {n_workers!r}.") from None
    if n < 1 or n != n_workers:
        raise ValueError(
            f"n_workers must be a positive number of worker processes (or None for one per core), not {n_workers!r}."
        )
    return n


#: Seconds to wait for a Dask scheduler to accept a connection and to answer.
CONNECT_TIMEOUT = 5.0


def check_scheduler(address: str) -> None:
    """Raise ``ConnectionError`` at once if nothing listens at the TCP ``address`` of a Dask scheduler.

    Without this, a refused connection is retried for the whole of distributed's connect timeout
    (30 s by default) before failing. Addresses of other protocols (tls://, ucx://, inproc://) are
    left to ``distributed``.
    """
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, loc = parse_address(str(address))
        if protocol != "tcp":
            return
        host, port = parse_host_port(loc, default_port=8786)
    except (ValueError, TypeError):
        raise ValueError(
            f"scheduler {address!r} is not a scheduler address; give tcp://host:port (e.g. tcp://127.0.0.1:8786)."
        ) from None
    if not port:
        raise ValueError(f"scheduler {address!r} has no port; give tcp://host:port (e.g. tcp://127.0.0.1:8786).")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConnectionError(
            f"no Dask scheduler answers at {address} ({reason}). Start one (`dask scheduler`) and "
            f"give its address, or leave the scheduler out to use a local cluster."
        ) from None


def dask_client(scheduler: str | None = None, n_workers: int | None = None, *, lazy: bool = False):
    """A ``distributed.Client``: connected to ``scheduler`` (address) if given, else to a new local cluster of
    ``n_workers`` single-threaded worker processes (default: the number of cores). Close it when done.

    ``lazy=True`` returns a :class:`LazyClient` instead, which connects or starts the cluster only
    when a task has to run."""
    if lazy:
        return LazyClient(scheduler, n_workers)
    from distributed import Client

    if scheduler:
        check_scheduler(scheduler)
        return Client(scheduler, timeout=max(CONNECT_TIMEOUT, 10.0))
    n = _check_workers(n_workers)
    # a client that starts its own local cluster also shuts it down on close()
    return Client(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR)


def run_tasks(
    function,
    tasks: Sequence,
    *,
    shared=None,
    client=None,
    n_workers: int | None = None,
    progress: bool = True,
    desc: str = "tasks",
    on_result=None,
) -> list:
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
    if isinstance(client, LazyClient):
        client = client.get()
    elif client is None or isinstance(client, str):
        own = client = dask_client(client, n_workers)
    try:
        # hash=False: a key of its own, so a run right after another with equal data does not lose it when
        # the earlier run releases its copy
        shared_f = client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
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
            close_client(own)


def close_client(client, timeout: float = 10.0) -> None:
    """Close ``client`` and the local cluster it started, promptly, whatever interrupts it.

    Ctrl-C during the close is held back until the close is done (a second Ctrl-C stops waiting), and
    then raised as ``KeyboardInterrupt``: a close cut short leaves worker processes and a client whose
    own clean-up at exit waits a minute and prints tracebacks. If the close does not finish within
    ``timeout`` seconds the local cluster's worker processes (and only those) are killed.
    """
    import signal
    import threading

    pids = _local_worker_pids(client)
    hits: list = []
    main = threading.current_thread() is threading.main_thread()
    if main:

        def hold(signum, frame):
            hits.append(signum)
            if len(hits) > 1:
                raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, hold)
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a cut-short close logs CancelledError tracebacks: the user pressed Ctrl-C
    try:
        try:
            client.close(timeout=timeout)
        except Exception:  # noqa: BLE001 - TimeoutError, CancelledError, comm errors: fall back to killing
            _abandon(client, pids)
        except KeyboardInterrupt:  # a second Ctrl-C
            _abandon(client, pids)
            raise
    finally:
        quiet.setLevel(level)
        if main:
            signal.signal(signal.SIGINT, previous)
    if hits:
        raise KeyboardInterrupt


def _local_worker_pids(client) -> list[int]:
    """Process ids of the worker processes of the local cluster ``client`` started (empty for a remote one)."""
    cluster = getattr(client, "cluster", None)
    pids = []
    for nanny in (getattr(cluster, "workers", None) or {}).values():
        proc = getattr(getattr(nanny, "process", None), "process", None)
        pid = getattr(proc, "pid", None)
        if pid:
            pids.append(int(pid))
    return pids


def _abandon(client, pids) -> None:
    """Kill the local workers ``pids`` and mark ``client`` closed, so that nothing waits for them at exit."""
    import signal

    for pid in pids:
        try:
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        except OSError:  # gone already
            pass
    try:
        client.status = "closed"  # else Client.__del__ retries the close and waits a minute
        client._loop_runner.stop()
    except Exception:  # noqa: BLE001 - best effort on distributed's internals
        pass


__all__ = [
    "check_scheduler",
    "dask_client",
    "run_tasks",
]
