"""Closed-form CV equals brute-force refits; the KRR fold model equals scikit-learn; our pair kernel is honest."""

from __future__ import annotations

import numpy as np
import pytest
from toydata import pair_frame

from jijtutorial.benchmark import KernelRidgeFolds, PairKernelFolds
from jijtutorial.kernels import (
    KERNEL_METRIC,
    DistanceScaler,
    SymmetricPairKRR,
    kernel_from_distance,
    krr_path,
    linear_krr_path,
)


def _brute_force_residuals(K, y, alpha, blocks):
    e = np.empty_like(y)
    for S in blocks:
        keep = np.setdiff1d(np.arange(len(y)), S)
        c = np.linalg.solve(K[np.ix_(keep, keep)] + alpha * np.eye(len(keep)), y[keep])
        e[S] = y[S] - K[np.ix_(S, keep)] @ c
    return e


@pytest.mark.parametrize("solver", ["cholesky", "eigh"])
@pytest.mark.parametrize("grouped", [False, True], ids=["LOO", "LOGO"])
def test_closed_form_cv_equals_refitting(solver, grouped):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = rng.normal(size=40)
    groups = rng.integers(0, 12, 40) if grouped else None
    K = np.exp(-np.abs(X[:, None] - X[None]).sum(-1) / 2)
    alphas = [1e-3, 1e-1]
    path = krr_path(K, y, alphas, groups, solver)
    blocks = [np.flatnonzero(groups == g) for g in np.unique(groups)] if grouped else [np.array([i]) for i in range(40)]
    for a, alpha in enumerate(alphas):
        np.testing.assert_allclose(path.residuals[a], _brute_force_residuals(K, y, alpha, blocks), atol=1e-9)
        np.testing.assert_allclose(path.coef[a], np.linalg.solve(K + alpha * np.eye(40), y), atol=1e-9)
    # linear kernel from a thin SVD (d < n), with its zero eigenvalues
    lin = linear_krr_path(X, y, alphas, groups)
    for a, alpha in enumerate(alphas):
        np.testing.assert_allclose(lin.residuals[a], _brute_force_residuals(X @ X.T, y, alpha, blocks), atol=1e-8)


@pytest.mark.parametrize("solver", ["cholesky", "eigh"])
@pytest.mark.parametrize("grouped", [False, True], ids=["LOO", "LOGO"])
def test_duplicated_inputs_are_exact(solver, grouped):
    # twins: rows with identical inputs but (slightly) different y, fitted on the distinct inputs only
    rng = np.random.default_rng(3)
    Xu = rng.normal(size=(25, 3))
    inverse = np.r_[np.arange(25), rng.integers(0, 25, 20)]  # 45 rows, 25 distinct inputs
    y = rng.normal(size=45)
    groups = inverse % 9 if grouped else None  # duplicates in the same group ...
    if grouped:
        groups[-3:] = 100  # ... and a few apart from their twin
    Ku = np.exp(-np.abs(Xu[:, None] - Xu[None]).sum(-1))
    K = Ku[np.ix_(inverse, inverse)]
    blocks = [np.flatnonzero(groups == g) for g in np.unique(groups)] if grouped else [np.array([i]) for i in range(45)]
    path = krr_path(Ku, y, [1e-6, 1e-2], groups, solver, inverse=inverse)
    for a, alpha in enumerate([1e-6, 1e-2]):
        brute = _brute_force_residuals(K, y, alpha, blocks)
        np.testing.assert_allclose(path.residuals[a], brute, rtol=1e-6, atol=1e-7 * np.abs(brute).max())
        c = np.linalg.solve(K + alpha * np.eye(45), y)
        np.testing.assert_allclose(path.coef[a], np.bincount(inverse, weights=c, minlength=25), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kernel", ["linear", "laplacian", "rbf"])
def test_grid_krr_equals_scikit_learn(kernel):
    from sklearn.kernel_ridge import KernelRidge

    rng = np.random.default_rng(2)
    X = rng.normal(size=(70, 6))
    X[40:50] = X[:10]  # twins with identical inputs, in training and test
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=70)
    tr, te = np.arange(50), np.arange(50, 70)
    grid = KernelRidgeFolds(None, kernel, gammas=(0.5, 2.0), alphas=(1e-3, 1e-1)).prepare_features(X)
    fit = grid.fit_fold(tr, y[tr])
    scaler = DistanceScaler(KERNEL_METRIC[kernel]).fit(X[tr])
    assert scaler.length_scale_ == pytest.approx(fit.length_scale)
    ref = KernelRidge(kernel=kernel, alpha=fit.params["alpha"], gamma=fit.params.get("gamma"))
    ref.fit(scaler.transform(X[tr]), y[tr])
    np.testing.assert_allclose(grid.predict_fold(fit, te), ref.predict(scaler.transform(X[te])), atol=1e-10)
    assert fit.grid_scores.shape == (len(grid.gammas), 2)


