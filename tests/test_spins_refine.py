"""T_C that does not hang on the temperature grid, 'below' against 'none', percolation, and pair counting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import load_model

K_B = spins.K_B


def _synthetic(temps, t0=10.0, slopes=(0.1, 0.3), n_real=4):
    """Moments whose Binder cumulants are straight lines in log T crossing exactly at ``t0`` (identical realisations)."""
    rows = []
    for k, (size, slope) in enumerate(zip(("small", "large"), slopes)):
        for r in range(n_real):
            for t in temps:
                u = 0.55 - slope * np.log(t / t0)
                rows.append({"size": size, "n_sites": 100 * (k + 1), "realisation": r, "T": t, "m2": 1.0, "m4": 3.0 * (1.0 - u)})
    return pd.DataFrame(rows)


def test_the_error_bar_includes_the_grid_and_refinement_shrinks_it():
    coarse = np.geomspace(2.0, 32.0, 5)  # factor 2 steps: the crossing at 10 K lies in (8, 16)
    est = spins.curie_from_binder(_synthetic(coarse))
    assert est.status == "ordered" and est.tc == pytest.approx(10.0, rel=1e-9)
    assert est.error_parts["statistical"] < 1e-9 and est.error_parts["finite_size"] == 0.0
    # the crossing at 10 K sits 2 K below the middle of (8, 16): rms distance to a point spread over the interval
    assert est.error == pytest.approx(np.sqrt(8.0**2 / 12.0 + 2.0**2))
    assert est.crossings[["T_low", "T_high"]].iloc[0].tolist() == pytest.approx([8.0, 16.0])
    new = spins.refinement_temperatures(est, 5)
    assert len(new) == 5 and np.all((new > 8.0) & (new < 16.0))
    assert np.allclose(np.diff(np.log(new)), np.log(2.0) / 6)  # evenly spread in log T
    fine = spins.curie_from_binder(_synthetic(np.sort(np.concatenate([coarse, new]))))
    assert fine.tc == pytest.approx(10.0, rel=1e-9)
    lo, hi = fine.crossings[["T_low", "T_high"]].iloc[0]
    assert lo < 10.0 < hi and fine.error == pytest.approx(np.sqrt((hi - lo) ** 2 / 12.0 + (10.0 - (lo + hi) / 2) ** 2))
    assert fine.error < est.error / 5


def test_refinement_skips_what_has_no_crossing_and_points_already_simulated():
    temps = np.geomspace(2.0, 32.0, 5)
    never = spins.curie_from_binder(_synthetic(temps, slopes=(0.3, 0.1)))  # the larger system is always less ordered
    assert never.status == "below" and len(spins.refinement_temperatures(never, 4)) == 0
    est = spins.curie_from_binder(_synthetic(temps))
    assert len(spins.refinement_temperatures(est, 0)) == 0
    new = spins.refinement_temperatures(est, 1)  # the midpoint in log T of (8, 16)
    assert new == pytest.approx([np.sqrt(8.0 * 16.0)])
    with pytest.raises(ValueError, match="number of temperatures"):
        spins.refinement_temperatures(est, -1)


@pytest.mark.parametrize("share, status", [(None, "below"), (0.3, "below"), (1.0, "below"), (0.0, "none")])
def test_no_crossing_is_an_upper_bound_unless_the_ferromagnetic_network_does_not_percolate(share, status):
    temps = np.geomspace(2.0, 32.0, 5)
    est = spins.curie_from_binder(_synthetic(temps, slopes=(0.3, 0.1)), percolating=share)
    assert est.status == status and est.upper_bound == pytest.approx(2.0)
    row = {"status": est.status, "upper_bound": est.upper_bound, "T_C": est.tc, "error": est.error}
    if status == "below":
        assert np.isnan(est.tc) and str(est).startswith("T_C below 2.0 K")
        assert spins.tc_text(row) == "< 2.0 K"
    else:
        assert est.tc == 0.0 and str(est).startswith("no ferromagnetic order")
        assert "do not percolate" in spins.tc_text(row)
    with pytest.raises(ValueError, match="percolating must be a share"):
        spins.curie_from_binder(_synthetic(temps), percolating=1.5)


def test_ferromagnetic_network_wraps_like_site_percolation_on_the_simple_cubic_lattice():
    """Site percolation threshold of the simple cubic lattice: p_c = 0.3116 (Stauffer & Aharony)."""
    full = spins.lattice_model("sc", 6)
    assert spins.ferromagnetic_network(full) == {"fraction": 1.0, "wraps": 3, "percolates": True}
    base = spins.lattice_model("sc", 14)
    for p, expect in ((0.2, False), (0.5, True)):
        nets = [spins.ferromagnetic_network(base.select(np.random.default_rng(s).random(base.n_spins) < p)) for s in range(4)]
        assert all(n["percolates"] is expect for n in nets), (p, nets)
    grid = np.stack(np.meshgrid(*[np.arange(6)] * 3, indexing="ij"), -1).reshape(-1, 3)
    plane = spins.ferromagnetic_network(full.select(grid[:, 2] == 0))
    assert plane["fraction"] == 1.0 and plane["wraps"] == 2 and not plane["percolates"]  # a layer, not a 3D network
    antiferro = spins.ferromagnetic_network(spins.lattice_model("sc", 6, -1.0))
    assert antiferro["wraps"] == 0 and antiferro["fraction"] == pytest.approx(1 / 216)
    with pytest.raises(ValueError, match="pair_shift"):
        spins.ferromagnetic_network(spins.SpinModel.from_pairs(2, [0], [1], 1.0))


def test_dopant_network_knows_its_periodic_images():
    """The shift stored with every pair of a dilute model reproduces the pair's vector within the cut-off."""
    table = spins.exchange_table(load_model(), ["Cr"], 13.2, fill="zero")
    conf = spins.random_configuration({"Cr": 0.3}, (7, 7, 1), seed=2)
    model = spins.spin_model(conf, table)
    vec = conf.positions[model.pair_j] + model.pair_shift @ conf.cell - conf.positions[model.pair_i]
    assert np.linalg.norm(vec, axis=1).max() <= 13.2 + 1e-6
    assert np.any(model.pair_shift != 0)
    sub = model.select(np.arange(model.n_spins) % 2 == 0)
    assert len(sub.pair_shift) == sub.n_pairs


