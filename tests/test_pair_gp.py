"""PairGP and its pieces: symmetry, honesty about unseen elements, the Anderson moment, calibrated error bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toydata import ladder_frame

from jijtutorial.benchmark import calibration_table, coverage, get_protocol, reliability_curve, reliability_plot
from jijtutorial.kernels import (
    DistinctGP,
    MomentModel,
    PairGP,
    anderson_moment,
    anderson_u,
    calibrate_sigma,
    critical_u,
    element_features,
    encode_pairs,
)


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return ladder_frame()


@pytest.fixture(scope="module")
def fitted(toy) -> PairGP:
    return PairGP(selection="pairs", alphas=(0.01, 0.03)).fit(toy, toy["J"].to_numpy())


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------
def test_predictions_are_symmetric_in_the_two_impurities_and_read_no_test_moments(fitted, toy):
    q = toy.iloc[::7]
    swapped = q.rename(columns={"element_i": "element_j", "element_j": "element_i"})
    mu1, sd1 = fitted.predict(q, return_std=True)
    mu2, sd2 = fitted.predict(swapped, return_std=True)
    np.testing.assert_allclose(mu1, mu2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sd1, sd2, rtol=1e-12, atol=1e-14)
    assert np.all(sd1 > 0)
    garbled = q.assign(moment_i=99.0, moment_j=-5.0, J=1e6, Dx=7.0)
    np.testing.assert_array_equal(fitted.predict(garbled), mu1)
    # the geometry may also come as a pair vector only
    vec_only = q[["element_i", "element_j", "rx", "ry", "rz"]]
    np.testing.assert_allclose(fitted.predict(vec_only), mu1, rtol=1e-12, atol=1e-14)


def test_an_unseen_element_gets_a_physical_moment_and_finite_predictions(toy):
    e = "Fe"
    te = np.flatnonzero((toy.element_i == e) | (toy.element_j == e))
    tr = np.setdiff1d(np.arange(len(toy)), te)
    y = toy["J"].to_numpy()
    inner = get_protocol("element").inner_blocks(toy, tr)
    model = PairGP(alphas=(0.01, 0.03)).fit(toy.iloc[tr], y[tr], inner=inner)
    assert e not in model.seen_elements_ and len(model.seen_elements_) == 9
    mu, sd = model.predict(toy.iloc[te], return_std=True)
    assert np.all(np.isfinite(mu)) and np.all(sd > 0)
    assert np.mean(np.abs(mu - y[te])) < np.mean(np.abs(y[te] - y[tr].mean()))  # better than the mean
    # its moment comes from the Anderson model of its d count, not from its own rows
    idx = list(element_features().index).index(e)
    assert 2.0 < model.element_moments_[idx] < 5.0
    lying = toy.assign(moment_i=np.where(toy.element_i == e, 0.0, toy.moment_i))
    other = PairGP(alphas=(0.01, 0.03)).fit(lying.iloc[tr], y[tr], inner=inner)
    np.testing.assert_array_equal(other.predict(toy.iloc[te]), mu)


def test_the_inner_element_selection_re_describes_the_left_out_element_without_its_own_moment(toy):
    inner = get_protocol("element").inner_blocks(toy)
    gp = PairGP(alphas=(0.03,))
    kinds = gp._block_kinds(encode_pairs(toy), inner, inner.kind)
    assert [k for k, _ in kinds] == ["element"] * len(inner)
    # the Cr rows claim another moment: the moment Cr gets when its block is left out must not change
    lying = toy.assign(
        moment_i=np.where(toy.element_i == "Cr", 1.0, toy.moment_i), moment_j=np.where(toy.element_j == "Cr", 1.0, toy.moment_j)
    )
    cr = list(element_features().index).index("Cr")
    assert gp._left_out_moments(toy, kinds)[cr] == gp._left_out_moments(lying, kinds)[cr]


def test_kronecker_and_dense_solvers_fit_the_same_model(monkeypatch):
    from toydata import pair_frame

    import jijtutorial.kernels._pair_gp as pg

    frame = pair_frame()  # every ordered pair of 8 elements at two geometries: a complete grid
    y = frame["J"].to_numpy()
    a = PairGP(selection="distance", alphas=(0.01, 0.1)).fit(frame, y)
    assert (
        pg._grid_layout(
            pg.encode_pairs(frame).take(pg.distinct_inputs(pg.encode_pairs(frame).keys())[0]),
            pg.distinct_inputs(pg.encode_pairs(frame).keys())[1],
        )
        is not None
    )
    monkeypatch.setattr(pg, "_grid_layout", lambda *args: None)
    b = PairGP(selection="distance", alphas=(0.01, 0.1)).fit(frame, y)
    assert a.params_ == b.params_
    np.testing.assert_allclose(a.grid_scores_, b.grid_scores_, rtol=1e-9, atol=1e-12)
    for x, z in zip(a.predict(frame, return_std=True), b.predict(frame, return_std=True)):
        np.testing.assert_allclose(x, z, rtol=1e-8, atol=1e-10)


def test_bad_input_is_a_clear_error(toy):
    y = toy["J"].to_numpy()
    with pytest.raises(ValueError, match="selection must be one of 'rows', 'pairs', 'element', 'distance', not 'random'"):
        PairGP(selection="random").fit(toy, y)
    with pytest.raises(ValueError, match="element_modes must be a non-empty tuple"):
        PairGP(element_modes=("periodic",)).fit(toy, y)
    with pytest.raises(ValueError, match="alphas must be positive"):
        PairGP(alphas=(0.0,)).fit(toy, y)
    with pytest.raises(ValueError, match="row 2, column 'element_i': unknown impurity element 'Bi'"):
        PairGP().fit(toy.assign(element_i=["Fe", "Fe", "Bi"] + ["Fe"] * (len(toy) - 3)), y)
    model = PairGP(alphas=(0.03,)).fit(toy, y)
    off = toy.iloc[:3][["element_i", "element_j", "rx", "ry", "rz"]].copy()
    off.loc[off.index[1], "rx"] += 1.0
    with pytest.raises(ValueError, match="row 1.*does not land on a Bi site"):
        model.predict(off)
    with pytest.raises(ValueError, match="needs 'sublattice_j', 'distance' and 'layer', or the pair vector"):
        model.predict(toy[["element_i", "element_j"]])


@pytest.mark.parametrize(
    "column, value, at, match",
    [
        ("moment_i", np.nan, "fit", "training row 3, column 'moment_i': nan is not a finite moment"),  # was: all NaN
        ("distance", np.nan, "fit", "row 3, column 'distance': nan is not a Bi–Bi distance"),  # was: SVD noise
        ("distance", np.nan, "predict", "row 1, column 'distance': nan is not a Bi–Bi distance"),  # was: NaN
        ("distance", -4.38, "predict", "row 1, column 'distance': -4.38 is not a Bi–Bi distance"),  # was: 29 ± 48 meV
        ("distance", 0.0, "predict", "row 1, column 'distance': 0 is not a Bi–Bi distance"),
        ("layer", "QL 3", "predict", "row 1, column 'layer': 'QL 3' is not a Bi layer of the 'same' sublattice"),
        ("sublattice_j", "upper", "predict", "row 1, column 'sublattice_j': 'upper' is not a Bi sublattice"),
        ("layer", "across the vdW gap", "predict", "not a Bi layer of the 'same' sublattice"),  # a layer of the other one
    ],
)
def test_every_input_is_checked_at_fit_and_predict(toy, column, value, at, match):
    y = toy["J"].to_numpy()
    bad = toy.copy()
    bad[column] = bad[column].astype(object if isinstance(value, str) else float)
    if at == "fit":
        bad.loc[3, column] = value
        with pytest.raises(ValueError, match=match):
            PairGP(alphas=(0.03,)).fit(bad, y)
    else:
        model = PairGP(alphas=(0.03,)).fit(toy, y)
        q = bad.iloc[:3].copy()
        q.loc[q.index[1], column] = value
        with pytest.raises(ValueError, match=match):
            model.predict(q, return_std=True)


def test_constant_targets_are_refused_rather_than_given_zero_sigma(toy):
    with pytest.raises(ValueError, match=r"all 309 training J are 0 meV.*σ = 0"):
        PairGP(alphas=(0.03,)).fit(toy, np.zeros(len(toy)))
    constant = PairGP(alphas=(0.03,)).fit(toy, np.full(len(toy), 1.5))  # not 0: shrinkage leaves residuals to measure
    assert np.all(constant.predict(toy.iloc[:5], return_std=True)[1] > 0)


def test_an_element_of_an_unseen_row_is_flagged_not_given_an_invented_moment():
    """Train on 3d elements only: every 4d element has no moment to go on; its pairs are flagged with a wide σ."""
    from toydata import ladder_frame

    three_d = ("V", "Cr", "Mn", "Fe", "Co", "Sc", "Cu", "Zn")
    train = ladder_frame(elements=three_d)
    y = train["J"].to_numpy()
    model = PairGP(selection="element", alphas=(0.01, 0.03)).fit(train, y)
    four_d = ["Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd"]
    assert model.unknown_elements_ == four_d
    idx = [list(element_features().index).index(e) for e in four_d]
    assert np.all(np.isnan(model.element_moments_[idx]))  # not the middle of the u grid (Ru 3.7 μB before)
    query = ladder_frame(elements=("Ru", "Fe", "Pd")).drop(columns=["J", "moment_i", "moment_j"])
    mu, sd, beyond = model.predict(query, return_std=True, return_beyond=True)
    expect = query.element_i.isin(four_d).to_numpy() | query.element_j.isin(four_d).to_numpy()
    np.testing.assert_array_equal(beyond, expect)
    # nothing says Ru or Pd resembles any 3d element: no more than the mean coupling, σ the couplings' own spread
    rms = np.sqrt(np.mean(y[train.distance.round(2).to_numpy() == 4.38] ** 2))
    near = np.flatnonzero(beyond & (query.distance.round(2).to_numpy() == 4.38))
    assert np.all(sd[near] >= rms - 1e-12) and np.all(np.abs(mu[beyond]) < rms)
    assert not model.predict(query[~expect], return_beyond=True)[1].any()
    with pytest.raises(ValueError, match="no known element in this row"):
        from jijtutorial.kernels._element_features import fit_row

        fit_row([], [])


def test_moment_model_refuses_to_invent_the_moments_of_an_unseen_row():
    known = {"V": 2.6, "Cr": 3.8, "Mn": 4.4, "Co": 2.1, "Ni": 0.9, "Sc": 0.0, "Cu": 0.0, "Zn": 0.0}
    mm = MomentModel().fit(known)
    assert mm.unknown_rows_ == (4,)
    assert np.isnan(mm.predict(["Ru", "Rh", "Pd"])).all()  # were 3.7, 2.6, 1.3 μB from the middle of the u grid
    np.testing.assert_array_equal(mm.covers(["Fe", "Ru"]), [True, False])
    assert np.isfinite(mm.predict(["Fe"])).all()
    with pytest.raises(ValueError, match="the moment of Cr is nan"):
        MomentModel().fit({**known, "Cr": float("nan")})


@pytest.mark.skipif(
    "not __import__('jijtutorial').datasets.jukkr_available()", reason="needs the JuKKR table (JIJTUTORIAL_DATA_DIR)"
)
def test_jukkr_4d_pairs_from_a_model_trained_on_3d_only_are_flagged_and_covered():
    """The real question of the issue: no 4d element in training, every 4d pair predicted."""
    from jijtutorial.datasets import load_jukkr
    from jijtutorial.elements import row

    d = load_jukkr()
    r_i, r_j = d.element_i.map(row).to_numpy(), d.element_j.map(row).to_numpy()
    train, test = d[(r_i == 3) & (r_j == 3)], d[(r_i == 4) | (r_j == 4)]
    model = PairGP(selection="element").fit(train, train["J"].to_numpy())
    mu, sd, beyond = model.predict(test, return_std=True, return_beyond=True)
    y = test["J"].to_numpy()
    assert beyond.all()
    # before: invented moments gave up to 9.8 meV for non-magnetic 4d pairs and MAE 1.00 meV (predicting 0: 0.70)
    assert np.mean(np.abs(y - mu)) < 1.05 * np.mean(np.abs(y))
    assert np.mean(np.abs(y - mu) <= sd) >= 0.683 and np.mean(np.abs(y - mu) <= 2 * sd) >= 0.9


# --------------------------------------------------------------------------------------------
# the Anderson moment
# --------------------------------------------------------------------------------------------
def test_anderson_criterion_particle_hole_symmetry_and_hunds_limit():
    for nd in (1, 2, 3, 4, 5):
        uc = float(critical_u(nd))
        assert anderson_moment([nd], [0.99 * uc])[0] == 0.0 < anderson_moment([nd], [1.2 * uc])[0]
        assert np.isclose(anderson_moment([nd], [3.0])[0], anderson_moment([10 - nd], [3.0])[0])
        assert np.isclose(float(anderson_u(nd, 0.0)), uc)
    assert critical_u(5) == pytest.approx(np.pi / 5)  # half filling: the smallest critical u
    assert anderson_moment([5], [100.0])[0] == pytest.approx(5.0, abs=0.05)
    assert anderson_moment([0], [10.0])[0] == 0.0 and anderson_moment([10], [10.0])[0] == 0.0
    # self-consistency: the moment at u gives back u
    m = anderson_moment([6.0], [2.0])[0]
    assert float(anderson_u(6.0, m)) == pytest.approx(2.0, rel=0.02)


def test_moment_model_reads_only_the_elements_it_is_given():
    known = {"Ti": 0.8, "V": 2.6, "Cr": 3.8, "Mn": 4.4, "Co": 2.1, "Ni": 0.9, "Sc": 0.0, "Cu": 0.0, "Zn": 0.0}
    fe = MomentModel().fit(known).predict(["Fe"])[0]
    assert 2.5 < fe < 4.5  # from its neighbours
    assert MomentModel().fit({**known, "Fe": 99.0}).predict(["Fe"])[0] != fe
    f = element_features()
    assert list(f.loc["Fe", ["group", "row", "N_d"]]) == [8, 3, 6.0] and 1.0 < f.loc["Fe", "covalent_radius"] < 1.5
    with pytest.raises(ValueError, match="unknown impurity element 'Bi'"):
        MomentModel().fit({"Bi": 1.0})


# --------------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------------
def test_calibration_of_a_gp_on_a_draw_from_its_own_prior():
    """The true kernel's predictive σ covers 68.3 % / 95.4 % of held-out draws; a halved σ is caught."""
    rng = np.random.default_rng(3)
    n, n_test = 300, 3000
    x = rng.uniform(0, 10, n + n_test)
    K = np.exp(-((x[:, None] - x[None]) ** 2) / 2)
    noise = 0.05
    f = np.linalg.cholesky(K + noise * np.eye(len(x))) @ rng.normal(size=len(x))
    tr, te = np.arange(n), np.arange(n, n + n_test)
    gp = DistinctGP(K[np.ix_(tr, tr)], f[tr], np.arange(n), noise)
    mu, var = gp.predict(K[np.ix_(te, tr)], np.ones(n_test), np.ones(n_test))
    cov = coverage(f[te], mu, np.sqrt(var))
    assert abs(cov[1.0] - 0.683) < 0.03 and abs(cov[2.0] - 0.954) < 0.015
    curve = reliability_curve(f[te], mu, np.sqrt(var))
    assert np.max(np.abs(curve["observed"] - curve["nominal"])) < 0.04
    assert coverage(f[te], mu, 0.5 * np.sqrt(var))[1.0] < 0.5
    # leave-one-out residuals of the training draw are calibrated too, with the GP's own variances
    e, v, _ = gp.leave_one_row_out()
    assert abs(coverage(e, 0 * e, np.sqrt(v))[1.0] - 0.683) < 0.08
    # and the amplitude fitted on them with the GP's own shape (γ = 1) is about 1, the draw's own
    s, g = calibrate_sigma(e, v, gammas=(1.0,))
    assert g == 1.0 and 0.85 < s < 1.2