def test_kernel_values_never_subnormal():
    K = kernel_from_distance(np.linspace(0, 1e4, 1000)[None, :], "laplacian", 1.0)
    tiny = (K > 0) & (K < np.finfo(float).tiny)
    assert not tiny.any() and K[0, 0] == 1.0


def test_pair_kernel_is_symmetric_psd_and_reads_no_test_moments():
    frame = pair_frame()
    y = frame["J"].to_numpy()
    model = SymmetricPairKRR(alpha=1e-3).fit(frame, y)
    K = model.kernel(frame)
    assert np.allclose(K, K.T) and np.linalg.eigvalsh(K).min() > -1e-8
    swapped = frame.assign(element_i=frame["element_j"], element_j=frame["element_i"])
    np.testing.assert_allclose(model.predict(swapped), model.predict(frame), atol=1e-10)
    # predictions never read moments or J
    blind = frame.drop(columns=["moment_i", "moment_j", "J"])
    np.testing.assert_allclose(model.predict(blind), model.predict(frame))
    # a non-magnetic element (no moment in training) cannot couple
    assert np.all(np.abs(model.predict(frame[frame["element_i"].eq("Sc")])) < 1e-12)
    assert model.element_similarity.loc["Fe", "Fe"] == pytest.approx(1.0, rel=1e-2)


def test_moments_and_profiles_are_learned_from_training_rows_only():
    frame = pair_frame()
    y = frame["J"].to_numpy()
    train = frame["element_i"].ne("Co") & frame["element_j"].ne("Co") | (frame["element_i"] == frame["element_j"])
    test = ~train
    m1 = SymmetricPairKRR().fit(frame[train], y[train])
    # corrupt the test rows' moments and J: nothing learned may change
    corrupted = frame.copy()
    corrupted.loc[test, ["moment_i", "moment_j"]] = 99.0
    y2 = y.copy()
    y2[test.to_numpy()] = 1e3
    m2 = SymmetricPairKRR().fit(corrupted[train], y2[train])
    np.testing.assert_allclose(m1.predict(frame[test]), m2.predict(corrupted[test]))
    assert m1.moments_ == m2.moments_


def test_fast_pair_grid_matches_the_estimator():
    from sklearn.base import clone

    frame = pair_frame()
    y = frame["J"].to_numpy()
    tr, te = np.arange(0, len(frame), 2), np.arange(1, len(frame), 2)
    grid = PairKernelFolds({"profile_length": (2.0, 8.0)}, alphas=(1e-3, 1e-1)).prepare(frame)
    fit = grid.fit_fold(tr, y[tr])
    ref = clone(SymmetricPairKRR(**fit.params)).fit(frame.iloc[tr], y[tr])
    np.testing.assert_allclose(grid.predict_fold(fit, te), ref.predict(frame.iloc[te]), atol=1e-8)
    assert np.mean(np.abs(grid.predict_fold(fit, te) - y[te])) < np.mean(np.abs(y[te] - y[tr].mean()))


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown kernel"):
        KernelRidgeFolds(None, "cosine")
    with pytest.raises(ValueError, match="solver"):
        krr_path(np.eye(3), np.ones(3), [1.0], solver="qr")
    with pytest.raises(TypeError, match="DataFrame"):
        SymmetricPairKRR().fit(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="moment_i"):
        SymmetricPairKRR().fit(pair_frame().drop(columns="moment_i"), np.zeros(128))
