"""The sp³ Slater–Koster host of Bi2Te3: Slater–Koster tables, symmetries of H(k), topology, band facts, Green function."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial.greens import crystal as C
from jijtutorial.greens.contour import ozaki
from jijtutorial.greens.crystal_green import CrystalGreen
from jijtutorial.greens.dshell import host_orbitals
from jijtutorial.greens.slater_koster import D_ORBITALS, pd_block, soc_p, sp_block
from jijtutorial.greens.tight_binding import PAULI


# --------------------------------------------------------------------------- Slater–Koster tables
def _rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def _d_rotation(R):
    """How the five real d orbitals transform under the rotation R: D with d(R r) = Σ D d(r), by sampling."""
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(40, 3))

    def dvals(r):
        x, y, z = r.T
        return np.stack(
            [
                np.sqrt(3) * x * y,
                np.sqrt(3) * y * z,
                np.sqrt(3) * z * x,
                np.sqrt(3) / 2 * (x * x - y * y),
                z * z - 0.5 * (x * x + y * y),
            ],
            axis=1,
        )

    A, B = dvals(pts), dvals(pts @ R)  # d_β(R⁻¹ r) for the rotated orbitals
    return np.linalg.lstsq(A, B, rcond=None)[0]


def test_pd_table_is_rotation_covariant():
    """<p(0)|H|d(Rv)> = R · <p|H|d(v)> · D(R)⁻¹: the table is one two-centre integral seen from any direction."""
    v = np.array([0.3, -0.5, 0.8])
    for axis, angle in (([0, 0, 1], 0.7), ([1, 1, 0], 1.9), ([0.2, -0.4, 1], -2.3)):
        R = _rotation(axis, angle)
        Dm = _d_rotation(R)
        lhs = pd_block(R @ v, -2.95, 1.36)
        rhs = R @ pd_block(v, -2.95, 1.36) @ np.linalg.inv(Dm)
        assert np.allclose(lhs, rhs, atol=1e-10)


def test_pd_octahedron_splits_eg_and_t2g():
    """Six neighbours along ±x, ±y, ±z: Σ_j V_jᵀV_j is 3V_σ² on e_g and 4V_π² on t_2g (textbook crystal field)."""
    Vs, Vp = -1.3, 0.7
    M = sum(pd_block(s * np.eye(3)[a], Vs, Vp).T @ pd_block(s * np.eye(3)[a], Vs, Vp) for a in range(3) for s in (1, -1))
    eg = [D_ORBITALS.index("dx2-y2"), D_ORBITALS.index("d3z2-r2")]
    t2g = [D_ORBITALS.index(n) for n in ("dxy", "dyz", "dzx")]
    assert np.allclose(np.diag(M)[eg], 3 * Vs**2) and np.allclose(np.diag(M)[t2g], 4 * Vp**2)
    assert np.allclose(M - np.diag(np.diag(M)), 0, atol=1e-12)


def test_sp_block_is_hermitian_for_reversed_bonds_and_soc_splits_3_to_1():
    v = np.array([1.0, 2.0, -0.5])
    a, b = sp_block(v, -1, 1.4, 1.4, 2.2, -0.6), sp_block(-v, -1, 1.4, 1.4, 2.2, -0.6)
    assert np.allclose(a.T, b)  # <β(v)|H|α(0)> = <α(0)|H|β(v)>
    e = np.linalg.eigvalsh(soc_p(1.2))
    assert np.allclose(e, [-1.2, -1.2, 0.6, 0.6, 0.6, 0.6])  # j = 1/2 at −λ, j = 3/2 at +λ/2


# --------------------------------------------------------------------------- the host
@pytest.fixture(scope="module")
def model():
    return C.crystal_model()


def test_structure_and_bonds():
    pos = C.atom_positions()
    assert np.allclose(pos[C.BI_UPPER], [0, 4.383 / np.sqrt(3), (0.400 - 1 / 3) * 30.487])
    kinds = {}
    for b in C.bonds():
        kinds.setdefault(b["kind"], set()).add(round(b["distance"], 2))
    assert kinds["Bi-Te1"] == {3.08} and kinds["Bi-Te2"] == {3.25} and kinds["Te1-Te1 (vdW)"] == {3.61}
    assert kinds["in-plane"] == {4.38} and "other" not in kinds
    assert sum(1 for b in C.bonds() if b["a"] == C.BI_UPPER and b["kind"].startswith("Bi-Te")) == 6


def test_hamiltonian_is_hermitian_time_reversal_and_inversion_symmetric(model):
    rng = np.random.default_rng(1)
    k = rng.normal(size=(4, 3)) * 0.4
    H, Hm = model.hamiltonian(k), model.hamiltonian(-k)
    assert np.allclose(H, np.swapaxes(H.conj(), 1, 2), atol=1e-12)
    T = np.kron(1j * PAULI[1], np.eye(C.N_ORBITALS))  # iσ_y K on spin-outer states
    assert np.allclose(T @ H.conj() @ T.conj().T, Hm, atol=1e-12)
    for kk, h, hm in zip(k, H, Hm):
        P = C.inversion_matrix(kk)
        assert np.allclose(P @ h @ P.conj().T, hm, atol=1e-12)


def test_bands_inverted_at_gamma_only_strong_topological_insulator(model):
    par = C.crystal_trim_parities(model)
    p0 = C.replace_params(lambda_Bi=0.0, lambda_Te=0.0)
    par0 = C.crystal_trim_parities(C.crystal_model(p0), p0)
    assert np.all(par0 == 1)  # without spin–orbit coupling: an ordinary insulator
    assert par[0] == -1 and np.all(par[1:] == 1)  # SOC inverts the bands at Γ only
    assert C.crystal_z2_index(model) == 1


def test_band_facts_against_the_published_values(model):
    f = C.crystal_band_facts(model, kmesh=10)
    assert 0.08 < f["gap"] < 0.25  # measured 0.165 eV (Chen et al. 2009), GGA+SOC 0.1–0.15 eV
    assert 4.0 < f["valence_p_width"] < 7.0  # Te-p/Bi-p valence band, 5–6 eV in DFT
    assert f["s_bands"][1] < f["vbm"] - 5.0  # s bands well below the p valence band


def test_green_function_blocks_equal_a_direct_k_sum(model):
    f = C.crystal_band_facts(model, kmesh=6, n_line=41)
    c = ozaki(0.5 * (f["vbm"] + f["cbm"]), 800.0, 8)
    g = CrystalGreen(model, 4, c, host_orbitals())
    k = model.kmesh(4)
    Gk = np.linalg.inv(c.z[2] * np.eye(40) - model.hamiltonian(k))
    for a, b, n in ((1, 0, (0, 1, -1)), (2, 3, (1, 0, 0)), (1, 1, (-1, 1, 0)), (3, 1, (0, 0, 0))):
        R = np.array(n) @ model.cell
        direct = np.mean(np.exp(-1j * k @ R)[:, None, None] * Gk, 0)
        oa, ob = host_orbitals()[a], host_orbitals()[b]
        assert np.allclose(g.block(a, b, n)[2], direct[np.ix_(oa, ob)], atol=1e-13)
    # periodic with the mesh: n and n + 4 t_i are the same supercell vector
    assert np.allclose(g.block(1, 0, (0, 1, -1)), g.block(1, 0, (4, 1, -1)), atol=1e-13)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="bond_cutoff"):
        C.crystal_model(C.replace_params(bond_cutoff=3.0))
    with pytest.raises(ValueError, match="spin-orbit"):
        C.crystal_model(C.replace_params(lambda_Bi=-1.0))
