"""Exploration helpers: element-pair maps, coordination numbers, mean-field T_C, data-set comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import exploration as ex
from jijtutorial.datasets import tidy_frame


def _frame(rows):
    base = dict(Dx=0.0, Dy=0.0, Dz=0.0, moment_i=3.0, moment_j=3.0)
    return tidy_frame(pd.DataFrame([{**base, **r} for r in rows]), {})


NN = dict(rx=-4.383, ry=0.0, rz=0.0)
GAP = dict(rx=0.0, ry=0.0, rz=6.097)


@pytest.mark.parametrize(
    "vector, expected",
    [((-4.383, 0, 0), 6), ((0, 0, 6.097), 1), ((-4.383, 0, 6.097), 6), ((-8.766, 0, 0), 6), ((2.1915, 1.26526, 10.1623), 3)],
)
def test_coordination_numbers(vector, expected):
    assert ex.coordination_number(vector) == expected


def test_mean_field_tc_is_exact_for_one_shell():
    f = _frame([dict(element_i="Cr", element_j="Cr", J=3.0, **NN), dict(element_i="Cr", element_j="Cr", J=-1.0, **GAP)])
    r = ex.mean_field_curie_temperature(f, "Cr", 0.1)
    j0 = 0.1 * (6 * 3.0 + 1 * -1.0)
    assert r["J_0 (meV)"] == pytest.approx(j0)
    assert r["T_C (K)"] == pytest.approx(j0 / 3 / ex.K_B_MEV)
    # J_0 <= 0: no ferromagnet in mean field, T_C = 0 (the convention of spins.mean_field_tc), J_0 keeps its sign
    g = _frame([dict(element_i="Cr", element_j="Cr", J=-3.0, **NN), dict(element_i="Cr", element_j="Cr", J=1.0, **GAP)])
    r = ex.mean_field_curie_temperature(g, "Cr", 0.1)
    assert r["J_0 (meV)"] == pytest.approx(0.1 * (6 * -3.0 + 1.0)) and r["T_C (K)"] == 0.0
    with pytest.raises(ValueError, match="concentration"):
        ex.mean_field_curie_temperature(f, "Cr", 0.0)
    with pytest.raises(ValueError, match="no Fe-Fe pairs"):
        ex.mean_field_curie_temperature(f, "Fe", 0.1)


def test_j_matrix_places_values():
    f = _frame([dict(element_i="Cr", element_j="Fe", J=2.0, **NN), dict(element_i="Fe", element_j="Cr", J=-1.0, **NN)])
    m = ex.j_matrix(f, "same Bi layer, 4.38 Å")
    assert m.shape == (20, 20) and m.loc["Cr", "Fe"] == 2.0 and m.loc["Fe", "Cr"] == -1.0
    assert np.isnan(m.loc["Sc", "Sc"])
    with pytest.raises(ValueError, match="geometry 'nowhere' not in the data"):
        ex.j_matrix(f, "nowhere")


def test_compare_and_agreement():
    a = _frame(
        [
            dict(element_i="Cr", element_j="Fe", J=2.0, **NN),
            dict(element_i="Mn", element_j="Fe", J=-1.0, **NN),
            dict(element_i="V", element_j="V", J=1.0, **NN),
        ]
    )
    b = _frame(
        [
            dict(element_i="Cr", element_j="Fe", J=1.0, rx=2.1915, ry=3.7958, rz=0.0),  # equivalent NN vector
            dict(element_i="Mn", element_j="Fe", J=-3.0, **NN),
            dict(element_i="V", element_j="V", J=-0.5, **NN),
        ]
    )
    m = ex.compare_datasets(a, b)
    assert len(m) == 3
    ag = ex.agreement_by_geometry(m).iloc[0]
    assert ag["pairs"] == 3 and ag["MAE (meV)"] == pytest.approx((1 + 2 + 1.5) / 3)
    assert ag["same sign"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="share no"):
        ex.compare_datasets(a, _frame([dict(element_i="Sc", element_j="Sc", J=0.0, **GAP)]))


def test_coverage_counts():
    f = _frame([dict(element_i="Cr", element_j=e, J=1.0, **NN) for e in ("Fe", "Mn", "V")])
    c = ex.coverage(f)
    assert c.loc["same Bi layer, 4.38 Å", "Cr"] == 3


def test_mean_field_counts_both_images_of_a_shell_across_quintuple_layers():
    """The 10.47 Å upper-Bi shell has 3 sites in the QL above and 3 in the QL below; J is the same for A-A pairs."""
    up = (0.209257 * 10.4727, 0.120815 * 10.4727, 0.970369 * 10.4727)  # the JuKKR vector, QL +1
    f = _frame([dict(element_i="Cr", element_j="Cr", J=2.0, rx=up[0], ry=up[1], rz=up[2])])
    r = ex.mean_field_curie_temperature(f, "Cr", 0.1)
    assert r["contributions"]["sites"].sum() == 6
    assert r["J_0 (meV)"] == pytest.approx(0.1 * 6 * 2.0)