@pytest.mark.slow
def test_refined_curie_temperature_does_not_depend_on_the_starting_grid():
    """Two different first grids on the simple cubic ferromagnet, each refined around its crossing: the
    estimates agree within their error bars and with T_C = 1.443 J/k_B (Holm & Janke 1993)."""
    common = {"n_runs": 3, "n_sweeps": 1000, "n_therm": 300, "refine": 5, "cache": False}
    grids = (np.linspace(1.0, 2.0, 5), np.geomspace(0.9, 2.6, 6))
    ests = [spins.curie_from_binder(spins.lattice_sweep("sc", (6, 8, 10), g, J=K_B, **common)) for g in grids]
    a, b = ests
    assert a.status == b.status == "ordered"
    assert len(a.temperatures) == 10 and len(b.temperatures) == 11
    assert abs(a.tc - b.tc) <= a.error + b.error
    for est in ests:
        assert est.tc == pytest.approx(1.443, rel=0.02)
        assert est.error_parts["grid"] < 0.02


def test_counting_each_pair_twice_doubles_every_temperature():
    """If the source's J counted every pair twice, every coupling doubles in this package's convention: the mean
    field doubles, and Monte Carlo at doubled temperatures repeats the same trajectory (only J/k_BT enters)."""
    table = spins.exchange_table(load_model(), ["Cr"], 8.8, fill="zero")
    twice = spins.as_pairs_once(table, "twice")
    assert np.array_equal(twice["J"], 2 * table["J"]) and np.array_equal(twice["Dx"], 2 * table["Dx"])
    assert twice.attrs["cutoff"] == table.attrs["cutoff"] and "doubled" in twice.attrs["pair_counting"]
    assert spins.as_pairs_once(table, "once")["J"].equals(table["J"])
    comp = {"Cr": 0.2}
    assert spins.mean_field_tc(twice, comp)["T_C"] == pytest.approx(2 * spins.mean_field_tc(table, comp)["T_C"])
    conf = spins.random_configuration(comp, (6, 6, 1), seed=1)
    temps = np.array([0.05, 0.2, 0.8])
    one = spins.run_monte_carlo(spins.spin_model(conf, table), temps, n_sweeps=50, seed=3)
    two = spins.run_monte_carlo(spins.spin_model(conf, twice), 2 * temps, n_sweeps=50, seed=3)
    assert np.array_equal(one.m2, two.m2) and np.array_equal(one.spins, two.spins)
    assert np.allclose(two.energy, 2 * one.energy, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="counted must be one of"):
        spins.as_pairs_once(table, "double")


def _one_shell(j):
    vec = np.array([-4.382981, 0.0, 0.0])
    rows = [{"element_i": "Mn", "element_j": "Mn", "rx": vec[0], "ry": 0.0, "rz": 0.0, "J": j, "Dx": 0, "Dy": 0, "Dz": 0}]
    return spins.exchange_table(pd.DataFrame(rows), ["Mn"], 4.5)


