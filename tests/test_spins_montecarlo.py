"""Monte Carlo against textbook numbers: Binder crossings of cubic ferromagnets, Langevin, percolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins

K_B = spins.K_B  # with J = k_B · 1 K, temperatures in K are temperatures in units of J/k_B


def _lattice_moments(kind, sizes, temperatures, n_runs, n_sweeps, n_therm, dilution=None, seed=0):
    rows = []
    for L in sizes:
        base = spins.lattice_model(kind, L, K_B)
        for r in range(n_runs):
            model = base
            if dilution is not None:
                keep = np.random.default_rng([seed, L, r]).random(base.n_spins) < dilution
                model = base.select(keep)
            res = spins.run_monte_carlo(model, temperatures, n_sweeps=n_sweeps, n_therm=n_therm, seed=[seed, L, r])
            rows += [{"size": f"L={L}", "n_sites": base.n_spins, "realisation": r, "T": t, "m2": m2, "m4": m4}
                     for t, m2, m4 in zip(res.temperatures, res.m2, res.m4)]
    return pd.DataFrame(rows)


def test_simple_cubic_curie_temperature_from_binder_crossings():
    """Classical Heisenberg ferromagnet, simple cubic, nearest neighbours: T_C = 1.443 J/k_B (Holm & Janke 1993)."""
    moments = _lattice_moments("sc", (6, 8, 10), np.linspace(1.40, 1.49, 7), n_runs=3, n_sweeps=1500, n_therm=300)
    est = spins.curie_from_binder(moments)
    assert est.status == "ordered"
    assert est.tc == pytest.approx(1.443, rel=0.015)
    assert est.error < 0.02
    assert set(est.crossings["status"]) == {"crossing"}


@pytest.mark.slow
@pytest.mark.parametrize("kind, sizes, window, tc", [
    ("bcc", (5, 6, 8), (1.97, 2.13), 2.054),
    ("fcc", (4, 5, 6), (3.08, 3.28), 3.18),
])
def test_bcc_and_fcc_curie_temperatures(kind, sizes, window, tc):
    moments = _lattice_moments(kind, sizes, np.linspace(*window, 7), n_runs=3, n_sweeps=1500, n_therm=300)
    est = spins.curie_from_binder(moments)
    assert est.status == "ordered"
    assert est.tc == pytest.approx(tc, rel=0.02)


@pytest.mark.parametrize("direction", [(0, 0, 1.0), (0, 0, -1.0), (1.0, -2.0, 0.5), (1.0, 0, 0)])
def test_single_spin_in_a_field_follows_the_langevin_function(direction):
    """The heat-bath draw: ⟨S·B̂⟩ = L(a) = coth a − 1/a for a = |B|/k_B T, whatever the field's direction."""
    model = spins.SpinModel.from_pairs(1, [], [], [])
    a = 1.7
    b = a * K_B * np.asarray(direction) / np.linalg.norm(direction)
    res = spins.run_monte_carlo(model, [1.0], n_sweeps=200_000, n_overrelax=0, field=b, seed=3)
    langevin = 1 / np.tanh(a) - 1 / a
    assert -res.energy[0] / (a * K_B) == pytest.approx(langevin, abs=4 * 0.6 / np.sqrt(200_000))
    assert res.mz[0] == pytest.approx(langevin * b[2] / np.linalg.norm(b), abs=4 * 0.6 / np.sqrt(200_000))


def test_below_the_percolation_threshold_there_is_no_order():
    """Site-diluted simple cubic lattice, occupation 0.2 < p_c = 0.3116: only finite clusters, so m² falls as 1/N
    even far below the pure T_C and the Binder curves never cross; at occupation 0.8 the magnet orders."""
    temps = np.geomspace(0.05, 1.2, 8)
    dilute = _lattice_moments("sc", (6, 10, 14), temps, n_runs=6, n_sweeps=400, n_therm=200, dilution=0.2)
    dense = _lattice_moments("sc", (4, 6, 8), temps, n_runs=2, n_sweeps=300, n_therm=100, dilution=0.8)
    for frame, expect in ((dilute, "none"), (dense, "ordered")):
        est = spins.curie_from_binder(frame)
        assert est.status == expect, est.crossings
    cold = lambda f, L: f[(f["size"] == f"L={L}") & (f["T"] == temps[0])]["m2"].mean()
    assert cold(dilute, 14) / cold(dilute, 6) < 0.25  # (6/14)^3 = 0.08 for independent clusters
    assert cold(dense, 8) / cold(dense, 4) > 0.8


def test_monte_carlo_is_deterministic_per_seed():
    model = spins.lattice_model("sc", 4, 1.0, D=[0.1, 0.2, 0.3])
    a = spins.run_monte_carlo(model, [5.0, 10.0, 20.0], n_sweeps=100, seed=11)
    b = spins.run_monte_carlo(model, [5.0, 10.0, 20.0], n_sweeps=100, seed=11)
    c = spins.run_monte_carlo(model, [5.0, 10.0, 20.0], n_sweeps=100, seed=12)
    assert np.array_equal(a.m2, b.m2) and np.array_equal(a.spins, b.spins)
    assert not np.array_equal(a.m2, c.m2)


def test_replica_exchange_and_observables_are_sane():
    model = spins.lattice_model("sc", 6, K_B)
    res = spins.run_monte_carlo(model, [0.3, 1.0, 1.443, 3.0], n_sweeps=400, seed=1)
    frame = res.frame()
    assert (frame["U"].diff().dropna() < 0.05).all()  # U falls from 2/3 towards 4/9 with T
    assert frame["U"].iloc[0] == pytest.approx(2 / 3, abs=0.01)
    assert frame["U"].iloc[-1] == pytest.approx(4 / 9, abs=0.05)
    assert frame["chi"].idxmax() == 2  # the susceptibility peaks near T_C
    assert np.all(res.exchange_acceptance >= 0)


@pytest.mark.parametrize("temperatures, match", [
    ([1.0, 0.0], "temperatures must be positive"),
    ([1.0, -2.0], "temperatures must be positive"),
    ([1.0, float("nan")], "temperatures must be positive"),
    ([], "non-empty"),
    ([1.0, 1.0], "duplicates"),
])
def test_bad_temperatures_name_the_argument(temperatures, match):
    with pytest.raises(ValueError, match=match):
        spins.run_monte_carlo(spins.lattice_model("sc", 3), temperatures)


def test_binder_crossing_of_synthetic_curves():
    t = np.linspace(1, 2, 11)
    small = 0.6 - 0.1 * (t - 1.5)
    large = 0.6 - 0.3 * (t - 1.5)
    assert spins.crossing(t, small, large) == (pytest.approx(1.5), "crossing")
    assert spins.crossing(t, large, small)[1] == "none"  # the larger system is never the more ordered
    assert spins.crossing(t, small, small + 0.01)[1] == "above"
