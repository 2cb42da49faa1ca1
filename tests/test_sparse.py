"""Sparse KRR: exact limit, farthest-point sampling, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from jijtutorial.kernels import SparseKRR, farthest_point_sampling


def _data(n=120, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    return X, y


def test_all_points_inducing_equals_full_krr():
    """With m = n inducing points, SoR is full KRR: K(K + αI)^{-1}... both give the same predictions."""
    X, y = _data()
    Xt, _ = _data(30, seed=2)
    sparse = SparseKRR(kernel="rbf", gamma=1.0, alpha=0.1, n_inducing=len(X)).fit(X, y)
    full = KernelRidge(kernel="rbf", gamma=1.0, alpha=0.1).fit(X, y - y.mean())
    np.testing.assert_allclose(sparse.predict(Xt), full.predict(Xt) + y.mean(), rtol=1e-6, atol=1e-8)


def test_fps_spreads_points_and_is_deterministic():
    X = np.array([[0.0], [0.1], [0.2], [5.0], [10.0], [9.9]])
    assert list(farthest_point_sampling(X, 3)) == [0, 4, 3]
    np.testing.assert_array_equal(farthest_point_sampling(X, 4), farthest_point_sampling(X, 4))
    with pytest.raises(ValueError, match="n_points must be between 1 and"):
        farthest_point_sampling(X, 7)


def test_more_inducing_points_fit_better():
    X, y = _data(300)
    Xt, yt = _data(100, seed=3)
    errors = [np.mean(np.abs(SparseKRR(gamma=0.3, alpha=1e-3, n_inducing=m).fit(X, y).predict(Xt) - yt)) for m in (5, 20, 80)]
    assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(kernel="cubic"), "kernel must be one of"),
        (dict(selection="best"), "selection must be"),
        (dict(alpha=0.0), "alpha must be positive"),
    ],
)
def test_bad_parameters(kw, message):
    X, y = _data(10)
    with pytest.raises(ValueError, match=message):
        SparseKRR(**kw).fit(X, y)


def test_callable_kernel_matches_the_builtin_one():
    """A callable kernel (here the rbf kernel by hand) gives the same model, FPS in kernel space included."""
    from sklearn.metrics.pairwise import rbf_kernel

    X, y = _data(80)
    Xt, _ = _data(20, seed=4)
    builtin = SparseKRR(kernel="rbf", gamma=0.5, alpha=1e-2, n_inducing=30).fit(X, y)
    custom = SparseKRR(kernel=lambda A, B: rbf_kernel(A, B, gamma=0.5), alpha=1e-2, n_inducing=30).fit(X, y)
    # For an rbf kernel, d_k² = 2 − 2 exp(−γ|a − b|²) is monotone in |a − b|: FPS picks the same points.
    np.testing.assert_array_equal(custom.inducing_indices_, builtin.inducing_indices_)
    np.testing.assert_allclose(custom.predict(Xt), builtin.predict(Xt), rtol=1e-10)
