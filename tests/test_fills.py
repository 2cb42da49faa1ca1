"""Missing shells filled from physics and data: the engine fill from the cached table, the engine+ML fill, T_C per fill."""

from __future__ import annotations

import numpy as np
import pytest

from jijtutorial import spins
from jijtutorial.datasets import load_model


def _same_sublattice_model():
    """The model data set without its other-sublattice rows: a table with missing shells (like JuKKR's 4.79 Å)."""
    data = load_model()
    return data[data["sublattice_j"] == "same"].reset_index(drop=True)


def test_the_engine_fill_from_the_cached_table_gives_the_engines_j_and_turned_d_on_every_vector():
    """The model data set is the engine's table: filling its dropped sublattice must give back its J and D (D turned by
    the symmetry operation onto each vector), vector by vector."""
    elements = ["Cr", "Mo"]
    filled = spins.exchange_table(_same_sublattice_model(), elements, 8.8, fill="engine")
    ref = spins.exchange_table(load_model(), elements, 8.8)
    eng = filled["source"].eq("engine").to_numpy()
    assert eng.any() and set(filled.loc[eng, "sublattice_j"]) == {"other"}
    cols = ["J", "Dx", "Dy", "Dz"]
    np.testing.assert_allclose(filled[cols].to_numpy(float), ref[cols].to_numpy(float), atol=1e-6)
    assert np.abs(filled.loc[eng, ["Dx", "Dy", "Dz"]].to_numpy()).max() > 1e-3  # D is there, not zero


@pytest.fixture(scope="module")
def prior_model():
    from jijtutorial.jij_table import fit_table_model

    return fit_table_model(_same_sublattice_model(), prior=True, alphas=(0.01,))


def test_the_engine_ml_fill_is_labelled_has_sigma_and_no_d(prior_model):
    data = _same_sublattice_model()
    zero = spins.exchange_table(data, ["Cr"], 8.8, fill="zero")
    table = spins.exchange_table(data, ["Cr"], 8.8, fill="engine-ml", table_model=prior_model)
    em = table["source"].str.startswith("engine+ML").to_numpy()
    assert np.array_equal(em, zero["source"].eq("zero (missing)").to_numpy())  # exactly the missing entries
    assert (table.loc[em, "sigma"] > 0).all() and (table.loc[em, ["Dx", "Dy", "Dz"]].to_numpy() == 0).all()
    assert set(table.attrs["missing"]["filled_with"]) == {"engine+ML"}
    # on the model data set the engine is the truth: the engine-informed fill finds the dropped couplings
    ref = spins.exchange_table(load_model(), ["Cr"], 8.8)
    err = np.abs(table.loc[em, "J"].to_numpy() - ref.loc[em, "J"].to_numpy())
    assert np.mean(err) < 0.1 * np.mean(np.abs(ref.loc[em, "J"]))
    with pytest.raises(ValueError, match="fill: unknown option"):
        spins.exchange_table(data, ["Cr"], 8.8, fill="engine+ml+guess")


def test_compare_fills_gives_one_row_per_fill_with_the_tables_own_mean_field():
    data = _same_sublattice_model()
    settings = spins.SweepSettings(
        sizes=((5, 5, 1), (6, 6, 1)), n_realisations=1, n_sweeps=20, n_therm=10, n_temperatures=3, refine=0
    )
    out = spins.compare_fills(data, {"Cr": 0.10}, 8.8, fills=("zero", "engine"), settings=settings, n_draws=0)
    assert list(out["fill"]) == ["zero", "engine"]
    tabs = out.attrs["tables"]
    assert out["filled"].iloc[0] == out["filled"].iloc[1] == int(tabs["zero"]["source"].eq("zero (missing)").sum())
    for fill, row in zip(("zero", "engine"), out.itertuples()):
        assert row.T_MF == pytest.approx(spins.mean_field_tc(tabs[fill], {"Cr": 0.10})["T_C"])
    assert out["nearest_shell"].iloc[0] == out["nearest_shell"].iloc[1] != ""
    assert out["J_nearest"].iloc[0] == 0.0 and np.isnan(out["sigma_nearest"]).all()
    with pytest.raises(ValueError, match="unknown fill"):
        spins.compare_fills(data, {"Cr": 0.1}, 8.8, fills=("guess",))
