"""Spin models of dilute configurations: two-spin energies, DMI sign, crystal symmetry, energies, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import jukkr_available, load_jukkr, load_model
from jijtutorial.geometry import bi_pair_vectors

V_NN = np.array([-4.382981, 0.0, 0.0])  # the nearest in-plane vector of the data sets
SIZE = (6, 6, 1)


def _pair_configuration(a, b, vector, size=SIZE):
    """Element a on an upper-Bi site, b at ``vector`` from it; returns (configuration, index of a, index of b)."""
    pos, sub, _ = spins.bi_sites(size)
    i = int(np.flatnonzero(sub == "upper")[0])
    j = spins.find_site(size, pos[i] + vector)
    conf = spins.configuration_from_sites(size, {i: a, j: b})
    return conf, int(np.flatnonzero(conf.site == i)[0]), int(np.flatnonzero(conf.site == j)[0])


def _nn_table(J, D, a="Cr", b="Mn"):
    rows = [
        {"element_i": x, "element_j": y, "rx": V_NN[0], "ry": 0.0, "rz": 0.0, "J": J, "Dx": d[0], "Dy": d[1], "Dz": d[2]}
        for x, y, d in ((a, b, D), (b, a, [-D[0], D[1], D[2]]), (a, a, [0, 0, 0]), (b, b, [0, 0, 0]))
    ]
    return spins.exchange_table(pd.DataFrame(rows), [a, b], 4.5)


def _spins_of(n, assignment):
    s = np.zeros((n, 3))
    for k, v in assignment.items():
        s[k] = v
    return s


@pytest.mark.parametrize("J", [3.0, -2.0])
def test_two_spins_ferro_and_antiferro_energies(J):
    conf, i, j = _pair_configuration("Cr", "Mn", V_NN)
    model = spins.spin_model(conf, _nn_table(J, [0.0, 0.0, 0.0]))
    assert model.n_pairs == 1
    up, down = [0, 0, 1.0], [0, 0, -1.0]
    assert model.energy(_spins_of(2, {i: up, j: up})) == pytest.approx(-J)
    assert model.energy(_spins_of(2, {i: up, j: down})) == pytest.approx(J)
    assert spins.energy(model, _spins_of(2, {i: up, j: down})) == pytest.approx(J)


def test_two_spins_dmi_energy_and_canted_ground_state():
    """H = -J S_i.S_j - D.(S_i x S_j) with i the element_i of the table row: E(x, y) = -D_z, and the ground
    state has S_i x S_j along +D with E = -sqrt(J^2 + D^2)."""
    J, D = 2.0, np.array([0.0, 0.9, 0.6])  # D perpendicular to the bond (along x), as the mirror demands
    conf, i, j = _pair_configuration("Cr", "Mn", V_NN)
    model = spins.spin_model(conf, _nn_table(J, D))
    x, y = [1.0, 0, 0], [0, 1.0, 0]
    assert model.energy(_spins_of(2, {i: x, j: y})) == pytest.approx(-D[2])
    assert model.energy(_spins_of(2, {i: y, j: x})) == pytest.approx(D[2])
    mc = spins.run_monte_carlo(model, [0.001], n_sweeps=4000, seed=2)  # k_B T = 9e-5 meV
    s = mc.spins[0]
    assert mc.energy[0] * 2 == pytest.approx(-np.hypot(J, np.linalg.norm(D)), abs=1e-3)
    cross = np.cross(s[i], s[j])
    # thermal tilt of the pair's plane ~ sqrt(2 k_B T / (|D| sin θ)) ≈ 0.02 rad: cos > 0.995 is 5 σ
    assert cross @ D / (np.linalg.norm(cross) * np.linalg.norm(D)) > 0.995
    assert np.linalg.norm(cross) == pytest.approx(np.sin(np.arctan2(np.linalg.norm(D), J)), abs=0.01)


@pytest.mark.skipif(not jukkr_available(), reason="needs the JuKKR table (JIJTUTORIAL_DATA_DIR)")
def test_dmi_sign_follows_the_loader_convention():
    """The pair (Cr on an upper Bi site, Mn at +r) gets the J and D of the loader's row (Cr, Mn, r)."""
    data = load_jukkr()
    row = data[(data.element_i == "Cr") & (data.element_j == "Mn") & (data.geometry == "same Bi layer, 4.38 Å")].iloc[0]
    v = row[["rx", "ry", "rz"]].to_numpy(float)
    table = spins.exchange_table(data, ["Cr", "Mn"], 4.5)
    conf, i, j = _pair_configuration("Cr", "Mn", v)
    model = spins.spin_model(conf, table)
    e = model.energy(_spins_of(2, {i: [1.0, 0, 0], j: [0, 1.0, 0]}))  # = -D_z
    assert e == pytest.approx(-row["Dz"], abs=0.2)
    d_model = model.pair_D[0] if model.pair_i[0] == i else -model.pair_D[0]
    d_row = row[["Dx", "Dy", "Dz"]].to_numpy(float)
    assert d_model @ d_row / (np.linalg.norm(d_model) * np.linalg.norm(d_row)) > 0.95
    assert model.energy(_spins_of(2, {i: [0, 0, 1.0], j: [0, 0, 1.0]})) == pytest.approx(-row["J"], abs=0.1)


def _random_table(elements, cutoff, seed=0):
    rng = np.random.default_rng(seed)
    vec = np.vstack([bi_pair_vectors(cutoff, "same"), bi_pair_vectors(cutoff, "other")])
    rows = [
        {
            "element_i": a,
            "element_j": b,
            "rx": v[0],
            "ry": v[1],
            "rz": v[2],
            "J": rng.normal(),
            "Dx": rng.normal(),
            "Dy": rng.normal(),
            "Dz": rng.normal(),
        }
        for a in elements
        for b in elements
        for v in vec
    ]
    return spins.exchange_table(pd.DataFrame(rows), elements, cutoff)


