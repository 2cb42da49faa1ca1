"""Contours, host Green functions, Dyson embedding and the force-theorem exchange: physics identities."""

from __future__ import annotations

import numpy as np
import pytest
from lloyd import P_UP, R_INPLANE, R_UP, rotated_omega, ti_host

from jijtutorial import greens


# --------------------------------------------------------------------------- contours
def test_ozaki_poles_reproduce_the_fermi_function():
    x = np.linspace(-400, 400, 8001)
    exact = 0.5 * (1 - np.tanh(0.5 * x))
    assert np.abs(greens.fermi_pole_expansion(x, 60) - exact).max() < 1e-12


@pytest.mark.parametrize(
    "make",
    [
        lambda: greens.semicircle(-3.0, 0.0, 48),
        lambda: greens.ozaki(0.0, 300.0, 80),
    ],
)
def test_contours_count_occupied_levels(make):
    """∫ f(E) (−1/π) Im Σ_n [1/(E − ε_n) − 1/(E − ε_ref)] dE = Σ_n f(ε_n) − f(ε_ref) (ε_ref deep below)."""
    c = make()
    eps = np.array([-2.0, -0.7, -0.03, 0.03, 0.4])
    F = 1.0 / (c.z[:, None] - eps[None, :]) - 1.0 / (c.z[:, None] + 2.5)
    T = c.params["temperature"]
    expected = greens.fermi_function(eps, 0.0, T) - 1.0
    assert np.allclose(c.integrate(F), expected, atol=1e-8)


