"""Stochastic Landau–Lifshitz–Gilbert dynamics: conservation laws, precession, thermal equilibrium."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial import spins


def _random_spins(n, seed=0):
    s = np.random.default_rng(seed).normal(size=(n, 3))
    return s / np.linalg.norm(s, axis=1, keepdims=True)


def test_spin_length_is_conserved_with_noise_and_damping():
    model = spins.lattice_model("sc", 4, 1.0, D=[0.2, -0.1, 0.3])
    res = spins.run_llg(model, temperature=20.0, alpha=0.3, dt=0.005, n_steps=5000, spins=_random_spins(64), seed=1)
    assert np.abs(np.linalg.norm(res.spins, axis=1) - 1).max() < 1e-12


def test_energy_is_conserved_without_damping_and_noise_to_second_order():
    model = spins.lattice_model("sc", 4, 1.0, D=[0.2, -0.1, 0.3])
    s0 = _random_spins(64, seed=2)
    drift = []
    for dt in (0.01, 0.005):
        res = spins.run_llg(model, alpha=0.0, dt=dt, n_steps=int(10 / dt), record_every=int(0.5 / dt), spins=s0)
        drift.append(np.ptp(res.energy))
    assert drift[1] < 1e-3 * abs(res.energy[0])
    assert drift[0] / drift[1] > 3.0  # Heun: error ∝ dt²


def test_damping_lowers_the_energy_monotonically():
    model = spins.lattice_model("sc", 4, 1.0)
    res = spins.run_llg(model, alpha=0.2, dt=0.005, n_steps=4000, record_every=100, spins=_random_spins(64, seed=3))
    assert np.all(np.diff(res.energy) < 1e-9)
    assert res.energy[-1] < res.energy[0] - 10


def test_precession_frequency_is_g_b_over_hbar_mu():
    """A moment μ in a field B (energy -B·S, meV) precesses at ω = g B / (ħ μ) without damping."""
    model = spins.SpinModel.from_pairs(1, [], [], [], moments=2.0)
    B = 0.5
    res = spins.run_llg(model, alpha=0.0, dt=0.001, n_steps=20000, record_every=1, spins=[[1.0, 0, 0]], field=[0, 0, B])
    phase = np.unwrap(np.arctan2(res.magnetisation[:, 1], res.magnetisation[:, 0]))
    omega = np.polyfit(res.times, phase, 1)[0]
    assert abs(omega) == pytest.approx(2.0 * B / (spins.HBAR * 2.0), rel=1e-4)


def test_thermal_equilibrium_of_a_single_spin_is_langevin():
    model = spins.SpinModel.from_pairs(1, [], [], [])
    a = 1.0  # B / k_B T
    T = 10.0
    res = spins.run_llg(
        model, temperature=T, alpha=0.5, dt=0.01, n_steps=2_000_000, record_every=5, field=[0, 0, a * spins.K_B * T], seed=4
    )
    assert res.magnetisation[1000:, 2].mean() == pytest.approx(1 / np.tanh(a) - 1 / a, abs=0.01)


@pytest.mark.slow
def test_llg_magnetisation_agrees_with_monte_carlo():
    model = spins.lattice_model("sc", 4, 1.0)
    T = 1.0 / spins.K_B  # k_B T = J: ordered, |m| well away from 0 and 1
    mc = spins.run_monte_carlo(model, [T], n_sweeps=20000, seed=5)
    res = spins.run_llg(model, temperature=T, alpha=0.5, dt=0.01, n_steps=400_000, record_every=20, seed=6)
    m_llg = np.linalg.norm(res.magnetisation[500:], axis=1).mean()
    assert m_llg == pytest.approx(mc.m[0], abs=0.02)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": -1.0}, "temperature must be ≥ 0"),
        ({"alpha": -0.1}, "alpha must be ≥ 0"),
        ({"dt": 0.0}, "dt must be a positive time step"),
        ({"temperature": 5.0, "alpha": 0.0}, "needs alpha > 0"),
    ],
)
def test_bad_llg_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spins.run_llg(spins.lattice_model("sc", 3), **kwargs)
