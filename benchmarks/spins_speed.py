"""Speed of the spin Monte Carlo: single-spin updates per second and the cost of one T_C estimate.

    .venv/bin/python benchmarks/spins_speed.py [--repeats 7] [--skip-tc]

1. Updates per second per core on a dilute cell of about 2000 spins with about 20 coupled
   neighbours each (Cr at 19 % of the Bi sites of a 24 × 24 × 3 cell, couplings on every Bi–Bi
   vector up to 13.15 Å: J(r) = 12 meV exp(−(r − 4.38 Å)/2 Å), and with DMI D = 0.3 J ẑ × r̂ on
   same-sublattice pairs). Heat-bath and over-relaxation sweeps are timed separately, and the
   production mix (1 heat-bath + 2 over-relaxation sweeps). Timed in CPU time of this process
   (``time.process_time``), the median of ``--repeats`` runs, so that other jobs on a shared machine
   distort the figures less; the target of the issue is ≥ 10 M updates/s isotropic, ≥ 5 M with DMI.
2. The cost of one full T_C estimate with the default sweep settings (3 sizes × 10 realisations,
   Cr 4 % on the J table of ``--dataset``): CPU seconds of all tasks, measured on one realisation
   per size and multiplied out, and the wall time on N workers is about that divided by N.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np


def synthetic_table(cutoff: float = 13.15, dmi: bool = False):
    from jijtutorial import spins
    from jijtutorial.datasets import load_model

    table = spins.exchange_table(load_model(), ["Cr"], cutoff, fill="zero")
    r = table[["rx", "ry", "rz"]].to_numpy(float)
    d = np.linalg.norm(r, axis=1)
    table["J"] = 12.0 * np.exp(-(d - 4.383) / 2.0)
    D = np.zeros_like(r)
    if dmi:
        same = (table["sublattice_j"] == "same").to_numpy()
        zxr = np.cross([0.0, 0.0, 1.0], r / d[:, None])
        D[same] = 0.3 * table["J"].to_numpy()[same, None] * zxr[same]
    table[["Dx", "Dy", "Dz"]] = D
    return table


def updates_per_second(model, repeats: int, sweeps: int = 100) -> dict:
    from jijtutorial.spins import _kernels as k

    st = k.rng_state(0)
    s = k.random_spins(model.n_spins, st)
    args = (model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, np.zeros(3))
    beta = 1.0 / (0.08617 * 20.0)
    k.heat_bath_sweep(s, *args, beta, st)  # compile / warm up
    k.over_relaxation_sweep(s, *args)
    out = {}
    for name, step in (("heat-bath", lambda: k.heat_bath_sweep(s, *args, beta, st)),
                       ("over-relaxation", lambda: k.over_relaxation_sweep(s, *args))):
        rates = []
        for _ in range(repeats):
            t0 = time.process_time()
            for _ in range(sweeps):
                step()
            rates.append(sweeps * model.n_spins / (time.process_time() - t0))
        out[name] = float(np.median(rates))
    out["mix 1 HB + 2 OR"] = 3.0 / (1.0 / out["heat-bath"] + 2.0 / out["over-relaxation"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-tc", action="store_true", help="only the updates per second")
    parser.add_argument("--dataset", default="auto", help="J table for the T_C cost: jukkr, model or auto")
    args = parser.parse_args()
    from jijtutorial import spins

    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    config = spins.random_configuration({"Cr": 0.19}, (24, 24, 3), seed=1)
    for dmi in (False, True):
        model = spins.spin_model(config, synthetic_table(dmi=dmi))
        rates = updates_per_second(model, args.repeats)
        label = "with DMI " if dmi else "isotropic"
        print(f"{label}: {model.n_spins} spins, {model.neighbours.mean():.1f} neighbours per spin")
        for name, rate in rates.items():
            print(f"    {name:18s} {rate / 1e6:6.2f} M updates/s per core (median of {args.repeats}, CPU time)")
    if args.skip_tc:
        return
    from jijtutorial.datasets import load_dataset

    data = load_dataset(args.dataset)
    table = spins.exchange_table(data, ["Cr"], 8.8, fill="zero")
    settings = spins.SweepSettings()
    temps = spins.mean_field_tc(table, {"Cr": 0.04})["T_C"] * np.geomspace(*settings.window, settings.n_temperatures)
    total = 0.0
    print(f"one T_C estimate, Cr 4 % on the {data.attrs.get('name')} table, default settings "
          f"({len(settings.sizes)} sizes x {settings.n_realisations} realisations, {settings.n_temperatures} temperatures, "
          f"{settings.n_therm} + {settings.n_sweeps} sweeps):")
    for size in settings.sizes:
        task = {"composition": {"Cr": 0.04}, "size": size, "realisation": 0, "temperatures": temps,
                "n_sweeps": settings.n_sweeps, "n_therm": settings.n_therm, "n_overrelax": settings.n_overrelax,
                "seed": 0}
        spins.simulate_task(table, {**task, "n_sweeps": 2, "n_therm": 0})  # compile
        t0 = time.process_time()
        res = spins.simulate_task(table, task)
        dt = time.process_time() - t0
        total += dt * settings.n_realisations
        print(f"    size {size}: {res['n_spins']} spins, {dt:.1f} CPU s per realisation")
    print(f"    total {total:.0f} CPU s = {total / 60:.1f} CPU min (wall time about that / number of workers)")


if __name__ == "__main__":
    main()
