"""The tight-binding engine and the Bi2Te3 topological-insulator model: k·p limit, topology, surface state."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from jijtutorial import greens
from jijtutorial.geometry import bi_pair_vectors
from jijtutorial.greens.tight_binding import PAULI


@pytest.fixture(scope="module")
def model():
    return greens.ti_model()


def _kp(p, k):
    kx, ky, kz = k
    kp2 = kx**2 + ky**2
    t = lambda a, b: np.kron(PAULI[a] if a >= 0 else np.eye(2), PAULI[b] if b >= 0 else np.eye(2))
    return (
        (p.C0 + p.C1 * kz**2 + p.C2 * kp2) * np.eye(4)
        + (p.M0 + p.M1 * kz**2 + p.M2 * kp2) * t(-1, 2)
        + p.B0 * kz * t(2, 0)
        + p.A0 * (kx * t(0, 0) + ky * t(1, 0))
    )


def test_small_k_limit_is_the_kp_model(model):
    p = greens.BI2TE3
    for k in ([0.01, 0, 0], [0, 0, 0.01], [0.006, -0.004, 0.005]):
        H = model.hamiltonian(np.array(k))
        assert np.abs(H - _kp(p, k)).max() < 2e-5  # O(k^3) in eV, k = 0.01 Å⁻¹
    # and the deviation shrinks like k^3 or faster
    d1 = np.abs(model.hamiltonian(np.array([0, 0, 0.02])) - _kp(p, [0, 0, 0.02])).max()
    d2 = np.abs(model.hamiltonian(np.array([0, 0, 0.01])) - _kp(p, [0, 0, 0.01])).max()
    assert d1 / d2 > 7


def test_hermitian_time_reversal_and_inversion(model):
    rng = np.random.default_rng(0)
    k = rng.normal(size=(5, 3)) * 0.3
    H, Hm = model.hamiltonian(k), model.hamiltonian(-k)
    assert np.allclose(H, np.swapaxes(H.conj(), 1, 2))
    P = greens.inversion_operator()
    assert np.allclose(P @ H @ P, Hm)
    T = np.kron(1j * PAULI[1], np.eye(2))
    assert np.allclose(T @ H.conj() @ T.conj().T, Hm)


def test_model_lattice_is_the_upper_bi_sublattice(model):
    n = model.fractional(bi_pair_vectors(20.0, "same"))
    assert np.allclose(n @ model.cell, bi_pair_vectors(20.0, "same"), atol=1e-9)
    with pytest.raises(ValueError, match="not a lattice vector"):
        model.fractional([0.0, 0.0, 6.097])  # a lower-Bi (other sublattice) vector


def test_strong_topological_insulator_with_inverted_gap(model):
    par = greens.trim_parities(model)
    assert par[0] == 1 and np.all(par[1:] == -1)  # band inversion at Γ only
    assert greens.z2_index(model) == 1
    M = greens.mass_at_trim()
    assert M[0] == pytest.approx(-0.30) and np.all(M[1:] > 0.3)
    vbm, cbm = greens.band_edges(model, kmesh=16)
    assert 0.04 < cbm - vbm < 0.07  # indirect gap (eV)
    # the direct gap at Γ is the inverted 2|M0|
    e = np.linalg.eigvalsh(model.hamiltonian(np.zeros(3)))
    assert e[2] - e[1] == pytest.approx(0.60, abs=1e-9)


def test_naive_regularisation_is_trivial():
    naive = greens.ti_model(replace(greens.BI2TE3, z_boundary_factor=1.0))
    assert greens.z2_index(naive) == 0
    assert greens.mass_at_trim(replace(greens.BI2TE3, z_boundary_factor=1.0))[7] < 0  # inverted at Z too


def _surface_pair(e, w):
    """Energies of the two distinct Kramers pairs with the largest weight on the outer layers."""
    order = np.argsort(-w)
    first = e[order[0]]
    second = next(e[i] for i in order[1:] if abs(e[i] - first) > 1e-9)
    return sorted((first, second)), w[order[0]]


def test_slab_has_a_dirac_surface_state(model):
    vbm, cbm = greens.band_edges(model, kmesh=12)
    k = np.array([[0.0, 0.0], [0.02, 0.0], [0.0, 0.02]])
    e, w = greens.slab_bands(model, 40, k)
    (lo, hi), weight = _surface_pair(e[0], w[0])
    assert hi - lo < 6e-3 < cbm - vbm  # nearly degenerate at Γ̄ (40 QL), inside the bulk gap at k∥ = 0
    assert -0.0414 < lo < hi < 0.0123
    assert weight > 0.25 > 2 * np.median(w[0])  # localised on the surface layers
    for row in (1, 2):  # linear (Dirac) dispersion with velocity ≈ A0 in both in-plane directions
        (lo_k, hi_k), _ = _surface_pair(e[row], w[row])
        assert (hi_k - lo_k) / (2 * 0.02) == pytest.approx(greens.BI2TE3.A0, rel=0.1)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Hermitian"):
        greens.TightBinding(np.eye(3), {(0, 0, 0): np.eye(2), (1, 0, 0): np.eye(2) * 1j}, 1)
    with pytest.raises(ValueError, match="shape"):
        greens.TightBinding(np.eye(3), {(0, 0, 0): np.eye(3)}, 1)
    with pytest.raises(ValueError, match="kmesh"):
        greens.simple_cubic().kmesh((4, 0, 4))
    with pytest.raises(ValueError, match="z_boundary_factor"):
        greens.ti_model(replace(greens.BI2TE3, z_boundary_factor=-1))