def test_calibrate_sigma_recovers_a_heteroscedastic_shape():
    rng = np.random.default_rng(4)
    v = np.exp(rng.uniform(-6, 3, 20000))
    e = 0.7 * v ** (0.5 * 1.5) * rng.normal(size=v.size)  # true σ = 0.7 v^(1.5/2)
    s, g = calibrate_sigma(e, v)
    assert g == pytest.approx(1.5, abs=0.15)
    c = coverage(e, 0 * e, s * v ** (0.5 * g))
    assert abs(c[1.0] - 0.683) < 0.01 and abs(c[2.0] - 0.954) < 0.01


def test_coverage_table_plot_and_errors(tmp_path):
    assert coverage([0, 1, 3], [0, 0, 0], [1, 1, 1]) == {1.0: 2 / 3, 2.0: 2 / 3}
    with pytest.raises(ValueError, match="one value per test pair"):
        coverage([0, 1], [0], [1])
    with pytest.raises(ValueError, match="finite and non-negative"):
        coverage([0], [0], [np.nan])
    p = pd.DataFrame(
        {
            "model": "m",
            "protocol": "study",
            "J": [0.0, 1.0, 3.0, 0.5],
            "J_pred": 0.0,
            "J_std": [1.0, 1.0, 1.0, np.nan],
            "J_95": 2.5,
        }
    )
    t = calibration_table(p)  # the row without σ is left out
    assert t["n"].item() == 3 and t["within_1sigma"].item() == pytest.approx(2 / 3)
    assert t["within_J95"].item() == pytest.approx(2 / 3)
    fig = reliability_plot({"m": reliability_curve(p.J[:3], p.J_pred[:3], p.J_std[:3])})
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0) and fig.get_facecolor()[3] == 1.0
    ax = fig.axes[0]
    assert "nominal" in ax.get_xlabel() and "observed" in ax.get_ylabel() and "meV" in ax.get_title()


