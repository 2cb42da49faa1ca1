"""The exchange table of the spin model: symmetry expansion, sublattices, missing vectors, bad input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import jukkr_available, load_jukkr, load_model
from jijtutorial.geometry import axial, bi_pair_vectors, locate_bi_site, site_operations


def _all_vectors(cutoff):
    same, other = bi_pair_vectors(cutoff, "same"), bi_pair_vectors(cutoff, "other")
    return np.vstack([same, other]), ["same"] * len(same) + ["other"] * len(other)


def _random_input(elements, cutoff, seed=0):
    """One row per (A, B, vector) with random J and D: symmetric only after the expansion averages it."""
    rng = np.random.default_rng(seed)
    vec, _ = _all_vectors(cutoff)
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
    return pd.DataFrame(rows)


def _same_sublattice_model():
    """The model data set without its other-sublattice rows: a table with missing shells (like JuKKR's 4.79 Å)."""
    data = load_model()
    return data[data["sublattice_j"] == "same"].reset_index(drop=True)


def _lookup(table, a, b, v):
    g = table[(table.element_i == a) & (table.element_j == b)]
    k = np.argmin(np.linalg.norm(g[["rx", "ry", "rz"]].to_numpy() - v, axis=1))
    row = g.iloc[k]
    assert np.allclose(row[["rx", "ry", "rz"]].to_numpy(float), v, atol=0.02)
    return row["J"], row[["Dx", "Dy", "Dz"]].to_numpy(float)


def test_site_operations_are_c3v_and_the_lower_to_upper_coset():
    upper, lower = site_operations()
    dets = np.linalg.det(upper)
    # C3v: E, two C3 (det +1, trace 0 or 3) and three mirrors (det -1)
    assert sorted(np.round(dets).astype(int)) == [-1, -1, -1, 1, 1, 1]
    assert any(np.allclose(op, -np.eye(3)) for op in lower)  # inversion carries lower Bi onto upper Bi
    assert not any(np.allclose(op, -np.eye(3)) for op in upper)
    # every operation keeps the set of upper-Bi vectors; the lower ones map 'other' onto 'other' from the upper site
    for v in bi_pair_vectors(9.0, "same"):
        for op in upper:
            assert locate_bi_site(op @ v).sublattice == "same"
        for op in lower:
            assert locate_bi_site(op @ -v).sublattice == "same"


def test_expanded_table_is_symmetric_in_i_and_j():
    """J(A,B,r) = J(B,A,r') and D(A,B,r) = -D(B,A,r') for the same pair seen from B: r' = -r from an
    upper site (same sublattice), r' = r for B on a lower site (the inverted vector of -r)."""
    table = spins.exchange_table(_random_input(["Cr", "Fe"], 8.8), ["Cr", "Fe"], 8.8)
    vec, sub = _all_vectors(8.8)
    for v, s in zip(vec, sub):
        back = -v if s == "same" else v
        for a, b in (("Cr", "Fe"), ("Cr", "Cr"), ("Fe", "Cr")):
            j_ab, d_ab = _lookup(table, a, b, v)
            j_ba, d_ba = _lookup(table, b, a, back)
            assert j_ab == pytest.approx(j_ba, abs=1e-12)
            assert np.allclose(d_ab, -d_ba, atol=1e-12)


def test_expansion_reproduces_a_symmetric_table_from_one_row_per_class():
    """A table that obeys the crystal symmetry (J of the distance and layer, D = f(r) ẑ × r̂ for same-sublattice
    pairs, zero across sublattices) is reproduced exactly at every vector from one representative per class."""
    vec, sub = _all_vectors(9.0)

    def truth(a, b, v, s):
        d = np.linalg.norm(v)
        scale = {"Cr": 1.0, "Mn": -0.7}[a] * {"Cr": 1.0, "Mn": -0.7}[b]
        J = scale * 10 * np.exp(-d / 3) * (1.3 if s == "other" else 1.0)
        D = np.zeros(3) if s == "other" else 0.2 * J * np.cross([0, 0, 1.0], v / d)
        return J, D

    reps = {}
    for v, s in zip(vec, sub):
        reps.setdefault(locate_bi_site(v).geometry, (v, s))
    rows = [
        {
            "element_i": a,
            "element_j": b,
            "rx": v[0],
            "ry": v[1],
            "rz": v[2],
            "J": truth(a, b, v, s)[0],
            **dict(zip(("Dx", "Dy", "Dz"), truth(a, b, v, s)[1])),
        }
        for a in ("Cr", "Mn")
        for b in ("Cr", "Mn")
        for v, s in reps.values()
    ]
    table = spins.exchange_table(pd.DataFrame(rows), ["Cr", "Mn"], 9.0)
    assert len(table) == 4 * len(vec)
    for r in table.itertuples():
        J, D = truth(r.element_i, r.element_j, np.array([r.rx, r.ry, r.rz]), r.sublattice_j)
        assert r.J == pytest.approx(J, abs=1e-12)
        assert np.allclose([r.Dx, r.Dy, r.Dz], D, atol=1e-12)


def test_forbidden_dmi_components_average_out():
    """Moriya's rules: an in-plane bond has a mirror plane through its midpoint perpendicular to it, so D along
    the bond is forbidden; a Cr-Cr pair across sublattices has an inversion centre, so its D vanishes."""
    v_nn = np.array([-4.383, 0.0, 0.0])
    v_gap = np.array([-4.383, 0.0, 6.097])
    rows = [
        {"element_i": "Cr", "element_j": "Cr", "rx": v[0], "ry": v[1], "rz": v[2], "J": 1.0, "Dx": 0.5, "Dy": 0.3, "Dz": 0.2}
        for v in (v_nn, v_gap)
    ]
    table = spins.exchange_table(pd.DataFrame(rows), ["Cr"], 7.55, fill="zero")
    _, d_nn = _lookup(table, "Cr", "Cr", v_nn)
    _, d_gap = _lookup(table, "Cr", "Cr", v_gap)
    assert np.allclose(d_nn, [0.0, 0.3, 0.2], atol=1e-12)
    assert np.allclose(d_gap, 0.0, atol=1e-12)


def test_d_rotates_as_an_axial_vector_within_a_shell():
    table = spins.exchange_table(_random_input(["V"], 4.4, seed=3), ["V"], 4.4)
    upper, _ = site_operations()
    v0 = np.array([-4.383, 0.0, 0.0])
    j0, d0 = _lookup(table, "V", "V", v0)
    for op in upper:
        j, d = _lookup(table, "V", "V", op @ v0)
        assert j == pytest.approx(j0)
        assert np.allclose(d, axial(op, d0), atol=1e-12)


def test_model_data_rows_are_reproduced_where_they_are_symmetric():
    data = load_model()
    table = spins.exchange_table(data, ["Cr", "Mn"], 8.8, fill="zero")
    res = spins.symmetry_residuals(data, table)
    assert set(res["geometry"]) >= {"same Bi layer, 4.38 Å", "same Bi layer, 8.77 Å"}
    assert res["|dJ| max"].max() < 1e-9  # J is a scalar: the expansion keeps it


@pytest.mark.skipif(not jukkr_available(), reason="needs the JuKKR table (JIJTUTORIAL_DATA_DIR)")
def test_jukkr_couplings_enter_unchanged_up_to_the_table_noise():
    data = load_jukkr()
    table = spins.exchange_table(data, ["V", "Cr", "Mn", "Fe"], 8.8, fill="zero")
    res = spins.symmetry_residuals(data, table).set_index("geometry")
    # J(A,B) and J(B,A) of the same physical pair differ by a few 0.1 meV at most in the JuKKR table
    assert res["|dJ| median"].max() < 0.2
    # the nearest in-plane D obeys the crystal's mirror: the symmetrisation barely changes it
    assert res.loc["same Bi layer, 4.38 Å", "|dD| median"] < 0.1 * res.loc["same Bi layer, 4.38 Å", "|D| median"]


def test_missing_vectors_raise_and_name_the_shells():
    with pytest.raises(ValueError, match=r"(?s)does not cover .* 4\.79 Å.*fill='zero'"):
        spins.exchange_table(_same_sublattice_model(), ["Cr"], 8.8)
    full = spins.exchange_table(load_model(), ["Cr"], 8.8)  # the model data set has every shell up to 13.2 Å
    assert full["J"].notna().all()


def test_zero_fill_is_explicit_and_reported():
    table = spins.exchange_table(_same_sublattice_model(), ["Cr"], 8.8, fill="zero")
    zero = table[table["source"] == "zero (missing)"]
    assert len(zero) and (zero[["J", "Dx", "Dy", "Dz"]].to_numpy() == 0).all()
    assert set(zero["sublattice_j"]) == {"other"}  # exactly the rows taken away
    missing = table.attrs["missing"]
    assert missing["vectors"].sum() == len(zero)
    assert set(missing["filled_with"]) == {"zero"}


def test_engine_fills_a_dropped_shell_with_the_model_data_values():
    data = load_model()
    dropped = data[~data["geometry"].eq("same Bi layer, 7.59 Å")]
    table = spins.exchange_table(dropped, ["Cr"], 8.0, fill=("engine", "zero"), engine_kmesh=12)
    ref = spins.exchange_table(data, ["Cr"], 8.0, fill="zero")
    shell = table["geometry"].eq("same Bi layer, 7.59 Å")
    assert (table.loc[shell, "source"] == "engine").all()
    assert np.allclose(table.loc[shell, "J"], ref.loc[shell, "J"], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"elements": ["Cr", "Xx"]}, "elements: no J data for"),
        ({"cutoff": 30.0}, "cutoff=30 Å is beyond the table"),
        ({"cutoff": 2.0}, "cutoff must be a distance"),
        ({"fill": "guess"}, "fill: unknown option"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = {"data": _same_sublattice_model(), "elements": ["Cr"], "cutoff": 8.8, "fill": "zero", **kwargs}
    with pytest.raises(ValueError, match=match):
        spins.exchange_table(**args)


@pytest.mark.parametrize("value", [np.nan, "", "cr", "Xx", None])
def test_a_row_with_an_unknown_element_is_an_error_not_dropped(value):
    """One edited Cr-Cr row used to drop out and its 4.38 Å coupling be zero-filled: T_MF fell by half, silently."""
    data = load_model()
    k = int(np.flatnonzero((data.element_i == "Cr") & (data.element_j == "Cr") & (data.distance < 4.4))[0])
    edited = data.astype({"element_i": object})
    edited.loc[k, "element_i"] = value
    hint = " \\(did you mean 'Cr'\\?\\)" if value == "cr" else ""
    with pytest.raises(
        ValueError,
        match=rf"data: row {k}, column 'element_i': {re.escape(repr(value))} is not an "
        rf"impurity element{hint}; .*no row is dropped",
    ):
        spins.exchange_table(edited, ["Cr"], 8.8, fill="zero")


def test_table_without_required_columns_is_rejected():
    with pytest.raises(ValueError, match=r"column\(s\) \['Dx', 'Dy', 'Dz'\] missing"):
        spins.exchange_table(load_model().drop(columns=["Dx", "Dy", "Dz"]), ["Cr"], 8.8, fill="zero")


@pytest.fixture(scope="module")
def model_data_gp():
    from jijtutorial.jij_table import fit_table_model

    return fit_table_model(load_model())


def test_predicted_fill_takes_the_filled_tables_model_for_every_missing_vector(model_data_gp):
    from jijtutorial.jij_table import predict_jij_table

    data = _same_sublattice_model()
    zero = spins.exchange_table(data, ["Cr", "Mo"], 8.8, fill="zero")
    table = spins.exchange_table(data, ["Cr", "Mo"], 8.8, fill="predicted", table_model=model_data_gp)
    pred = table["source"].eq("predicted").to_numpy()
    assert np.array_equal(pred, zero["source"].eq("zero (missing)").to_numpy())  # exactly the missing entries
    kept = ["J", "Dx", "Dy", "Dz"]
    assert np.array_equal(table.loc[~pred, kept].to_numpy(), zero.loc[~pred, kept].to_numpy())
    # D of a predicted coupling: the equivariant model's, carried by the symmetry to every vector of its class
    dm = model_data_gp.d.predict(table.loc[pred, ["element_i", "element_j", "rx", "ry", "rz"]])
    np.testing.assert_allclose(table.loc[pred, ["Dx", "Dy", "Dz"]].to_numpy(), dm, atol=1e-9)
    assert (table.loc[pred, "sigma"] > 0).all() and table.loc[pred, "J"].notna().all()
    # every copy of a predicted coupling (any vector of the shell, either order of the pair) is the model's value there
    sub = table[pred]
    for (a, b), g in sub.groupby(["element_i", "element_j"]):
        ref = predict_jij_table([a, b], vectors=g[["rx", "ry", "rz"]].to_numpy(), model=model_data_gp)
        ref = ref[(ref.element_i == a) & (ref.element_j == b)]
        assert np.allclose(g["J"].to_numpy(), ref["J_model"].to_numpy(), rtol=1e-6, atol=1e-9)
        assert np.allclose(g["sigma"].to_numpy(), ref["J_std_model"].to_numpy(), rtol=1e-6, atol=1e-9)
    assert set(table.attrs["missing"]["filled_with"]) == {"predicted"}


def test_predicted_errors_travel_into_perturbed_tables(model_data_gp):
    table = spins.exchange_table(_same_sublattice_model(), ["Cr"], 8.8, fill="predicted", table_model=model_data_gp)
    draw = spins.perturbed_table(table, sigma=None, seed=3)
    pred = table["source"].eq("predicted").to_numpy()
    assert not np.allclose(draw.loc[pred, "J"], table.loc[pred, "J"])  # their own σ
    assert np.array_equal(draw.loc[~pred, "J"], table.loc[~pred, "J"])  # sigma=None: computed couplings kept


def test_predicted_fill_rejects_an_unknown_element_and_a_wrong_model():
    with pytest.raises(ValueError, match="Xx"):
        spins.exchange_table(_same_sublattice_model(), ["Cr", "Xx"], 8.8, fill="predicted")
    with pytest.raises(TypeError, match="table_model must be the TableModel"):
        spins.exchange_table(_same_sublattice_model(), ["Cr"], 8.8, fill="predicted", table_model=object())
