"""The fold interface every benchmark model implements, and its three implementations.

A *fold model* is prepared once on the whole pair table and then fitted and scored on many
cross-validation folds, each given as row positions:

``prepare(frame)``
    Everything that does not depend on the split: featurisation, the N x N distance (or Gram)
    matrix of all rows. Returns ``self``.
``fit_fold(train_idx, y_train, groups_train=None)``
    Choose the hyperparameters inside the training rows by exact closed-form cross-validation and
    return a :class:`FoldFit`. ``groups_train`` says what the inner selection leaves out together
    (:func:`jijtutorial.benchmark.inner_selection`): ``None`` (single rows), one group label per
    training row (disjoint groups: element pairs), or :class:`~jijtutorial.kernels.InnerBlocks`
    (blocks of training positions that may overlap -- every pair holding one element -- with
    ``kind`` and ``labels``).
``predict_fold(fit, test_idx)``
    Predictions (meV) for the test rows; a model never reads what the test rows' calculation gave
    (the columns its target hides, :attr:`jijtutorial.targets.Target.hidden`: J, D, the moments). Models
    with error bars (``predicts_std = True``) also take ``return_std=True`` and return
    ``(mean, std)``; their fit's ``interval95`` turns σ into a ~95 % half-width.

:class:`KernelRidgeFolds` (a descriptor with a linear, Gaussian or Laplacian kernel),
:class:`PairKernelFolds` (SymPair-KRR), :class:`PairGPFolds` (PairGP) and :class:`MeanFolds` (the
baseline) implement it.

Fold models of one run may share a fit through :class:`SharedFits` (``shared_fits``, set when the
run prepares them): PairGP of J on a fold is fitted once for ``PairGP`` and for the stacked
``PairGP+engine``, which would otherwise fit the very same GP again.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..kernels import (
    KERNEL_METRIC,
    KERNELS,
    PairGP,
    SymmetricPairKRR,
    distance_matrix,
    duplicate_index,
    gram_matrix,
    kernel_from_distance,
    krr_path,
    linear_krr_path,
    median_distance,
    scale_rows,
)
from ..targets import J as J_TARGET


# --------------------------------------------------------------------------------------------
# what a fitted fold holds
# --------------------------------------------------------------------------------------------
@dataclass
class FoldFit:
    """The model chosen inside one training fold.

    Attributes
    ----------
    params : dict
        The chosen hyperparameters.
    inner_mae : float
        Closed-form inner cross-validation MAE (meV) of the chosen grid cell.
    grid_scores : ndarray
        Inner CV MAE (meV) of every grid cell.
    """

    params: dict
    inner_mae: float
    grid_scores: np.ndarray = field(repr=False)


@dataclass
class DualFit(FoldFit):
    """A kernel model in dual form: ``y(x) = sum_k dual_coef[k] k(x, x_rows[k])``.

    ``rows``: row positions (into the prepared frame) of the distinct training inputs;
    ``length_scale``: the median training distance the kernel width is measured in.
    """

    rows: np.ndarray = field(default=None, repr=False)
    dual_coef: np.ndarray = field(default=None, repr=False)
    length_scale: float = 1.0


@dataclass
class PrimalFit(FoldFit):
    """A linear model in primal form: ``y(x) = x . weights / length_scale``."""

    weights: np.ndarray = field(default=None, repr=False)
    length_scale: float = 1.0


@dataclass
class MeanFit(FoldFit):
    """The baseline: every prediction is the training mean (meV)."""

    mean: float = 0.0


@dataclass
class EstimatorFit(FoldFit):
    """A fitted estimator with ``predict`` (e.g. :class:`jijtutorial.kernels.SymmetricPairKRR`)."""

    estimator: object = None


@dataclass
class GPFit(EstimatorFit):
    """A fitted :class:`jijtutorial.kernels.PairGP`; ``interval95``: ~95 % half-width in units of σ."""

    interval95: float = 2.0


class SharedFits:
    """Fits that several fold models of one run have in common, each made once (thread-safe).

    :meth:`get` returns the result of ``make()`` stored under ``key``: the first thread that asks
    makes it, the others asking for the same key wait for that result (or its error). Keys must
    name everything the fit depends on (:func:`fit_key`); :meth:`clear` drops every entry (the runner
    does so after each protocol, so a run holds at most one protocol's fits).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._slots: dict = {}
        self.made = 0
        self.reused = 0

    def get(self, key, make):
        with self._lock:
            slot = self._slots.get(key)
            owner = slot is None
            if owner:
                slot = self._slots[key] = Future()
                self.made += 1
            else:
                self.reused += 1
        if owner:
            try:
                slot.set_result(make())
            except BaseException as err:
                slot.set_exception(err)
                with self._lock:  # a failed fit is not kept: the next request tries again
                    if self._slots.get(key) is slot:
                        del self._slots[key]
                raise
        return slot.result()

    def __reduce__(self):  # a copy (another process) starts empty: fits are shared within one process only
        return (SharedFits, ())

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()

    def __len__(self) -> int:
        return len(self._slots)


def fit_key(kind: str, params: dict, train_idx, y_train, groups_train) -> tuple:
    """The key of a fold fit in :class:`SharedFits`: the estimator, its parameters and digests of the training
    rows, their targets and the inner selection (the frame is the run's own, the same for every model)."""

    def digest(obj) -> str:
        if obj is None:
            return "none"
        if isinstance(obj, np.ndarray):
            data = obj.dtype.str.encode() + repr(obj.shape).encode() + np.ascontiguousarray(obj).tobytes()
        else:
            data = pickle.dumps(obj, protocol=5)
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    return (
        kind,
        repr(sorted(params.items())),
        digest(np.asarray(train_idx)),
        digest(np.asarray(y_train, float)),
        digest(groups_train),
    )


def fit_pair_gp(model, params: dict, train_idx, y_train, groups_train):
    """:class:`~jijtutorial.kernels.PairGP` with ``params`` fitted on the training rows of ``model``'s frame,
    through the run's :class:`SharedFits` when ``model.shared_fits`` is set."""
    tr = np.asarray(train_idx)

    def make():
        return PairGP(**params).fit(model.frame_.iloc[tr], y_train, inner=groups_train)

    shared = getattr(model, "shared_fits", None)
    if shared is None:
        return make()
    full = PairGP(**params).get_params()
    return shared.get(fit_key("PairGP", full, tr, y_train, groups_train), make)


class FoldModel:
    """Base of the fold models (see the module docstring)."""

    #: The run's :class:`SharedFits` (set when the run prepares the model; None: nothing shared).
    shared_fits = None

    #: Whether ``predict_fold`` can return a standard deviation (``return_std=True``).
    predicts_std = False
    #: What the model predicts (:mod:`jijtutorial.targets`); its ``hidden`` columns never reach the model for test rows.
    target = J_TARGET

    def prepare(self, frame) -> "FoldModel":
        raise NotImplementedError

    def fit_fold(self, train_idx, y_train, groups_train=None) -> FoldFit:
        raise NotImplementedError

    def predict_fold(self, fit: FoldFit, test_idx) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# the baseline
# --------------------------------------------------------------------------------------------
class MeanFolds(FoldModel):
    """Predict the mean J of the training rows."""

    def prepare(self, frame) -> "MeanFolds":
        self.n_rows_ = len(frame)
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None) -> MeanFit:
        y = np.asarray(y_train, dtype=float)
        m = float(np.mean(y))
        return MeanFit({}, float(np.mean(np.abs(y - m))), np.zeros((1, 1)), mean=m)

    def predict_fold(self, fit: MeanFit, test_idx) -> np.ndarray:
        return np.full(len(test_idx), fit.mean)


