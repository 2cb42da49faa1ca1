"""Kernel ridge regression along a grid of ridge parameters, with exact closed-form cross-validation.

Kernel ridge regression (KRR) fits dual coefficients ``c = (K + alpha I)^{-1} y`` and predicts
``y(x) = sum_i c_i k(x, x_i)``; no intercept, exactly like ``sklearn.kernel_ridge.KernelRidge``.
Hyperparameters are chosen by an **exact closed-form** cross-validation, never by refitting:
with ``H = (K + alpha I)^{-1}`` and ``c = H y``,

- leave-one-out residual  ``y_i - y_{-i}(x_i) = c_i / H_ii``;
- leave-one-group-out residuals of a group ``g``  ``e_g = (H_gg)^{-1} c_g``.

``H`` comes from one Cholesky factor ``L`` and its triangular inverse (``H = L^-T L^-1``; ``H_ii``
are column norms of ``L^-1``) per (width, alpha) -- or, when the grid has many alphas, from one
eigendecomposition per width (``H = Q diag(1/(lambda+alpha)) Q^T`` for all alphas at once); for a
linear kernel of a descriptor with fewer features than rows, from one thin SVD of the feature
matrix. The model of the chosen cell needs no refit: its ``c`` is already there.

Rows with identical inputs share one factorisation row: a symmetry-adapted descriptor maps the
twins (A, B) and (B, A) onto one point, and KRR on duplicated inputs is exactly a weighted KRR on
the distinct ones (:func:`krr_path`, ``inverse=``). A training fold of 1382 JuKKR pairs has about
900 distinct inputs (random split) or 780 (grouped): the factorisations shrink 3-6 fold in cost,
with the same predictions and CV residuals.

The leave-one-group-out formula is what keeps a grouped protocol honest inside the training
fold too: (A, B) and (B, A) are always left out together. The same formula holds for blocks that
*overlap* (:class:`~jijtutorial.protocols.InnerBlocks`): leaving out one element leaves out every pair holding it, so the
pair (A, B) belongs to A's block and to B's; each block is left out once and its residuals are
pooled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.linalg.lapack import dtrtri

from ..protocols import InnerBlocks


def group_blocks(groups) -> list[np.ndarray] | None:
    """Row positions of each group (None: every row its own group, i.e. leave-one-out).

    ``groups`` is ``None``, one label per row (disjoint groups), or :class:`InnerBlocks` (returned
    as they are; they may overlap).
    """
    if groups is None:
        return None
    if isinstance(groups, InnerBlocks):
        return groups
    groups = np.asarray(groups)
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    return np.split(order, cuts)


def duplicate_index(D: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """For every row, the first row with the same input (distance <= rtol * max distance).

    Twins (A, B)/(B, A) have identical symmetry-adapted descriptors: KRR then needs only the
    distinct inputs (see :func:`krr_path`).
    """
    tol = rtol * float(np.max(D)) if D.size else 0.0
    return np.argmax(D <= tol, axis=1)


@dataclass
class PathResult:
    """KRR along a grid of ``alphas`` for one kernel: dual coefficients and CV residuals.

    Attributes
    ----------
    alphas : ndarray (n_alpha,)
        The ridge parameters (units of the kernel).
    coef : ndarray (n_alpha, m)
        Dual coefficients of the m distinct inputs (summed over rows sharing an input).
    residuals : ndarray (n_alpha, n) or (n_alpha, n_scored)
        Exact leave-one-out (or leave-one-group-out) residuals ``y - y_cv`` of the n rows (units of
        y), in row order; for :class:`InnerBlocks` the residuals of every block, concatenated in
        block order (a row in two blocks appears twice).
    rows : ndarray (n_scored,)
        The row of each residual (``arange(n)`` unless the groups are :class:`InnerBlocks`).
    """

    alphas: np.ndarray
    coef: np.ndarray
    residuals: np.ndarray
    rows: np.ndarray | None = None

    def scores(self, metric: str = "mae") -> np.ndarray:
        """Cross-validation score per alpha, shape (n_alpha,): ``'mae'`` or ``'mse'``."""
        r = self.residuals
        return np.mean(np.abs(r), axis=1) if metric == "mae" else np.mean(r**2, axis=1)


class _Factor:
    """``A^{-1}`` of ``A = S + alpha I`` through a Cholesky factor or an eigendecomposition of ``S``."""

    def __init__(self, Li=None, Q=None, w=None):
        self.Li, self.Q, self.w = Li, Q, w

    def apply(self, v):
        if self.Li is not None:
            return self.Li.T @ (self.Li @ v)
        return self.Q @ (self.w * (self.Q.T @ v))

    def diag(self):
        if self.Li is not None:
            return np.einsum("ij,ij->j", self.Li, self.Li)
        return (self.Q * self.Q) @ self.w

    def block(self, U):
        if self.Li is not None:
            B = self.Li[:, U]
            return B.T @ B
        return (self.Q[U] * self.w) @ self.Q[U].T


def _path_terms(f: _Factor, alpha, y, inv, counts, blocks):
    """Dual coefficients and exact CV residuals from ``A^{-1}``, ``A = N^1/2 K_u N^1/2 + alpha I``.

    With ``P`` the n x m map from rows to distinct inputs and ``N = P^T P`` (multiplicities),
    ``H = (P K_u P^T + alpha I)^{-1} = (I - P N^-1 P^T)/alpha + P N^-1/2 A^-1 N^-1/2 P^T``, so

    * ``c_i = (y_i - ybar_u)/alpha + N_u^-1/2 (A^-1 q)_u`` with ``q = N^-1/2 P^T y``,
    * ``H_ii = (N_u - 1)/(N_u alpha) + (A^-1)_uu / N_u``,
    * coefficients of the distinct inputs ``beta = P^T c = N^1/2 A^-1 q``,

    all free of cancellation. Without duplicates (N = 1) these are ``c = A^-1 y`` and ``H = A^-1``.
    """
    m = len(counts)
    sums = np.bincount(inv, weights=y, minlength=m)
    sq = np.sqrt(counts)
    q = sums / sq
    Aq = f.apply(q)
    beta = sq * Aq
    ybar = sums / counts
    c = (y - ybar[inv]) / alpha + (Aq / sq)[inv]
    if blocks is None:
        h = (counts[inv] - 1.0) / (counts[inv] * alpha) + (f.diag() / counts)[inv]
        return beta, c / h
    pooled = isinstance(blocks, InnerBlocks)
    e = [] if pooled else np.empty_like(c)
    for R in blocks:
        u = inv[R]
        U, pos = np.unique(u, return_inverse=True)
        pos = pos.reshape(-1)
        if pooled and np.array_equal(np.bincount(pos, minlength=len(U)), counts[U]):
            # the block holds every row of its inputs: solve on the inputs (|U| x |U|), not the rows,
            # e_r = (y_r - ybar_u) + [(A^-1)_UU^-1 (A^-1 q)_U]_u / sqrt(N_u)
            b = np.linalg.solve(f.block(U), Aq[U]) / sq[U]
            e.append(y[R] - ybar[u] + b[pos])
            continue
        PR = np.zeros((len(R), len(U)))
        PR[np.arange(len(R)), pos] = 1.0
        nU = counts[U]
        H = (np.eye(len(R)) - PR @ (PR / nU).T) / alpha
        Bn = f.block(U) / np.sqrt(np.outer(nU, nU))
        H += PR @ Bn @ PR.T
        if pooled:
            e.append(np.linalg.solve(H, c[R]))
        else:
            e[R] = np.linalg.solve(H, c[R])
    if pooled:
        e = np.concatenate(e) if e else np.zeros(0)
    return beta, e


def krr_path(K: np.ndarray, y: np.ndarray, alphas, groups=None, solver: str = "auto", inverse=None) -> PathResult:
    """Fit KRR for every alpha and return exact leave-one-out (or leave-one-group-out) residuals.

    ``groups``: ``None`` (leave-one-out), one label per row (leave-one-group-out), or
    :class:`InnerBlocks` (leave-one-block-out, blocks may overlap; residuals pooled).
    ``K`` is the kernel of the distinct inputs; ``inverse`` (length n) maps each of the n rows
    of ``y`` to its input (default: all distinct, ``K`` is n x n). Rows sharing an input --
    twins with identical descriptors -- cost nothing: the factorisation is of size m, not n.
    ``solver``: ``'cholesky'`` (one factorisation and triangular inverse per alpha),
    ``'eigh'`` (one eigendecomposition for all alphas) or ``'auto'`` (Cholesky for up to 8
    alphas -- faster on 2 cores for n ~ 1000 -- else eigh).
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    y = np.asarray(y, dtype=float)
    inv = np.arange(len(y)) if inverse is None else np.asarray(inverse)
    m = K.shape[0]
    counts = np.bincount(inv, minlength=m).astype(float)
    blocks = group_blocks(groups)
    if solver == "auto":
        solver = "cholesky" if len(alphas) <= 8 else "eigh"
    if solver not in ("cholesky", "eigh"):
        raise ValueError(f"solver must be 'auto', 'cholesky' or 'eigh', not {solver!r}.")
    sq = np.sqrt(counts)
    S = K * np.outer(sq, sq) if np.any(counts != 1) else K
    rows = _scored_rows(blocks, len(y))
    coef = np.empty((len(alphas), m))
    res = np.empty((len(alphas), len(rows)))
    eig = None
    for a, alpha in enumerate(alphas):
        f = None
        if solver == "cholesky":
            A = S.copy()
            A.flat[:: m + 1] += alpha
            try:
                L = sla.cholesky(A, lower=True, check_finite=False, overwrite_a=True)
                Li, info = dtrtri(L, lower=1)
                if info == 0:
                    f = _Factor(Li=Li)
            except np.linalg.LinAlgError:
                pass  # not numerically positive definite (a linear kernel with a tiny alpha): eigh
        if f is None:
            if eig is None:
                lam, Q = sla.eigh(S, check_finite=False, driver="evd")
                eig = (np.maximum(lam, 0.0), Q)
            f = _Factor(Q=eig[1], w=1.0 / (eig[0] + alpha))
        coef[a], res[a] = _path_terms(f, alpha, y, inv, counts, blocks)
    return PathResult(alphas, coef, res, rows)


