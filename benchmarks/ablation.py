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

import sys
import time

from _steps import parse_arguments, run_steps

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
    args = parse_arguments(__doc__.splitlines()[0], argv)

    import pandas as pd

    rungs, wide, label, t0 = run_steps(STEPS, args, "Ablation")
    cal = pd.concat([r.calibration for r in rungs], ignore_index=True)
    if len(cal):
        cal["model"] = cal["model"].map(label)
        print("\nError bars: fraction of test pairs within ±1σ, ±2σ and ±J_95 (goal 0.683, 0.954, 0.95)\n")
        print(
            cal.pivot(index="model", columns="protocol", values=["within_1sigma", "within_2sigma", "within_J95"])
            .reindex([s for s, _ in STEPS if s in set(cal["model"])])
            .round(3)
            .to_string()
        )
    if args.out:
        wide.to_csv(args.out)
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
