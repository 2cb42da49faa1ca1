"""Distances between feature rows, the median-distance length scale, and distance kernels.

Kernel widths in this package are dimensionless: a distance is divided by the *length scale*,
the median pairwise distance among (at most :data:`SCALE_ROWS`) training rows, so that
``exp(-gamma d / length_scale)`` means the same on a Coulomb matrix (entries ~1e4) and on SOAP
(entries ~1). :class:`DistanceScaler` applies the same rule inside a scikit-learn ``Pipeline``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

#: Kernels of the benchmark's descriptor models.
KERNELS = ("linear", "rbf", "laplacian")
#: Metric each kernel needs: L1 for the Laplacian kernel, L2 for the others.
KERNEL_METRIC = {"linear": "l2", "rbf": "l2", "laplacian": "l1"}
#: The length scale is the median distance among at most this many training rows.
SCALE_ROWS = 500
#: Kernel values below this are set to 0: exp(-large) gives subnormal floats, on which x86
#: arithmetic is ~100x slower (a Cholesky of such a matrix took 0.7 s instead of 0.03 s).
KERNEL_FLOOR = 1e-100


def gram_matrix(X, Y=None) -> np.ndarray:
    """Dense ``X Y^T`` for dense or sparse ``X`` (n, d) and ``Y`` (m, d); shape (n, m)."""
    Y = X if Y is None else Y
    G = X @ Y.T
    return G.toarray() if sp.issparse(G) else np.asarray(G)


def _row_sq_norms(X) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    X = np.asarray(X, dtype=float)
    return np.einsum("ij,ij->i", X, X)


def distance_matrix(X, Y=None, metric: str = "l2", gram: np.ndarray | None = None) -> np.ndarray:
    """Pairwise L1 or L2 distances between the rows of ``X`` (n, d) and ``Y`` (m, d); shape (n, m).

    Dense or sparse input. ``gram``: the precomputed ``X X^T`` when ``Y`` is None (L2 only).
    """
    same = Y is None
    Y = X if Y is None else Y
    if metric == "l1":
        if sp.issparse(X) or sp.issparse(Y):
            from sklearn.metrics.pairwise import manhattan_distances

            return manhattan_distances(sp.csr_matrix(X), sp.csr_matrix(Y))
        from scipy.spatial.distance import cdist

        return cdist(np.asarray(X, dtype=float), np.asarray(Y, dtype=float), "cityblock")
    if metric != "l2":
        raise ValueError(f"metric must be 'l1' or 'l2', not {metric!r}.")
    G = gram_matrix(X, Y) if gram is None else gram
    if same:
        nx = ny = np.diag(G).copy()
    else:
        nx = _row_sq_norms(X)
        ny = _row_sq_norms(Y)
    D2 = nx[:, None] + ny[None, :] - 2.0 * G
    np.maximum(D2, 0.0, out=D2)
    if same:
        np.fill_diagonal(D2, 0.0)
    return np.sqrt(D2)


def scale_rows(n: int, max_rows: int = SCALE_ROWS) -> np.ndarray:
    """Evenly spaced positions of at most ``max_rows`` of ``n`` rows (deterministic)."""
    step = max(1, int(np.ceil(n / max_rows)))
    return np.arange(0, n, step)


def median_distance(D: np.ndarray) -> float:
    """Median of the off-diagonal distances (i < j) of a square distance matrix; 1.0 if there are none."""
    n = D.shape[0]
    if n < 2:
        return 1.0
    iu = np.triu_indices(n, k=1)
    m = float(np.median(D[iu]))
    return m if m > 0 else 1.0


def kernel_from_distance(D: np.ndarray, kind: str, gamma: float, length_scale: float = 1.0) -> np.ndarray:
    """Laplacian ``exp(-gamma D/l)`` or Gaussian ``exp(-gamma (D/l)^2)`` kernel of distances ``D``.

    ``l`` is ``length_scale`` (the unit of the distances). Arguments of the exponential below
    ``log(KERNEL_FLOOR)`` give exactly 0 (no subnormal numbers). Same shape as ``D``.
    """
    if kind == "laplacian":
        arg = D * (-gamma / length_scale)
    elif kind == "rbf":
        arg = np.square(D) * (-gamma / length_scale**2)
    else:
        raise ValueError(f"unknown distance kernel {kind!r}: use 'laplacian' or 'rbf'.")
    small = arg < np.log(KERNEL_FLOOR)
    np.exp(arg, out=arg)
    arg[small] = 0.0
    return arg


class DistanceScaler(TransformerMixin, BaseEstimator):
    """Divide features by the median pairwise (L1 or L2) distance of the training rows.

    The median is taken over :func:`scale_rows` (at most 500 evenly spaced training rows), the
    rule the benchmark's fold models use, so both give identical models. Makes a kernel width
    ``gamma`` dimensionless. Dense or sparse (CSR) input.

    Parameters
    ----------
    metric : ``'l2'`` (Gaussian and linear kernels) or ``'l1'`` (Laplacian kernel).

    Attributes
    ----------
    length_scale_ : float
        The median distance (units of the features) the features are divided by.
    n_features_in_ : int
        Number of features seen in ``fit``.
    """

    def __init__(self, metric: str = "l2"):
        self.metric = metric

    def fit(self, X, y=None):
        """Learn the length scale from the rows of ``X`` (n, d). Returns ``self``."""
        if self.metric not in ("l1", "l2"):
            raise ValueError(f"metric must be 'l1' or 'l2', not {self.metric!r}.")
        X = validate_data(self, X, accept_sparse="csr", accept_large_sparse=False, dtype=float, reset=True)
        rows = scale_rows(X.shape[0])
        self.length_scale_ = median_distance(distance_matrix(X[rows], metric=self.metric))
        return self

    def transform(self, X):
        """``X / length_scale_``, same shape and sparsity as ``X``."""
        check_is_fitted(self, "length_scale_")
        X = validate_data(self, X, accept_sparse="csr", accept_large_sparse=False, dtype=float, reset=False)
        return X * (1.0 / self.length_scale_) if sp.issparse(X) else X / self.length_scale_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
