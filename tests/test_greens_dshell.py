"""d-shell impurities in the crystal host: exact embedding, self-consistent moments, force theorem, tensor symmetries."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial.greens import crystal as C
from jijtutorial.greens import dshell as DS
from jijtutorial.greens.bi_pairs import crystal_site, pair_geometries, site_group
from jijtutorial.greens.dshell_exchange import d_potential, dshell_exchange_for_reference, grand_potential_dshell
from jijtutorial.greens.engine import CrystalEngine, EngineSettings, pair_from_states
from jijtutorial.greens.slater_koster import pd_block

NN = np.array([-4.383, 0.0, 0.0])  # same Bi layer, 4.38 Å
INTRA_QL = np.array([-2.1915, -1.265263, -4.065])  # other Bi layer of the same QL, 4.79 Å (inversion-centred)
GAP = np.array([0.0, 0.0, 6.0974])  # across the van der Waals gap, 6.10 Å (inversion-centred)
KMESH = 4


@pytest.fixture(scope="module")
def engine():
    eng = CrystalEngine(EngineSettings(kmesh=KMESH, n_poles=24))
    eng.prepare([NN, -NN, INTRA_QL, GAP])
    return eng


# --------------------------------------------------------------------------- exact embedding
def _supercell_hamiltonian(model, n):
    """Real-space H of the periodic n × n × n supercell (cells ordered as np.ndindex), and the cell index map."""
    cells = list(np.ndindex(n, n, n))
    where = {c: i for i, c in enumerate(cells)}
    nb = model.n_basis
    H = np.zeros((len(cells) * nb, len(cells) * nb), dtype=complex)
    for key, block in model.hoppings.items():
        for i, c in enumerate(cells):
            j = where[tuple((np.array(c) + key) % n)]
            H[i * nb : (i + 1) * nb, j * nb : (j + 1) * nb] += block
    return H, where


def test_embedding_equals_inverting_the_whole_supercell(engine):
    """The Bi atoms removed, d shells coupled to their Te cages, on the host of the k-mesh: G_dd from the
    engine (Schur complement + downfolding) equals the d block of (z − H)^{-1} of the explicit periodic supercell."""
    model, n = engine.model, KMESH
    H, where = _supercell_hamiltonian(model, n)
    nb = model.n_basis
    sites = [(C.BI_UPPER, (0, 0, 0)), crystal_site(NN)]
    cl = engine.cluster(NN)
    states = [engine.impurity("Cr"), engine.impurity("Fe")]
    levels, deltas = [s.level for s in states], [s.delta for s in states]
    sigma = cl.sigma([s.coupling for s in states])
    direction = np.array([0.3, -0.2, 0.9])
    G_engine = cl.green_dd(sigma, levels, deltas, direction)
    # explicit: drop the two Bi atoms, append 2 × 10 d orbitals
    drop = [where[tuple(np.mod(nn, n))] * nb + C.orbital_index(a) for a, nn in sites]
    keep = np.setdiff1d(np.arange(len(H)), np.concatenate(drop))
    pos = C.atom_positions()
    nd = 10 * len(sites)
    V = np.zeros((nd, len(H)))
    for k, (a, nn) in enumerate(sites):
        for b, nb_cell, vec in DS.cage(a, nn):
            col = where[tuple(np.mod(nb_cell, n))] * nb + C.orbital_index(b, (1, 2, 3))
            v = pd_block(-vec, DS.ETA_PD["pds"], DS.ETA_PD["pdp"]).T / np.linalg.norm(vec) ** 3.5 * states[k].coupling
            V[10 * k : 10 * k + 10, col] += np.kron(np.eye(2), v)
    Hd = np.zeros((nd, nd), dtype=complex)
    for k in range(len(sites)):
        Hd[10 * k : 10 * k + 10, 10 * k : 10 * k + 10] = d_potential(levels[k], deltas[k], direction)
    full = np.block([[Hd, V[:, keep]], [V[:, keep].T, H[np.ix_(keep, keep)]]])
    assert np.allclose(pos.shape, (5, 3))
    for iz in (0, 5):
        z = engine.contour.z[iz]
        G = np.linalg.inv(z * np.eye(len(full)) - full)[:nd, :nd]
        assert np.allclose(G_engine[iz], G, atol=1e-10)
        assert np.abs(G[:10, 10:]).max() > 1e-4  # the two shells talk through the host


# --------------------------------------------------------------------------- mean field
def test_occupations_count_the_whole_shell(engine):
    """Without hybridisation a level holds 5 f(ε − E_F) per spin: the Ozaki sum (N/2 + poles) counts it exactly."""
    cl = engine.cluster()
    ef, kT = engine.e_fermi, 8.617333262e-5 * engine.settings.temperature
    for shift, expected in ((-3.0, 5.0), (0.0, 2.5), (0.05, 5 / (1 + np.exp(0.05 / kT))), (3.0, 0.0)):
        n = DS.spin_occupations(cl.green_dd(cl.sigma([0.0]), [ef + shift], [0.0]), cl.contour, 1)
        assert np.allclose(n, expected, atol=1e-9)
    # hybridised: a level far below the bands is nearly full, one far above nearly empty; each loses or gains
    # only its covalent share (a few hundredths of an electron), never more
    sigma = cl.sigma([engine.impurity("Fe").coupling])
    full = DS.spin_occupations(cl.green_dd(sigma, [ef - 8.0], [0.0]), cl.contour, 1)
    empty = DS.spin_occupations(cl.green_dd(sigma, [ef + 8.0], [0.0]), cl.contour, 1)
    assert np.all((full < 5.0) & (full > 4.97)) and np.all((empty > 0) & (empty < 0.05))


def test_self_consistent_moments_obey_their_equations(engine):
    for s in ("Cr", "Mn", "Fe", "Cu", "Sc"):
        st = engine.impurity(s)
        assert st.n_up + st.n_down == pytest.approx(st.n_d, abs=1e-6)  # the d-count rule
        assert st.delta == pytest.approx(st.stoner_I * st.moment, abs=2e-5)  # Δ = I·m
    assert engine.impurity("Mn").moment > 3.0  # a half-filled shell is strongly magnetic
    zn = engine.impurity("Zn")
    assert zn.moment == 0.0 and zn.delta == 0.0  # a full shell has no moment


def test_no_moment_without_stoner_exchange(engine):
    cl = engine.cluster()
    st = DS.solve_single(cl, "Mn", DS.ImpurityModel(stoner_scale=0.0))
    assert st.delta == 0.0 and abs(st.moment) < 1e-8


def test_induced_moment_next_to_a_magnetic_impurity(engine):
    alone = engine.impurity("Sc")
    assert alone.delta == 0.0
    pair = engine.pair("Fe", "Sc", NN)
    assert abs(pair.moments[1]) > 1e-5 and pair.converged  # Fe polarises its non-magnetic neighbour
    assert engine.pair("Sc", "Y", NN).J == 0.0  # two non-magnetic impurities stay non-magnetic


# --------------------------------------------------------------------------- force theorem
@pytest.mark.parametrize("vector, axes", [(NN, ("x", "x")), (GAP, ("y", "y")), (INTRA_QL, ("x", "y"))])
def test_liechtenstein_equals_lloyd_finite_difference(engine, vector, axes):
    cl = engine.cluster(vector)
    si, sj = engine.impurity("Cr"), engine.impurity("Fe")
    sig = cl.sigma([si.coupling, sj.coupling])
    lv, dl = [si.level, sj.level], [si.delta, sj.delta]
    J = dshell_exchange_for_reference(cl, sig, lv, dl, [0, 0, 1])  # moments along z, tilted towards x or y
    a, b = ("xyz".index(axes[0]), "xyz".index(axes[1]))
    h = 1e-3

    def omega(ta, tb):
        ei, ej = np.array([0.0, 0.0, np.cos(ta)]), np.array([0.0, 0.0, np.cos(tb)])
        ei[a], ej[b] = np.sin(ta), np.sin(tb)
        return grand_potential_dshell(cl, sig, lv, dl, [ei, ej], [[0, 0, 1], [0, 0, 1]])

    def fd(h):
        return -(omega(h, h) - omega(h, -h) - omega(-h, h) + omega(-h, -h)) / (4 * h * h)

    # the O(h²) error scales with the on-site stiffness (eV), J is 10⁻⁴ eV: Richardson-extrapolate it away
    fd = (4 * fd(h / 2) - fd(h)) / 3
    assert abs(J[a, b]) > 1e-7
    assert fd == pytest.approx(J[a, b], rel=2e-4)


# --------------------------------------------------------------------------- symmetries of the tensor
def test_swapping_the_impurities_transposes_the_tensor(engine):
    """B at 0 and A at −R (same sublattice) is the pair A at 0, B at R: J_BA(−R) = J_AB(R)ᵀ."""
    ab = engine.pair("Cr", "Fe", NN, self_consistent=False)
    ba = engine.pair("Fe", "Cr", -NN, self_consistent=False)
    assert np.allclose(ba.tensor, ab.tensor.T, atol=1e-12 + 1e-8 * np.abs(ab.tensor).max())
    assert abs(ab.J) > 1e-7 and np.linalg.norm(ab.D) > 1e-9


@pytest.mark.parametrize("vector", [INTRA_QL, GAP])
def test_dm_vanishes_on_inversion_centred_bonds(engine, vector):
    r = engine.pair("Mn", "Mn", vector)
    assert np.linalg.norm(r.D) < 1e-9 * max(abs(r.J), 1e-9) + 1e-14
    assert abs(r.J) > 1e-7
    nn = engine.pair("Mn", "Mn", NN)
    assert np.linalg.norm(nn.D) > 1e-3 * abs(nn.J)  # no inversion centre in the bond: D ≠ 0


def test_tensor_transforms_with_the_site_group(engine):
    """J(gR) = g J(R) gᵀ for every operation g of the site group C3v, for the block of J that one reference
    direction z determines (g keeps z up to a sign; spins are axial vectors, and time reversal maps the
    reference −z onto +z). The isotropic J, averaged over the references z, x, y (which a rotation about z
    does not map onto each other), agrees to the size of the anisotropy, a few 10⁻³ relative."""
    ops = site_group()
    assert len(ops) == 6
    si, sj = engine.impurity("V"), engine.impurity("Co")

    def block(v):
        engine.prepare([v])
        cl = engine.cluster(v)
        sig = cl.sigma([si.coupling, sj.coupling])
        return dshell_exchange_for_reference(cl, sig, [si.level, sj.level], [si.delta, sj.delta], [0, 0, 1])[:2, :2]

    base = block(NN)
    assert np.abs(base).max() > 1e-6
    for g in ops:
        assert np.allclose(block(g @ NN), (g @ np.pad(base, (0, 1)) @ g.T)[:2, :2], atol=1e-9 * np.abs(base).max())
        assert engine.pair("V", "Co", g @ NN, self_consistent=False).J == pytest.approx(
            engine.pair("V", "Co", NN, self_consistent=False).J, rel=3e-3
        )


def test_pair_geometries_cover_both_sublattices_and_the_jukkr_vectors():
    geos = pair_geometries(13.2)
    dist = sorted({round(g["distance"], 2) for g in geos})
    assert dist[:5] == [4.38, 4.79, 6.10, 6.49, 7.51] and 7.59 in dist
    assert sum(g["jukkr"] for g in geos) == 10
    for g in geos:
        assert g["site"][0] == (C.BI_UPPER if g["sublattice"] == "same" else C.BI_LOWER)
    # every Bi site within 13.2 Å is counted once
    from jijtutorial.structures import bi_pair_vectors

    assert sum(g["multiplicity"] for g in geos) == len(bi_pair_vectors(13.2, "same")) + len(bi_pair_vectors(13.2, "other"))


def test_contour_convergence():
    """The Ozaki sum converges: 32 → 48 poles changes the nearest-neighbour J by < 1e-6 relative."""
    out = []
    for n_poles in (32, 48):
        eng = CrystalEngine(EngineSettings(kmesh=KMESH, n_poles=n_poles))
        eng.prepare([NN])
        out.append(eng.pair("Cr", "Cr", NN).J)
    assert out[1] == pytest.approx(out[0], rel=1e-6)
    assert abs(out[0]) > 1e-6


def test_pair_from_states_without_moments_is_zero(engine):
    cl = engine.cluster(NN)
    r = pair_from_states(cl, engine.impurity("Zn"), engine.impurity("Cd"))  # full d shells: no moment
    assert np.all(r.tensor == 0.0)
