"""Resonant d-level impurities: Friedel sum rule, force theorem for an energy-dependent potential, symmetries."""

from __future__ import annotations

import numpy as np
import pytest
from lloyd import P_UP, R_INPLANE, rotated_omega, ti_host

from jijtutorial import greens
from jijtutorial.greens import resonant


@pytest.fixture(scope="module")
def ti():
    _, contour, _, blocks = ti_host()
    return contour, blocks


def _on(contour, symbol, **kw):
    return greens.resonant_parameters(symbol, **kw).on_contour(contour.z, contour.params["e_fermi"])


# --------------------------------------------------------------------------- Friedel sum rule
@pytest.mark.parametrize("n", [0.1, 0.9, 2.5, 3.7, 4.9])
def test_level_and_occupation_are_inverse(n):
    level = resonant.level_from_occupation(n, 0.3)
    assert resonant.occupation_from_level(level, 0.3) == pytest.approx(n, abs=1e-12)
    assert (level < 0) == (n > 2.5) and (abs(level) < 1e-12) == (n == 2.5)


def test_occupations_of_the_elements():
    fe = greens.resonant_parameters("Fe")
    assert fe.n_d == 6 and fe.n_up == pytest.approx((6 + 3.386) / 2) and fe.n_down == pytest.approx((6 - 3.386) / 2)
    assert fe.level_up < 0 < fe.level_down  # majority below E_F, minority above
    z = greens.semicircle(-3.0, 0.1, 16).z
    U, D = fe.on_contour(z, 0.1)  # V = [U − (Δ/2) e·σ] ⊗ Π: majority U − Δ/2, minority U + Δ/2
    assert np.allclose(U - D / 2, 0.3 / (z - 0.1 - fe.level_up + 0.3j), rtol=1e-13)
    assert np.allclose(U + D / 2, 0.3 / (z - 0.1 - fe.level_down + 0.3j), rtol=1e-13)
    assert (fe.weight, fe.gamma, fe.rule) == (0.3, 0.3, "divalent")
    cr = greens.resonant_parameters("Cr", rule="trivalent")
    assert cr.n_d == 3 and cr.n_down == 0.0 and cr.level_down == np.inf  # (3 − 3.8)/2 clipped to 0
    zn = greens.resonant_parameters("Zn")
    assert zn.n_up == zn.n_down == 5.0 and zn.level_up == -np.inf and not zn.magnetic
    contour = greens.semicircle(-3.0, 0.0, 16)
    U, D = zn.on_contour(contour.z, 0.0)
    assert np.all(U == 0) and np.all(D == 0)  # a full shell at −∞ leaves no potential
    table = greens.resonant_table()
    assert set(table.symbol[~table.magnetic]) == set(greens.element_table().symbol[~greens.element_table().magnetic])
    with pytest.raises(ValueError, match="d-count rule"):
        greens.resonant_parameters("Fe", rule="ionic")
    with pytest.raises(ValueError, match="gamma"):
        greens.resonant_parameters("Fe", gamma=0.0)


def test_lorentzian_on_the_contour_holds_the_intended_electrons():
    """−(1/π) Im ∫ f · 5/(E − ε + iΓ) dE on the package's contour (plus the tail below it) = n_σ."""
    gamma, ef = 0.3, -0.01
    contour = greens.semicircle(-3.0, ef, 48)
    for n in (0.3, 1.7, 2.5, 4.2):
        eps = ef + resonant.level_from_occupation(n, gamma)
        on_contour = contour.integrate(5.0 / (contour.z - eps + 1j * gamma))
        tail = 5 * (0.5 - np.arctan((eps + 3.0) / gamma) / np.pi)
        assert on_contour + tail == pytest.approx(n, abs=1e-6)


def test_embedded_d_occupation_obeys_the_friedel_sum_rule(ti):
    """The d shell of one impurity embedded in the TI host by the Dyson equation holds n_σ = (N_d ± m)/2
    for weak hybridisation with the explicit host (W → 0), for any moment direction; finite W shifts it a little."""
    contour, (g00, _, _) = ti
    ef = contour.params["e_fermi"]
    for symbol in ("V", "Mn", "Fe", "Mo"):
        weak = greens.resonant_parameters(symbol, weight=1e-5)
        for direction in ([0, 0, 1], [1, 0, 0], [0.3, -0.5, 0.8]):
            n = greens.d_occupation(g00, contour, weak, ef, P_UP, direction)
            assert n == pytest.approx([weak.n_up, weak.n_down], abs=1e-3)
        full = greens.d_occupation(g00, contour, greens.resonant_parameters(symbol), ef, P_UP)
        assert np.abs(full - [weak.n_up, weak.n_down]).max() < 0.2
        assert full[0] - full[1] > 0.8 * (weak.n_up - weak.n_down)  # the moment survives the embedding


