"""Reusing benchmark runs: a run is stored on disk under a key of its data, settings and code."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from ..protocols import LADDER, check_protocols
from ._registry import ALPHAS, GAMMAS, OUR_GRID
from ._results import BenchmarkResult, LadderResult
from ._runner import default_models, run_benchmark

#: The code a stored run depends on: the runner and everything it imports, less the modules that only
#: present results (reports, figures, page tables), whose edits cannot change a stored run.
RUN_CODE = ("jijtutorial.benchmark._runner",)
PRESENTATION = ("jijtutorial.benchmark._report", "jijtutorial.benchmark._plots", "jijtutorial.plotting", "jijtutorial.tables")


def frame_digest(frame: pd.DataFrame) -> str:
    """16 hex digits identifying a pair table's elements, vectors, J and moments."""
    cols = [c for c in ("element_i", "element_j", "rx", "ry", "rz", "J", "moment_i", "moment_j") if c in frame.columns]
    h = hashlib.sha256(pd.util.hash_pandas_object(frame[cols].round(10), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def cached_benchmark(frame: pd.DataFrame, protocol="study", models=None, **kwargs) -> BenchmarkResult:
    """:func:`run_benchmark` of one protocol, reusing an earlier identical run from the cache folder.

    The key is the data (elements, vectors, J, moments), the protocol(s), models, CV settings, the
    grids and the code the run depends on (:data:`RUN_CODE` and what it imports, less the
    presentation modules :data:`PRESENTATION`); the result is pickled to
    ``$JIJTUTORIAL_CACHE_DIR/benchmark-<key>.pkl`` (chapters "Kernel ridge benchmark" and "Results"
    share runs this way). A damaged file, or one holding anything but this run, is reported with a
    :class:`jijtutorial.featurecache.CacheWarning` and recomputed. Several protocols: :func:`cached_ladder`.
    """
    from .. import __version__
    from ..featurecache import cache_dir, code_digest, load_cached_object, save_cached_object

    if not isinstance(protocol, str) or protocol == "all":
        raise ValueError(f"cached_benchmark stores one protocol's run; for {protocol!r} use cached_ladder.")
    check_protocols(protocol)
    settings = {k: v for k, v in kwargs.items() if k not in ("progress", "out", "plots", "cache", "n_jobs")}
    key = hashlib.sha256(
        json.dumps(
            {
                "data": frame_digest(frame),
                "protocol": protocol,
                "models": list(models or default_models(protocol, kwargs.get("target", "J"))),
                "settings": settings,
                "grids": [GAMMAS, ALPHAS, OUR_GRID],
                "version": __version__,
                "source": code_digest(*RUN_CODE, exclude=PRESENTATION),
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:20]
    path = cache_dir() / f"benchmark-{key}.pkl"
    result = load_cached_object(path, key=key, expected_type=BenchmarkResult)
    if result is None:  # a miss, or an unusable file (warned about): compute and replace atomically
        result = run_benchmark(frame, protocol, models, **kwargs)
        save_cached_object(path, result, key=key)
    return result


def merge_results(*results, protocol: str | None = None) -> BenchmarkResult:
    """One :class:`BenchmarkResult` of several runs of one protocol on the same data, each with other models.

    Tables, folds, predictions and calibration are concatenated in the order given; ``protocol``
    renames the merged run (e.g. ``'grouped'`` -> ``'pairs'``); ``seconds`` is the sum.
    """
    if not results:
        raise ValueError("merge_results: give at least one BenchmarkResult.")
    first = results[0]
    kinds = {r.kind for r in results}
    if len(kinds) > 1:
        raise ValueError(f"merge_results: the runs are of different protocols ({', '.join(sorted(kinds))}).")
    models = [m for r in results for m in r.table["model"]]
    if len(set(models)) < len(models):
        raise ValueError(f"merge_results: a model appears in two runs ({models}).")
    name = protocol or first.protocol

    def cat(attr):
        parts = [getattr(r, attr) for r in results if len(getattr(r, attr))]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    table = cat("table").assign(protocol=name)
    calibration = cat("calibration")
    if len(calibration):
        calibration["protocol"] = name
    config = dict(first.config, protocol=name, models=models, seconds=sum(r.seconds for r in results))
    return BenchmarkResult(
        protocol=name,
        dataset=first.dataset,
        table=table,
        folds=cat("folds"),
        predictions=cat("predictions"),
        test_predictions=cat("test_predictions"),
        frame=first.frame,
        config=config,
        seconds=sum(r.seconds for r in results),
        calibration=calibration,
    )


#: The rungs whose runs chapter 6 computes under these names (the same cached runs serve both chapters).
CHAPTER_6_RUNS = {"study": "study", "pairs": "grouped"}


def cached_ladder(frame: pd.DataFrame, models=None, **kwargs) -> LadderResult:
    """The ladder (every model on every rung) from cached runs, shared with chapter 6 where possible.

    The ``study`` and ``pairs`` rungs of the models in :data:`DEFAULT_MODELS` are the runs
    ``cached_benchmark(frame, 'study' | 'grouped', **kwargs)`` of chapter 6 (the same key: computed
    once for both chapters, :data:`CHAPTER_6_RUNS`); the other models on those rungs, and every model
    on every other rung of :data:`jijtutorial.protocols.LADDER`, are further cached runs. ``kwargs`` as
    :func:`run_benchmark` (``n_repeats``, ``seed``, ``progress`` ...).
    """
    from ._registry import DEFAULT_MODELS, LADDER_MODELS

    models = list(models or LADDER_MODELS)
    rungs = {}
    for rung in LADDER:
        shared = CHAPTER_6_RUNS.get(rung.name)
        if shared is None:  # a rung of its own
            rungs[rung.name] = cached_benchmark(frame, rung.name, models, **kwargs)
            continue
        parts = []
        common = [m for m in models if m in DEFAULT_MODELS]
        if common:
            run = cached_benchmark(frame, shared, None if common == list(DEFAULT_MODELS) else common, **kwargs)
            parts.append(run)
        extra = [m for m in models if m not in DEFAULT_MODELS]
        if extra:
            parts.append(cached_benchmark(frame, shared, extra, **kwargs))
        merged = merge_results(*parts, protocol=rung.name)
        order = {m: k for k, m in enumerate(models)}
        merged.table = merged.table.sort_values("model", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
        rungs[rung.name] = merged
    prep = {}
    for r in rungs.values():
        prep.update(r.config.get("prepare_seconds", {}))
    # the time the runs took when they were computed (loading them from the cache takes far less)
    return LadderResult(rungs, prep, sum(r.seconds for r in rungs.values()))


def cached_learning_curve(frame: pd.DataFrame, models, protocol: str = "pairs", **kwargs) -> pd.DataFrame:
    """:func:`jijtutorial.benchmark.learning_curve`, reusing an earlier identical run (keyed like :func:`cached_benchmark`)."""
    from .. import __version__
    from ..featurecache import cache_dir, code_digest, load_cached_object, save_cached_object
    from ._curves import learning_curve

    settings = {k: v for k, v in kwargs.items() if k not in ("progress", "cache", "n_jobs")}
    key = hashlib.sha256(
        json.dumps(
            {
                "data": frame_digest(frame),
                "protocol": protocol,
                "models": list(models),
                "settings": settings,
                "grids": [GAMMAS, ALPHAS, OUR_GRID],
                "version": __version__,
                "source": code_digest("jijtutorial.benchmark._curves", exclude=PRESENTATION),
                "what": "learning curve",
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:20]
    path = cache_dir() / f"learning-curve-{key}.pkl"
    result = load_cached_object(path, key=key, expected_type=pd.DataFrame)
    if result is None:
        result = learning_curve(frame, models, protocol, **kwargs)
        save_cached_object(path, result, key=key)
    return result