def _scored_rows(blocks, n: int) -> np.ndarray:
    """The row of each CV residual: every row once, or every block's rows concatenated (InnerBlocks)."""
    if isinstance(blocks, InnerBlocks):
        return np.concatenate(blocks).astype(int) if len(blocks) else np.zeros(0, int)
    return np.arange(n)


def _spectral_path(Q, lam, y, alphas, blocks) -> PathResult:
    """KRR path for ``K = Q diag(lam) Q^T`` with a thin ``Q`` (the rest of the spectrum is zero)."""
    n = len(y)
    Qy = Q.T @ y
    Q2 = Q * Q
    rows = _scored_rows(blocks, n)
    pooled = isinstance(blocks, InnerBlocks)
    coef = np.empty((len(alphas), n))
    res = np.empty((len(alphas), len(rows)))
    for a, alpha in enumerate(alphas):
        w = 1.0 / (lam + alpha) - 1.0 / alpha
        c = Q @ (w * Qy) + y / alpha
        if blocks is None:
            res[a] = c / (Q2 @ w + 1.0 / alpha)
        else:
            k = 0
            for S in blocks:
                H = (Q[S] * w) @ Q[S].T + np.eye(len(S)) / alpha
                if pooled:
                    res[a, k : k + len(S)] = np.linalg.solve(H, c[S])
                    k += len(S)
                else:
                    res[a, S] = np.linalg.solve(H, c[S])
        coef[a] = c
    return PathResult(np.asarray(alphas, float), coef, res, rows)


def linear_krr_path(X: np.ndarray, y: np.ndarray, alphas, groups=None) -> PathResult:
    """:func:`krr_path` for the linear kernel ``K = X X^T`` from one thin SVD of ``X`` (n > d)."""
    U, s, _ = np.linalg.svd(np.asarray(X, dtype=float), full_matrices=False)
    keep = s > s[0] * 1e-12 if len(s) else s > 0
    return _spectral_path(
        U[:, keep], s[keep] ** 2, np.asarray(y, float), np.atleast_1d(alphas).astype(float), group_blocks(groups)
    )


# --------------------------------------------------------------------------------------------
# Gaussian-process regression on distinct inputs, with closed-form leave-block-out
# --------------------------------------------------------------------------------------------
