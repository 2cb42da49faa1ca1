"""PairGP with the crystal engine as a prior: two ways to let a physics model help a learned one.

The engine (:mod:`jijtutorial.engine_prior`) gives J_eng for every element pair and geometry from
tabulated atomic properties and its own Stoner moments, with no DFT output of any element. Its
couplings are right in pattern more than in size (Pearson r 0.80 against the JuKKR table, |J|
about three times too large on average, least-squares scale 0.30), so it enters through a scale
a(g) per pair geometry, fitted on the training rows only (least squares through the origin, shrunk
toward the scale of all training rows; a geometry without training rows takes that pooled scale):
the prior is a(g) J_eng.

``mode='auto'`` (the default) is Δ-learning when the question is an unseen distance and stacking
otherwise, as the ablation on the JuKKR table chose (``benchmarks/prior_ablation.py``: stacking is
best for an unseen element, Δ-learning for an unseen distance, where the engine carries the decay of
J with distance that the data lack and the stacked GP has nothing to add).

``mode='stack'``: J = w_GP μ_GP + w_eng a(g) J_eng, μ_GP a
:class:`~jijtutorial.kernels.PairGP` of J itself, the two weights (≥ 0) by least squares on the
inner cross-validation predictions of the training rows (out-of-block, so the weights say how far
each is to be trusted on the question the fold asks; ``params_`` records them as ``w_gp``, ``w_engine``).

``mode='delta'`` (Δ-learning): J = a(g) J_eng + δ, δ a PairGP of J − a(g) J_eng. It trusts the
engine fully where the GP has nothing to say: better for an unseen distance, worse for an unseen
element whose engine moment is wrong (Ti, Nb, Ru on the JuKKR table).

Why not the engine's J as a feature: it would enter PairGP's kernel (element × geometry factors)
and need a new kernel family; the fixed mean function (``scale='none'``, a = 1) is the Δ-model
without the scale. ``benchmarks/prior_ablation.py`` compares these.

σ in the tails (``tails='prior'``). PairGP's σ comes from its posterior variance, calibrated on the
inner residuals; it is small wherever the kernel sees similar training pairs, also where the truth
is far (an unseen element the moment model calls non-magnetic). Three variance terms that do not
shrink with the kernel are added, the prior's own spread, a part growing with the prediction
(errors relative to the coupling) and a floor:

    σ² = c² (σ_GP² + (β a(g) J_eng)² + (β_μ μ)² + τ²),

shape and c chosen on the inner cross-validation residuals so that ±1σ and ±2σ miss 68.3 % and
95.4 % by as little as possible together (:func:`fit_tail_sigma`). ``tails='gp'`` keeps PairGP's σ.

What the model reads: the engine table of its settings and the training rows (their J and, through
PairGP, their moments). Predictions read a row's elements and geometry only, never its J or moments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .kernels import PairGP, encode_pairs

#: How a(g) is fitted: per geometry, one for all geometries, or none (a = 1: the engine as a fixed mean function).
PRIOR_SCALES = ("geometry", "global", "none")
#: How the prior enters: 'delta' (PairGP of J − a(g) J_eng), 'stack' (w_GP PairGP(J) + w_eng a(g) J_eng, the
#: weights from the inner cross-validation predictions) or 'auto' (delta for an unseen distance, else stack).
PRIOR_MODES = ("auto", "delta", "stack")
#: σ of the Δ-model: PairGP's own ('gp') or with the prior's spread and a floor ('prior').
TAIL_MODES = ("gp", "prior")
_ONE_SIGMA = 0.6826894921370859


def fit_prior_scale(geo, y, prior, how: str = "geometry", shrinkage: float = 1.0) -> tuple[dict, float]:
    """Least-squares scales ``a`` of ``y ≈ a J_eng`` per geometry, shrunk toward the pooled scale.

    Parameters
    ----------
    geo : array of str (n,)
        Geometry key of each training row (:func:`~jijtutorial.kernels.encode_pairs`).
    y, prior : ndarray (n,)
        Training J and the engine's J of the same rows (meV).
    how : {'geometry', 'global', 'none'}
    shrinkage : float
        Weight of the pooled scale in each geometry's fit, in units of the mean Σ J_eng² per geometry
        (``a_g = (Σ y J_eng + λ a_0) / (Σ J_eng² + λ)``, λ = shrinkage × mean Σ J_eng²).

    Returns
    -------
    (scales per geometry key, pooled scale a_0) : (dict, float); ``how='none'``: ({}, 1.0).
    """
    y = np.asarray(y, float)
    e = np.asarray(prior, float)
    if how not in PRIOR_SCALES:
        raise ValueError(f"how must be one of {PRIOR_SCALES}, not {how!r}.")
    if not (np.isfinite(shrinkage) and shrinkage >= 0):
        raise ValueError(f"shrinkage must be a non-negative number, not {shrinkage!r}.")
    if how == "none":
        return {}, 1.0
    den = float(np.sum(e * e))
    a0 = float(np.sum(y * e) / den) if den > 0 else 0.0
    if how == "global":
        return {}, a0
    out = {}
    keys, inv = np.unique(np.asarray(geo).astype(str), return_inverse=True)
    num_g = np.bincount(inv, weights=y * e, minlength=len(keys))
    den_g = np.bincount(inv, weights=e * e, minlength=len(keys))
    lam = shrinkage * float(np.mean(den_g)) if len(den_g) else 0.0
    for k, n, d in zip(keys, num_g, den_g):
        out[str(k)] = float((n + lam * a0) / (d + lam)) if d + lam > 0 else a0
    return out, a0


#: Grids of β (dimensionless) and τ (units of the residuals' root mean square) tried by :func:`fit_tail_sigma`.
#: β reaches 3: on the JuKKR table's element rung a grid ending at 1 kept choosing its end (σ growing with |μ|
#: more steeply than the grid allowed), and ±2σ held 0.894 of the test pairs; up to 3 it holds 0.906.
TAIL_BETAS = np.concatenate([[0.0], np.geomspace(0.03, 3.0, 9)])
TAIL_TAUS = np.concatenate([[0.0], np.geomspace(0.01, 1.0, 9)])
#: Levels tried for the common factor: the quantile of |e| / σ that is set to 1 (0.683 for a Gaussian).
TAIL_LEVELS = np.round(np.linspace(0.62, 0.80, 19), 3)


def fit_tail_sigma(
    residuals, sigma_gp, prior, mean=None, betas=TAIL_BETAS, taus=TAIL_TAUS, levels=TAIL_LEVELS
) -> tuple[float, float, float, float]:
    """``(c, β, β_μ, τ)`` of ``σ² = c² (σ_GP² + (β p)² + (β_μ μ)² + τ²)`` from cross-validation residuals.

    A heavier-tailed calibration: for each shape on the grids (β, β_μ and τ relative to c), the
    common factor c is the one among the quantiles ``levels`` of |e| / shape that brings the larger
    of the two misses, |±1σ coverage − 0.683| and |±2σ coverage − 0.954|, lowest; the shape with
    the lowest miss wins (ties: the smallest mean σ). When the residuals have heavier tails than a
    Gaussian no σ hits both; this one misses both by the same few points rather than holding ±1σ
    exactly and missing ±2σ by ten.

    Parameters
    ----------
    residuals, sigma_gp, prior : ndarray (k,)
        Residuals (meV), PairGP's calibrated σ of the same predictions (meV) and the prior's value
        ``a(g) J_eng`` (meV; its absolute value is used).
    mean : ndarray (k,), optional
        The predictions themselves (meV): σ may grow with |μ| (errors relative to the coupling).
    betas, taus, levels : grids (β and β_μ dimensionless; τ in units of the residuals' root mean square).

    Returns
    -------
    (c, beta, beta_mu, tau) : floats (τ in meV)
    """
    e = np.abs(np.asarray(residuals, float))
    s = np.asarray(sigma_gp, float)
    p = np.abs(np.asarray(prior, float))
    m = np.zeros_like(e) if mean is None else np.abs(np.asarray(mean, float))
    if not (len(e) == len(s) == len(p) == len(m)) or len(e) == 0:
        raise ValueError(
            f"residuals, sigma_gp, prior and mean need one value per residual; got lengths {len(e)}, "
            f"{len(s)}, {len(p)}, {len(m)}."
        )
    if not all(np.all(np.isfinite(x)) for x in (e, s, p, m)):
        raise ValueError("residuals, sigma_gp, prior and mean must be finite.")
    rms = float(np.sqrt(np.mean(e**2))) or 1.0
    # every shape of the grids at once, in the order (β, β_μ, τ) of a nested loop: rows of ``shapes``
    b_mu = np.asarray(betas, float) if mean is not None else np.zeros(1)
    grid = np.array([(b, bm, t) for b in betas for bm in b_mu for t in taus], float).reshape(-1, 3)
    shapes = np.sqrt(
        s[None, :] ** 2 + (grid[:, :1] * p[None, :]) ** 2 + (grid[:, 1:2] * m[None, :]) ** 2 + (grid[:, 2:3] * rms) ** 2
    )
    ok = np.all(shapes > 0, axis=1)
    if not ok.any():
        return 1.0, 0.0, 0.0, 0.0
    grid, shapes = grid[ok], shapes[ok]
    z = np.sort(e[None, :] / shapes, axis=1)
    factors = np.quantile(z, levels, axis=1).T  # (shapes, levels): the candidate c of each shape
    n = z.shape[1]
    # coverage of ±1σ and ±2σ with σ = c · shape: the fraction of z = |e| / shape at or below c and 2c
    cov1 = np.array([np.searchsorted(row, f, side="right") for row, f in zip(z, factors)]) / n
    cov2 = np.array([np.searchsorted(row, 2 * f, side="right") for row, f in zip(z, factors)]) / n
    gap = np.round(np.maximum(np.abs(cov1 - _ONE_SIGMA), np.abs(cov2 - 0.9545)), 4)
    width = factors * shapes.mean(axis=1)[:, None]
    valid = factors > 0
    if not valid.any():
        return 1.0, 0.0, 0.0, 0.0
    gap = np.where(valid, gap, np.inf).ravel()
    width = np.where(valid, width, np.inf).ravel()
    best = int(np.lexsort((np.arange(gap.size), width, gap))[0])  # lowest miss, then narrowest, then grid order
    i, j = divmod(best, factors.shape[1])
    f, (b, bm, t) = factors[i, j], grid[i]
    return float(f), float(b), float(bm), float(t * rms)


def inner_blocks(X, inner=None, selection: str = "rows") -> list | None:
    """The inner blocks of a :class:`PairGP` fitted on ``X``, as arrays of training rows, in its order (None: leave-one-out).

    ``inner`` as given to its ``fit`` (None: the blocks of the rung that ``selection`` names,
    :func:`jijtutorial.protocols.protocol_of_blocks`). The blocks are built exactly as PairGP builds
    them (the same protocol record and the same grouping), so residual ``k`` of PairGP belongs to the
    rows of block ``k``.
    """
    from .kernels._krr_path import group_blocks
    from .protocols import protocol_of_blocks

    if inner is None:
        inner = protocol_of_blocks(selection).inner_blocks(X)
    if inner is not None and not isinstance(inner, list | tuple) and len(np.asarray(inner)) != len(X):
        raise ValueError(f"inner: {len(np.asarray(inner))} labels for {len(X)} training rows.")
    blocks = group_blocks(inner)
    return [np.asarray(b, int) for b in blocks] if blocks is not None and len(blocks) >= 2 else None


def residual_rows(X, inner=None, selection: str = "rows") -> np.ndarray:
    """Training row of each inner cross-validation residual of a :class:`PairGP` fitted on ``X``, shape (k,).

    PairGP returns its residuals concatenated over its inner blocks (:func:`inner_blocks`) in block
    order, a row in two blocks twice; with leave-one-out every row once, in order.
    """
    blocks = inner_blocks(X, inner, selection)
    return np.arange(len(X)) if blocks is None else np.concatenate(blocks)


class EnginePriorGP(RegressorMixin, BaseEstimator):
    """PairGP with the engine prior, stacked or Δ-learned, with σ for the tails (see the module docstring).

    Parameters
    ----------
    prior : :class:`jijtutorial.engine_prior.EnginePrior`, optional
        The engine table (default: the engine's default settings, those of the model data set).
    scale : {'geometry', 'global', 'none'}
        How a(g) is fitted (:func:`fit_prior_scale`); 'none' is the engine as a fixed mean function.
    shrinkage : float
        Pull of each geometry's scale toward the pooled one.
    tails : {'prior', 'gp'}
        σ with the prior's spread and a floor (:func:`fit_tail_sigma`), or PairGP's own.
    selection : str
        PairGP's inner selection ('rows', 'pairs', 'element', 'distance').
    gp_params : dict, optional
        Further parameters of :class:`PairGP`.
    mode : {'auto', 'stack', 'delta'}
        How the prior enters (:data:`PRIOR_MODES`); ``mode_`` is the one used ('stack' also when the
        prior reproduces every training J exactly, as on the model data set, which is the engine's table).

    Attributes
    ----------
    scales_ : dict, geometry key -> a(g); pooled_scale_ : float; gp_ : the PairGP (of J, or of J − a(g) J_eng);
    weights_ : (w_GP, w_eng), (1, 1) for 'delta';
    tail_params_ : (c, β, τ) of the σ model (None with ``tails='gp'``); cv_residuals_, cv_std_ :
    inner residuals (meV) and their σ; interval95_ : ~95 % half-width in units of σ; params_, cv_mae_,
    grid_scores_ : those of ``gp_``.
    """

    def __init__(
        self,
        prior=None,
        scale: str = "geometry",
        shrinkage: float = 1.0,
        tails: str = "prior",
        selection: str = "rows",
        gp_params=None,
        mode: str = "auto",
    ):
        self.prior = prior
        self.mode = mode
        self.scale = scale
        self.shrinkage = shrinkage
        self.tails = tails
        self.selection = selection
        self.gp_params = gp_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _prior(self):
        if self.prior is None:
            from .engine_prior import EnginePrior

            self.prior = EnginePrior()
        return self.prior

    def prior_values(self, X) -> np.ndarray:
        """The engine's J (meV) of the rows of ``X`` (elements and geometry only), shape (n,)."""
        return np.asarray(self._prior().values(X, "J"), float)

    def baseline(self, X) -> np.ndarray:
        """The fitted prior a(g) J_eng (meV) of the rows of ``X``, shape (n,)."""
        check_is_fitted(self, "gp_")
        enc = encode_pairs(X)
        return np.array([self.scales_.get(str(g), self.pooled_scale_) for g in enc.geo]) * self.prior_values(X)

    def fit(self, X, y, inner=None, *, fitted_gp=None):
        """Fit on a training pair table ``X`` (with moments) and J ``y`` (meV); ``inner`` as in :meth:`PairGP.fit`.

        ``fitted_gp``: a :class:`PairGP` with this model's settings (:meth:`gp_params_full`) already fitted
        on the same ``X``, ``y`` and ``inner``, used instead of fitting it again when the mode is stacking
        (the benchmark shares PairGP's fold fit this way); ignored for Δ-learning, whose GP learns J − a(g) J_eng.
        """
        if self.scale not in PRIOR_SCALES:
            raise ValueError(f"EnginePriorGP: scale must be one of {PRIOR_SCALES}, not {self.scale!r}.")
        if self.tails not in TAIL_MODES:
            raise ValueError(f"EnginePriorGP: tails must be one of {TAIL_MODES}, not {self.tails!r}.")
        if self.mode not in PRIOR_MODES:
            raise ValueError(f"EnginePriorGP: mode must be one of {PRIOR_MODES}, not {self.mode!r}.")
        y = np.asarray(y, float).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"EnginePriorGP: X has {len(X)} rows but y has {len(y)} values.")
        enc = encode_pairs(X)
        e = self.prior_values(X)
        self.scales_, self.pooled_scale_ = fit_prior_scale(enc.geo, y, e, self.scale, self.shrinkage)
        base = np.array([self.scales_.get(str(g), self.pooled_scale_) for g in enc.geo]) * e
        self.mode_ = self.resolve_mode(inner)
        if self.mode_ == "delta" and np.all(np.abs(y - base) <= 1e-9 * max(float(np.max(np.abs(y))), 1e-300)):
            # the prior reproduces every training J (the model data set is the engine's own table): the residuals
            # leave a GP nothing to learn and σ nothing to be calibrated on; stacking weighs the two instead
            self.mode_ = "stack"
        stack = self.mode_ == "stack"
        if stack and fitted_gp is not None:
            gp = self._check_fitted_gp(fitted_gp)
        else:
            gp = PairGP(**self.gp_params_full())
            gp.fit(X, y if stack else y - base, inner=inner)
        self.gp_ = gp
        self.params_ = {**gp.params_, "prior_scale": self.scale, "tails": self.tails, "mode": self.mode_}
        self.grid_scores_ = gp.grid_scores_
        res, sd = np.asarray(gp.cv_residuals_, float), np.asarray(gp.cv_std_, float)
        blocks = inner_blocks(X, inner, self.selection)
        rows = np.arange(len(y)) if blocks is None else np.concatenate(blocks)
        if len(rows) != len(res):
            raise RuntimeError(
                f"EnginePriorGP: {len(res)} inner residuals but {len(rows)} block rows; the σ model "
                f"cannot tell which pair each residual belongs to."
            )
        # the prior's inner predictions: a(g) fitted without each block, as the outer fold will see a new one
        base_cv = base[rows] if blocks is None else np.concatenate([self._block_base(enc.geo, y, e, B) for B in blocks])
        self.weights_ = (1.0, 1.0)
        if stack:  # weights of the two predictions from the inner (out-of-block) predictions of the GP
            from scipy.optimize import nnls

            mu_cv = y[rows] - res
            w, _ = nnls(np.column_stack([mu_cv, base_cv]), y[rows])
            self.weights_ = (float(w[0]), float(w[1]))
            self.params_.update(w_gp=round(self.weights_[0], 3), w_engine=round(self.weights_[1], 3))
            res = y[rows] - (w[0] * mu_cv + w[1] * base_cv)
        self.cv_mae_ = float(np.mean(np.abs(res))) if len(res) else gp.cv_mae_
        if self.tails == "prior":
            mu_cv = y[rows] - res
            self.tail_params_ = fit_tail_sigma(res, sd, base_cv, mu_cv)
            sd = self._tail(sd, base_cv, mu_cv)
        else:
            self.tail_params_ = None
        self.cv_residuals_ = res
        self.cv_std_ = sd
        z = np.abs(res) / np.maximum(sd, 1e-300)
        self.interval95_ = max(2.0, float(np.quantile(z, 0.9545))) if len(z) else 2.0
        return self

    def gp_params_full(self) -> dict:
        """The parameters of the PairGP this model fits (its ``selection`` and ``gp_params``)."""
        return PairGP(selection=self.selection, **(self.gp_params or {})).get_params()

    def _check_fitted_gp(self, gp):
        """``gp`` if it is a fitted PairGP with this model's settings, else a clear error."""
        if not isinstance(gp, PairGP) or gp.get_params() != self.gp_params_full():
            raise ValueError(
                "EnginePriorGP.fit: fitted_gp must be a PairGP with the settings of gp_params_full(); got "
                f"{type(gp).__name__} with {gp.get_params() if isinstance(gp, PairGP) else 'other settings'}."
            )
        check_is_fitted(gp, "dual_coef_")
        return gp

    def resolve_mode(self, inner) -> str:
        """'auto': Δ-learning when the question is an unseen distance (inner blocks of kind 'distance', or that
        selection), stacking otherwise."""
        if self.mode != "auto":
            return self.mode
        kind = getattr(inner, "kind", None) if inner is not None else self.selection
        return "delta" if kind == "distance" else "stack"

    def _block_base(self, geo, y, e, block) -> np.ndarray:
        """a(g) J_eng of the rows of ``block`` with a(g) fitted on the other training rows."""
        keep = np.ones(len(y), bool)
        keep[block] = False
        scales, a0 = fit_prior_scale(geo[keep], y[keep], e[keep], self.scale, self.shrinkage)
        return np.array([scales.get(str(g), a0) for g in geo[block]]) * e[block]

    def _tail(self, sd, base, mean) -> np.ndarray:
        c, b, bm, t = self.tail_params_
        return c * np.sqrt(np.asarray(sd) ** 2 + (b * np.asarray(base)) ** 2 + (bm * np.asarray(mean)) ** 2 + t**2)

    def predict(self, X, return_std: bool = False, return_beyond: bool = False):
        """Predicted J (meV) of the pairs of ``X``; σ (meV) and PairGP's ``beyond_data`` flag if asked."""
        check_is_fitted(self, "gp_")
        base = self.baseline(X)
        out = self.gp_.predict(X, return_std=return_std, return_beyond=return_beyond)
        w_gp, w_eng = self.weights_
        if not isinstance(out, tuple):
            return w_eng * base + w_gp * out
        out = list(out)
        out[0] = w_eng * base + w_gp * out[0]
        if return_std and self.tail_params_ is not None:
            out[1] = self._tail(out[1], base, out[0])
        return tuple(out)


class ScaledEngine(RegressorMixin, BaseEstimator):
    """The engine alone, scaled per geometry on the training rows: J = a(g) J_eng (an ablation; no learning of δ).

    σ of a row: the root-mean-square training residual of its geometry (of all rows for an unseen one).
    """

    def __init__(self, prior=None, scale: str = "geometry", shrinkage: float = 1.0):
        self.prior = prior
        self.scale = scale
        self.shrinkage = shrinkage

    def fit(self, X, y, inner=None):
        self._delta = EnginePriorGP(self.prior, self.scale, self.shrinkage)
        y = np.asarray(y, float).reshape(-1)
        enc = encode_pairs(X)
        e = self._delta.prior_values(X)
        self.prior = self._delta.prior
        self.scales_, self.pooled_scale_ = fit_prior_scale(enc.geo, y, e, self.scale, self.shrinkage)
        r = y - np.array([self.scales_.get(str(g), self.pooled_scale_) for g in enc.geo]) * e
        frame = pd.DataFrame({"g": enc.geo.astype(str), "r2": r**2})
        self.rms_ = frame.groupby("g")["r2"].mean().pow(0.5).to_dict()
        self.rms_all_ = float(np.sqrt(np.mean(r**2)))
        self.params_ = {"prior_scale": self.scale}
        self.cv_mae_ = float(np.mean(np.abs(r)))
        self.grid_scores_ = np.zeros((1, 1))
        self.interval95_ = 2.0
        return self

    def predict(self, X, return_std: bool = False):
        check_is_fitted(self, "scales_")
        enc = encode_pairs(X)
        mu = np.array([self.scales_.get(str(g), self.pooled_scale_) for g in enc.geo]) * self._delta.prior_values(X)
        if not return_std:
            return mu
        return mu, np.array([self.rms_.get(str(g), self.rms_all_) for g in enc.geo])


__all__ = [
    "EnginePriorGP",
    "PRIOR_MODES",
    "PRIOR_SCALES",
    "ScaledEngine",
    "TAIL_BETAS",
    "TAIL_LEVELS",
    "TAIL_MODES",
    "TAIL_TAUS",
    "fit_prior_scale",
    "fit_tail_sigma",
    "inner_blocks",
    "residual_rows",
]
