"""Speed of the spin Monte Carlo: single-spin updates per second and the cost of one T_C estimate.

    .venv/bin/python benchmarks/spins_speed.py [--repeats 7] [--skip-tc]

1. Updates per second per core on a dilute cell of about 2000 spins with about 20 coupled
   neighbours each (Cr at 19 % of the Bi sites of a 24 × 24 × 3 cell, couplings on every Bi–Bi
   vector up to 13.15 Å: J(r) = 12 meV exp(−(r − 4.38 Å)/2 Å), and with DMI D = 0.3 J ẑ × r̂ on
   same-sublattice pairs). Heat-bath and over-relaxation sweeps are timed separately, and the
   production mix (1 heat-bath + 2 over-relaxation sweeps). Next to each package kernel the same
   sweep written as a plain numba loop here (one function, no helpers, the same arithmetic): the
   package should run at its speed or better. Timed in CPU time of this process
   (``time.process_time``), the median of ``--repeats`` runs, package and plain loop alternating, so
   that other jobs on a shared machine distort the figures and their ratio less; the target of the
   issue is ≥ 10 M updates/s isotropic, ≥ 5 M with DMI.
2. The cost of one full T_C estimate with the default sweep settings (3 sizes × 10 realisations,
   Cr 4 % on the J table of ``--dataset``): CPU seconds of all tasks, measured on one realisation
   per size and multiplied out, and the wall time on N workers is about that divided by N. The
   first pass runs for every composition; a composition whose Binder curves cross gets the second
   pass (``refine`` more temperatures) as well, priced here at the same temperatures per task.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
from numba import njit

from jijtutorial.spins._kernels import _uniform


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


@njit(cache=True)
def plain_over_relaxation(spins, indptr, indices, J, D, dmi, field):
    """Reference: one over-relaxation sweep written out in one loop (what the package must match)."""
    for i in range(spins.shape[0]):
        hx, hy, hz = field[0], field[1], field[2]
        if dmi:
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                sx, sy, sz = spins[j, 0], spins[j, 1], spins[j, 2]
                hx += J[k] * sx + sy * D[k, 2] - sz * D[k, 1]
                hy += J[k] * sy + sz * D[k, 0] - sx * D[k, 2]
                hz += J[k] * sz + sx * D[k, 1] - sy * D[k, 0]
        else:
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                hx += J[k] * spins[j, 0]
                hy += J[k] * spins[j, 1]
                hz += J[k] * spins[j, 2]
        h2 = hx * hx + hy * hy + hz * hz
        if h2 > 0.0:
            p = 2.0 * (spins[i, 0] * hx + spins[i, 1] * hy + spins[i, 2] * hz) / h2
            sx, sy, sz = p * hx - spins[i, 0], p * hy - spins[i, 1], p * hz - spins[i, 2]
            r = 1.0 / math.sqrt(sx * sx + sy * sy + sz * sz)
            spins[i, 0], spins[i, 1], spins[i, 2] = sx * r, sy * r, sz * r


@njit(cache=True)
def plain_heat_bath(spins, indptr, indices, J, D, dmi, field, beta, st):
    """Reference: one heat-bath sweep in one loop, with the package's generator and the same draw."""
    de = 0.0
    for i in range(spins.shape[0]):
        hx, hy, hz = field[0], field[1], field[2]
        if dmi:
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                sx, sy, sz = spins[j, 0], spins[j, 1], spins[j, 2]
                hx += J[k] * sx + sy * D[k, 2] - sz * D[k, 1]
                hy += J[k] * sy + sz * D[k, 0] - sx * D[k, 2]
                hz += J[k] * sz + sx * D[k, 1] - sy * D[k, 0]
        else:
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                hx += J[k] * spins[j, 0]
                hy += J[k] * spins[j, 1]
                hz += J[k] * spins[j, 2]
        hn = math.sqrt(hx * hx + hy * hy + hz * hz)
        a = beta * hn
        u = 1.0 - _uniform(st)
        if a < 1e-10:
            c = 2.0 * u - 1.0
            hx, hy, hz, hn = 0.0, 0.0, 1.0, 1.0
        elif a > 20.0:
            c = 1.0 + math.log(u) / a
        else:
            c = 1.0 + math.log(u + (1.0 - u) * math.exp(-2.0 * a)) / a
        c = max(c, -1.0)
        s = math.sqrt(max(0.0, 1.0 - c * c))
        while True:
            x, y = 2.0 * _uniform(st) - 1.0, 2.0 * _uniform(st) - 1.0
            r = x * x + y * y
            if 0.0 < r <= 1.0:
                break
        cp, sp = s * (x * x - y * y) / r, s * 2.0 * x * y / r
        ex, ey, ez = hx / hn, hy / hn, hz / hn
        sg = math.copysign(1.0, ez)
        q = -1.0 / (sg + ez)
        w = ex * ey * q
        nx = c * ex + cp * (1.0 + sg * ex * ex * q) + sp * w
        ny = c * ey + cp * sg * w + sp * (sg + ey * ey * q)
        nz = c * ez - cp * sg * ex - sp * ey
        de -= (nx - spins[i, 0]) * hx + (ny - spins[i, 1]) * hy + (nz - spins[i, 2]) * hz
        spins[i, 0], spins[i, 1], spins[i, 2] = nx, ny, nz
    return de


