"""Kernel ridge regression that shares work across a hyperparameter grid, and our pair kernel.

Kernel ridge regression (KRR) fits dual coefficients ``c = (K + alpha I)^{-1} y`` and predicts
``y(x) = sum_i c_i k(x, x_i)``; no intercept, exactly like ``sklearn.kernel_ridge.KernelRidge``.

What is shared (see :class:`GridKRR`)
------------------------------------
* The descriptor is computed once per model, and the N x N distance (or Gram) matrix of *all*
  pairs once; every fold and every kernel width slices it.
* Kernel widths are in units of the median pairwise distance of the *training* rows (at
  most 500 of them, evenly spaced; :class:`DistanceScaler` does the same inside a
  scikit-learn ``Pipeline``), so a grid of ``gamma`` means the same thing on any descriptor.
* Hyperparameters are chosen inside each training fold by an **exact closed-form** inner
  cross-validation, never by refitting: with ``H = (K + alpha I)^{-1}`` and ``c = H y``,

  - leave-one-out residual  ``y_i - y_{-i}(x_i) = c_i / H_ii``;
  - leave-one-group-out residuals of a group ``g``  ``e_g = (H_gg)^{-1} c_g``.

  ``H`` comes from one Cholesky factor ``L`` and its triangular inverse (``H = L^-T L^-1``;
  ``H_ii`` are column norms of ``L^-1``) per (width, alpha) -- or, when the grid has many
  alphas, from one eigendecomposition per width (``H = Q diag(1/(lambda+alpha)) Q^T`` for all
  alphas at once); for a linear kernel of a descriptor with fewer features than rows, from one
  thin SVD of the feature matrix. The model of the chosen cell needs no refit: its ``c`` is
  already there.
* Rows with identical inputs share one factorisation row: a symmetry-adapted descriptor maps
  the twins (A, B) and (B, A) onto one point, and KRR on duplicated inputs is exactly a
  weighted KRR on the distinct ones (:func:`krr_path`, ``inverse=``). A training fold of
  1382 JuKKR pairs has about 900 distinct inputs (study protocol) or 780 (grouped): the
  factorisations shrink 3-6 fold in cost, with the same predictions and CV residuals.

The leave-one-group-out formula is what keeps the grouped protocol honest inside the training
fold too: (A, B) and (B, A) are always left out together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.linalg.lapack import dtrtri
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

KERNELS = ("linear", "rbf", "laplacian")
#: metric each kernel needs: L1 for the Laplacian kernel, L2 for the others.
KERNEL_METRIC = {"linear": "l2", "rbf": "l2", "laplacian": "l1"}


# --------------------------------------------------------------------------------------------
# distances and scale
# --------------------------------------------------------------------------------------------
def gram_matrix(X, Y=None) -> np.ndarray:
    """Dense ``X Y^T`` for dense or sparse ``X``, ``Y``."""
    Y = X if Y is None else Y
    G = X @ Y.T
    return G.toarray() if sp.issparse(G) else np.asarray(G)


def distance_matrix(X, Y=None, metric: str = "l2", gram: np.ndarray | None = None) -> np.ndarray:
    """Pairwise L1 or L2 distances between the rows of ``X`` and ``Y`` (dense or sparse)."""
    same = Y is None
    Y = X if Y is None else Y
    if metric == "l1":
        from sklearn.metrics.pairwise import manhattan_distances
        if sp.issparse(X) or sp.issparse(Y):
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


def _row_sq_norms(X) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    X = np.asarray(X, dtype=float)
    return np.einsum("ij,ij->i", X, X)


#: The kernel-width unit is the median distance among at most this many training rows.
SCALE_ROWS = 500


def scale_rows(n: int, max_rows: int = SCALE_ROWS) -> np.ndarray:
    """Evenly spaced positions of at most ``max_rows`` of ``n`` rows (deterministic)."""
    step = max(1, int(np.ceil(n / max_rows)))
    return np.arange(0, n, step)


def median_distance(D: np.ndarray) -> float:
    """Median of the off-diagonal pairwise distances (i < j) of a square distance matrix."""
    n = D.shape[0]
    if n < 2:
        return 1.0
    iu = np.triu_indices(n, k=1)
    m = float(np.median(D[iu]))
    return m if m > 0 else 1.0


class DistanceScaler(TransformerMixin, BaseEstimator):
    """Divide features by the median pairwise (L1 or L2) distance of the training rows.

    The median is taken over :func:`scale_rows` (at most 500 evenly spaced training rows), the
    same rule :class:`GridKRR` uses, so both give identical models.

    Makes a kernel width ``gamma`` dimensionless: ``exp(-gamma d/median)`` means the same on a
    Coulomb matrix (entries ~1e4) and on SOAP (entries ~1). Works on dense and sparse input.
    """

    def __init__(self, metric: str = "l2"):
        self.metric = metric

    def fit(self, X, y=None):
        rows = scale_rows(X.shape[0])
        Xs = X[rows] if sp.issparse(X) else np.asarray(X, dtype=float)[rows]
        self.scale_ = median_distance(distance_matrix(Xs, metric=self.metric))
        return self

    def transform(self, X):
        return X * (1.0 / self.scale_) if sp.issparse(X) else np.asarray(X, dtype=float) / self.scale_


#: Kernel values below this are set to 0: exp(-large) gives subnormal floats, on which
#: x86 arithmetic is ~100x slower (a Cholesky of such a matrix took 0.7 s instead of 0.03 s).
KERNEL_FLOOR = 1e-100


def kernel_from_distance(D: np.ndarray, kind: str, gamma: float, scale: float = 1.0) -> np.ndarray:
    """Laplacian ``exp(-gamma D/scale)`` or Gaussian ``exp(-gamma (D/scale)^2)`` kernel.

    Arguments of the exponential below ``log(KERNEL_FLOOR)`` give exactly 0 (no subnormals).
    """
    if kind == "laplacian":
        arg = D * (-gamma / scale)
    elif kind == "rbf":
        arg = np.square(D) * (-gamma / scale**2)
    else:
        raise ValueError(f"unknown distance kernel {kind!r}: use 'laplacian' or 'rbf'.")
    small = arg < np.log(KERNEL_FLOOR)
    np.exp(arg, out=arg)
    arg[small] = 0.0
    return arg


# --------------------------------------------------------------------------------------------
# closed-form cross-validation
# --------------------------------------------------------------------------------------------
def group_blocks(groups) -> list[np.ndarray] | None:
    """Row positions of each group (None: every row its own group, i.e. leave-one-out)."""
    if groups is None:
        return None
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
    """KRR along a grid of ``alphas`` for one kernel: dual coefficients and CV residuals."""

    alphas: np.ndarray
    coef: np.ndarray  # (n_alpha, m) dual coefficients of the distinct inputs (sum over duplicates)
    residuals: np.ndarray  # (n_alpha, n) exact leave-one-(group-)out residuals y - y_cv

    def scores(self, metric: str = "mae") -> np.ndarray:
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
    e = np.empty_like(c)
    for R in blocks:
        u = inv[R]
        U, pos = np.unique(u, return_inverse=True)
        PR = np.zeros((len(R), len(U)))
        PR[np.arange(len(R)), pos] = 1.0
        nU = counts[U]
        H = (np.eye(len(R)) - PR @ (PR / nU).T) / alpha
        Bn = f.block(U) / np.sqrt(np.outer(nU, nU))
        H += PR @ Bn @ PR.T
        e[R] = np.linalg.solve(H, c[R])
    return beta, e


def krr_path(K: np.ndarray, y: np.ndarray, alphas, groups=None, solver: str = "auto", inverse=None) -> PathResult:
    """Fit KRR for every alpha and return exact leave-one-out (or leave-one-group-out) residuals.

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
    coef = np.empty((len(alphas), m))
    res = np.empty((len(alphas), len(y)))
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
    return PathResult(alphas, coef, res)


