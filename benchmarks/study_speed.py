"""Time the whole study table: our shared-work kernel ridge vs a plain scikit-learn GridSearchCV.

Both runs, in this one process, start from an empty feature cache (featurisation included),
use the same outer 5-fold x 3-repeat splits, the same (gamma, alpha) grids and the same
number of worker threads with single-threaded BLAS:

* ours (:func:`jijtutorial.benchmark.run_benchmark`): descriptor once per model, N x N
  distance matrix once, per fold one Cholesky factor per grid cell and exact closed-form
  leave-one-out selection, no refit;
* plain (:func:`jijtutorial.benchmark.sklearn_reference`): ``GridSearchCV(Pipeline(descriptor,
  DistanceScaler, KernelRidge), cv=5)`` in each outer training fold (9 cells x 5 inner fits +
  1 refit per fold).

Usage::

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/study_speed.py [--dataset jukkr]
        [--protocol study] [--repeats 3] [--jobs 2] [--skip-sklearn]

Prints the time of each, the ratio, and MAE/R² per model. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="auto", choices=("auto", "jukkr", "model"))
    parser.add_argument("--protocol", default="study", choices=("study", "grouped"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="worker threads (default: CPUs, at most 4)")
    parser.add_argument("--skip-sklearn", action="store_true", help="time only our implementation")
    args = parser.parse_args(argv)

    # a private, empty disk cache: featurisation is part of both timings
    os.environ["JIJTUTORIAL_CACHE_DIR"] = tempfile.mkdtemp(prefix="jij-speed-")
    import pandas as pd

    from jijtutorial import featurecache
    from jijtutorial.benchmark import STUDY_MODELS, STUDY_RESULTS, run_benchmark, sklearn_reference

    pd.set_option("display.width", 200)
    featurecache.clear_memory_cache()
    t0 = time.perf_counter()
    ours = run_benchmark(
        args.dataset,
        args.protocol,
        STUDY_MODELS,
        n_repeats=args.repeats,
        test_size=0.0,
        cache="memory",
        n_jobs=args.jobs,
        progress=False,
    )
    t_ours = time.perf_counter() - t0
    print(
        f"data set: {ours.dataset} (N = {len(ours.frame)}), protocol {args.protocol}, "
        f"5-fold x {args.repeats}-repeat CV, {ours.config['n_jobs']} worker thread(s), cold feature cache"
    )
    print(f"ours   (shared distances, closed-form LOO, no refit): {t_ours:8.1f} s")
    table = ours.table[["model", "MAE", "R2", "t_train", "t_test", "t_prep"]].rename(
        columns={"MAE": "MAE ours", "R2": "R2 ours", "t_train": "t_train ours", "t_test": "t_test ours", "t_prep": "t_prep ours"}
    )
    if not args.skip_sklearn:
        featurecache.clear_memory_cache()
        t0 = time.perf_counter()
        plain = sklearn_reference(
            args.dataset, args.protocol, STUDY_MODELS, n_repeats=args.repeats, n_jobs=args.jobs, progress=False
        )
        t_plain = time.perf_counter() - t0
        print(f"plain  (GridSearchCV(Pipeline), inner 5-fold, refit): {t_plain:8.1f} s")
        print(f"ratio  plain / ours: {t_plain / t_ours:.1f}x")
        table = table.merge(
            plain[["model", "MAE", "R2", "t_train"]].rename(
                columns={"MAE": "MAE sklearn", "R2": "R2 sklearn", "t_train": "t_train sklearn"}
            ),
            on="model",
        )
    table["MAE study"] = [STUDY_RESULTS[m].MAE for m in table["model"]]
    table["R2 study"] = [STUDY_RESULTS[m].R2 for m in table["model"]]
    print()
    print(table.round(3).to_string(index=False))
    print("\nMAE in meV, times in s (t_train/t_test: mean per fold; t_prep: featurisation + distance matrix, once).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
