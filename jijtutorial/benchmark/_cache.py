"""Reusing benchmark runs: a run is stored on disk under a key of its data, settings and code."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from ._protocols import check_protocols
from ._registry import ALPHAS, GAMMAS, OUR_GRID
from ._runner import BenchmarkResult, LadderResult, default_models, run_benchmark


def frame_digest(frame: pd.DataFrame) -> str:
    """16 hex digits identifying a pair table's elements, vectors, J and moments."""
    cols = [c for c in ("element_i", "element_j", "rx", "ry", "rz", "J", "moment_i", "moment_j") if c in frame.columns]
    h = hashlib.sha256(pd.util.hash_pandas_object(frame[cols].round(10), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def cached_benchmark(frame: pd.DataFrame, protocol="study", models=None, **kwargs):
    """:func:`run_benchmark`, reusing an earlier identical run from the cache folder.

    The key is the data (elements, vectors, J, moments), the protocol(s), models, CV settings, the
    grids and the package source; the result is pickled to
    ``$JIJTUTORIAL_CACHE_DIR/benchmark-<key>.pkl`` (chapters "Kernel ridge benchmark" and "Results"
    share runs this way). A damaged file, or one holding anything but this run, is reported with a
    :class:`jijtutorial.featurecache.CacheWarning` and recomputed. ``protocol='all'`` (or a list)
    gives a :class:`LadderResult`.
    """
    from .. import __version__
    from ..featurecache import cache_dir, load_cached_object, save_cached_object, source_digest

    check_protocols(protocol)
    settings = {k: v for k, v in kwargs.items() if k not in ("progress", "out", "plots", "cache", "n_jobs")}
    key = hashlib.sha256(json.dumps({"data": frame_digest(frame), "protocol": protocol,
                                     "models": list(models or default_models(protocol)), "settings": settings,
                                     "grids": [GAMMAS, ALPHAS, OUR_GRID], "version": __version__,
                                     "source": source_digest()},
                                    sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = cache_dir() / f"benchmark-{key}.pkl"
    single = isinstance(protocol, str) and protocol != "all"
    result = load_cached_object(path, key=key, expected_type=BenchmarkResult if single else LadderResult)
    if result is None:  # a miss, or an unusable file (warned about): compute and replace atomically
        result = run_benchmark(frame, protocol, models, **kwargs)
        save_cached_object(path, result, key=key)
    return result