# --------------------------------------------------------------------------------------------
# a descriptor with a linear, Gaussian or Laplacian kernel
# --------------------------------------------------------------------------------------------
class KernelRidgeFolds(FoldModel):
    """KRR on a descriptor with a (gamma x alpha) grid chosen inside each training fold.

    ``prepare(frame)`` featurises all rows and computes their N x N distance (or Gram) matrix
    once; ``fit_fold`` measures distances in units of the training rows' median distance
    (:func:`jijtutorial.kernels.median_distance` over :func:`~jijtutorial.kernels.scale_rows`),
    builds each width's kernel by slicing, and scores all alphas by :func:`~jijtutorial.kernels.krr_path`.

    Parameters
    ----------
    descriptor : a transformer of pair tables (e.g. :class:`jijtutorial.descriptors.SOAPDescriptor`).
    kernel : ``'linear'``, ``'rbf'`` or ``'laplacian'``.
    gammas : widths (dimensionless; ignored for ``'linear'``).
    alphas : ridge parameters.
    store : a dict kept by the caller per descriptor, so that models on the same features (SOAP
        with a linear and a Gaussian kernel) compute the Gram and distance matrices once.
    """

    def __init__(
        self, descriptor, kernel: str, gammas=(1.0,), alphas=(1e-3, 1e-2, 1e-1), solver: str = "auto", store: dict | None = None
    ):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}: use one of {KERNELS}.")
        self.descriptor = descriptor
        self.kernel = kernel
        self.gammas = tuple(float(g) for g in (gammas if kernel != "linear" else (1.0,)))
        self.alphas = tuple(float(a) for a in alphas)
        self.solver = solver
        self.store = {} if store is None else store

    def prepare(self, frame) -> "KernelRidgeFolds":
        return self.prepare_features(self.descriptor.fit_transform(frame))

    def prepare_features(self, X) -> "KernelRidgeFolds":
        """:meth:`prepare` from precomputed features ``X`` (n, d), dense or sparse."""
        store = self.store

        def get(name, fn):
            if name not in store:
                store[name] = fn()
            return store[name]

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

    def _kernel(self, rows, cols, gamma, length_scale):
        if self.kernel == "linear":
            if self.thin_:
                return (self.X_[rows] @ self.X_[cols].T) / length_scale**2
            return self.G_[np.ix_(rows, cols)] / length_scale**2
        return kernel_from_distance(self.D_[np.ix_(rows, cols)], self.kernel, gamma, length_scale)

    def fit_fold(self, train_idx, y_train, groups_train=None) -> DualFit | PrimalFit:
        tr = np.asarray(train_idx)
        sub = tr[scale_rows(len(tr))]
        length_scale = median_distance(self.D_[np.ix_(sub, sub)])
        scores = np.empty((len(self.gammas), len(self.alphas)))
        best = None
        # distinct inputs of the fold (a training row represents each), and every row's input
        _, first, inverse = np.unique(self.dup_[tr], return_index=True, return_inverse=True)
        reps = tr[first]
        for g, gamma in enumerate(self.gammas):
            if self.thin_:
                path = linear_krr_path(self.X_[tr] / length_scale, y_train, self.alphas, groups_train)
            else:
                path = krr_path(
                    self._kernel(reps, reps, gamma, length_scale),
                    y_train,
                    self.alphas,
                    groups_train,
                    self.solver,
                    inverse=inverse,
                )
            scores[g] = path.scores("mae")
            a = int(np.argmin(scores[g]))
            if best is None or scores[g, a] < best[0]:
                best = (scores[g, a], gamma, self.alphas[a], path.coef[a])
        mae, gamma, alpha, coef = best
        if self.kernel == "linear":
            params = {"alpha": alpha}
        else:
            params = {"gamma": gamma, "alpha": alpha}
        if self.thin_:  # primal weights: predictions are X w / length_scale
            weights = (self.X_[tr] / length_scale).T @ coef
            return PrimalFit(params, float(mae), scores, weights=weights, length_scale=length_scale)
        return DualFit(params, float(mae), scores, rows=reps, dual_coef=coef, length_scale=length_scale)

    def predict_fold(self, fit: DualFit | PrimalFit, test_idx) -> np.ndarray:
        te = np.asarray(test_idx)
        if isinstance(fit, PrimalFit):
            return (self.X_[te] / fit.length_scale) @ fit.weights
        return self._kernel(te, fit.rows, fit.params.get("gamma", 1.0), fit.length_scale) @ fit.dual_coef


