"""Pair geometry and crystal symmetry (jijtutorial.geometry): operations, vectors, bond classes, allowed D."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from jijtutorial import geometry as g

RNG = np.random.default_rng(7)


def _in(R, group, tol=1e-9) -> bool:
    return any(np.allclose(R, Q, atol=tol) for Q in group)


def test_point_group_is_d3d():
    ops = g.point_group()
    assert ops.shape == (12, 3, 3)
    for R in ops:
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    dets = np.round(np.linalg.det(ops)).astype(int)
    assert sorted(dets) == [-1] * 6 + [1] * 6
    assert _in(-np.eye(3), ops)  # centrosymmetric
    for A, B in itertools.product(ops, ops):  # closed under composition
        assert _in(A @ B, ops)
    # exactly one three-fold axis (z) and three two-fold axes in the plane
    traces = np.round(np.trace(ops, axis1=1, axis2=2), 6)
    assert np.sum((dets == 1) & (traces == 0)) == 2 and np.sum((dets == 1) & (traces == -1)) == 3


def test_site_operations_are_c3v_and_the_lower_to_upper_coset():
    upper, lower = g.site_operations()
    ops = g.point_group()
    assert all(_in(R, ops) for R in np.concatenate([upper, lower]))
    assert not any(_in(R, lower) for R in upper)
    assert _in(np.eye(3), upper) and _in(-np.eye(3), lower)
    # C3v: the z axis is kept, the three mirrors are improper
    np.testing.assert_allclose(upper @ [0, 0, 1], np.tile([0, 0, 1], (6, 1)), atol=1e-12)
    assert sorted(np.round(np.linalg.det(upper)).astype(int)) == [-1, -1, -1, 1, 1, 1]
    # every upper operation maps Bi sites of each sublattice onto that sublattice
    for v in g.bi_pair_vectors(9.0, "same"):
        for R in upper:
            assert g.locate_bi_site(R @ v).sublattice == "same"


@pytest.mark.parametrize("k", range(12))
def test_axial_vectors_transform_like_cross_products(k):
    R = g.point_group()[k]
    a, b = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(g.axial(R, np.cross(a, b)), np.cross(g.polar(R, a), g.polar(R, b)), atol=1e-12)


def test_exchange_of_i_and_j():
    r = g.bi_pair_vectors(4.5, "same")[0]
    back, D = g.exchange_ij(r, "same", D=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(back, -r)
    np.testing.assert_allclose(D, [-1.0, -2.0, -3.0])
    np.testing.assert_allclose(g.exchange_ij(back, "same"), r)
    up = np.array([0.0, 0.0, 6.097427])
    assert g.locate_bi_site(up).sublattice == "other"
    np.testing.assert_allclose(g.exchange_ij(up, "other"), up)  # through the inversion centre
    with pytest.raises(ValueError, match="sublattice"):
        g.exchange_ij(r, "middle")


def test_bond_classes_partition_the_bi_sites_into_orbits():
    classes = g.bond_classes(30.0)
    n_sites = len(g.bi_pair_vectors(30.0, "same")) + len(g.bi_pair_vectors(30.0, "other"))
    assert sum(c.multiplicity for c in classes) == n_sites
    labels = [c.geometry for c in classes]
    assert len(set(labels)) == len(labels)  # one label per class
    upper, _ = g.site_operations()
    for c in classes:
        # the representative is a member, every member maps back to the same class
        assert g.bond_class(c.representative) is c
        v = c.vectors[RNG.integers(len(c.vectors))]
        assert g.bond_class(v).geometry == c.geometry
        for vec, M, ex in zip(c.vectors, c.maps, c.exchanged):
            assert np.linalg.det(M) == pytest.approx(-1.0 if ex else 1.0)
            if not ex:  # kept i and j: vec = R r0 and M = det(R) R (= ±R) for an operation R of i's site group
                R = M if _in(M, upper) and np.linalg.det(M) > 0 else -M
                assert _in(R, upper) and np.linalg.det(R) * R == pytest.approx(M)
                np.testing.assert_allclose(R @ c.representative, vec, atol=1e-6)


def test_two_classes_can_share_a_layer_and_a_distance():
    # across the gap at 9.74 Å: two orbits of three sites each, mirror images under y -> -y (not a symmetry)
    at = [c for c in g.bond_classes(10.0) if c.geometry.startswith("across the vdW gap, 9.74 Å")]
    assert [c.geometry for c in at] == ["across the vdW gap, 9.74 Å (1)", "across the vdW gap, 9.74 Å (2)"]
    assert [c.multiplicity for c in at] == [3, 3]
    np.testing.assert_allclose(at[0].representative * [1, -1, 1], at[1].representative, atol=1e-6)


def test_geometry_labels_one_convention():
    qlp = np.array([2.191490, 1.265258, 10.162379])  # a JuKKR vector, j one QL up
    site = g.locate_bi_site(qlp)
    assert site.layer == "upper Bi layer, QL +1" and site.layer_class == "upper Bi layer, QL ±1"
    assert site.geometry == "upper Bi layer, QL ±1, 10.47 Å"
    assert g.locate_bi_site(-qlp).layer == "upper Bi layer, QL -1"
    assert g.bond_class(-qlp).geometry == site.geometry  # the same bond seen from j
    assert g.locate_bi_site([-4.382981, 0, 0]).geometry == "same Bi layer, 4.38 Å"


def _host_inverts_through(midpoint, radius=12.0) -> bool:
    pos, z, _ = g.host_cloud(radius + np.linalg.norm(midpoint) + 1)
    near = np.linalg.norm(pos - midpoint, axis=1) < radius
    p, zz = pos[near], z[near]
    images = 2 * midpoint - p
    d = np.linalg.norm(images[:, None, :] - pos[None, :, :], axis=2)
    k = d.argmin(axis=1)
    return bool(np.all(d[np.arange(len(p)), k] < 1e-3) and np.all(z[k] == zz))


def test_inversion_centred_bonds_are_exactly_the_upper_lower_ones():
    """Checked against the atoms: the host is inversion-symmetric about the bond's midpoint."""
    for c in g.bond_classes(11.0):
        mid = c.representative / 2
        assert c.symmetry.inversion_centred == _host_inverts_through(mid) == (c.sublattice == "other"), c.geometry