def _spectral_path(Q, lam, y, alphas, blocks) -> PathResult:
    """KRR path for ``K = Q diag(lam) Q^T`` with a thin ``Q`` (the rest of the spectrum is zero)."""
    n = len(y)
    Qy = Q.T @ y
    Q2 = Q * Q
    coef = np.empty((len(alphas), n))
    res = np.empty((len(alphas), n))
    for a, alpha in enumerate(alphas):
        w = 1.0 / (lam + alpha) - 1.0 / alpha
        c = Q @ (w * Qy) + y / alpha
        if blocks is None:
            res[a] = c / (Q2 @ w + 1.0 / alpha)
        else:
            for S in blocks:
                H = (Q[S] * w) @ Q[S].T + np.eye(len(S)) / alpha
                res[a, S] = np.linalg.solve(H, c[S])
        coef[a] = c
    return PathResult(np.asarray(alphas, float), coef, res)


def linear_krr_path(X: np.ndarray, y: np.ndarray, alphas, groups=None) -> PathResult:
    """:func:`krr_path` for the linear kernel ``K = X X^T`` from one thin SVD of ``X`` (n > d)."""
    U, s, _ = np.linalg.svd(np.asarray(X, dtype=float), full_matrices=False)
    keep = s > s[0] * 1e-12 if len(s) else s > 0
    return _spectral_path(U[:, keep], s[keep] ** 2, np.asarray(y, float), np.atleast_1d(alphas).astype(float),
                          group_blocks(groups))


