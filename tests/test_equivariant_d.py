"""The target D: its symmetry, the symmetrised data, and EquivariantDGP, equivariant by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toydata import D_ELEMENTS, D_VECTORS, d_frame, interfacial_d

from jijtutorial import geometry as g
from jijtutorial.kernels import EquivariantDGP
from jijtutorial.targets import (
    CALCULATION_OUTPUTS,
    D_SYMMETRY_CHECKS,
    D,
    J,
    d_symmetry_checks,
    decompose,
    get_target,
    symmetrised_d,
)


@pytest.fixture(scope="module")
def noisy():
    return d_frame(noise=0.5)


@pytest.fixture(scope="module")
def model(noisy):
    return EquivariantDGP(alphas=(0.01, 0.1)).fit(noisy, noisy[["Dx", "Dy", "Dz"]].to_numpy())


def _pairs(elements, vectors) -> pd.DataFrame:
    return pd.DataFrame(
        [dict(element_i=a, element_j=b, rx=v[0], ry=v[1], rz=v[2]) for v in vectors for a in elements for b in elements]
    )


def test_targets_name_their_columns_symmetry_and_what_they_hide():
    assert J.columns == ("J",) and D.columns == ("Dx", "Dy", "Dz")
    assert (J.exchange, J.point_group) == ("symmetric", "scalar")
    assert (D.exchange, D.point_group) == ("antisymmetric", "axial vector")
    assert D.hidden[:4] == ("Dx", "Dy", "Dz", "D") and set(CALCULATION_OUTPUTS) <= set(D.hidden)
    assert J.hidden[0] == "J" and {"moment_i", "moment_j"} <= set(J.hidden)
    assert get_target("D") is D
    with pytest.raises(ValueError, match="unknown target 'K'"):
        get_target("K")


def test_symmetrised_d_removes_exactly_the_forbidden_part(noisy):
    truth = interfacial_d(noisy["element_i"], noisy["element_j"], noisy[["rx", "ry", "rz"]].to_numpy(), noisy["sublattice_j"])
    raw = noisy[["Dx", "Dy", "Dz"]].to_numpy()
    assert np.abs(raw - truth).max() > 0.5  # the noise is there ...
    np.testing.assert_allclose(symmetrised_d(noisy), truth, atol=1e-12)  # ... and only the noise goes


def test_interfacial_field_is_equivariant_by_the_geometry_module():
    """The independent D field of the toy data agrees with the allowed subspaces the geometry module derives."""
    f = d_frame()
    ch = decompose(f)
    D_raw = f[["Dx", "Dy", "Dz"]].to_numpy()
    np.testing.assert_allclose(ch.assemble(ch.coefficients(D_raw), len(f)), D_raw, atol=1e-12)


def test_predictions_are_rotated_copies_on_equivalent_bonds(model):
    upper, _ = g.site_operations()
    pairs = [("Cr", "Fe"), ("Mn", "Mn"), ("V", "Mo"), ("Cu", "Cr")]
    for v in D_VECTORS + (np.array([-8.765962, 0.0, 0.0]),):  # 8.77 Å: a bond class the model never saw
        base = pd.DataFrame([dict(element_i=a, element_j=b, rx=v[0], ry=v[1], rz=v[2]) for a, b in pairs])
        d0, cov0 = model.predict(base, return_cov=True)
        for R in upper:
            w = R @ v
            moved = base.assign(rx=w[0], ry=w[1], rz=w[2])
            d1, cov1 = model.predict(moved, return_cov=True)
            np.testing.assert_allclose(d1, g.axial(R, d0), atol=1e-12)
            np.testing.assert_allclose(cov1, R @ cov0 @ R.T, atol=1e-12)


def test_d_ji_is_minus_d_ij(model):
    for v in D_VECTORS:
        sub = g.locate_bi_site(v).sublattice
        q = _pairs(D_ELEMENTS, [v])
        back = g.exchange_ij(v, sub)
        r = q.rename(columns={"element_i": "element_j", "element_j": "element_i"}).assign(rx=back[0], ry=back[1], rz=back[2])
        np.testing.assert_allclose(model.predict(r), -model.predict(q), atol=1e-12)


def test_d_vanishes_exactly_where_the_symmetry_forbids_it(model):
    same = _pairs(D_ELEMENTS, [D_VECTORS[2]])  # 7.51 Å across the gap: inversion-centred
    same = same[same.element_i == same.element_j]
    assert g.bond_symmetry(D_VECTORS[2]).inversion_centred
    d, sd = model.predict(same, return_std=True)
    assert np.all(d == 0.0) and np.all(sd == 0.0)
    axis, sd_axis = model.predict(_pairs(D_ELEMENTS, [D_VECTORS[1]]), return_std=True)  # on the three-fold axis
    assert np.all(axis == 0.0) and np.all(sd_axis == 0.0)
    # and the model is not trivially zero: unequal impurities across the centre, in-plane bonds
    d_ab = model.predict(_pairs(["Cr", "Sc"], [D_VECTORS[2], D_VECTORS[0]]))
    assert np.abs(d_ab).max() > 0.05


def test_symmetry_checks_pass_an_equivariant_field_and_fail_an_invariant_one(model):
    """d_symmetry_checks against a D field built without the package's symmetry code, the model, and a constant."""

    def field(q):
        vec = q[["rx", "ry", "rz"]].to_numpy(float)
        sub = [g.locate_bi_site(v).sublattice for v in vec]
        return interfacial_d(q["element_i"].to_numpy(), q["element_j"].to_numpy(), vec, sub)

    vectors = D_VECTORS + (np.array([-8.765962, 0.0, 0.0]),)
    for predict in (field, model.predict):
        checks = d_symmetry_checks(predict, vectors, D_ELEMENTS[:4])
        assert list(checks["check"]) == list(D_SYMMETRY_CHECKS) and (checks["comparisons"] > 0).all()
        assert checks["largest deviation"].max() < 1e-12 and checks["largest |D|"].iloc[0] > 0.05
    # an invariant model (the same vector for every bond and either order of the elements) breaks every rule
    const = d_symmetry_checks(lambda q: np.tile([0.3, -0.2, 0.5], (len(q), 1)), vectors, ["Cr", "Fe"])
    assert (const["largest deviation"] >= 0.5).all()
    with pytest.raises(ValueError, match="at least one element"):
        d_symmetry_checks(model.predict, vectors, [])


