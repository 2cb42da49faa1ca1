"""Speed of the model data set: whole generation, host Green function, and one pair once G0 is known.

    python benchmarks/model_data_speed.py [--n-jobs 2] [--kmesh 24]

Prints wall-clock times; writes nothing (the data set goes to a temporary folder).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from jijtutorial import greens, model_data


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--kmesh", type=int, default=model_data.DEFAULTS["kmesh"])
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        csv, _ = model_data.write_model_data(tmp, kmesh=args.kmesh, n_jobs=args.n_jobs, progress=False)
        total = time.perf_counter() - t0
        n_rows = sum(1 for _ in open(csv)) - 1
    print(f"whole data set ({greens.DEFAULT_IMPURITY_MODEL} impurities): {n_rows} rows (400 ordered element pairs) "
          f"in {total:.1f} s with n_jobs={args.n_jobs}")

    t0 = time.perf_counter()
    model, host, vecs, blocks, _ = model_data._setup(args.kmesh, model_data.DEFAULTS["n_points"], None,
                                                     model_data.DEFAULTS["max_distance"], model_data.DEFAULTS["margin"])
    t_host = time.perf_counter() - t0
    print(f"host G0 for {2 * len(vecs) + 1} vectors, {host.n_k} k-points, {len(host.contour)} energies: {t_host:.2f} s")

    g00, gij, gji = blocks
    P = greens.upper_bi_projector()
    for impurity_model in greens.IMPURITY_MODELS:
        fe = greens.impurity_on_contour("Fe", host.contour, impurity_model)
        for label, sl in (("one vector", slice(0, 1)), (f"all {len(vecs)} vectors", slice(None))):
            n = 20
            t0 = time.perf_counter()
            for _ in range(n):
                greens.exchange_tensor(g00, gij[:, sl], gji[:, sl], host.contour, fe, fe, projector=P)
            dt = (time.perf_counter() - t0) / n
            print(f"{impurity_model} impurities, one element pair, {label}, full tensor (3 references): {1e3 * dt:.2f} ms")
    print(f"(numpy {np.__version__})")


if __name__ == "__main__":
    main()