# --------------------------------------------------------------------------------------------
# SymPair-KRR
# --------------------------------------------------------------------------------------------
class PairKernelFolds(FoldModel):
    """:class:`jijtutorial.kernels.SymmetricPairKRR` with its grid chosen inside each training fold.

    ``param_grid`` maps parameters of the estimator to values (default: the profile length in
    meV); for every combination :meth:`SymmetricPairKRR.fit_path` learns moments and profiles
    from the fold's rows and scores all ``alphas`` by exact closed-form CV.
    """

    def __init__(self, param_grid=None, alphas=(1e-3, 1e-2, 1e-1), solver: str = "auto", **fixed):
        self.param_grid = dict(param_grid or {"profile_length": (4.0, 8.0, 16.0)})
        self.alphas = tuple(float(a) for a in alphas)
        self.solver = solver
        self.fixed = fixed

    def prepare(self, frame) -> "PairKernelFolds":
        self.frame_ = frame.reset_index(drop=True)
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None) -> EstimatorFit:
        tr = np.asarray(train_idx)
        Xtr = self.frame_.iloc[tr]
        names = list(self.param_grid)
        combos = list(itertools.product(*(self.param_grid[k] for k in names)))
        scores = np.empty((len(combos), len(self.alphas)))
        best = None
        for c, values in enumerate(combos):
            model = SymmetricPairKRR(**{**self.fixed, **dict(zip(names, values))})
            scores[c] = model.fit_path(Xtr, y_train, self.alphas, groups_train, self.solver).scores("mae")
            a = int(np.argmin(scores[c]))
            if best is None or scores[c, a] < best[0]:
                best = (scores[c, a], model, values)
        mae, model, values = best
        return EstimatorFit({**dict(zip(names, values)), "alpha": model.alpha_}, float(mae), scores, estimator=model)

    def predict_fold(self, fit: EstimatorFit, test_idx) -> np.ndarray:
        # the model must not read what the test rows' calculation gave (J, D, moments): the target hides it
        return fit.estimator.predict(self.target.hide(self.frame_.iloc[np.asarray(test_idx)]))


