"""Speed of the model data set (crystal engine): whole generation, host Green function, single impurities, one pair.

    python benchmarks/model_data_speed.py [--n-jobs 2] [--kmesh 12]

Prints wall-clock and CPU times and the load average; writes nothing (the data set goes to a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from jijtutorial import greens, model_data


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--kmesh", type=int, default=model_data.DEFAULTS["kmesh"])
    args = parser.parse_args(argv)
    load0 = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        csv, _ = model_data.write_model_data(tmp, kmesh=args.kmesh, n_jobs=args.n_jobs, progress=False)
        total = time.perf_counter() - t0
        n_rows = sum(1 for _ in open(csv)) - 1
    print(
        f"whole data set: {n_rows} rows (400 ordered element pairs × {n_rows // 400} geometries) in {total:.1f} s "
        f"with n_jobs={args.n_jobs}"
    )

    t0, c0 = time.perf_counter(), time.process_time()
    engine = greens.CrystalEngine(model_data.engine_settings(kmesh=args.kmesh))
    print(
        f"host model and eigenvectors on {args.kmesh}³ k-points: {time.perf_counter() - t0:.2f} s wall, "
        f"{time.process_time() - c0:.2f} s CPU"
    )
    geos = greens.pair_geometries(model_data.DEFAULTS["max_distance"])
    t0, c0 = time.perf_counter(), time.process_time()
    engine.prepare([g["vector"] for g in geos])
    print(
        f"host Green function blocks for {len(geos)} geometries, {len(engine.contour)} poles: "
        f"{time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
    )
    t0 = time.perf_counter()
    for s in ("Cr", "Mn", "Mo"):
        engine.impurity(s)
    print(f"one impurity's self-consistent moment: {(time.perf_counter() - t0) / 3:.2f} s")
    v = geos[0]["vector"]
    engine.cluster(v)
    for a, b, label in (("Cr", "Mn", "two magnetic impurities"), ("Cr", "Zr", "magnetic + induced moment")):
        engine.impurity(b)
        n = 20
        t0 = time.perf_counter()
        for _ in range(n):
            engine.pair(a, b, v)
        print(f"one pair ({label}), full tensor: {1e3 * (time.perf_counter() - t0) / n:.1f} ms")
    print(f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end ({os.cpu_count()} cores); numpy {np.__version__}")


if __name__ == "__main__":
    main()
