"""What the ablation scripts share: their arguments, the run of a list of steps on the ladder, and its MAE/R² table.

A step is ``(label, model name)``; the models are those of :func:`jijtutorial.benchmark.get_model`,
run with the same nested closed-form selection, splits and seeds as ``jijtutorial benchmark``.
"""

from __future__ import annotations

import argparse
import sys
import time


def parse_arguments(description: str, argv=None) -> argparse.Namespace:
    """``--dataset``, ``--protocols``, ``--jobs`` and ``--out`` of an ablation script."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", default="auto", choices=("auto", "jukkr", "model"))
    parser.add_argument("--protocols", default="study,pairs,element,distance")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--out", default=None, help="CSV file for the table (optional)")
    return parser.parse_args(argv)


def run_steps(steps, args, title: str):
    """Run every step's model on the protocols of ``args`` and print the MAE/R² table (rows labelled by step).

    Returns ``(rungs, wide, label, t0)``: the :class:`BenchmarkResult` of each protocol, the printed
    table, model name -> step label, and the start time (``time.perf_counter``).
    """
    import pandas as pd

    from jijtutorial.benchmark import ladder_table, run_benchmark, run_ladder

    protocols = [p.strip() for p in args.protocols.split(",")]
    t0 = time.perf_counter()
    run = run_ladder if len(protocols) > 1 else run_benchmark
    res = run(
        args.dataset,
        protocols if len(protocols) > 1 else protocols[0],
        [m for _, m in steps],
        n_jobs=args.jobs,
        progress=sys.stderr.isatty(),
        test_size=0.0,
    )
    rungs = list(res.rungs.values()) if hasattr(res, "rungs") else [res]
    wide = ladder_table(rungs)
    label = {m: s for s, m in steps}
    wide.index = [label[m] for m in wide.index]
    pd.set_option("display.width", 250)
    print(
        f"{title} on the {rungs[0].dataset} data (MAE in meV, R²; study and pairs: mean over folds, "
        "element and distance: pooled)\n"
    )
    print(wide.round(3).to_string())
    return rungs, wide, label, t0