# --------------------------------------------------------------------------------------------
# grid search over (gamma, alpha) on a precomputed matrix
# --------------------------------------------------------------------------------------------
@dataclass
class FoldFit:
    """The model chosen inside one training fold."""

    params: dict
    cv_mae: float  # inner closed-form CV MAE of the chosen cell
    train_idx: np.ndarray
    coef: np.ndarray  # dual coefficients (or primal weights for a thin linear model)
    scale: float
    grid_scores: np.ndarray = field(repr=False)  # (n_gamma, n_alpha) inner CV MAE
    primal: bool = False
    model: object = None  # the fitted estimator, when there is one (SymmetricPairKRR)


class GridKRR:
    """Kernel ridge regression with a (gamma x alpha) grid chosen inside each training fold.

    ``prepare(X)`` computes the N x N distance (or Gram) matrix of all rows once;
    ``fit_fold(train_idx, y_train, groups_train)`` scales it by the training rows' median
    distance, builds each width's kernel by slicing, and selects (gamma, alpha) by the exact
    leave-one-out (``groups_train=None``) or leave-one-group-out residuals of
    :func:`krr_path`; ``predict_fold(fit, test_idx)`` slices the test-train block.
    """

    def __init__(self, kernel: str, gammas=(1.0,), alphas=(1e-3, 1e-2, 1e-1), solver: str = "auto"):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}: use one of {KERNELS}.")
        self.kernel = kernel
        self.gammas = tuple(float(g) for g in (gammas if kernel != "linear" else (1.0,)))
        self.alphas = tuple(float(a) for a in alphas)
        self.solver = solver

    def prepare(self, X, shared: dict | None = None) -> "GridKRR":
        """Compute the N x N matrices of all rows of ``X`` once.

        ``shared``: a dict kept by the caller per descriptor, so that models on the same
        features (SOAP with a linear and a Gaussian kernel) compute the Gram and distance
        matrices once.
        """
        shared = {} if shared is None else shared

        def get(name, fn):
            if name not in shared:
                shared[name] = fn()
            return shared[name]

        self.n_ = X.shape[0]
        self.thin_ = self.kernel == "linear" and not sp.issparse(X) and X.shape[1] < X.shape[0] // 2
        self.G_ = None
        if self.thin_:
            self.X_ = np.asarray(X, dtype=float)
            self.D_ = get("D_l2", lambda: distance_matrix(self.X_, metric="l2"))
        elif KERNEL_METRIC[self.kernel] == "l2":
            G = get("gram", lambda: gram_matrix(X))
            self.D_ = get("D_l2", lambda: distance_matrix(X, metric="l2", gram=G))
            self.G_ = G if self.kernel == "linear" else None
        else:
            self.D_ = get("D_l1", lambda: distance_matrix(X, metric="l1"))
        # rows with identical inputs (twins): one representative each
        self.dup_ = duplicate_index(self.D_) if not self.thin_ else np.arange(self.n_)
        return self

    def _kernel(self, rows, cols, gamma, scale):
        if self.kernel == "linear":
            if self.thin_:
                return (self.X_[rows] @ self.X_[cols].T) / scale**2
            return self.G_[np.ix_(rows, cols)] / scale**2
        return kernel_from_distance(self.D_[np.ix_(rows, cols)], self.kernel, gamma, scale)

    def fit_fold(self, train_idx, y_train, groups_train=None) -> FoldFit:
        tr = np.asarray(train_idx)
        sub = tr[scale_rows(len(tr))]
        scale = median_distance(self.D_[np.ix_(sub, sub)])
        scores = np.empty((len(self.gammas), len(self.alphas)))
        best = None
        # distinct inputs of the fold (a training row represents each), and every row's input
        _, first, inverse = np.unique(self.dup_[tr], return_index=True, return_inverse=True)
        reps = tr[first]
        for g, gamma in enumerate(self.gammas):
            if self.kernel == "linear" and self.thin_:
                path = linear_krr_path(self.X_[tr] / scale, y_train, self.alphas, groups_train)
            else:
                path = krr_path(self._kernel(reps, reps, gamma, scale), y_train, self.alphas, groups_train,
                                self.solver, inverse=inverse)
            scores[g] = path.scores("mae")
            a = int(np.argmin(scores[g]))
            if best is None or scores[g, a] < best[0]:
                best = (scores[g, a], gamma, self.alphas[a], path.coef[a])
        mae, gamma, alpha, coef = best
        params = {"alpha": alpha} if self.kernel == "linear" else {"gamma": gamma, "alpha": alpha}
        primal = False
        if self.kernel == "linear" and self.thin_:
            coef = (self.X_[tr] / scale).T @ coef  # primal weights: predictions are X w / scale
            primal = True
        return FoldFit(params, float(mae), tr if primal else reps, coef, scale, scores, primal)

    def predict_fold(self, fit: FoldFit, test_idx) -> np.ndarray:
        te = np.asarray(test_idx)
        if fit.primal:
            return (self.X_[te] / fit.scale) @ fit.coef
        return self._kernel(te, fit.train_idx, fit.params.get("gamma", 1.0), fit.scale) @ fit.coef