def test_contour_input_errors():
    with pytest.raises(ValueError, match="below e_fermi"):
        greens.semicircle(1.0, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        greens.ozaki(0.0, 0.0)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ti():
    return ti_host()


FE = (0.19, 3.05)  # (U, Δ) eV, about the element table's Fe
CR = (0.36, 3.42)


# --------------------------------------------------------------------------- Green function
def test_host_green_function_against_a_direct_k_sum(ti):
    model, contour, host, _ = ti
    z = contour.z[5]
    k = model.kmesh(8)
    direct = np.mean(np.exp(-1j * k @ R_UP)[:, None, None] * np.linalg.inv(z * np.eye(4) - model.hamiltonian(k)), 0)
    assert np.allclose(host([R_UP])[5, 0], direct, atol=1e-12)
    with pytest.raises(ValueError, match="not a lattice vector"):
        host([[0.0, 0.0, 6.097]])


def test_dyson_embedding_equals_inverting_the_pair_block(ti):
    _, contour, _, (g00, gij, gji) = ti
    vi = greens.impurity_potential(*FE, [0, 0, 1], 2, P_UP)
    vj = greens.impurity_potential(*CR, [1, 0, 0], 2, P_UP)
    Gii, Gij, Gji, Gjj = greens.embed_pair(g00, gij[:, 0], gji[:, 0], vi, vj)
    G0 = np.block([[g00[3], gij[3, 0]], [gji[3, 0], g00[3]]])
    V = np.block([[vi, np.zeros((4, 4))], [np.zeros((4, 4)), vj]])
    G = np.linalg.inv(np.linalg.inv(G0) - V)  # G^{-1} = G0^{-1} − V
    assert np.allclose(np.block([[Gii[3], Gij[3]], [Gji[3], Gjj[3]]]), G, atol=1e-10)


# --------------------------------------------------------------------------- force theorem
def _omega(ti, vec, imp_i, imp_j, axis_i, axis_j, a, b):
    _, contour, _, blocks = ti
    return rotated_omega(contour, blocks, 0 if vec is R_INPLANE else 1, imp_i, imp_j, axis_i, axis_j, a, b)


@pytest.mark.parametrize("vec,axis_i,axis_j", [(R_INPLANE, "x", "x"), (R_UP, "y", "y"), (R_UP, "x", "y")])
def test_force_theorem_equals_finite_difference_of_lloyd_grand_potential(ti, vec, axis_i, axis_j):
    """−∂²Ω/∂θ_i∂θ_j at θ = 0 (moments along z, tilted towards axis_i, axis_j) is J_ab of the formula."""
    _, contour, _, (g00, gij, gji) = ti
    h = 1e-3
    O = lambda a, b: _omega(ti, vec, FE, CR, axis_i, axis_j, a, b)
    fd = -(O(h, h) - O(h, -h) - O(-h, h) + O(-h, -h)) / (4 * h * h)
    k = 0 if vec is R_INPLANE else 1
    J = greens.exchange_for_reference(g00, gij[:, k], gji[:, k], contour, FE, CR, [0, 0, 1], P_UP)
    a, b = "xyz".index(axis_i), "xyz".index(axis_j)
    assert abs(J[a, b]) > 1e-4  # a real coupling (eV), not 0 = 0
    assert fd == pytest.approx(J[a, b], rel=1e-4)


# --------------------------------------------------------------------------- Lindhard
def test_single_band_cubic_equals_lindhard_double_k_sum():
    """Small Δ: J(R) = −(Δ_iΔ_j/2) (1/N²) Σ_kq cos((k−q)·R) (f_k − f_q)/(ε_k − ε_q), same k-mesh, finite T."""
    model = greens.simple_cubic(t=1.0, a=1.0)
    n, T, mu, d = 6, 2000.0, -1.3, 1e-4
    contour = greens.ozaki(mu, T, 60)
    host = greens.HostGreen(model, n, contour)
    vectors = np.array([[1.0, 0, 0], [1.0, 1.0, 0], [2.0, 1.0, 0]])
    g00, gij, gji = host.pair_blocks(vectors)
    res = greens.exchange_tensor(g00, gij, gji, contour, (0.0, d), (0.0, d))
    k = model.kmesh(n)
    eps = -2 * np.cos(k).sum(1)
    f = greens.fermi_function(eps, mu, T)
    de = eps[:, None] - eps[None, :]
    kT = greens.contour.KB_EV * T
    same = np.abs(de) < 1e-12
    ratio = np.where(same, -f[:, None] * (1 - f[:, None]) / kT, (f[:, None] - f[None, :]) / np.where(same, 1, de))
    for m, R in enumerate(vectors):
        phase = np.cos(k @ R)[:, None] * np.cos(k @ R)[None, :] + np.sin(k @ R)[:, None] * np.sin(k @ R)[None, :]
        lindhard = -0.5 * d * d * np.sum(phase * ratio) / len(k) ** 2
        assert res.J[m] == pytest.approx(lindhard, rel=1e-6)
        assert np.allclose(res.tensor[m], res.J[m] * np.eye(3), rtol=1e-6, atol=1e-9 * abs(res.J[m]))  # no SOC: isotropic
    assert np.abs(res.J).min() > 1e-5 * d * d  # not a trivial 0 = 0


# --------------------------------------------------------------------------- symmetries and limits
def test_swapping_the_pair_transposes_the_tensor(ti):
    """J_ji = J_ij^T: B at 0 and A at −R is the same pair as A at 0 and B at R."""
    _, contour, _, (g00, gij, gji) = ti
    ab = greens.exchange_tensor(g00, gij[:, 1], gji[:, 1], contour, FE, CR, P_UP)
    ba = greens.exchange_tensor(g00, gij[:, 2], gji[:, 2], contour, CR, FE, P_UP)
    assert ba.tensor == pytest.approx(ab.tensor.T, abs=1e-12)
    assert ba.J == pytest.approx(ab.J, rel=1e-10)
    assert np.allclose(ba.D, -ab.D, atol=1e-12) and np.linalg.norm(ab.D) > 1e-4


def test_dm_vanishes_when_the_bond_midpoint_is_an_inversion_centre(ti):
    _, contour, _, (g00, gij, gji) = ti
    # impurities that replace the whole site (site = inversion centre): midpoint is an inversion centre
    sym = greens.exchange_tensor(g00, gij[:, :2], gji[:, :2], contour, FE, FE, None)
    assert np.all(np.linalg.norm(sym.D, axis=1) < 1e-9 * np.abs(sym.J))
    # on the upper Bi layer the site is not an inversion centre: D appears, for the in-plane bond
    # along the two-fold axis x it lies along the bond (Moriya's rules)
    up = greens.exchange_tensor(g00, gij[:, :2], gji[:, :2], contour, FE, FE, P_UP)
    assert abs(up.D[0, 0]) > 1e-3 and np.abs(up.D[0, 1:]).max() < 1e-12
    assert np.linalg.norm(up.D[1]) > 1e-4


def test_nonmagnetic_impurity_gives_exactly_zero(ti):
    _, contour, _, (g00, gij, gji) = ti
    res = greens.exchange_tensor(g00, gij, gji, contour, FE, (0.8, 0.0), P_UP)
    assert np.all(res.tensor == 0.0)


def test_exchange_scales_as_delta_i_delta_j_for_small_splitting(ti):
    _, contour, _, (g00, gij, gji) = ti
    J = lambda di, dj: greens.exchange_tensor(g00, gij[:, 0], gji[:, 0], contour, (0.2, di), (0.2, dj), P_UP).J
    d = 1e-3
    base = J(d, d)
    assert abs(base) > 0
    assert J(2 * d, d) / base == pytest.approx(2.0, rel=1e-4)
    assert J(2 * d, 2 * d) / base == pytest.approx(4.0, rel=1e-4)
    assert abs(J(1e-6, 1e-6)) < abs(base) * 1e-5


def test_contour_and_kmesh_convergence():
    """Stated tolerances: 40 → 64 contour points changes J by < 1e-6 relative; k-mesh 16 → 20 by < 3 % (NN Cr–Cr)."""
    model = greens.ti_model()
    vbm, cbm = greens.band_edges(model, kmesh=12)
    eb, ef = greens.band_bottom(model, 6) - 0.5, 0.5 * (vbm + cbm)
    out = {}
    for nk, nz in ((16, 40), (16, 64), (20, 40)):
        c = greens.semicircle(eb, ef, nz)
        g00, gij, gji = greens.HostGreen(model, nk, c).pair_blocks([R_INPLANE])
        out[nk, nz] = greens.exchange_tensor(g00, gij, gji, c, CR, CR, P_UP).J[0]
    assert out[16, 64] == pytest.approx(out[16, 40], rel=1e-6)
    assert out[20, 40] == pytest.approx(out[16, 40], rel=0.03)


def test_impurity_input_errors():
    with pytest.raises(ValueError, match="delta"):
        greens.impurity_potential(0.0, -1.0, [0, 0, 1], 2)
    with pytest.raises(ValueError, match="direction"):
        greens.impurity_potential(0.0, 1.0, [0, 0, 0], 2)
    with pytest.raises(ValueError, match="projector"):
        greens.impurity_potential(0.0, 1.0, [0, 0, 1], 2, np.eye(2) * 2)


def test_element_table_sources_and_nonmagnetic_elements():
    table = greens.element_table()
    assert len(table) == 20
    nonmag = set(table.symbol[~table.magnetic])
    assert nonmag == {"Sc", "Cu", "Zn", "Y", "Zr", "Rh", "Pd", "Ag", "Cd"}
    assert (table.delta[~table.magnetic] == 0).all()
    mn = greens.impurity_parameters("Mn")
    assert mn.delta == pytest.approx(0.9 * 4.412) and "Janak" in mn.sources and "Allred" in mn.sources
    with pytest.raises(ValueError, match="unknown impurity element 'Bi'"):
        greens.impurity_parameters("Bi")
