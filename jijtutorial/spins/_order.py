"""Which order the couplings choose at low temperature: a ferromagnet, or something else.

Mean field (:mod:`._meanfield`) only sees J_0 = Σ_r J(r); a composition with J_0 ≤ 0 gets no Curie
sweep at all. Monte Carlo can still say what the spins do: :func:`low_temperature_order` cools a few
random configurations with replica exchange down to a low temperature and compares the
magnetisation and the energy with those of the fully polarised (ferromagnetic) state. Runs are
cached on disk like the Curie sweeps' tasks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..parallel import run_tasks
from ._lattice import check_concentrations, random_configuration
from ._model import ferromagnetic_network, spin_model
from ._montecarlo import check_temperatures, run_monte_carlo
from ._sweep import _FORMAT, _cache_load, _cache_store, _code_digest, table_digest


def _order_task(table: pd.DataFrame, task: dict) -> dict:
    conf_ss, mc_ss = np.random.SeedSequence([task["seed"], task["realisation"]]).spawn(2)
    model = spin_model(random_configuration(task["composition"], task["size"], seed=conf_ss), table)
    res = run_monte_carlo(model, task["temperatures"], n_sweeps=task["n_sweeps"], n_therm=task["n_sweeps"], seed=mc_ss)
    net = ferromagnetic_network(model)
    n = model.n_spins
    return {
        "m": float(res.m[0]),
        "e": float(res.energy[0]),
        "e_ferro": float(-model.pair_J.sum() / n),
        "n_spins": n,
        "fm_fraction": net["fraction"],
        "fm_wraps": net["wraps"],
    }


def low_temperature_order(
    table: pd.DataFrame,
    composition: Mapping[str, float],
    *,
    size=(16, 16, 2),
    temperatures=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
    n_realisations: int = 3,
    n_sweeps: int = 1000,
    seed: int = 0,
    cache: bool = True,
) -> pd.DataFrame:
    """Magnetisation and energy at the lowest of ``temperatures`` (K), per random configuration.

    Replica exchange over ``temperatures`` (K) helps the coldest replica settle; ``n_sweeps`` are
    measured after as many discarded. Returns one row per realisation:

    * T (K), n_spins;
    * m: ⟨|m|⟩ with m = Σ S_i / N; 1 for a ferromagnet, and for N independent random spins about
      m_random = √(8 / (3πN)) (the mean length of a random walk of N unit steps, divided by N);
    * e, e_ferro: energy per spin (meV) at T and of the fully polarised state (−Σ_pairs J / N);
      e well below e_ferro means the couplings favour another arrangement;
    * fm_fraction, fm_percolates: the largest cluster of ferromagnetic bonds
      (:func:`jijtutorial.spins.ferromagnetic_network`).
    """
    comp = check_concentrations(composition, "composition")
    temps = check_temperatures(temperatures)
    if int(n_realisations) != n_realisations or n_realisations < 1:
        raise ValueError(f"n_realisations must be a positive integer, not {n_realisations!r}.")
    tasks = [
        {
            "composition": comp,
            "size": tuple(int(x) for x in size),
            "realisation": r,
            "temperatures": temps,
            "n_sweeps": int(n_sweeps),
            "seed": int(seed),
        }
        for r in range(int(n_realisations))
    ]
    # this module's code and the task code it imports decide the numbers
    digest = table_digest(table, list(comp)) + _code_digest(__name__) + str(_FORMAT)
    keys = [
        hashlib.sha256(
            (json.dumps({**t, "temperatures": [round(float(x), 10) for x in temps]}, sort_keys=True) + digest).encode()
        ).hexdigest()[:24]
        for t in tasks
    ]
    results = [(_cache_load(k, "order", temps) if cache else None) for k in keys]
    todo = [k for k, r in enumerate(results) if r is None]

    def store(k, result):
        if cache:
            _cache_store(keys[todo[k]], result, tasks[todo[k]])

    fresh = run_tasks(_order_task, [tasks[k] for k in todo], shared=table, client="sync", progress=False, on_result=store)
    for k, r in zip(todo, fresh):
        results[k] = r
    rows = [
        {
            "realisation": t["realisation"],
            "T": float(temps[0]),
            "n_spins": int(r["n_spins"]),
            "m": r["m"],
            "m_random": float(np.sqrt(8.0 / (3.0 * np.pi * r["n_spins"]))),
            "e": r["e"],
            "e_ferro": r["e_ferro"],
            "fm_fraction": r["fm_fraction"],
            "fm_percolates": r["fm_wraps"] == 3,
        }
        for t, r in zip(tasks, results)
    ]
    return pd.DataFrame(rows)