def test_pairgp_error_bars_on_held_out_folds_are_about_right(toy):
    """Over the outer folds of a random split, ±1σ holds roughly the nominal share of the test pairs."""
    y = toy["J"].to_numpy()
    z = []
    for _, _, tr, te in get_protocol("study").outer_splits(toy, 4, 1, 0):
        m = PairGP(alphas=(0.01, 0.03)).fit(toy.iloc[tr], y[tr])
        mu, sd = m.predict(toy.iloc[te], return_std=True)
        z.append(np.abs(y[te] - mu) / sd)
    z = np.concatenate(z)
    assert 0.5 < np.mean(z <= 1) < 0.9


def test_learned_moments_are_in_periodic_table_order():
    from jijtutorial.kernels import learned_moments

    m = learned_moments(["Zn", "Fe", "Mo"], ["Cr", "Ag", "Fe"], [0.0, 3.0, 2.5], [3.8, 0.0, 3.4])
    assert list(m) == ["Cr", "Fe", "Zn", "Mo", "Ag"]
    assert m["Fe"] == pytest.approx(3.2)  # median of both slots


@pytest.mark.parametrize(
    "column, value, at",
    [
        ("moment_j", np.nan, "fit"),
        ("distance", np.nan, "predict"),
        ("distance", -6.1, "predict"),
        ("sublattice_j", "lower", "predict"),
    ],
)
def test_sympair_krr_checks_the_same_inputs(toy, column, value, at):
    from jijtutorial.kernels import SymmetricPairKRR

    y = toy["J"].to_numpy()
    bad = toy.copy()
    bad[column] = bad[column].astype(object if isinstance(value, str) else float)
    bad.loc[2, column] = value
    with pytest.raises(ValueError, match=f"row 2, column '{column}'"):
        if at == "fit":
            SymmetricPairKRR(alpha=1e-3).fit(bad, y)
        else:
            SymmetricPairKRR(alpha=1e-3).fit(toy, y).predict(bad)