def test_allowed_d_follows_moriyas_rules():
    # on the three-fold axis: no D at all
    axis = g.bond_class([0, 0, 6.097427])
    assert axis.symmetry.allowed_basis()[0].shape == (0, 3)
    for c in g.bond_classes(14.0):
        basis, parity, labels = c.symmetry.allowed_basis()
        np.testing.assert_allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-12)
        for R in c.symmetry.keeping:  # invariant under the operations that keep i and j
            np.testing.assert_allclose(g.axial(R, basis), basis, atol=1e-12)
        S = c.symmetry.exchange_map
        if S is None:
            assert set(parity) <= {0}
        else:  # eigenvectors of the exchange: symmetric or antisymmetric in the two elements
            np.testing.assert_allclose(basis @ S.T, parity[:, None] * basis, atol=1e-12)
        if c.symmetry.inversion_centred:
            assert set(parity) <= {-1}  # D(A, A) = 0 on an inversion-centred bond
        mirrors = [R for R in c.symmetry.keeping if np.linalg.det(R) < 0]
        if mirrors and c.sublattice == "same":  # a mirror through the bond: D perpendicular to it
            n = np.cross([0, 0, 1], c.representative)
            n /= np.linalg.norm(n)
            assert len(basis) == 1 and abs(abs(basis[0] @ n) - 1) < 1e-12
    nn = g.bond_class([-4.382981, 0, 0]).symmetry.allowed_basis()
    assert dict(zip(nn[2], nn[1])) == {"t": 1, "z": 1, "rho": -1}
