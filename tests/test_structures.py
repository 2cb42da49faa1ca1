"""Bi2Te3 host and Bi sites (jijtutorial.geometry), pair embedding and environments (jijtutorial.structures)."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial import geometry as g
from jijtutorial import structures as st
from jijtutorial.geometry import _sites


def test_host_composition_and_sites():
    host = g.bi2te3_host()
    assert len(host) == 15 and host.get_chemical_formula() == "Bi6Te9"
    assert host.get_volume() == pytest.approx(np.sqrt(3) / 2 * g.A_HEX**2 * g.C_HEX)
    labels = list(host.arrays["site"])
    assert labels.count("Bi-upper") == 3 and labels.count("Bi-lower") == 3
    assert labels.count("Te1") == 6 and labels.count("Te2") == 3


def test_upper_bi_faces_the_gap():
    # Above an upper-Bi site: Te1 at ~1.76 Å higher, then the van der Waals gap (next Te1 ~2.6 Å higher).
    pos, numbers, sites = g.host_cloud(12.0)
    above = pos[(np.linalg.norm(pos[:, :2], axis=1) < 3.0) & (pos[:, 2] > 0.1)]
    z = np.unique(above[:, 2].round(3))
    assert z[0] == pytest.approx((2 / 3 - g.Z_TE1 - g.Z_BI) * g.C_HEX, abs=0.01)
    assert z[1] - z[0] > 2.5  # the gap
    # 6.10 Å straight above sits the lower Bi of the next QL (data README).
    site = g.locate_bi_site((0, 0, 6.097))
    assert site.sublattice == "other" and site.layer == "across the vdW gap"


def test_every_jukkr_vector_lands_on_a_bi_site(jukkr):
    vectors = jukkr[["rx", "ry", "rz"]].to_numpy()
    misses = [g.locate_bi_site(v).miss for v in np.unique(vectors.round(8), axis=0)]
    assert len(misses) == 10 and max(misses) < 0.01
    # All 1728 rows went through the same check in the loader; spot-check the count.
    assert len(vectors) == 1728


def test_bi_pair_vectors_shells():
    v = g.bi_pair_vectors(13.2, "same")
    d = np.unique(np.linalg.norm(v, axis=1).round(3))
    # Independent enumeration: same-sublattice vectors are the R-centred hexagonal lattice vectors.
    a1, a2, a3 = np.array([g.A_HEX, 0, 0]), np.array([-g.A_HEX / 2, g.A_HEX * np.sqrt(3) / 2, 0]), np.array([0, 0, g.C_HEX])
    n = np.arange(-4, 5)
    lattice = [
        i * a1 + j * a2 + k * a3 + c @ np.array([a1, a2, a3])
        for i in n
        for j in n
        for k in (-1, 0, 1)
        for c in (np.zeros(3), np.array([2 / 3, 1 / 3, 1 / 3]), np.array([1 / 3, 2 / 3, 2 / 3]))
    ]
    ref = np.linalg.norm(lattice, axis=1)
    ref = np.unique(ref[(ref > 0.1) & (ref <= 13.2)].round(3))
    np.testing.assert_allclose(d, ref)
    np.testing.assert_allclose(d[[0, 1, 2, 3, 5, 6, 7]].round(2), [4.38, 7.59, 8.77, 10.47, 11.6, 12.17, 13.15])
    # Six in-plane nearest neighbours, related by the 3-fold axis and mirrors.
    assert np.sum(np.isclose(np.linalg.norm(v, axis=1), g.A_HEX)) == 6
    with pytest.raises(ValueError, match="sublattice"):
        g.bi_pair_vectors(5.0, "middle")


def test_off_site_vector_is_rejected_with_advice():
    with pytest.raises(ValueError, match="alat = 10.4727"):
        g.locate_bi_site((-0.41851489, 0, 0))  # alat units, not Å


def test_embed_pair_substitutes_two_bi():
    atoms = st.embed_pair("Fe", "Mn", (-4.383, 0, 0))
    i, j = atoms.info["impurities"]
    assert atoms.symbols[i] == "Fe" and atoms.symbols[j] == "Mn"
    assert atoms.get_distance(i, j, mic=True) == pytest.approx(4.383, abs=1e-3)
    formula = atoms.get_chemical_formula()
    assert "Fe" in formula and "Mn" in formula
    assert np.sum(atoms.numbers == 83) == len(atoms) * 2 // 5 - 2


def test_embed_pair_across_gap_and_by_atomic_number():
    atoms = st.embed_pair(24, 26, (0, 0, 6.097))
    i, j = atoms.info["impurities"]
    assert atoms.get_distance(i, j, mic=True) == pytest.approx(6.097, abs=0.01)
    assert atoms.symbols[i] == "Cr" and atoms.symbols[j] == "Fe"


def test_pair_environment_contents():
    env = st.pair_environment("Fe", "Mn", (-4.383, 0, 0), r_cut=4.0)
    assert env.get_chemical_symbols()[:2] == ["Fe", "Mn"]
    assert not env.pbc.any()
    np.testing.assert_allclose(env.positions[:2].mean(axis=0), 0, atol=1e-12)  # centred on the midpoint
    d = np.minimum(
        np.linalg.norm(env.positions - env.positions[0], axis=1), np.linalg.norm(env.positions - env.positions[1], axis=1)
    )
    assert d[2:].max() <= 4.0
    # Bi on its own site has 3 + 3 Te neighbours at 3.07 and 3.25 Å; two impurities share some.
    assert len(env) == 12
    big = st.pair_environment("Fe", "Mn", (-4.383, 0, 0), r_cut=7.6)
    assert len(big) > len(env)


def test_pair_environment_symmetric_under_relabelling():
    """(A at i, B at j) and (B at i, A at j) of an in-plane pair are mirror images: same distance multiset."""
    a = st.pair_environment("Fe", "Mn", (-4.383, 0, 0), 4.0)
    b = st.pair_environment("Mn", "Fe", (-4.383, 0, 0), 4.0)

    def fingerprint(at):
        d = at.get_all_distances()
        z = at.numbers
        return sorted(
            np.round(
                d[np.triu_indices(len(at), 1)]
                * z[:, None].repeat(len(at), 1)[np.triu_indices(len(at), 1)]
                * z[None, :].repeat(len(at), 0)[np.triu_indices(len(at), 1)],
                6,
            )
        )

    assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize(
    "args, message",
    [
        (("Fe", "Xx", (-4.383, 0, 0), 4.0), "unknown impurity element 'Xx'"),
        (("Fe", 83, (-4.383, 0, 0), 4.0), "unknown impurity element Z=83"),
        (("Fe", "Mn", (-4.383, 0, 0), -1.0), "r_cut must be a positive"),
        (("Fe", "Mn", (0, 0, 0), 4.0), "zero length"),
        (("Fe", "Mn", (1.0, 2.0, 0.3), 4.0), "does not land on a Bi site"),
        (("Fe", "Mn", (np.nan, 0, 0), 4.0), "not finite"),
    ],
)
def test_pair_environment_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        st.pair_environment(*args)


@pytest.fixture
def no_big_cloud(monkeypatch):
    """Fail (instead of exhausting memory) if a host cloud beyond 100 Å is ever requested."""
    original = g.host_cloud

    def guarded(radius):
        if radius > 100.0:
            raise AssertionError(f"a host cloud of radius {radius:.0f} Å was requested")
        return original(radius)

    monkeypatch.setattr(_sites, "host_cloud", guarded)
    monkeypatch.setattr(st, "host_cloud", guarded)


@pytest.mark.parametrize("length", [1000 * g.ALAT, 1000.0, 61.0], ids=["1000-alat", "1000-A", "61-A"])
def test_absurdly_long_vector_is_rejected_before_building_anything(no_big_cloud, length):
    with pytest.raises(ValueError, match=r"length .* Å \(file.csv, line 9\), beyond .*MAX_PAIR_DISTANCE = 60.0 Å.*alat"):
        g.locate_bi_site([length, 0.0, 0.0], where="file.csv, line 9")


def test_longest_accepted_vector_still_locates_its_site(no_big_cloud):
    n = int(g.MAX_PAIR_DISTANCE // g.A_HEX)  # 13 lattice constants along a: 57 Å
    site = g.locate_bi_site([n * g.A_HEX, 0.0, 0.0])
    assert site.sublattice == "same" and site.layer == "same Bi layer" and site.miss < 1e-9
    assert g.MAX_PAIR_DISTANCE >= 16.0  # the longest pair of both data sets, with room to spare


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: g.bi_pair_vectors(1000.0), r"max_distance must be .* between 0 and 100.0"),
        (lambda: st.pair_environment("Fe", "Mn", (-4.383, 0, 0), 500.0), r"r_cut = 500.0 Å is too large"),
        (lambda: st.embed_pair("Fe", "Mn", (1000.0, 0, 0)), r"MAX_PAIR_DISTANCE"),
    ],
    ids=["bi_pair_vectors", "pair_environment", "embed_pair"],
)
def test_no_caller_builds_an_unbounded_cloud(no_big_cloud, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_host_cloud_itself_refuses_a_huge_radius():
    with pytest.raises(ValueError, match=r"outside \(0, 100.0\] Å \(MAX_CLOUD_RADIUS\)"):
        g.host_cloud(g.MAX_CLOUD_RADIUS + 1.0)