def test_a_pickled_distinct_gp_keeps_its_factor_exactly_and_half_as_large():
    """A stored GP (the filled table's) predicts and cross-validates to the same bits as the one fitted."""
    import pickle

    rng = np.random.default_rng(5)
    m, n_test = 60, 25
    x = rng.uniform(0, 10, m + n_test)
    K = np.exp(-((x[:, None] - x[None]) ** 2) / 4)
    inverse = np.concatenate([np.arange(m), rng.integers(0, m, 20)])  # some inputs with two rows
    y = rng.normal(size=len(inverse))
    gp = DistinctGP(K[:m, :m], y, inverse, 0.05)
    blocks = [np.arange(k, k + 6) for k in range(0, m, 6)]
    e, v, rows = gp.leave_block_out(blocks)  # forms L^-1 and A^-1 on the way
    mu, var = gp.predict(K[m:, :m], np.ones(n_test))
    assert gp._Li is not None
    state = gp.__getstate__()
    assert state["_Li"] is None and state["_LiT"] is None and state["_H"] is None
    assert state["L"][0] == "lower triangle" and len(state["L"][3]) == m * (m + 1) // 2
    back = pickle.loads(pickle.dumps(gp))
    assert back.L.dtype == gp.L.dtype and back.L.flags.f_contiguous == gp.L.flags.f_contiguous
    np.testing.assert_array_equal(back.L, gp.L)
    for a, b in zip(back.predict(K[m:, :m], np.ones(n_test)), (mu, var)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(back.leave_block_out(blocks), (e, v, rows)):
        np.testing.assert_array_equal(a, b)
    assert len(pickle.dumps(back)) < 0.6 * len(pickle.dumps(gp.__dict__))  # no caches, half of L
    # a factor with anything above its diagonal -- even -0.0 -- is kept whole
    odd = pickle.loads(pickle.dumps(gp))
    odd.L[0, 1] = -0.0
    again = pickle.loads(pickle.dumps(odd))
    assert np.signbit(again.L[0, 1]) and not isinstance(odd.__getstate__()["L"], tuple)
