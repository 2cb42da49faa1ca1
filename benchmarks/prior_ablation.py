"""Ablation of the engine prior: how the crystal engine enters the model, on every rung of the ladder.

Each row is a model of :func:`jijtutorial.benchmark.get_model`, run with the same nested closed-form
selection, splits and seeds as ``jijtutorial benchmark --protocol all``:

P0  PairGP (no prior)
P1  Engine-scaled: the engine alone, a(g) J_eng with a(g) fitted per geometry on the training rows
P2  fixed mean function: PairGP of J − J_eng (a = 1)
P3  Δ-learning with one scale for all geometries
P4  Δ-learning with a scale per geometry
P5  stacking: w_GP PairGP(J) + w_eng a(g) J_eng, weights from the inner cross-validation
P6  P4 for an unseen distance, P5 otherwise = PairGP+engine
and, for the error bars, P6 with PairGP's own σ (no tail terms).

Usage::

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/prior_ablation.py [--dataset jukkr]
        [--protocols study,pairs,element,distance] [--jobs 2] [--out prior_ablation.csv]

Prints MAE (meV) and R² per rung, the coverage of ±1σ and ±2σ per rung, and per rung the lowest
±1σ coverage of any subgroup (magnetism of the pair, shell, element;
:func:`jijtutorial.benchmark.subgroup_calibration`). On the package's model data set the engine
table *is* the data: there the prior rows show what a perfect prior does, not a result. A
benchmark, not a test: it takes several minutes.
"""

from __future__ import annotations

import sys
import time

from _steps import parse_arguments, run_steps

STEPS = [
    ("P0 PairGP (no prior)", "PairGP"),
    ("P1 engine alone, scaled per geometry", "Engine-scaled"),
    ("P2 fixed mean function (a = 1)", "PairGP+engine[mode=delta;scale=none]"),
    ("P3 Δ-learning, one scale", "PairGP+engine[mode=delta;scale=global]"),
    ("P4 Δ-learning, scale per geometry", "PairGP+engine[mode=delta]"),
    ("P5 stacking", "PairGP+engine[mode=stack]"),
    ("P6 P4 on distance, else P5 = PairGP+engine", "PairGP+engine"),
    ("P6 with PairGP's own σ", "PairGP+engine[tails=gp]"),
]


def main(argv=None) -> int:
    args = parse_arguments(__doc__.splitlines()[0], argv)

    import pandas as pd

    from jijtutorial.benchmark import subgroup_calibration, worst_subgroups

    rungs, wide, label, t0 = run_steps(STEPS, args, "Engine-prior ablation")
    sub = pd.concat([subgroup_calibration(r) for r in rungs], ignore_index=True)
    worst = worst_subgroups(sub)
    worst["model"] = worst["model"].map(label)
    print(
        "\nError bars: fraction of test pairs within ±1σ and ±2σ (goal 0.683 and 0.954), and the lowest ±1σ "
        "coverage of any subgroup (goal ≥ 0.5)\n"
    )
    print(worst.round(3).to_string(index=False))
    if args.out:
        wide.to_csv(args.out)
        sub.to_csv(str(args.out).replace(".csv", "") + "-subgroups.csv", index=False)
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
