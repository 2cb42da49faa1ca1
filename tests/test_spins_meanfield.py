"""Mean-field Curie temperature for H = -Σ_{i<j} J_ij S_i·S_j with classical unit spins: k_B T_C = J_0 / 3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import load_model

K_B = spins.K_B


@pytest.mark.parametrize("kind, z", [("sc", 6), ("bcc", 8), ("fcc", 12)])
def test_lattice_mean_field_is_z_j_over_3(kind, z):
    model = spins.lattice_model(kind, 4, K_B)  # J = k_B · 1 K
    assert spins.mean_field_tc_model(model) == pytest.approx(z / 3)


def test_self_consistent_moments_vanish_exactly_above_j0_over_3():
    """The 1/3 comes from the Langevin function L(x) ≈ x/3 of a classical unit spin: iterate the mean-field
    equations on the simple cubic lattice (T_C^MF = 2 J/k_B) just below and just above."""
    model = spins.lattice_model("sc", 4, K_B)
    below = spins.mean_field_magnetisation(model, 1.96)
    above = spins.mean_field_magnetisation(model, 2.04)
    assert np.linalg.norm(below, axis=1).min() > 0.1
    assert np.linalg.norm(above, axis=1).max() < 1e-6


def test_virtual_crystal_formula_counts_every_partner_once():
    """J_0 = Σ_j J_0j: with every Bi site occupied, each spin's couplings in the model (pairs stored once) sum to
    the table's Σ_r J(r), on either sublattice; the dilute mean field is c times that."""
    table = spins.exchange_table(load_model(), ["Cr"], 11.0, fill="zero")
    j0 = table["J"].sum()
    assert spins.mean_field_tc(table, {"Cr": 0.2})["T_C"] == pytest.approx(0.2 * j0 / 3 / K_B)
    conf = spins.random_configuration({"Cr": 1.0}, (7, 7, 1), seed=0)
    model = spins.spin_model(conf, table)
    sums = np.zeros(model.n_spins)
    np.add.at(sums, model.pair_i, model.pair_J)
    np.add.at(sums, model.pair_j, model.pair_J)
    assert np.allclose(sums, j0)
    assert set(conf.sublattice) == {"upper", "lower"}
    assert spins.mean_field_tc_model(model) == pytest.approx(j0 / 3 / K_B)


def test_co_doping_mean_field_reduces_to_one_species():
    """Two species with identical couplings behave as one species at the total concentration; with no coupling
    between them the larger of the two single-species T_C wins."""
    vec = np.array([-4.382981, 0.0, 0.0])

    def table(j_ab):
        rows = [
            {"element_i": a, "element_j": b, "rx": vec[0], "ry": 0.0, "rz": 0.0, "J": j, "Dx": 0, "Dy": 0, "Dz": 0}
            for a, b, j in (("Cr", "Cr", 2.0), ("V", "V", 2.0), ("Cr", "V", j_ab), ("V", "Cr", j_ab))
        ]
        return spins.exchange_table(pd.DataFrame(rows), ["Cr", "V"], 4.5)

    same = spins.mean_field_tc(table(2.0), {"Cr": 0.03, "V": 0.02})["T_C"]
    assert same == pytest.approx(spins.mean_field_tc(table(2.0), {"Cr": 0.05})["T_C"])
    assert same == pytest.approx(0.05 * 6 * 2.0 / 3 / K_B)
    apart = spins.mean_field_tc(table(0.0), {"Cr": 0.03, "V": 0.02})
    assert apart["T_C"] == pytest.approx(0.03 * 6 * 2.0 / 3 / K_B)
    ferri = spins.mean_field_tc(table(-2.0), {"Cr": 0.03, "V": 0.02})
    assert ferri["T_C"] == pytest.approx(same) and np.sign(ferri["mode"]).tolist() == [1.0, -1.0]


def test_antiferromagnetic_couplings_give_no_mean_field_order():
    vec = np.array([-4.382981, 0.0, 0.0])
    rows = [{"element_i": "Fe", "element_j": "Fe", "rx": vec[0], "ry": 0.0, "rz": 0.0, "J": -5.0, "Dx": 0, "Dy": 0, "Dz": 0}]
    table = spins.exchange_table(pd.DataFrame(rows), ["Fe"], 4.5)
    res = spins.mean_field_tc(table, {"Fe": 0.05})
    assert res["T_C"] == 0.0 and res["lambda_max"] < 0


@pytest.mark.parametrize("include_missing", [True, False])
def test_mean_field_spread_is_mean_field_of_each_perturbed_table(include_missing):
    table = spins.exchange_table(load_model(), ["Cr", "Mo"], 8.8, fill="zero")
    comp = {"Cr": 0.06, "Mo": 0.03}
    sigma = 0.02
    fast = spins.mean_field_spread(table, comp, sigma=sigma, n_draws=6, seed=4, include_missing=include_missing)
    seeds = np.random.SeedSequence(4).spawn(6)
    slow = [
        spins.mean_field_tc(spins.perturbed_table(table, sigma, s, include_missing=include_missing), comp)["T_C"] for s in seeds
    ]
    assert np.allclose(fast, slow, rtol=1e-10, atol=1e-12)
    assert np.std(fast) > 0


def test_mean_field_spread_bad_input():
    table = spins.exchange_table(load_model(), ["Cr"], 8.8, fill="zero")
    with pytest.raises(ValueError, match="n_draws"):
        spins.mean_field_spread(table, {"Cr": 0.05}, sigma=0.1, n_draws=0)
    with pytest.raises(ValueError, match="sigma"):
        spins.mean_field_spread(table, {"Cr": 0.05}, sigma=-1.0)
