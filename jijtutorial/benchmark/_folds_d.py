"""Fold models of the DM vector D: the equivariant model and the three baselines it is measured against.

Every model here implements the fold interface of :mod:`jijtutorial.benchmark._folds` for the target
:data:`jijtutorial.targets.D`: ``fit_fold`` takes D of the training rows (meV, (k, 3)),
``predict_fold`` returns D (and σ per component, (m, 3)) for the test rows, which it reads with the
target's hidden columns removed (J, D, the moments: :attr:`jijtutorial.targets.Target.hidden`).

==========================  ======================================================================
model                       how it predicts D
==========================  ======================================================================
``EquivariantGP-D``         :class:`jijtutorial.kernels.EquivariantDGP`: the components the bond's
                            symmetry allows, each a scalar GP on the element pair, rotated back
``PairGP-xyz``              baseline (b): an invariant model per Cartesian component: PairGP (the
                            J kernel) fitted to Dx, Dy and Dz separately
``PairGP-|D|``              baseline (c): PairGP fitted to |D|, times the bond's direction: the unit
                            vector of the summed training D of its bond class, carried to each
                            bond by the class's map (the "sign pattern" of the bond)
``Mean-D``                  baseline (a): the mean D vector of the training rows
==========================  ======================================================================
"""

from __future__ import annotations

import numpy as np

from ..kernels import EquivariantDGP, PairGP
from ..targets import D as D_TARGET
from ..targets import decompose
from ._folds import EstimatorFit, FoldModel, GPFit, MeanFit


class _DFolds(FoldModel):
    """A fold model of D: reads the pair table, hides the target's columns from the test rows."""

    target = D_TARGET

    def prepare(self, frame) -> "_DFolds":
        self.frame_ = frame.reset_index(drop=True)
        return self

    def _test(self, test_idx):
        return self.target.hide(self.frame_.iloc[np.asarray(test_idx)])


class MeanDFolds(_DFolds):
    """Baseline (a): every prediction is the mean D vector (meV) of the training rows."""

    def fit_fold(self, train_idx, y_train, groups_train=None) -> MeanFit:
        y = np.asarray(y_train, float)
        m = y.mean(axis=0)
        return MeanFit({}, float(np.mean(np.linalg.norm(y - m, axis=1))), np.zeros((1, 1)), mean=m)

    def predict_fold(self, fit, test_idx):
        return np.tile(fit.mean, (len(test_idx), 1))


class EquivariantDFolds(_DFolds):
    """:class:`jijtutorial.kernels.EquivariantDGP` with its grid chosen inside each training fold, and σ per component."""

    predicts_std = True

    def __init__(self, **params):
        self.params = params

    def fit_fold(self, train_idx, y_train, groups_train=None) -> GPFit:
        est = EquivariantDGP(**self.params).fit(self.frame_.iloc[np.asarray(train_idx)], y_train, inner=groups_train)
        return GPFit(dict(est.params_), est.cv_mae_, est.grid_scores_, estimator=est, interval95=est.interval95_)

    def predict_fold(self, fit: GPFit, test_idx, return_std: bool = False):
        return fit.estimator.predict(self._test(test_idx), return_std=return_std)


class ComponentFolds(_DFolds):
    """Baseline (b): PairGP -- an invariant, pair-symmetric model -- fitted to each Cartesian component of D.

    It gives every bond of a class the same D, and (A, B) and (B, A) the same D: it cannot turn D with
    the bond nor flip it when the two impurities are exchanged.
    """

    predicts_std = True

    def __init__(self, **params):
        self.params = params

    def fit_fold(self, train_idx, y_train, groups_train=None) -> EstimatorFit:
        X = self.frame_.iloc[np.asarray(train_idx)]
        y = np.asarray(y_train, float)
        models = [PairGP(**self.params).fit(X, y[:, k], inner=groups_train) for k in range(3)]
        params = {f"{c}:{k}": v for c, m in zip("xyz", models) for k, v in m.params_.items()}
        fit = EstimatorFit(params, float(np.mean([m.cv_mae_ for m in models])), np.array([m.grid_scores_ for m in models]))
        fit.estimator = models
        return fit

    def predict_fold(self, fit: EstimatorFit, test_idx, return_std: bool = False):
        X = self._test(test_idx)
        out = [m.predict(X, return_std=return_std) for m in fit.estimator]
        if not return_std:
            return np.column_stack(out)
        return np.column_stack([o[0] for o in out]), np.column_stack([o[1] for o in out])


class MagnitudeFolds(_DFolds):
    """Baseline (c): PairGP's J kernel fitted to |D|, with the direction pattern of the bond.

    The direction of a bond class is the unit vector of the summed training D at its representative
    (each row's D carried there by the class's map, :func:`jijtutorial.targets.decompose`); a test bond
    gets ``|D|_pred M û``. σ: PairGP's σ of |D| along that direction. A class with no training rows
    has no direction: D = 0.
    """

    predicts_std = True

    def __init__(self, **params):
        self.params = params

    def fit_fold(self, train_idx, y_train, groups_train=None) -> EstimatorFit:
        X = self.frame_.iloc[np.asarray(train_idx)]
        y = np.asarray(y_train, float)
        model = PairGP(**self.params).fit(X, np.linalg.norm(y, axis=1), inner=groups_train)
        ch = decompose(X)
        rep = np.einsum("nba,nb->na", ch.maps, y)
        directions = {}
        for k, c in enumerate(ch.classes):
            s = rep[ch.row_class == k].sum(axis=0)
            n = np.linalg.norm(s)
            directions[c.geometry] = s / n if n > 0 else np.zeros(3)
        fit = EstimatorFit(dict(model.params_), model.cv_mae_, model.grid_scores_, estimator=model)
        fit.directions = directions
        return fit

    def predict_fold(self, fit: EstimatorFit, test_idx, return_std: bool = False):
        X = self._test(test_idx)
        ch = decompose(X)
        u = np.array([fit.directions.get(ch.classes[k].geometry, np.zeros(3)) for k in ch.row_class]).reshape(-1, 3)
        u = np.einsum("nab,nb->na", ch.maps, u)
        mu, sd = fit.estimator.predict(X, return_std=True)
        mean = np.maximum(mu, 0.0)[:, None] * u
        if not return_std:
            return mean
        return mean, sd[:, None] * np.abs(u)