# --------------------------------------------------------------------------- exchange
def test_energy_dependent_path_equals_static_path_for_constant_potentials(ti):
    contour, (g00, gij, gji) = ti
    nz = len(contour)
    fe, cr = (0.19, 3.05), (0.36, 3.42)
    const = lambda p: (np.full(nz, p[0], complex), np.full(nz, p[1], complex))
    a = greens.exchange_tensor(g00, gij, gji, contour, fe, cr, P_UP).tensor
    b = greens.exchange_tensor(g00, gij, gji, contour, const(fe), const(cr), P_UP).tensor
    assert np.allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "k,axis_i,axis_j,pair,kw",
    [
        (0, "x", "x", ("V", "Fe"), {}),
        (1, "y", "y", ("Cr", "Cr"), {}),
        (1, "x", "y", ("Fe", "Mo"), {"weight": 1.0, "gamma": 0.2}),
    ],
)
def test_force_theorem_equals_lloyd_finite_difference_for_the_resonant_potential(ti, k, axis_i, axis_j, pair, kw):
    """−∂²ΔΩ/∂θ_i∂θ_j of Lloyd's formula with V(z) rotated rigidly = the Liechtenstein formula with Δ(z) inside."""
    contour, blocks = ti
    imp_i, imp_j = _on(contour, pair[0], **kw), _on(contour, pair[1], **kw)
    h = 1e-3
    O = lambda a, b: rotated_omega(contour, blocks, k, imp_i, imp_j, axis_i, axis_j, a, b)
    fd = -(O(h, h) - O(h, -h) - O(-h, h) + O(-h, -h)) / (4 * h * h)
    g00, gij, gji = blocks
    J = greens.exchange_for_reference(g00, gij[:, k], gji[:, k], contour, imp_i, imp_j, [0, 0, 1], P_UP)
    a, b = "xyz".index(axis_i), "xyz".index(axis_j)
    assert abs(J[a, b]) > 1e-6  # a real coupling (eV), not 0 = 0
    assert fd == pytest.approx(J[a, b], rel=1e-4)


def test_resonant_nonmagnetic_impurity_gives_exactly_zero(ti):
    contour, (g00, gij, gji) = ti
    for symbol in ("Cu", "Zr", "Rh", "Zn"):
        U, D = _on(contour, symbol)
        assert np.all(D == 0)
        res = greens.exchange_tensor(g00, gij, gji, contour, _on(contour, "Fe"), (U, D), P_UP)
        assert np.all(res.tensor == 0.0)


def test_resonant_swapping_the_pair_transposes_the_tensor(ti):
    """J_ji = J_ij (isotropic and symmetric part), D_ji = −D_ij: B at 0 and A at −R is the pair A at 0, B at R."""
    contour, (g00, gij, gji) = ti
    fe, cr = _on(contour, "Fe"), _on(contour, "Cr")
    for k_ab, k_ba in ((1, 2),):
        ab = greens.exchange_tensor(g00, gij[:, k_ab], gji[:, k_ab], contour, fe, cr, P_UP)
        ba = greens.exchange_tensor(g00, gij[:, k_ba], gji[:, k_ba], contour, cr, fe, P_UP)
        assert ba.tensor == pytest.approx(ab.tensor.T, abs=1e-14)
        assert ba.J == pytest.approx(ab.J, rel=1e-10) and abs(ab.J) > 1e-6
        assert np.allclose(ba.D, -ab.D, atol=1e-14) and np.linalg.norm(ab.D) > 1e-7


def test_resonant_chemical_trend_at_the_nearest_distance(ti):
    """Partly filled majority level at E_F (V, Cr) couples ferromagnetically; a nearly half-filled or
    more than half-filled shell (Fe, Co) antiferromagnetically — the trend of the JuKKR data."""
    contour, (g00, gij, gji) = ti
    J = lambda a, b: greens.exchange_tensor(g00, gij[:, 0], gji[:, 0], contour, _on(contour, a), _on(contour, b), P_UP).J
    assert J("V", "Cr") > 0 and J("Cr", "Cr") > 0
    assert J("Fe", "Fe") < 0 and J("Fe", "Co") < 0


def test_pair_exchange_impurity_models():
    host = greens.HostGreen(greens.ti_model(), 6, greens.make_contour(greens.ti_model(), n_points=24))
    static = greens.pair_exchange("Fe", "Cr", [R_INPLANE], host=host, impurity_model="static")
    direct = greens.exchange_tensor(
        *host.pair_blocks([R_INPLANE]),
        host.contour,
        greens.impurity_parameters("Fe").as_tuple(),
        greens.impurity_parameters("Cr").as_tuple(),
        P_UP,
    )
    assert np.array_equal(static.tensor, direct.tensor)
    default = greens.pair_exchange("Fe", "Cr", [R_INPLANE], host=host)
    res = greens.pair_exchange("Fe", "Cr", [R_INPLANE], host=host, impurity_model="resonant")
    assert greens.DEFAULT_IMPURITY_MODEL == "resonant" and np.array_equal(default.tensor, res.tensor)
    assert not np.allclose(res.tensor, static.tensor)
    with pytest.raises(ValueError, match="impurity_model"):
        greens.pair_exchange("Fe", "Cr", [R_INPLANE], host=host, impurity_model="dynamic")