# --------------------------------------------------------------------------------------------
# PairGP
# --------------------------------------------------------------------------------------------
class PairGPFolds(FoldModel):
    """:class:`jijtutorial.kernels.PairGP` with its grid chosen inside each training fold, and error bars.

    The inner selection is the fold's own (``groups_train``): leave-one-out, leave-one-group-out, or
    the :class:`~jijtutorial.kernels.InnerBlocks` of the ``element`` and ``distance`` protocols, in
    which PairGP describes the left-out element or geometry as never seen. Its σ is calibrated on
    the residuals of that same inner selection.

    Parameters
    ----------
    **params : parameters of :class:`~jijtutorial.kernels.PairGP` (``selection`` is set by the fold).
    """

    predicts_std = True

    def __init__(self, **params):
        self.params = params

    def prepare(self, frame) -> "PairGPFolds":
        self.frame_ = frame.reset_index(drop=True)
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None) -> GPFit:
        est = fit_pair_gp(self, self.params, train_idx, y_train, groups_train)
        return GPFit(dict(est.params_), est.cv_mae_, est.grid_scores_, estimator=est, interval95=est.interval95_)

    def predict_fold(self, fit: GPFit, test_idx, return_std: bool = False):
        test = self.target.hide(self.frame_.iloc[np.asarray(test_idx)])
        return fit.estimator.predict(test, return_std=return_std)