def test_the_fit_learns_the_field_not_the_noise(noisy, model):
    truth = symmetrised_d(noisy)
    pred = model.predict(D.hide(noisy))
    err = np.linalg.norm(pred - truth, axis=1)
    assert err.mean() < 0.2 * np.linalg.norm(truth, axis=1).mean()
    assert model.forbidden_.max() > 0.4  # the noise was seen, and projected out


def test_clear_errors():
    f = d_frame()
    with pytest.raises(ValueError, match=r"shape \(320, 3\)"):
        EquivariantDGP().fit(f, f["J"].to_numpy())
    with pytest.raises(ValueError, match="column 'rx'"):
        EquivariantDGP().fit(f.drop(columns=["rx"]), f[["Dx", "Dy", "Dz"]].to_numpy())
    with pytest.raises(ValueError, match="geometry_modes"):
        EquivariantDGP(geometry_modes=("wavy",)).fit(f, f[["Dx", "Dy", "Dz"]].to_numpy())


def test_the_spin_models_predicted_fill_carries_the_models_d():
    """spins.exchange_table(fill='predicted'): D of every missing vector from the model of D, D_ji = -D_ij."""
    from jijtutorial import spins
    from jijtutorial.jij_table import TableModel
    from jijtutorial.kernels import PairGP

    f = d_frame()
    tm = TableModel(
        PairGP(selection="distance", alphas=(0.03,)).fit(f, f["J"].to_numpy()),
        EquivariantDGP(selection="distance", geometry_modes=("smooth",), alphas=(0.03,)).fit(f, f[["Dx", "Dy", "Dz"]].to_numpy()),
        f,
        "distance",
    )
    table = spins.exchange_table(f, ["Cr", "Fe"], 9.0, fill="predicted", table_model=tm)
    pred = table["source"].eq("predicted").to_numpy()
    assert pred.any()
    d = table.loc[pred, ["Dx", "Dy", "Dz"]].to_numpy()
    np.testing.assert_allclose(d, tm.d.predict(table.loc[pred]), atol=1e-9)
    assert np.abs(d).max() > 1e-3  # learned from the other classes of the family (far and weak here), not zero
    # the expanded table is antisymmetric: (A, B, r) and (B, A, -r) on the same sublattice
    same = table[table["sublattice_j"] == "same"].set_index(["element_i", "element_j", "rx", "ry", "rz"])
    for (a, b, x, y, z), row in same.iterrows():
        back = (
            same.loc[(b, a, -x + 0.0, -y + 0.0, -z + 0.0)]
            if (b, a, -x + 0.0, -y + 0.0, -z + 0.0) in same.index
            else same.loc[(b, a, round(-x, 6), round(-y, 6), round(-z, 6))]
        )
        np.testing.assert_allclose(back[["Dx", "Dy", "Dz"]].to_numpy(float), -row[["Dx", "Dy", "Dz"]].to_numpy(float), atol=1e-9)


def test_all_zero_d_is_refused_not_fitted_to_sigma_zero():
    f = d_frame()
    with pytest.raises(ValueError, match="all 320 training D vectors are 0"):
        EquivariantDGP().fit(f, np.zeros((len(f), 3)))
