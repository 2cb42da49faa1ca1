"""Exchange in impurity clusters: the pair limit, symmetry, and the effect of a third impurity."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial.clusters import cluster_exchange, cluster_tensors
from jijtutorial.greens import HostGreen, make_contour, pair_exchange, ti_model
from jijtutorial.greens.ti_model import rhombohedral_cell


@pytest.fixture(scope="module")
def host():
    model = ti_model()
    return HostGreen(model, 8, make_contour(model, n_points=24))


def _lattice(*coords):
    return np.array(coords, dtype=float) @ rhombohedral_cell()


NN = _lattice((1, -1, 0))[0]  # an in-plane nearest-neighbour vector, |NN| = a


def test_two_impurities_reproduce_pair_exchange(host):
    assert np.linalg.norm(NN) == pytest.approx(4.383)
    T = cluster_tensors(["Cr", "Fe"], [np.zeros(3), NN], host)
    pair = pair_exchange("Cr", "Fe", NN[None], host=host).tensor[0]
    np.testing.assert_allclose(T[0, 1], pair, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(T[1, 0], pair.T, rtol=1e-10, atol=1e-14)
    assert abs(np.trace(pair)) > 0


def test_order_of_the_impurities_does_not_matter(host):
    third = _lattice((1, 0, 0))[0] * 0 + 2 * NN
    a = cluster_exchange(["Cr", "V", "Mn"], [np.zeros(3), NN, third], host)
    b = cluster_exchange(["Mn", "Cr", "V"], [third, np.zeros(3), NN], host)
    ja = {frozenset((r.element_a, r.element_b)): r.J for r in a.itertuples()}
    jb = {frozenset((r.element_a, r.element_b)): r.J for r in b.itertuples()}
    assert ja.keys() == jb.keys()
    for k in ja:
        assert ja[k] == pytest.approx(jb[k], rel=1e-9, abs=1e-12)


def test_third_impurity_changes_J_only_if_it_scatters(host):
    pair = cluster_exchange(["Cr", "Cr"], [np.zeros(3), NN], host).J[0]
    # Sc carries no moment but its empty d level scatters the host electrons: J_12 changes,
    # while its own couplings are exactly zero.
    trio = cluster_exchange(["Cr", "Cr", "Sc"], [np.zeros(3), NN, 2 * NN], host)
    assert abs(trio.loc[(trio.a == 0) & (trio.b == 1), "J"].item() - pair) > 1e-4 * abs(pair)
    assert np.all(trio.loc[trio.b == 2, "J"].to_numpy() == 0.0)
    # Zn's d shell is full: no potential at all in the resonant model, so J_12 is unchanged.
    zn = cluster_exchange(["Cr", "Cr", "Zn"], [np.zeros(3), NN, 2 * NN], host)
    assert zn.loc[(zn.a == 0) & (zn.b == 1), "J"].item() == pytest.approx(pair, rel=1e-10)


@pytest.mark.parametrize(
    "elements, positions, message",
    [
        (["Cr", "Xx"], [[0, 0, 0], [1, 0, 0]], "unknown impurity element 'Xx'"),
        (["Cr"], [[0, 0, 0]], "at least two"),
        (["Cr", "Fe"], [[0, 0, 0]], "positions must have shape"),
        (["Cr", "Fe"], [[0, 0, 0], [0, 0, 0]], "same site"),
    ],
)
def test_bad_clusters(host, elements, positions, message):
    with pytest.raises(ValueError, match=message):
        cluster_exchange(elements, positions, host)