def updates_per_second(model, repeats: int, sweeps: int = 100) -> dict:
    """Median updates per second (CPU time) of each move: {name: (package, plain loop or None)}."""
    from jijtutorial.spins import _kernels as k

    st = k.rng_state(0)
    s = k.random_spins(model.n_spins, st)
    b = np.zeros(3)
    args = (model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, b)
    plain = (model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, b)
    beta = 1.0 / (0.08617 * 20.0)
    moves = {
        "heat-bath": (lambda: k.heat_bath_sweep(s, *args, beta, st), lambda: plain_heat_bath(s, *plain, beta, st)),
        "over-relaxation": (lambda: k.over_relaxation_sweep(s, *args), lambda: plain_over_relaxation(s, *plain)),
    }
    for pair in moves.values():  # compile / warm up
        for step in pair:
            step()
    out = {}
    for name, pair in moves.items():
        rates = [[], []]
        for _ in range(repeats):
            for which, step in enumerate(pair):
                t0 = time.process_time()
                for _ in range(sweeps):
                    step()
                rates[which].append(sweeps * model.n_spins / (time.process_time() - t0))
        out[name] = (float(np.median(rates[0])), float(np.median(rates[1])))
    mix = [3.0 / (1.0 / out["heat-bath"][w] + 2.0 / out["over-relaxation"][w]) for w in (0, 1)]
    out["mix 1 HB + 2 OR"] = tuple(mix)
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
        print(f"    {'move':18s} {'package':>9s} {'plain loop':>11s}   M updates/s per core, median of {args.repeats}, CPU time")
        for name, (rate, ref) in rates.items():
            print(f"    {name:18s} {rate / 1e6:9.2f} {ref / 1e6:11.2f}   package / plain = {rate / ref:.2f}")
    if args.skip_tc:
        return
    from jijtutorial.datasets import load_dataset

    data = load_dataset(args.dataset)
    table = spins.exchange_table(data, ["Cr"], 8.8, fill="zero")
    settings = spins.SweepSettings()
    temps = spins.mean_field_tc(table, {"Cr": 0.04})["T_C"] * np.geomspace(*settings.window, settings.n_temperatures)
    total = 0.0
    print(
        f"one T_C estimate, Cr 4 % on the {data.attrs.get('name')} table, default settings "
        f"({len(settings.sizes)} sizes x {settings.n_realisations} realisations, {settings.n_temperatures} temperatures "
        f"+ {settings.refine} around a crossing, {settings.n_therm} + {settings.n_sweeps} sweeps):"
    )
    refine = 0.0
    for size in settings.sizes:
        task = {
            "composition": {"Cr": 0.04},
            "size": size,
            "realisation": 0,
            "temperatures": temps,
            "n_sweeps": settings.n_sweeps,
            "n_therm": settings.n_therm,
            "n_overrelax": settings.n_overrelax,
            "seed": 0,
        }
        spins.simulate_task(table, {**task, "n_sweeps": 2, "n_therm": 0})  # compile
        t0 = time.process_time()
        res = spins.simulate_task(table, task)
        dt = time.process_time() - t0
        total += dt * settings.n_realisations
        refine += dt * settings.n_realisations * settings.refine / settings.n_temperatures
        print(f"    size {size}: {res['n_spins']} spins, {dt:.1f} CPU s per realisation (first pass)")
    print(
        f"    first pass {total:.0f} CPU s = {total / 60:.1f} CPU min, refinement about {refine:.0f} CPU s more if it "
        f"orders (wall time about that / number of workers)"
    )


if __name__ == "__main__":
    main()