# --------------------------------------------------------------------------------------------
# our model: a kernel on (element_i, element_j, geometry), symmetric in the two impurities
# --------------------------------------------------------------------------------------------
def _pair_table_columns(X):
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"SymmetricPairKRR takes a pair table (pandas DataFrame), not {type(X).__name__}.")
    for c in ("element_i", "element_j"):
        if c not in X.columns:
            raise ValueError(f"pair table lacks column {c!r}.")
    if {"sublattice_j", "distance"} <= set(X.columns):
        sub = X["sublattice_j"].astype(str).to_numpy()
        dist = X["distance"].to_numpy(float)
    elif {"rx", "ry", "rz"} <= set(X.columns):
        from .structures import locate_bi_site

        sites = [locate_bi_site(v) for v in X[["rx", "ry", "rz"]].to_numpy(float)]
        sub = np.array([s.sublattice for s in sites])
        dist = np.array([s.distance for s in sites])
    else:
        raise ValueError("pair table needs 'sublattice_j' and 'distance', or the pair vector 'rx', 'ry', 'rz'.")
    geo = np.char.add(np.char.add(sub.astype(str), "|"), np.char.mod("%.2f", dist))
    return X["element_i"].astype(str).to_numpy(), X["element_j"].astype(str).to_numpy(), geo, sub, dist


def _psd(k: np.ndarray) -> np.ndarray:
    """Nearest positive semi-definite matrix (eigenvalues clipped at 0) of a symmetric matrix."""
    w, v = np.linalg.eigh(0.5 * (k + k.T))
    return (v * np.maximum(w, 0.0)) @ v.T


