"""Monte Carlo against textbook numbers: Binder crossings of cubic ferromagnets, Langevin, percolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins

K_B = spins.K_B  # with J = k_B · 1 K, temperatures in K are temperatures in units of J/k_B


def _lattice_moments(kind, sizes, temperatures, n_runs, n_sweeps, n_therm, dilution=None, seed=0, network=False):
    rows, percolates = [], []
    for L in sizes:
        base = spins.lattice_model(kind, L, K_B)
        for r in range(n_runs):
            model = base
            if dilution is not None:
                keep = np.random.default_rng([seed, L, r]).random(base.n_spins) < dilution
                model = base.select(keep)
            if L == max(sizes):
                percolates.append(spins.ferromagnetic_network(model)["percolates"])
            res = spins.run_monte_carlo(model, temperatures, n_sweeps=n_sweeps, n_therm=n_therm, seed=[seed, L, r])
            rows += [
                {"size": f"L={L}", "n_sites": base.n_spins, "realisation": r, "T": t, "m2": m2, "m4": m4}
                for t, m2, m4 in zip(res.temperatures, res.m2, res.m4)
            ]
    return (pd.DataFrame(rows), float(np.mean(percolates))) if network else pd.DataFrame(rows)


def test_simple_cubic_curie_temperature_from_binder_crossings():
    """Classical Heisenberg ferromagnet, simple cubic, nearest neighbours: T_C = 1.443 J/k_B (Holm & Janke 1993)."""
    moments = _lattice_moments("sc", (6, 8, 10), np.linspace(1.40, 1.49, 7), n_runs=3, n_sweeps=1500, n_therm=300)
    est = spins.curie_from_binder(moments)
    assert est.status == "ordered"
    assert est.tc == pytest.approx(1.443, rel=0.015)
    assert est.error < 0.02
    assert set(est.crossings["status"]) == {"crossing"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, sizes, window, tc",
    [
        ("bcc", (5, 6, 8), (1.97, 2.13), 2.054),
        ("fcc", (4, 5, 6), (3.08, 3.28), 3.18),
    ],
)
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
    even far below the pure T_C, the Binder curves never cross and no cluster wraps around the cell: no order;
    at occupation 0.8 the network percolates and the magnet orders."""
    temps = np.geomspace(0.05, 1.2, 8)
    dilute, p_dilute = _lattice_moments("sc", (6, 10, 14), temps, n_runs=6, n_sweeps=400, n_therm=200, dilution=0.2, network=True)
    dense, p_dense = _lattice_moments("sc", (4, 6, 8), temps, n_runs=2, n_sweeps=300, n_therm=100, dilution=0.8, network=True)
    assert p_dilute == 0.0 and p_dense == 1.0
    for frame, share, expect in ((dilute, p_dilute, "none"), (dense, p_dense, "ordered")):
        est = spins.curie_from_binder(frame, percolating=share)
        assert est.status == expect, est.crossings
    # without the network, a missing crossing is only an upper bound
    unknown = spins.curie_from_binder(dilute)
    assert unknown.status == "below" and unknown.upper_bound == pytest.approx(temps[0])
    assert np.isnan(unknown.tc) and "below" in str(unknown)
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


@pytest.mark.parametrize(
    "temperatures, match",
    [
        ([1.0, 0.0], "temperatures must be positive"),
        ([1.0, -2.0], "temperatures must be positive"),
        ([1.0, float("nan")], "temperatures must be positive"),
        ([], "non-empty"),
        ([1.0, 1.0], "duplicates"),
    ],
)
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


def test_over_relaxation_conserves_the_energy_with_dmi_and_a_field():
    """Over-relaxation is microcanonical: reflecting a spin about its local field keeps every energy term."""
    from jijtutorial.spins import _kernels

    model = spins.lattice_model("fcc", 3, 1.3, D=[0.4, -0.2, 0.7])
    field = np.array([0.3, -0.1, 0.5])
    s = _kernels.random_spins(model.n_spins, _kernels.rng_state(2))
    e0 = spins.energy(model, s, field)
    args = (model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, field)
    start = s.copy()
    for _ in range(200):
        _kernels.over_relaxation_sweep(s, *args)
    assert model.has_dmi
    assert spins.energy(model, s, field) == pytest.approx(e0, abs=1e-9 * model.n_spins)
    assert model.energy(s, field) == pytest.approx(e0, abs=1e-9 * model.n_spins)
    assert np.allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-12)
    assert np.abs(s - start).max() > 0.5  # the spins did move


def _pair_energy(beta, J, D):
    """Exact ⟨E⟩ (meV) of two unit spins with H = −J S1·S2 − D·(S1 × S2).

    With h = J S2 + S2 × D the field on S1, |h|² = J² + |D|² sin²θ (θ between S2 and D); integrating S1
    out gives the weight 4π sinh(β|h|)/(β|h|) of S2 and ⟨E | S2⟩ = −|h| L(β|h|), L the Langevin function.
    """
    mu, w = np.polynomial.legendre.leggauss(400)
    g = np.sqrt(J**2 + np.dot(D, D) * (1 - mu**2))
    x = beta * g
    weight = w * np.exp(x - x.max()) * (1 - np.exp(-2 * x)) / x  # ∝ sinh(x)/x, scaled against overflow
    return float(np.sum(weight * -g * (1 / np.tanh(x) - 1 / x)) / np.sum(weight))


def test_two_spins_with_dmi_sample_the_exact_boltzmann_distribution():
    """Heat bath, over-relaxation and replica exchange together give the exact ⟨E⟩ of a DMI pair at every T."""
    J, D = 1.0, np.array([0.6, 0.0, 0.8])
    model = spins.SpinModel.from_pairs(2, [0], [1], J, [D])
    temps = np.array([0.15, 0.3, 0.6, 1.2]) / K_B  # k_B T from 0.15 to 1.2 meV
    n = 100_000
    res = spins.run_monte_carlo(model, temps, n_sweeps=n, n_therm=1000, seed=8)
    for k, t in enumerate(temps):
        exact = _pair_energy(1 / (K_B * t), J, D) / 2  # per spin
        sigma = np.sqrt(max(res.energy2[k] - res.energy[k] ** 2, 1e-12) / n)
        assert res.energy[k] == pytest.approx(exact, abs=6 * sigma + 1e-4), (t, res.energy[k], exact)


def test_replica_exchange_accepts_at_the_metropolis_rate():
    """Swaps between β1 and β2 are accepted with min(1, exp[(β1 − β2)(E1 − E2)]); for two coupled spins the
    energies at each temperature have the exact density ∝ exp(βJc) of c = S1·S2, so the mean acceptance is a
    double integral."""
    J = 1.0
    model = spins.SpinModel.from_pairs(2, [0], [1], J)
    temps = np.array([0.4, 0.9]) / K_B
    betas = 1 / (K_B * temps)
    c, w = np.polynomial.legendre.leggauss(300)
    dens = [w * np.exp(b * J * c) / np.sum(w * np.exp(b * J * c)) for b in betas]
    e = -J * c
    x = (betas[0] - betas[1]) * (e[:, None] - e[None, :])  # cold replica's energy first
    exact = float(dens[0] @ np.minimum(1.0, np.exp(x)) @ dens[1])
    n = 100_000
    res = spins.run_monte_carlo(model, temps, n_sweeps=n, n_therm=1000, n_overrelax=1, seed=3)
    assert res.exchange_acceptance[0] == pytest.approx(exact, abs=5 * np.sqrt(exact * (1 - exact) / (n / 2)))
