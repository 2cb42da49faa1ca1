"""PairGP for elements of a periodic-table row it never saw: train on the 3d elements only, predict every 4d pair.

No 4d element is in training, so nothing fixes the 4d row of the Anderson moment model: PairGP gives
those elements no moment and no similarity to any seen element, flags their pairs ``beyond_data`` and
widens σ to at least the spread of the training couplings at that geometry (before, the moment model
took the middle of its u grid and invented Ru 3.7, Rh 2.6, Pd 1.3 μB, and PairGP predicted up to
13 meV for pairs with a non-magnetic 4d impurity).

Usage::

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/unseen_row.py [--selections element,distance,pairs]

Prints, per inner selection, the MAE (meV) of the 4d-4d, 3d-4d and all 4d pairs next to predicting 0
and the training mean, the largest |prediction|, the fraction of pairs within ±1σ, ±2σ and ±J_95,
and the fraction flagged ``beyond_data``. A benchmark, not a test: a few seconds per selection.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", default="element,distance,pairs", help="inner selections of PairGP")
    args = parser.parse_args(argv)
    from jijtutorial.datasets import load_jukkr
    from jijtutorial.elements import row
    from jijtutorial.kernels import PairGP

    d = load_jukkr()
    r_i, r_j = d.element_i.map(row).to_numpy(), d.element_j.map(row).to_numpy()
    train, test = d[(r_i == 3) & (r_j == 3)], d[(r_i == 4) | (r_j == 4)]
    y = test["J"].to_numpy()
    groups = {"4d-4d": (r_i[(r_i == 4) | (r_j == 4)] == 4) & (r_j[(r_i == 4) | (r_j == 4)] == 4)}
    groups["3d-4d"] = ~groups["4d-4d"]
    groups["all 4d pairs"] = np.ones(len(test), bool)
    print(f"JuKKR table: train on {len(train)} 3d-3d pairs, predict {len(test)} pairs with a 4d element\n")
    for sel in [s.strip() for s in args.selections.split(",")]:
        t0 = time.perf_counter()
        model = PairGP(selection=sel).fit(train, train["J"].to_numpy())
        mu, sd, beyond = model.predict(test, return_std=True, return_beyond=True)
        e = np.abs(y - mu)
        print(f"selection={sel} ({time.perf_counter() - t0:.1f} s; {model.params_})")
        for name, m in groups.items():
            print(
                f"  {name:12s} n={m.sum():4d}  MAE {e[m].mean():.3f} meV (predict 0: {np.abs(y[m]).mean():.3f}, "
                f"training mean: {np.abs(y[m] - train['J'].mean()).mean():.3f})  max|J_pred| {np.abs(mu[m]).max():.2f}"
                f"  within ±1σ {np.mean(e[m] <= sd[m]):.3f}, ±2σ {np.mean(e[m] <= 2 * sd[m]):.3f}, ±J_95 "
                f"{np.mean(e[m] <= model.interval95_ * sd[m]):.3f}  beyond_data {np.mean(beyond[m]):.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
