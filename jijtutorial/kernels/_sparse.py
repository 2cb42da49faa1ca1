"""Sparse kernel ridge regression: a few representative training points carry the model.

Subset-of-regressors (projected-process) approximation: with m inducing points X_m chosen from
the training set, the prediction is f(x) = k(x, X_m) c with

    c = (K_mn K_nm + α K_mm)^{-1} K_mn y,

which costs O(n m²) to fit and O(m) per prediction instead of O(n³) and O(n) for full KRR.
Inducing points are chosen by farthest-point sampling (FPS) in feature space, which spreads
them over the data, or at random. ``kernel`` may also be a callable ``k(A, B) -> (len(A), len(B))``
on any row container (a DataFrame of pairs, say, with the kernel of a fitted
:class:`SymmetricPairKRR`); FPS then runs in the kernel's own feature space,
with distances d(a, b)² = k(a, a) + k(b, b) − 2 k(a, b).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._distances import KERNELS


def farthest_point_sampling(X, n_points: int, *, start: int = 0) -> np.ndarray:
    """Indices of ``n_points`` rows of ``X`` (n, d), each the farthest (Euclidean) from those chosen before.

    Deterministic: starts from row ``start``. Shape (n_points,).
    """
    X = np.asarray(X, dtype=float)
    n = len(X)
    if not 1 <= n_points <= n:
        raise ValueError(f"n_points must be between 1 and the number of rows ({n}), not {n_points}.")
    chosen = np.empty(n_points, dtype=int)
    chosen[0] = start
    d2 = np.sum((X - X[start]) ** 2, axis=1)
    for k in range(1, n_points):
        chosen[k] = int(np.argmax(d2))
        d2 = np.minimum(d2, np.sum((X - X[chosen[k]]) ** 2, axis=1))
    return chosen


def _take(X, idx):
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def kernel_farthest_point_sampling(kernel, X, n_points: int, *, start: int = 0) -> np.ndarray:
    """FPS with the kernel-induced distance d² = k(a, a) + k(b, b) − 2 k(a, b); shape (n_points,).

    Evaluates the n × n kernel of ``X`` once (fine for the few thousand rows of a pair table).
    """
    n = len(X)
    if not 1 <= n_points <= n:
        raise ValueError(f"n_points must be between 1 and the number of rows ({n}), not {n_points}.")
    K = np.asarray(kernel(X, X), dtype=float)
    diag = np.diag(K)
    chosen = np.empty(n_points, dtype=int)
    chosen[0] = start
    d2 = diag + diag[start] - 2 * K[:, start]
    for k in range(1, n_points):
        chosen[k] = int(np.argmax(d2))
        d2 = np.minimum(d2, diag + diag[chosen[k]] - 2 * K[:, chosen[k]])
    return chosen


class SparseKRR(RegressorMixin, BaseEstimator):
    """Kernel ridge regression on ``n_inducing`` inducing points (subset of regressors).

    Parameters
    ----------
    kernel : 'linear', 'rbf' (Gaussian), 'laplacian', or a callable k(A, B) returning the kernel matrix.
    gamma : kernel width parameter (1/length² for rbf, 1/length for laplacian); ignored for linear.
    alpha : ridge regularisation (units of the kernel).
    n_inducing : number of inducing points m (≤ number of training rows).
    selection : 'fps' (farthest-point sampling) or 'random'.
    random_state : seed for 'random' selection.
    """

    def __init__(
        self,
        kernel: str = "rbf",
        gamma: float = 1.0,
        alpha: float = 1e-3,
        n_inducing: int = 200,
        selection: str = "fps",
        random_state: int = 0,
    ):
        self.kernel = kernel
        self.gamma = gamma
        self.alpha = alpha
        self.n_inducing = n_inducing
        self.selection = selection
        self.random_state = random_state

    def _k(self, A, B):
        if callable(self.kernel):
            return np.asarray(self.kernel(A, B), dtype=float)
        params = {} if self.kernel == "linear" else {"gamma": self.gamma}
        return pairwise_kernels(A, B, metric=self.kernel, **params)

    def fit(self, X, y):
        """Fit on rows ``X`` (n, d) -- any row container for a callable kernel -- and targets ``y`` (n,)."""
        if not callable(self.kernel) and self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, not {self.kernel!r}.")
        if self.selection not in ("fps", "random"):
            raise ValueError(f"selection must be 'fps' or 'random', not {self.selection!r}.")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, not {self.alpha!r}.")
        if int(self.n_inducing) < 1:
            raise ValueError(f"n_inducing must be a positive number of inducing points, not {self.n_inducing!r}.")
        if callable(self.kernel):
            y = np.asarray(y, dtype=float).ravel()
            if len(X) != len(y):
                raise ValueError(f"X has {len(X)} rows but y has {len(y)} values.")
            if not np.all(np.isfinite(y)):
                raise ValueError("y contains NaN or infinity; every target must be a finite number.")
        else:
            X, y = validate_data(self, X, y, dtype=float, y_numeric=True)
        m = min(int(self.n_inducing), len(X))
        if self.selection == "random":
            idx = np.sort(np.random.default_rng(self.random_state).choice(len(X), m, replace=False))
        elif callable(self.kernel):
            idx = kernel_farthest_point_sampling(self._k, X, m)
        else:
            idx = farthest_point_sampling(X, m)
        self.inducing_ = _take(X, idx)
        self.inducing_indices_ = idx
        self.y_mean_ = float(y.mean())
        K_nm = self._k(X, self.inducing_)
        K_mm = self._k(self.inducing_, self.inducing_)
        A = K_nm.T @ K_nm + self.alpha * K_mm
        A[np.diag_indices_from(A)] += 1e-10 * max(1.0, np.trace(A) / m)  # jitter for duplicate inducing rows
        self.coef_ = cho_solve(cho_factor(A), K_nm.T @ (y - self.y_mean_))
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions, shape (n,), in the units of ``y``."""
        check_is_fitted(self, "coef_")
        if not callable(self.kernel):
            X = validate_data(self, X, dtype=float, reset=False)
        return self._k(X, self.inducing_) @ self.coef_ + self.y_mean_