class SymmetricPairKRR(RegressorMixin, BaseEstimator):
    """Kernel ridge regression on (element_i, element_j, geometry) with a pair-symmetric kernel.

    ``k((A,B,g), (A',B',g')) = s_A s_B s_A' s_B' k_geo(g,g') [k_el(A,A') k_el(B,B') + k_el(A,B') k_el(B,A')] / 2``

    * **Symmetric in the two impurities** by construction: the bracket is the product kernel
      projected onto functions symmetric under A <-> B, so (A, B) and (B, A) at one geometry
      always get the same prediction (and the kernel stays positive semi-definite).
    * **Element similarity** ``k_el = k_table * k_learned``:

      - ``k_table(A,A') = exp(-(dgroup)^2/2 l_g^2 - (dm)^2/2 l_m^2) * (1 if same row else rho)``
        from the periodic table (group = valence electrons, 3d/4d row) and a moment ``m`` per
        element learned from the training rows (median |moment| of the element in the training
        pairs -- the moments are outputs of the same DFT calculations, so a test row's moments
        are never read);
      - ``k_learned(A,A') = exp(-d_AA'^2 / 2 l_p^2)`` where ``d_AA'^2`` is the mean squared
        difference of the two elements' *exchange profiles* -- J(A, B, g) and J(A', B, g) over
        every partner B and geometry g present in the training rows for both (collaborative
        filtering: elements that couple alike to the same partners are alike). Clipped to the
        nearest positive semi-definite matrix. ``profile_length=None`` switches it off.
    * ``s_A = m_A / (m_A + moment_offset)``: an element without a moment cannot couple, so the
      prediction vanishes for non-magnetic impurities (Sc, Cu, Zn, Y, Zr, Pd, Ag, Cd ...).
    * ``k_geo(g, g') = (1 - eps) [g = g'] + eps exp(-|d - d'|/l_d) [same sublattice]`` over the
      pair geometries (sublattice of j, distance); ``eps = 0`` (default) learns each geometry
      separately.

    ``fit(X, y)`` needs ``element_i, element_j, moment_i, moment_j`` and the geometry
    (``sublattice_j`` and ``distance``, or ``rx, ry, rz``); ``predict`` reads no moments and no J.
    """

    def __init__(self, alpha: float = 1e-2, profile_length: float | None = 8.0, length_group: float = 2.0,
                 length_moment: float = 2.0, row_similarity: float = 0.8, moment_offset: float = 0.1,
                 geometry_mixing: float = 0.0, geometry_length: float = 3.0):
        self.alpha = alpha
        self.profile_length = profile_length
        self.length_group = length_group
        self.length_moment = length_moment
        self.row_similarity = row_similarity
        self.moment_offset = moment_offset
        self.geometry_mixing = geometry_mixing
        self.geometry_length = geometry_length

    # -- what is learned from the training rows -------------------------------------------
    @staticmethod
    def learn_moments(X) -> dict[str, float]:
        """Median |moment| of each element over the rows of ``X`` (both impurity slots)."""
        for c in ("moment_i", "moment_j"):
            if c not in X.columns:
                raise ValueError(f"fitting SymmetricPairKRR needs column {c!r} (training rows only).")
        el = np.concatenate([X["element_i"].astype(str).to_numpy(), X["element_j"].astype(str).to_numpy()])
        mom = np.abs(np.concatenate([X["moment_i"].to_numpy(float), X["moment_j"].to_numpy(float)]))
        return {str(e): float(np.median(mom[el == e])) for e in np.unique(el)}

    @staticmethod
    def profile_distances(X, y) -> np.ndarray:
        """Mean squared difference (meV^2) of the exchange profiles of every two elements (20 x 20).

        Profile of A: J averaged over the training rows of {A, B} at geometry g, for every
        partner B and geometry g. Element pairs without a common entry get the largest distance.
        """
        from .elements import IMPURITY_ELEMENTS

        idx = {e: i for i, e in enumerate(IMPURITY_ELEMENTS)}
        ne = len(IMPURITY_ELEMENTS)
        ei, ej, geo, _, _ = _pair_table_columns(X)
        ug, g = np.unique(geo, return_inverse=True)
        a = np.array([idx[e] for e in ei])
        b = np.array([idx[e] for e in ej])
        y = np.asarray(y, dtype=float)
        S = np.zeros((ne, len(ug), ne))
        C = np.zeros((ne, len(ug), ne))
        np.add.at(S, (a, g, b), y)
        np.add.at(C, (a, g, b), 1.0)
        np.add.at(S, (b, g, a), y)
        np.add.at(C, (b, g, a), 1.0)
        seen = (C > 0).reshape(ne, -1).astype(float)
        P = (S / np.maximum(C, 1.0)).reshape(ne, -1) * seen
        common = seen @ seen.T
        # sum over common entries of (P_a - P_b)^2 = sum P_a^2 m_b + P_b^2 m_a - 2 P_a P_b
        sq = (P**2) @ seen.T
        d2 = (sq + sq.T - 2.0 * P @ P.T) / np.maximum(common, 1.0)
        d2 = np.maximum(d2, 0.0)
        if (common == 0).any():
            d2[common == 0] = d2[common > 0].max() if (common > 0).any() else 1.0
        np.fill_diagonal(d2, 0.0)
        return d2

    def _element_tables(self, moments: dict[str, float], d2: np.ndarray | None):
        from .elements import IMPURITY_ELEMENTS, group, row

        els = list(IMPURITY_ELEMENTS)
        fallback = float(np.median(list(moments.values()))) if moments else 0.0
        m = np.array([moments.get(e, fallback) for e in els])
        grp = np.array([group(e) for e in els], float)
        rw = np.array([row(e) for e in els])
        k = np.exp(-((grp[:, None] - grp[None, :]) ** 2) / (2 * self.length_group**2)
                   - ((m[:, None] - m[None, :]) ** 2) / (2 * self.length_moment**2))
        k = k * np.where(rw[:, None] == rw[None, :], 1.0, self.row_similarity)
        if self.profile_length and d2 is not None:
            k = k * _psd(np.exp(-d2 / (2 * self.profile_length**2)))
        s = m / (m + self.moment_offset) if self.moment_offset > 0 else np.ones_like(m)
        return {e: i for i, e in enumerate(els)}, k, s, m

    def _encode(self, X):
        ei, ej, geo, sub, dist = _pair_table_columns(X)
        idx = self.element_index_
        try:
            a = np.array([idx[e] for e in ei])
            b = np.array([idx[e] for e in ej])
        except KeyError as err:
            raise ValueError(f"unknown impurity element {err.args[0]!r}.") from None
        return a, b, geo, sub, dist

    def _geometry_kernel(self, sub, d, same):
        if self.geometry_mixing <= 0:
            return same
        near = np.exp(-np.abs(d[:, None] - d[None, :]) / self.geometry_length) * (sub[:, None] == sub[None, :])
        return (1 - self.geometry_mixing) * same + self.geometry_mixing * near

    def _kernel(self, enc1, enc2):
        a1, b1, g1, s1, d1 = enc1
        a2, b2, g2, s2, d2 = enc2
        k = self.element_kernel_
        # geometry kernel on the few distinct geometries, then looked up
        allg = np.concatenate([g1, g2])
        ug, first, inv = np.unique(allg, return_index=True, return_inverse=True)
        sub = np.concatenate([s1, s2])[first].astype(str)
        dist = np.concatenate([d1, d2])[first]
        kg = self._geometry_kernel(sub, dist, np.eye(len(ug)))
        i1, i2 = inv[: len(g1)], inv[len(g1):]
        out = k[a1][:, a2] * k[b1][:, b2]
        out += k[a1][:, b2] * k[b1][:, a2]
        out *= 0.5
        out *= kg[np.ix_(i1, i2)]
        out *= (self.scale_[a1] * self.scale_[b1])[:, None]
        out *= (self.scale_[a2] * self.scale_[b2])[None, :]
        return out

    def _prepare(self, X, y):
        """Learn moments and profiles from the training rows; return their encoding."""
        _pair_table_columns(X)  # a clear error for anything but a pair table
        self.moments_ = self.learn_moments(X)
        self.profile_d2_ = self.profile_distances(X, y) if self.profile_length else None
        (self.element_index_, self.element_kernel_, self.scale_,
         self.element_moment_array_) = self._element_tables(self.moments_, self.profile_d2_)
        return self._encode(X)

    # -- estimator ------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit on a training pair table ``X`` (with moments) and J values ``y`` (meV)."""
        y = np.asarray(y, dtype=float)
        enc = self._prepare(X, y)
        K = self._kernel(enc, enc)
        K.flat[:: len(y) + 1] += self.alpha
        self.dual_coef_ = sla.cho_solve(sla.cho_factor(K, lower=True, check_finite=False), y, check_finite=False)
        self.train_encoding_ = enc
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted J (meV) of the pairs of ``X`` (only elements and geometry are read)."""
        enc = self._encode(X)
        return self._kernel(enc, self.train_encoding_) @ self.dual_coef_

    def kernel(self, X, Y=None) -> np.ndarray:
        """The fitted kernel between pair tables ``X`` and ``Y`` (default ``X``)."""
        ex = self._encode(X)
        return self._kernel(ex, ex if Y is None else self._encode(Y))

    @property
    def element_similarity(self):
        """The fitted element kernel ``k_el`` as a 20 x 20 DataFrame."""
        import pandas as pd

        names = list(self.element_index_)
        return pd.DataFrame(self.element_kernel_, index=names, columns=names)


class GridSymmetricPairKRR:
    """Fast in-fold grid search for :class:`SymmetricPairKRR` (same interface as :class:`GridKRR`).

    ``param_grid`` maps parameter names of :class:`SymmetricPairKRR` to values (default: the
    profile length in meV); for every combination the kernel of the training fold is built once
    (moments and profiles learned from that fold's rows) and all ``alphas`` are scored by the
    exact closed-form leave-one-out or leave-one-group-out residuals.
    """

    def __init__(self, param_grid=None, alphas=(1e-3, 1e-2, 1e-1), solver: str = "auto", **fixed):
        self.param_grid = dict(param_grid or {"profile_length": (4.0, 8.0, 16.0)})
        self.alphas = tuple(float(a) for a in alphas)
        self.solver = solver
        self.fixed = fixed

    def prepare(self, frame) -> "GridSymmetricPairKRR":
        self.frame_ = frame.reset_index(drop=True)
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None) -> FoldFit:
        import itertools

        tr = np.asarray(train_idx)
        y_train = np.asarray(y_train, dtype=float)
        Xtr = self.frame_.iloc[tr]
        names = list(self.param_grid)
        combos = list(itertools.product(*(self.param_grid[k] for k in names)))
        scores = np.empty((len(combos), len(self.alphas)))
        best = None
        for c, values in enumerate(combos):
            model = SymmetricPairKRR(**{**self.fixed, **dict(zip(names, values))})
            enc = model._prepare(Xtr, y_train)
            # (A, B, g) and (B, A, g) have identical kernel rows: fit on the distinct ones
            a_, b_, geo = enc[0], enc[1], enc[2]
            key = np.char.add(np.char.add(np.char.mod("%d|", np.minimum(a_, b_) * 100 + np.maximum(a_, b_)), "|"), geo)
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            enc_u = tuple(np.asarray(x)[first] for x in enc)
            path = krr_path(model._kernel(enc_u, enc_u), y_train, self.alphas, groups_train, self.solver,
                            inverse=inverse)
            scores[c] = path.scores("mae")
            a = int(np.argmin(scores[c]))
            if best is None or scores[c, a] < best[0]:
                model.alpha = self.alphas[a]
                model.dual_coef_ = path.coef[a]
                model.train_encoding_ = enc_u
                best = (scores[c, a], model, values)
        mae, model, values = best
        return FoldFit({**dict(zip(names, values)), "alpha": model.alpha}, float(mae), tr, model.dual_coef_, 1.0,
                       scores, model=model)

    def predict_fold(self, fit: FoldFit, test_idx) -> np.ndarray:
        test = self.frame_.iloc[np.asarray(test_idx)]
        # the model must not read the test rows' moments or J: drop them
        return fit.model.predict(test.drop(columns=[c for c in ("moment_i", "moment_j", "J") if c in test.columns]))
