"""The crystal exchange engine against JuKKR: per-shell agreement and the time it takes.

    JIJTUTORIAL_DATA_DIR=/path/to/jukkr .venv/bin/python benchmarks/engine_vs_jukkr.py [--n-jobs 2] [--kmesh 12]

Computes the engine table (:func:`jijtutorial.greens.engine.exchange_table`) on every JuKKR pair
(1728) and, separately, every element pair on the Bi–Bi geometries within 13.2 Å that the JuKKR
table lacks, and prints

* per shell: Pearson and Spearman r of J, sign agreement for |J_JuKKR| > 0.1 meV, the median of
  |J_engine|/|J_JuKKR|, the moment MAE against mom1/mom2 (μB), the mean cosine of the D vectors
  (both |D| > 0.05 meV) — :func:`jijtutorial.greens.comparison.shell_agreement`;
* the goals of the engine (r ≥ 0.9 on each complete shell, sign ≥ 90 %, median |J| ratio within
  ×2, moment MAE ≤ 0.5 μB) and whether each is reached;
* wall and CPU times of each stage and the load average of the machine.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2, help="Dask worker processes (1: no Dask)")
    parser.add_argument("--kmesh", type=int, default=None, help="k-points per axis (default: the engine's)")
    parser.add_argument("--no-missing", action="store_true", help="skip the geometries the JuKKR table lacks")
    parser.add_argument("--save", default=None, help="write the engine table on the JuKKR pairs to this CSV")
    args = parser.parse_args(argv)

    import pandas as pd

    from jijtutorial.datasets import load_jukkr
    from jijtutorial.greens.bi_pairs import pair_geometries
    from jijtutorial.greens.comparison import COMPLETE_SHELLS, match_frames, shell_agreement
    from jijtutorial.greens.engine import CrystalEngine, EngineSettings, exchange_table

    times = {}
    load0 = os.getloadavg()
    jk = load_jukkr()
    t0, c0 = time.perf_counter(), time.process_time()
    settings = EngineSettings() if args.kmesh is None else EngineSettings(kmesh=args.kmesh)
    engine = CrystalEngine(settings)
    geos = pair_geometries(13.2, settings.host)
    times["host model + eigenvectors"] = (time.perf_counter() - t0, time.process_time() - c0)

    # the JuKKR pairs: (element_i, element_j, geometry index) for each unique row
    index = {tuple(np.round(g["vector"], 2)): k for k, g in enumerate(geos)}
    keys = [tuple(np.round(v, 2)) for v in jk[["rx", "ry", "rz"]].to_numpy(float)]
    missing = [k for k in set(keys) if k not in index]
    if missing:
        raise SystemExit(f"JuKKR vectors without an engine geometry: {missing}")
    pairs = sorted({(a, b, index[k]) for a, b, k in zip(jk.element_i, jk.element_j, keys)}, key=lambda p: (p[2], p[0], p[1]))
    t0, c0 = time.perf_counter(), time.process_time()
    table = exchange_table(engine, geometries=geos, pairs=pairs, n_jobs=args.n_jobs, progress=False)
    times[f"JuKKR pairs ({len(pairs)})"] = (time.perf_counter() - t0, time.process_time() - c0)
    if args.save:
        table.to_csv(args.save, index=False)
    if not args.no_missing:
        extra = [
            (a, b, k)
            for k, g in enumerate(geos)
            if not g["jukkr"]
            for a in sorted(set(jk.element_i))
            for b in sorted(set(jk.element_i))
        ]
        t0, c0 = time.perf_counter(), time.process_time()
        more = exchange_table(engine, geometries=geos, pairs=extra, n_jobs=args.n_jobs, progress=False)
        times[f"missing geometries ({len(extra)} pairs on {len({p[2] for p in extra})} geometries)"] = (
            time.perf_counter() - t0,
            time.process_time() - c0,
        )

    matched = match_frames(table, jk)
    agreement = shell_agreement(matched)
    pd.set_option("display.width", 200)
    print(f"engine settings: {settings.as_dict() | {'host': 'BI2TE3_SK'}}")
    print(f"host: gap {engine.band_facts['gap']:.3f} eV, E_F {engine.e_fermi:.3f} eV; {len(matched)} matched pairs\n")
    print(agreement.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    complete = agreement[agreement.geometry.str.contains("|".join(f"{d:.2f}" for d in COMPLETE_SHELLS))]
    allrow = agreement[agreement.geometry == "all"].iloc[0]
    goals = {
        "Pearson r >= 0.9 on each complete shell": bool((complete["Pearson r"] >= 0.9).all()),
        "sign agreement >= 90 % (|J_JuKKR| > 0.1 meV)": bool(allrow["same sign"] >= 0.9),
        "median |J| ratio within x2": bool(0.5 <= allrow["median |J_eng|/|J_ref|"] <= 2.0),
        "moment MAE <= 0.5 muB": bool(allrow["moment MAE (μB)"] <= 0.5),
    }
    if not args.no_missing:
        print("\ngeometries the JuKKR table lacks (every ordered element pair):")
        summary = more.groupby("geometry", sort=False).agg(
            pairs=("J", "size"),
            max_abs_J_meV=("J", lambda j: j.abs().max()),
            CrCr_J_meV=(
                "J",
                lambda j: float(j[(more.loc[j.index, "element_i"] == "Cr") & (more.loc[j.index, "element_j"] == "Cr")].iloc[0]),
            ),
        )
        print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\ngoals:")
    for k, v in goals.items():
        print(f"  {'reached' if v else 'NOT reached'}: {k}")
    print("\ntimes (wall s, CPU s of this process):")
    for k, (w, c) in times.items():
        print(f"  {k}: {w:.1f} s wall, {c:.1f} s CPU")
    print(f"  total: {sum(w for w, _ in times.values()):.1f} s wall")
    print(f"load average at start {load0[0]:.1f}, at end {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