@pytest.mark.parametrize("op", ["C3", "mirror", "inversion", "C2x"])
def test_energy_is_invariant_under_the_crystal_symmetry(op):
    """Move every dopant by a symmetry operation of Bi2Te3 (about the Te2 site at the origin) and rotate the
    spins with it as axial vectors: the energy cannot change. Upper sites go to lower ones under inversion,
    so this checks the inverted-vector rule for lower-site dopants and the axial transformation of D."""
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    R = {
        "C3": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]),
        "mirror": np.diag([-1.0, 1, 1]),
        "inversion": -np.eye(3),
        "C2x": np.diag([1.0, -1, -1]),
    }[op]
    table = _random_table(["Cr", "Fe"], 8.8, seed=5)
    size = (5, 5, 1)
    conf = spins.random_configuration({"Cr": 0.15, "Fe": 0.1}, size, seed=7)
    model = spins.spin_model(conf, table)
    assert model.has_dmi and model.n_pairs > 20
    rng = np.random.default_rng(1)
    s0 = rng.normal(size=(conf.n_spins, 3))
    s0 /= np.linalg.norm(s0, axis=1, keepdims=True)
    moved = [spins.find_site(size, R @ p) for p in conf.positions]
    conf2 = spins.configuration_from_sites(size, dict(zip(moved, conf.elements)))
    index = {site: k for k, site in enumerate(conf2.site)}
    s2 = np.zeros_like(s0)
    for k, site in enumerate(moved):
        s2[index[site]] = np.linalg.det(R) * (R @ s0[k])
    model2 = spins.spin_model(conf2, table)
    if op == "inversion":
        assert (conf2.sublattice[[index[m] for m in moved]] != conf.sublattice).all()
    assert model2.energy(s2) == pytest.approx(model.energy(s0), abs=1e-9)


def test_couplings_are_symmetric_and_inconsistent_tables_are_refused():
    table = _random_table(["Cr", "V"], 8.8, seed=2)
    conf = spins.random_configuration({"Cr": 0.1, "V": 0.1}, (5, 5, 1), seed=3)
    spins.spin_model(conf, table)  # symmetric by construction
    broken = table.copy()
    k = broken.index[(broken.element_i == "Cr") & (broken.element_j == "V") & (broken.distance < 4.4)][0]
    broken.loc[k, "J"] += 1.0
    with pytest.raises(ValueError, match="table is not symmetric"):
        spins.spin_model(conf, broken)


def test_monte_carlo_energy_equals_the_direct_pair_sum():
    table = _random_table(["Cr", "Mn"], 8.8, seed=9)
    conf = spins.random_configuration({"Cr": 0.2, "Mn": 0.1}, (5, 5, 1), seed=4)
    model = spins.spin_model(conf, table)
    res = spins.run_monte_carlo(model, [0.5, 2.0, 8.0], n_sweeps=300, seed=1, field=[0.1, 0.0, 0.2])
    for k in range(3):
        direct = model.energy(res.spins[k], field=[0.1, 0.0, 0.2])
        assert res.final_energy[k] == pytest.approx(direct, rel=1e-9, abs=1e-9)
        assert np.allclose(np.linalg.norm(res.spins[k], axis=1), 1.0)


def test_configuration_draws_the_requested_numbers():
    conf = spins.random_configuration({"Cr": 0.04, "V": 0.02}, (16, 16, 2), seed=3)
    assert conf.n_bi_sites == 3072
    assert (conf.elements == "Cr").sum() == round(0.04 * 3072) and (conf.elements == "V").sum() == round(0.02 * 3072)
    assert len(set(conf.site)) == conf.n_spins
    again = spins.random_configuration({"Cr": 0.04, "V": 0.02}, (16, 16, 2), seed=3)
    assert np.array_equal(conf.site, again.site)
    atoms = conf.atoms()
    assert atoms.get_chemical_symbols().count("Cr") == (conf.elements == "Cr").sum()
    assert set(conf.sublattice) == {"upper", "lower"}


@pytest.mark.parametrize(
    "dopants, match",
    [
        ({"Cr": 0.0}, r"concentration of Cr must be a fraction of the Bi sites in \(0, 1\]"),
        ({"Cr": 1.5}, r"in \(0, 1\]"),
        ({"Cr": -0.1}, r"in \(0, 1\]"),
        ({"Cr": 0.7, "V": 0.5}, "add up to"),
        ({"Xx": 0.1}, "unknown dopant"),
    ],
)
def test_bad_concentrations_name_the_argument(dopants, match):
    with pytest.raises(ValueError, match=match):
        spins.random_configuration(dopants, (6, 6, 1))


def test_cell_smaller_than_twice_the_cutoff_is_refused():
    table = spins.exchange_table(load_model(), ["Cr"], 8.8, fill="zero")
    conf = spins.random_configuration({"Cr": 0.1}, (4, 4, 1), seed=0)
    with pytest.raises(ValueError, match=r"size=\(4, 4, 1\) is too small for the cut-off 8\.80 Å.*size ≥ \(5, 5, 1\)"):
        spins.spin_model(conf, table)


def test_a_supercell_too_large_to_build_is_refused_before_any_memory_is_used():
    with pytest.raises(
        ValueError,
        match=r"size=\(10000, 10000, 100\) has 60,000,000,000 Bi sites, more than "
        r"MAX_BI_SITES",
    ):  # was a raw MemoryError
        spins.random_configuration({"Cr": 0.04}, (10000, 10000, 100))
