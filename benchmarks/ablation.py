"""Ablation of PairGP: from SymPair-KRR to PairGP one change at a time, on every rung of the ladder.

Each step is a PairGP variant (``PairGP[key=value;...]``, see :func:`jijtutorial.benchmark.get_model`)
run with the same nested closed-form selection, splits and seeds as ``jijtutorial benchmark --protocol
all``:

A1  SymPair-KRR's kernel as a GP in PairGP's machinery: learned profiles, each geometry on its own,
    moment activity, an unseen element gets the median moment
A2  + the mean-field Anderson moment for an unseen element
A3  + activities learned from the couplings
A4  + the 'features' element kernel (periodic table only) in the grid
A5  + the 'smooth' geometry kernel (scale a(g), layer classes) in the grid
A6  + the mean coupling term (bias 0.3) = PairGP
and, for the error bars, A6 with σ from the marginal likelihood instead of the inner residuals.

Usage::

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/ablation.py [--dataset jukkr]
        [--protocols study,pairs,element,distance] [--jobs 2] [--out ablation.csv]

Prints the ablation table (MAE in meV and R² per rung, SymPair-KRR first) and the calibration of each
variant. A benchmark, not a test: it takes a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import time

A1 = "element_modes=profile;geometry_modes=independent;activity=moment;activity_floor=0;bias=0;unseen_moment=median"
STEPS = [
    ("SymPair-KRR", "SymPair-KRR"),
    ("A1 SymPair kernel as a GP", f"PairGP[{A1}]"),
    ("A2 + Anderson moment for an unseen element", f"PairGP[{A1.replace('median', 'anderson')}]"),
    ("A3 + activity learned from J", "PairGP[element_modes=profile;geometry_modes=independent;bias=0]"),
    ("A4 + periodic-table element kernel in the grid", "PairGP[geometry_modes=independent;bias=0]"),
    ("A5 + smooth geometry in the grid", "PairGP[bias=0]"),
    ("A6 + mean coupling (bias 0.3) = PairGP", "PairGP"),
    ("A6 with σ from the marginal likelihood", "PairGP[calibration=ml]"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="auto", choices=("auto", "jukkr", "model"))
    parser.add_argument("--protocols", default="study,pairs,element,distance")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--out", default=None, help="CSV file for the table (optional)")
    args = parser.parse_args(argv)

    import pandas as pd

    from jijtutorial.benchmark import ladder_table, run_benchmark, run_ladder

    protocols = [p.strip() for p in args.protocols.split(",")]
    names = [m for _, m in STEPS]
    t0 = time.perf_counter()
    run = run_ladder if len(protocols) > 1 else run_benchmark
    res = run(
        args.dataset,
        protocols if len(protocols) > 1 else protocols[0],
        names,
        n_jobs=args.jobs,
        progress=sys.stderr.isatty(),
        test_size=0.0,
    )
    rungs = res.rungs.values() if hasattr(res, "rungs") else [res]
    wide = ladder_table(list(rungs))
    label = dict((m, s) for s, m in STEPS)
    wide.index = [label[m] for m in wide.index]
    pd.set_option("display.width", 250)
    print(
        f"Ablation on the {next(iter(rungs)).dataset} data (MAE in meV, R²; study and pairs: mean over folds, "
        "element and distance: pooled)\n"
    )
    print(wide.round(3).to_string())
    cal = pd.concat([r.calibration for r in rungs], ignore_index=True)
    if len(cal):
        cal["model"] = cal["model"].map(label)
        print("\nError bars: fraction of test pairs within ±1σ, ±2σ and ±J_95 (goal 0.683, 0.954, 0.95)\n")
        print(
            cal.pivot(index="model", columns="protocol", values=["within_1sigma", "within_2sigma", "within_J95"])
            .reindex([label[m] for m in names if label[m] in set(cal["model"])])
            .round(3)
            .to_string()
        )
    if args.out:
        wide.to_csv(args.out)
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
