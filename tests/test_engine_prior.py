"""The crystal engine as a prior: its table, the stacked and Δ-learned PairGP, σ in the tails, coverage per subgroup."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from toydata import ladder_frame

from jijtutorial.benchmark import get_model, subgroup_calibration, worst_subgroups
from jijtutorial.kernels import PairGP
from jijtutorial.prior_model import EnginePriorGP, fit_prior_scale, fit_tail_sigma, residual_rows
from jijtutorial.protocols import get_protocol


class FunctionPrior:
    """A prior whose J is a function of the rows (the engine's interface: ``values(X, 'J')``)."""

    def __init__(self, fn):
        self.fn = fn

    def values(self, X, what="J"):
        return np.asarray(self.fn(X), float)


def _toy_prior(X):
    """A crude 'engine': right in sign and pattern, 2x too large, no noise; depends on elements and vector only."""
    from jijtutorial.elements import group

    d = np.linalg.norm(X[["rx", "ry", "rz"]].to_numpy(float), axis=1)
    ga = X["element_i"].map(group).to_numpy(float)
    gb = X["element_j"].map(group).to_numpy(float)
    return 2.0 * np.cos(0.6 * (ga - gb)) * 9.0 / d**2


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return ladder_frame()


GP = {"alphas": (0.01, 0.03)}


# --------------------------------------------------------------------------------------------
# the scale of the prior
# --------------------------------------------------------------------------------------------
def test_prior_scales_are_least_squares_per_geometry_and_shrink_to_the_pooled_one():
    rng = np.random.default_rng(0)
    geo = np.repeat(["a", "b"], 50)
    e = rng.normal(size=100)
    y = np.where(geo == "a", 0.5, 2.0) * e
    scales, a0 = fit_prior_scale(geo, y, e, "geometry", shrinkage=0.0)
    assert scales["a"] == pytest.approx(0.5) and scales["b"] == pytest.approx(2.0)
    assert a0 == pytest.approx(np.sum(y * e) / np.sum(e * e))
    strong, _ = fit_prior_scale(geo, y, e, "geometry", shrinkage=1e6)
    assert strong["a"] == pytest.approx(a0, rel=1e-4) and strong["b"] == pytest.approx(a0, rel=1e-4)
    assert fit_prior_scale(geo, y, e, "none") == ({}, 1.0)
    with pytest.raises(ValueError, match="how must be one of"):
        fit_prior_scale(geo, y, e, "per-element")


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------
def test_delta_learning_with_a_zero_prior_is_pairgp(toy):
    y = toy["J"].to_numpy()
    zero = FunctionPrior(lambda X: np.zeros(len(X)))
    delta = EnginePriorGP(zero, mode="delta", tails="gp", selection="pairs", gp_params=GP).fit(toy, y)
    gp = PairGP(selection="pairs", **GP).fit(toy, y)
    q = toy.iloc[::5]
    for a, b in zip(delta.predict(q, return_std=True), gp.predict(q, return_std=True)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert delta.interval95_ == pytest.approx(gp.interval95_)


def test_stacking_weights_follow_what_predicts_the_left_out_blocks(toy):
    y = toy["J"].to_numpy()
    exact = FunctionPrior(lambda X: 3.0 * pd.Series(y, index=toy.index).reindex(X.index).to_numpy())
    m = EnginePriorGP(exact, scale="global", selection="element", gp_params=GP).fit(toy, y)
    # the prior is the truth up to a factor 3: a(g) = 1/3 and all weight on the engine
    assert m.pooled_scale_ == pytest.approx(1 / 3)
    assert m.weights_[1] == pytest.approx(1.0, abs=1e-6) and m.weights_[0] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(m.predict(toy), y, atol=1e-9)
    noise = FunctionPrior(lambda X: np.random.default_rng(len(X)).normal(size=len(X)))
    m2 = EnginePriorGP(noise, selection="element", gp_params=GP).fit(toy, y)
    # a useless prior gets (almost) no say: its share of the predictions is small
    assert m2.weights_[0] > 0.8
    assert np.mean(np.abs(m2.weights_[1] * m2.baseline(toy))) < 0.1 * np.mean(np.abs(y))


def test_a_shared_pairgp_fit_gives_the_stacked_model_of_a_refit(toy):
    y = toy["J"].to_numpy()
    prior = FunctionPrior(_toy_prior)
    inner = get_protocol("element").inner_blocks(toy)
    own = EnginePriorGP(prior, mode="stack", gp_params=GP).fit(toy, y, inner=inner)
    model = EnginePriorGP(prior, mode="stack", gp_params=GP)
    gp = PairGP(**model.gp_params_full()).fit(toy, y, inner=inner)
    shared = model.fit(toy, y, inner=inner, fitted_gp=gp)
    assert shared.gp_ is gp
    q = toy.iloc[::3]
    for a, b in zip(own.predict(q, return_std=True), shared.predict(q, return_std=True)):
        np.testing.assert_array_equal(a, b)
    assert own.tail_params_ == shared.tail_params_ and own.weights_ == shared.weights_
    # Δ-learning fits its own GP of J − a(g) J_eng: a GP of J handed to it is not used
    delta = EnginePriorGP(prior, mode="delta", gp_params=GP).fit(toy, y, inner=inner, fitted_gp=gp)
    assert delta.gp_ is not gp
    with pytest.raises(ValueError, match="fitted_gp must be a PairGP with the settings"):
        EnginePriorGP(prior, mode="stack", gp_params={"alphas": (0.1,)}).fit(toy, y, inner=inner, fitted_gp=gp)
    with pytest.raises(NotFittedError):
        EnginePriorGP(prior, mode="stack", gp_params=GP).fit(toy, y, fitted_gp=PairGP(**model.gp_params_full()))


@pytest.mark.parametrize("mode", ["stack", "delta"])
def test_no_held_out_information_reaches_the_model(toy, mode):
    """The fold's element: its rows' J and moments, and the prior's values for it, change nothing the model learns."""
    e = "Fe"
    te = np.flatnonzero((toy.element_i == e) | (toy.element_j == e))
    tr = np.setdiff1d(np.arange(len(toy)), te)
    y = toy["J"].to_numpy()
    inner = get_protocol("element").inner_blocks(toy, tr)
    prior = FunctionPrior(_toy_prior)
    # the prior of every pair holding Fe replaced: as if the table had been built without it
    without = FunctionPrior(lambda X: np.where((X.element_i == e) | (X.element_j == e), np.nan, _toy_prior(X)))
    m1 = EnginePriorGP(prior, mode=mode, gp_params=GP).fit(toy.iloc[tr], y[tr], inner=inner)
    m2 = EnginePriorGP(without, mode=mode, gp_params=GP).fit(toy.iloc[tr], y[tr], inner=inner)
    keep = toy.iloc[tr[::3]]
    for a, b in zip(m1.predict(keep, return_std=True), m2.predict(keep, return_std=True)):
        np.testing.assert_array_equal(a, b)
    # the test rows' own J and moments are never read
    test = toy.iloc[te]
    mu, sd = m1.predict(test, return_std=True)
    garbled = test.assign(J=1e6, moment_i=-3.0, moment_j=99.0)
    mu2, sd2 = m1.predict(garbled, return_std=True)
    np.testing.assert_array_equal(mu, mu2)
    np.testing.assert_array_equal(sd, sd2)
    assert np.all(np.isfinite(mu)) and np.all(sd > 0)


def test_auto_mode_is_delta_learning_for_an_unseen_distance_and_stacking_otherwise(toy):
    y = toy["J"].to_numpy()
    prior = FunctionPrior(_toy_prior)
    tr = np.flatnonzero(toy["distance"] < 13)
    for kind, mode in (("distance", "delta"), ("element", "stack"), ("pairs", "stack")):
        m = EnginePriorGP(prior, gp_params=GP).fit(toy.iloc[tr], y[tr], inner=get_protocol(kind).inner_blocks(toy, tr))
        assert m.mode_ == mode and m.params_["mode"] == mode
    assert EnginePriorGP(prior, selection="distance", gp_params=GP).fit(toy, y).mode_ == "delta"


def test_bad_parameters_are_named(toy):
    y = toy["J"].to_numpy()
    prior = FunctionPrior(_toy_prior)
    for kw, word in (({"mode": "sum"}, "mode"), ({"tails": "t"}, "tails"), ({"scale": "element"}, "scale")):
        with pytest.raises(ValueError, match=word):
            EnginePriorGP(prior, **kw).fit(toy, y)
    with pytest.raises(ValueError, match="rows but y has"):
        EnginePriorGP(prior).fit(toy, y[:-1])


@pytest.mark.parametrize("selection", ["pairs", "element", "distance"])
def test_residual_rows_name_the_pair_of_each_inner_residual(toy, selection):
    """Changing one training J by 1 meV moves its own left-out residual by about 1 meV, the others at most about half.

    (Not exactly 1: PairGP's activities and scales are learned from all training J.) That locates each residual.
    """
    y = toy["J"].to_numpy().copy()
    params = dict(selection=selection, alphas=(0.03,), element_modes=("features",), geometry_modes=("independent",))
    base = PairGP(**params).fit(toy, y)
    rows = residual_rows(toy, None, selection)
    assert len(rows) == len(base.cv_residuals_)
    for r0 in (17, 150, 301):
        y2 = y.copy()
        y2[r0] += 1.0
        moved = np.abs(PairGP(**params).fit(toy, y2).cv_residuals_ - base.cv_residuals_)
        own = moved[rows == r0]
        assert len(own) >= 1 and np.all(np.abs(own - 1.0) < 0.2)
        assert moved[rows != r0].max() < 0.6 * own.min()  # its twin (B, A) shares its input: at most half


# --------------------------------------------------------------------------------------------
# σ in the tails
# --------------------------------------------------------------------------------------------
def test_tail_sigma_on_known_gaussians_covers_68_and_95_percent_of_fresh_draws():
    rng = np.random.default_rng(1)
    n = 4000
    s = rng.uniform(0.01, 0.3, n)  # an over-confident GP σ
    p = rng.normal(scale=2.0, size=n)  # the prior's values
    true = np.sqrt((2.0 * s) ** 2 + (0.3 * p) ** 2 + 0.1**2)
    c, b, bm, t = fit_tail_sigma(true * rng.normal(size=n), s, p)
    fitted = c * np.sqrt(s**2 + (b * p) ** 2 + t**2)
    fresh = true * rng.normal(size=n)
    assert np.mean(np.abs(fresh) <= fitted) == pytest.approx(0.683, abs=0.03)
    assert np.mean(np.abs(fresh) <= 2 * fitted) == pytest.approx(0.954, abs=0.02)
    # PairGP's σ alone, scaled to hold 68 %, misses the tails of the same residuals
    f = np.quantile(np.abs(fresh) / s, 0.683)
    assert np.mean(np.abs(fresh) <= 2 * f * s) < 0.90
    with pytest.raises(ValueError, match="one value per residual"):
        fit_tail_sigma(np.ones(3), np.ones(2), np.ones(3))


def _tail_sigma_by_loops(e, s, p, m):
    """The search of fit_tail_sigma written as the plain nested loops it replaces (the reference)."""
    from jijtutorial.prior_model import TAIL_BETAS, TAIL_LEVELS, TAIL_TAUS

    e, p, m = np.abs(e), np.abs(p), np.abs(m)
    rms = float(np.sqrt(np.mean(e**2)))
    best = None
    for b in TAIL_BETAS:
        for bm in TAIL_BETAS:
            for t in TAIL_TAUS:
                shape = np.sqrt(s**2 + (b * p) ** 2 + (bm * m) ** 2 + (t * rms) ** 2)
                for f in np.quantile(e / shape, TAIL_LEVELS):
                    sd = f * shape
                    gap = max(abs(np.mean(e <= sd) - 0.6826894921370859), abs(np.mean(e <= 2 * sd) - 0.9545))
                    key = (round(float(gap), 4), float(np.mean(sd)))
                    if best is None or key < best[0]:
                        best = (key, f, b, bm, t)
    _, f, b, bm, t = best
    return f, b, bm, t * rms


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tail_sigma_search_equals_the_nested_loops(seed):
    rng = np.random.default_rng(seed)
    n = 300
    s = rng.uniform(0.01, 0.3, n)
    p = rng.normal(scale=2.0, size=n)
    m = rng.normal(scale=1.0, size=n)
    e = np.sqrt((1.5 * s) ** 2 + (0.2 * p) ** 2 + 0.05**2) * rng.standard_t(3, size=n)  # heavy tails
    assert fit_tail_sigma(e, s, p, m) == pytest.approx(_tail_sigma_by_loops(e, s, p, m), rel=1e-12, abs=1e-15)


def test_coverage_per_subgroup_on_known_gaussians():
    rng = np.random.default_rng(2)
    elements = ["Cr", "Mn", "Cu", "Zn"]
    moments = {"Cr": 3.8, "Mn": 4.4, "Cu": 0.0, "Zn": 0.0}
    rows = [
        dict(element_i=a, element_j=b, geometry=g, moment_i=moments[a])
        for g in ("same Bi layer, 4.38 Å", "across the vdW gap, 6.10 Å")
        for a in elements
        for b in elements
    ]
    frame = pd.DataFrame(rows * 200)
    n = len(frame)
    mag = frame.element_i.isin(["Cr", "Mn"]) & frame.element_j.isin(["Cr", "Mn"])
    sd = np.ones(n)
    err = rng.normal(size=n) * np.where(mag, 2.0, 1.0)  # σ right for most pairs, half the truth for magnetic ones
    pred = pd.DataFrame({"model": "m", "row": np.arange(n), "J": err, "J_pred": 0.0, "J_std": sd})
    t = subgroup_calibration(SimpleNamespace(predictions=pred, protocol="element", frame=frame))
    by = t.set_index(["kind", "subgroup"])
    assert by.loc[("magnetism", "both magnetic"), "within_1sigma"] == pytest.approx(0.383, abs=0.02)
    assert by.loc[("magnetism", "neither magnetic"), "within_1sigma"] == pytest.approx(0.683, abs=0.02)
    assert by.loc[("magnetism", "neither magnetic"), "within_2sigma"] == pytest.approx(0.954, abs=0.015)
    # a pair A-B counts in A's and in B's group; A-A once
    assert by.loc[("element", "Cr"), "n"] == int(((frame.element_i == "Cr") | (frame.element_j == "Cr")).sum())
    assert by.loc[("all", "all pairs"), "n"] == n
    w = worst_subgroups(t).iloc[0]
    assert w["lowest_subgroup"] == "magnetism: both magnetic" and w["subgroups_below_half"] >= 1


# --------------------------------------------------------------------------------------------
# the benchmark's names
# --------------------------------------------------------------------------------------------
def test_prior_model_names_and_variants():
    spec = get_model("PairGP+engine[mode=delta;tails=gp]")
    assert spec.kernel == "gp-prior" and dict(spec.options) == {"mode": "delta", "tails": "gp"}
    assert get_model("Engine-scaled").kernel == "engine" and get_model("PairGP+engine").options == ()
    with pytest.raises(ValueError, match="mode: auto, delta, stack"):
        get_model("PairGP+engine[mode=sum]")
    with pytest.raises(ValueError, match="closing"):
        get_model("PairGP+engine[mode=delta")


# --------------------------------------------------------------------------------------------
# the engine's table
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine_prior():
    from jijtutorial.engine_prior import EnginePrior

    return EnginePrior()


def test_the_prior_of_the_model_data_set_is_its_own_j_on_every_row(engine_prior):
    """The model data set is the engine's table: every row, looked up through the symmetry images, gives its J back."""
    from jijtutorial.datasets import load_model

    data = load_model()
    np.testing.assert_allclose(engine_prior.values(data, "J"), data["J"].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(engine_prior.values(data, "moment_i"), data["moment_i"].to_numpy(), atol=1e-9)
    assert engine_prior.table().attrs["origin"] in ("model data set", "memory", "cache")


def test_the_prior_is_invariant_under_the_site_symmetry_and_the_swap(engine_prior):
    from jijtutorial.geometry import site_operations

    ops, _ = site_operations()  # C3v of the upper Bi site
    from jijtutorial.datasets import load_model

    data = load_model()
    picks = [
        data.index[(data.element_i == a) & (data.element_j == b) & (data.sublattice_j == s)][k]
        for a, b, s, k in (("Mn", "Fe", "same", 0), ("Cr", "Ni", "other", 1), ("V", "V", "same", 3))
    ]
    base = data.loc[picks, ["element_i", "element_j", "rx", "ry", "rz"]].reset_index(drop=True)
    j0 = engine_prior.values(base)
    for q in ops:
        v = base[["rx", "ry", "rz"]].to_numpy() @ np.asarray(q).T
        np.testing.assert_allclose(engine_prior.values(base.assign(rx=v[:, 0], ry=v[:, 1], rz=v[:, 2])), j0)
    # the same pair seen from the other impurity (same sublattice: B at -r)
    same = base.iloc[[0, 2]]
    swapped = same.assign(
        element_i=same.element_j.to_numpy(), element_j=same.element_i.to_numpy(), rx=-same.rx, ry=-same.ry, rz=-same.rz
    )
    np.testing.assert_allclose(engine_prior.values(swapped), j0[[0, 2]])
    with pytest.raises(ValueError, match="not a Bi–Bi vector"):
        engine_prior.values(base.assign(rx=1.0))


def test_other_engine_settings_do_not_take_the_model_data_set():
    from jijtutorial.engine_prior import _shipped, prior_geometries, prior_key
    from jijtutorial.greens.engine import EngineSettings

    other = EngineSettings(kmesh=8)
    assert prior_key(other) != prior_key()
    assert _shipped(other, prior_geometries(other)) is None


def test_the_reliability_plot_per_subgroup_has_a_panel_per_kind_and_a_white_background():
    import matplotlib.pyplot as plt

    from jijtutorial.benchmark import subgroup_reliability_plot

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        [
            dict(element_i=a, element_j=b, geometry=g, moment_i={"Cr": 3.8, "Cu": 0.0}[a])
            for g in ("same Bi layer, 4.38 Å", "across the vdW gap, 6.10 Å")
            for a in ("Cr", "Cu")
            for b in ("Cr", "Cu")
        ]
        * 30
    )
    pred = pd.DataFrame(
        {"model": "m", "row": np.arange(len(frame)), "J": rng.normal(size=len(frame)), "J_pred": 0.0, "J_std": 1.0}
    )
    run = SimpleNamespace(predictions=pred, protocol="element", frame=frame)
    fig = subgroup_reliability_plot(run, "m", "element")
    assert len(fig.axes) == 3 and fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    # diagonal, the two ±1σ/±2σ guides, one line per subgroup (+ two legend keys for the elements)
    assert [len(ax.get_lines()) for ax in fig.axes] == [3 + 3, 3 + 2, 3 + 2 + 2]
    plt.close(fig)
    with pytest.raises(ValueError, match="no predictions with σ of model 'x'"):
        subgroup_reliability_plot(run, "x", "element")


def test_a_prior_that_is_the_data_leaves_delta_learning_nothing_and_stacking_takes_over(toy):
    y = toy["J"].to_numpy()
    exact = FunctionPrior(lambda X: pd.Series(y, index=toy.index).reindex(X.index).to_numpy())
    m = EnginePriorGP(exact, mode="delta", scale="global", selection="distance", gp_params=GP).fit(toy, y)
    assert m.mode_ == "stack" and m.params_["mode"] == "stack"
    np.testing.assert_allclose(m.predict(toy), y, atol=1e-9)
    mu, sd = m.predict(toy, return_std=True)
    assert np.all(np.isfinite(sd)) and np.all(sd > 0)
