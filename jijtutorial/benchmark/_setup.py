"""The set-up every benchmark run shares: data, protocol groups, outer splits, prepared models, threads.

Every run -- the benchmark table, the learning curves, the plain scikit-learn reference -- starts the
same way (:func:`setup`): resolve the data, label the groups of the protocol, draw the outer splits,
and prepare each model's fold interface once (:func:`prepared_models`) with single-threaded BLAS
(:func:`single_threaded_blas`), while the folds run in threads (:func:`map_threads`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..protocols import Protocol, get_protocol
from ._registry import get_model


# --------------------------------------------------------------------------------------------
# threads, BLAS, progress
# --------------------------------------------------------------------------------------------
def default_jobs(n_jobs: int | None = None) -> int:
    """Threads for the folds: ``n_jobs``, or the number of CPUs (at most 4)."""
    if n_jobs is None:
        n_jobs = min(4, os.cpu_count() or 1)
    return max(1, int(n_jobs))


def single_threaded_blas():
    """Context limiting BLAS/OpenMP to one thread (folds are parallel instead).

    Single-threaded BLAS per fold is much faster than threaded BLAS on a busy 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def map_threads(fn, items, n_jobs: int, bar=None):
    """``map(fn, items)`` in ``n_jobs`` threads (numpy/LAPACK release the GIL), results in order."""
    if n_jobs <= 1 or len(items) <= 1:
        for it in items:
            out = fn(it)
            if bar is not None:
                bar.update()
            yield out
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        futures = [pool.submit(fn, it) for it in items]
        try:
            for fut in futures:
                out = fut.result()
                if bar is not None:
                    bar.update()
                yield out
        except BaseException:  # Ctrl-C, an error, or the caller stopped: do not run the folds still queued
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar (notebook-aware), or a silent one."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, leave=False)


def r2_score(y, p) -> float:
    """Coefficient of determination of predictions ``p`` of ``y`` (NaN if ``y`` is constant)."""
    ss = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / ss if ss > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# the set-up shared by every run
# --------------------------------------------------------------------------------------------
def resolve_frame(dataset="auto", path=None) -> pd.DataFrame:
    """``dataset`` itself if a DataFrame, else :func:`jijtutorial.datasets.load_dataset` of that name."""
    from ..datasets import load_dataset

    if isinstance(dataset, pd.DataFrame):
        return dataset.reset_index(drop=True)
    return load_dataset(dataset, path)


@dataclass
class Setup:
    """Data, targets, protocol groups and outer splits of a run.

    ``protocol`` is the name asked for (``'grouped'`` stays ``'grouped'``), ``rung`` the record of the
    rung it runs (:class:`jijtutorial.protocols.Protocol`) and ``kind`` its name; ``labels`` says what
    each split holds out (the element or the geometry of a leave-one-out fold; ``''`` for random and
    grouped folds).
    """

    frame: pd.DataFrame
    name: str
    protocol: str
    y: np.ndarray
    groups: np.ndarray | None
    splits: list
    kind: str = ""
    labels: list = field(default_factory=list)

    def __post_init__(self):
        self.kind = self.kind or get_protocol(self.protocol).name
        if not self.labels:
            self.labels = [""] * len(self.splits)

    @property
    def rung(self) -> Protocol:
        return get_protocol(self.kind)

    def inner_groups(self, train_idx):
        """How the inner selection leaves out the training rows: None (leave-one-out), one group label per
        row, or :class:`~jijtutorial.protocols.InnerBlocks` (:meth:`Protocol.inner_blocks`)."""
        return self.rung.inner_blocks(self.frame, train_idx)


def setup(dataset, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0, data_path=None) -> Setup:
    """Resolve the data and draw the outer splits of ``protocol`` (:meth:`Protocol.outer_splits`)."""
    rung = get_protocol(protocol)
    frame = resolve_frame(dataset, data_path)
    name = frame.attrs.get("name", "custom") if not isinstance(dataset, str) else frame.attrs.get("name", dataset)
    splits = rung.outer_splits(frame, n_splits, n_repeats, seed)
    labels = rung.fold_labels(frame) if rung.leave_one_out else None
    return Setup(frame, name, protocol, frame["J"].to_numpy(float), rung.groups(frame), splits, rung.name, labels or [])


def prepared_models(models, frame: pd.DataFrame, cache=True, shared_fits=None):
    """``(spec, fold_model, seconds)`` for each model name, its fold interface prepared on ``frame``.

    Models on the same descriptor share its Gram and distance matrices; ``seconds`` is the time
    spent preparing (featurisation, matrices). ``shared_fits``: a :class:`._folds.SharedFits` the
    models share fold fits through (PairGP and the stacked PairGP+engine), None: none shared.
    """
    stores: dict[str, dict] = {}
    for name in models:
        spec = get_model(name)
        t0 = time.perf_counter()
        desc = spec.make_descriptor(cache)
        store = stores.setdefault(repr(desc), {}) if desc is not None else None
        model = spec.fold_model(cache, store)
        model.shared_fits = shared_fits
        model = model.prepare(frame)
        yield spec, model, time.perf_counter() - t0