def test_j0_by_element_keeps_the_sign():
    table = spins.exchange_table(load_model(), ["Cr", "Mn"], 8.8, fill="zero")
    j0 = spins.j0_by_element(table, concentration=0.05).set_index("element")
    for e in ("Cr", "Mn"):
        own = table[(table.element_i == e) & (table.element_j == e)]["J"]
        assert j0.loc[e, "J0"] == pytest.approx(own.sum())
        assert j0.loc[e, "J0_ferro"] + j0.loc[e, "J0_antiferro"] == pytest.approx(own.sum())
        assert j0.loc[e, "T_MF"] == pytest.approx(spins.mean_field_tc(table, {e: 0.05})["T_C"])
    anti = spins.j0_by_element(_one_shell(-2.0), concentration=0.05).iloc[0]
    assert anti["J0"] == pytest.approx(-12.0) and anti["n_antiferro"] == 6 and anti["T_MF"] == 0.0
    assert anti["J_nearest"] == pytest.approx(-2.0)


def _near_shells(j):
    """J (meV) on every Bi–Bi vector up to 6.2 Å: in-plane 4.38, inside a quintuple layer 4.79, across the gap 6.10."""
    from jijtutorial.structures import bi_pair_vectors

    vec = np.vstack([bi_pair_vectors(6.2, "same"), bi_pair_vectors(6.2, "other")])
    rows = [
        {"element_i": "Mn", "element_j": "Mn", "rx": v[0], "ry": v[1], "rz": v[2], "J": j, "Dx": 0, "Dy": 0, "Dz": 0} for v in vec
    ]
    return spins.exchange_table(pd.DataFrame(rows), ["Mn"], 6.2)


def test_low_temperature_order_tells_a_ferromagnet_from_an_antiferromagnet(tmp_path, monkeypatch):
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    kw = {"size": (5, 5, 1), "temperatures": (1.0, 3.0, 10.0, 30.0), "n_realisations": 2, "n_sweeps": 300}
    ferro = spins.low_temperature_order(_near_shells(5.0), {"Mn": 1.0}, **kw)
    anti = spins.low_temperature_order(_near_shells(-5.0), {"Mn": 1.0}, **kw)
    assert len(list((tmp_path / "spins").glob("task-*.npz"))) == 4
    pd.testing.assert_frame_equal(spins.low_temperature_order(_near_shells(-5.0), {"Mn": 1.0}, **kw), anti)
    pd.testing.assert_frame_equal(spins.low_temperature_order(_near_shells(-5.0), {"Mn": 1.0}, cache=False, **kw), anti)
    assert (ferro["m"] > 0.9).all() and np.allclose(ferro["e"], ferro["e_ferro"], rtol=0.1)
    assert ferro["fm_percolates"].all()
    # antiparallel couplings on triangular layers: no net moment, energy far below the polarised state
    assert (anti["m"] < 0.2).all() and (anti["e"] < anti["e_ferro"] - 5.0).all()
    assert not anti["fm_percolates"].any()


def test_a_noisy_fine_grid_crosses_where_a_straight_line_through_it_does():
    """Between a significantly positive and a significantly negative point, noise can make ΔU change sign several
    times; the crossing is then the root of a line fitted in log T, not whichever sign change is steepest."""
    t = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0])
    d = np.array([0.20, 0.03, -0.01, 0.02, -0.02, 0.01, -0.20])
    sigma = np.full_like(d, 0.02)
    slope, intercept = np.polyfit(np.log(t), d, 1)
    T, status = spins.crossing(t, np.zeros_like(d), d, sigma)
    assert status == "crossing" and T == pytest.approx(np.exp(-intercept / slope))
    assert 12.0 < T < 14.0
    # one clean sign change keeps the monotone-cubic root
    clean = np.array([0.2, 0.1, 0.05, -0.05, -0.1, -0.2, -0.3])
    T1, _ = spins.crossing(t, np.zeros_like(clean), clean, sigma)
    assert 12.0 < T1 < 13.0


def test_no_percolating_network_is_no_order_even_if_a_small_cell_looks_ordered_at_the_top():
    temps = np.geomspace(2.0, 32.0, 5)
    top = spins.curie_from_binder(_synthetic(temps, t0=1000.0))  # the larger system more ordered everywhere
    assert top.status == "above" and np.isnan(top.upper_bound)
    assert spins.curie_from_binder(_synthetic(temps, t0=1000.0), percolating=0.0).status == "none"
    assert spins.curie_from_binder(_synthetic(temps, t0=1000.0), percolating=0.5).status == "above"
