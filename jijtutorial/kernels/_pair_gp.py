"""PairGP: a Gaussian process on (element_i, element_j, pair geometry) that also knows unseen elements and distances.

SymPair-KRR (:class:`~jijtutorial.kernels.SymmetricPairKRR`) learns what it is shown: an element's
exchange profile and moment come from its own training rows, a geometry is learned on its own. For
an element or a distance that was never computed it has nothing to go on. PairGP keeps the
pair-symmetric form and adds what transfers:

* **Element similarity from the periodic table and a physical moment.** Two ways to compare
  elements are chosen between inside every training fold: ``'profile'`` (the learned exchange
  profiles of SymPair-KRR times a table kernel) and ``'features'`` (group, row and moment only --
  what carries over to an element never seen). The moment of a *seen* element is its median
  |moment| in the training rows; of an *unseen* one, the mean-field Anderson moment of its d count
  (:class:`~jijtutorial.kernels.MomentModel`, fitted to the seen elements of its row).
* **An unseen element is a random effect, not a collapse.** It has no exchange profile: in a GP
  that is an independent component (``k_prof`` is 1 on its diagonal and 0 to every other
  element), so its prior variance grows and its similarity to the others falls back to the table.
* **Geometry as a smooth kernel.** ``'independent'`` (each pair geometry its own function, as
  SymPair-KRR) or ``'smooth'``: a scale ``a(g)`` per geometry (the size of J there) and
  correlations between geometries of one layer class that decay with distance. For a distance
  never computed, ``log a`` follows a straight line in distance fitted through the seen ones, so
  far from the data the prior, the prediction and its σ all decay together.
* **A mean coupling** ``β s_A s_B`` shared by all computed geometries (``bias``).
* **Error bars.** The GP posterior variance of the chosen kernel, its amplitude (and a power of it)
  set so that the inner cross-validation residuals *of the same kind as the question* (rows, element
  pairs, elements, distances) fall within ±1σ in 68.3 % of cases and within ±2σ as close to 95.4 % as
  the power allows (:func:`calibrate_sigma`); ``interval95_`` widens σ to a 95 % half-width taken
  from the same residuals (their tails are heavier than a Gaussian's).

The kernel, for rows ``(A, B, g)`` (unit amplitude)::

    k = a(g) a(g') k_geo(g, g') [kap(A,A') kap(B,B') + kap(A,B') kap(B,A')] / 2 + β² s_A s_B s_A' s_B' e(d) e(d')
    kap(A, A') = s_A s_A' k_feat(A, A') [1 + λ k_prof(A, A')]
    k_feat     = exp(-(G_A - G_A')² / 2 l_g² - (m_A - m_A')² / 2 l_m²) x (1 if same row else 0.8)
    k_geo      = (1 - ε) [g = g'] + ε exp(-|d - d'| / 6 Å) x (1 if same layer class else 0.2)

with ``s_A`` the element's *activity* (learned from the J it takes part in, ``J ~ a(g) s_A s_B``),
``G`` the group, ``m`` the moment, ``e(d)`` 1 up to the farthest training distance and then the decay
of the scale line. Symmetric in the two impurities by construction.

Selection is nested and exact: every grid cell (element mode x geometry mode x α) is scored by
closed-form leave-one-out, leave-element-pair-out, leave-element-out (the left-out element
re-described as never seen: no profile, moment from the Anderson model fitted without it, the
activity of its magnetic class) or leave-distance-out (its scale from the line without it), see
:class:`~jijtutorial.kernels.DistinctGP`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..elements import IMPURITY_ELEMENTS
from ..protocols import BLOCK_KINDS, block_kind, protocol_of_blocks
from ._distinct_gp import DistinctGP, KroneckerGP, distinct_inputs
from ._element_tables import _learn_tables, _scale_line, _Tables, left_out_moments
from ._krr_path import group_blocks
from ._pair import SymmetricPairKRR
from ._pair_encoding import _EL, PairEncoding, encode_pairs
from ._pair_kernel import (
    ELEMENT_MODES,
    GEOMETRY_MODES,
    KERNEL_DEFAULTS,
    _grid_layout,
    _kronecker_factors,
    _pair_diag,
    _pair_kernel,
)
from ._sigma_calibration import TWO_SIGMA, calibrate_sigma

#: Inner selections :class:`PairGP` understands (``selection``): the block kinds of the protocols.
SELECTIONS = BLOCK_KINDS


class PairGP(RegressorMixin, BaseEstimator):
    """Gaussian-process regression of J on (element_i, element_j, geometry) for seen and unseen elements and distances.

    See the module docstring (:mod:`jijtutorial.kernels._pair_gp`) for the kernel. ``fit`` chooses
    the element mode, the geometry mode and the noise α by exact nested closed-form cross-validation
    of the kind ``selection`` says, and calibrates σ on the residuals of that same cross-validation.

    Input is a *pair table* (a DataFrame) with ``element_i``, ``element_j`` and the geometry
    (``sublattice_j``, ``distance``, ``layer`` as in :mod:`jijtutorial.datasets`, or the pair vector
    ``rx, ry, rz`` in Å); ``fit`` also reads the moments ``moment_i``, ``moment_j`` (μB) of the
    training rows. ``predict`` reads neither moments nor J.

    Parameters
    ----------
    selection : {'rows', 'pairs', 'element', 'distance'}
        The question the model is tuned and calibrated for: a random pair (leave-one-row-out), an
        unseen element pair (leave-one-pair-out, both orders and all distances), an unseen element
        (leave-one-element-out), an unseen distance (leave-one-geometry-out).
    element_modes : tuple of str
        Element similarities to choose from: ``'profile'`` (learned exchange profiles) and/or
        ``'features'`` (periodic table and moment only).
    geometry_modes : tuple of str
        ``'independent'`` (each geometry its own function) and/or ``'smooth'`` (scale a(g), smooth in
        distance within a layer class).
    alphas : tuple of float
        Noise variances to choose from, in units of the mean prior variance of the training inputs.
    activity : {'learned', 'moment'}
        Activity ``s_A`` of an element: learned from its couplings (``J ~ a(g) s_A s_B``) or
        ``m / (m + 0.1 μB)`` from its moment.
    activity_floor : float
        Smallest moment-based activity (dimensionless).
    unseen_moment : {'anderson', 'median'}
        Moment of an element without training rows: mean-field Anderson model of its d count, or the
        median of the seen elements (what SymPair-KRR does).
    bias : float
        Amplitude of the mean coupling term ``β s_A s_B`` (meV when the geometry scale is learned,
        dimensionless with ``'independent'`` geometries); 0 switches it off.
    calibration : {'power', 'ml'}
        σ from the cross-validation residuals (:func:`calibrate_sigma`), or the GP posterior scaled by
        the maximum-likelihood amplitude.

    Attributes
    ----------
    params_ : dict
        Chosen ``element_mode``, ``geometry_mode`` and ``alpha``.
    cv_mae_ : float
        Inner cross-validation MAE (meV) of the chosen cell.
    grid_scores_ : ndarray (n_cells, n_alphas)
        Inner cross-validation MAE (meV) of every cell (rows: element x geometry modes, in order).
    moments_ : dict
        Median |moment| (μB) of each training element.
    element_moments_ : ndarray (20,)
        Moment (μB) the kernel uses for each element: learned, or from the fallback if unseen; NaN for an
        element of :attr:`unknown_elements_`.
    unknown_elements_ : list of str
        Elements whose periodic-table row has no training element: their moment is not estimated
        (:class:`MomentModel` refuses to invent one), they resemble no seen element, and their
        predictions are flagged (``predict(..., return_beyond=True)``) with σ at least the spread of
        the training couplings at that geometry.
    geometry_rms_ : dict
        Geometry key -> root-mean-square training J (meV).
    activity_ : ndarray (20,)
        Activity ``s_A`` of each element (dimensionless, largest 1).
    seen_elements_ : list of str
        Elements with training rows.
    geometry_scale_ : dict
        Geometry key -> learned scale a(g) (meV; used with ``'smooth'`` geometries).
    scale_line_ : ndarray (3,)
        ``log a = c0 + c1 d + c2 sub`` (d in Å) for unseen geometries.
    sigma_scale_, sigma_power_ : float
        σ = ``sigma_scale_`` v^(``sigma_power_``/2) inside the range of the calibration variances.
    interval95_ : float
        Half-width of the ~95 % interval in units of σ (from the inner residuals; ≥ 2 for heavy tails).
    cv_residuals_ : ndarray (k,)
        Inner cross-validation residuals (meV) of the chosen cell (pooled over blocks).
    cv_std_ : ndarray (k,)
        Calibrated σ (meV) of those inner predictions.
    dual_coef_ : ndarray (m,)
        GP weights of the m distinct training inputs.
    """

    def __init__(
        self,
        selection: str = "rows",
        element_modes=("profile", "features"),
        geometry_modes=("independent", "smooth"),
        alphas=(0.003, 0.01, 0.03, 0.1),
        activity: str = "learned",
        activity_floor: float = 0.05,
        unseen_moment: str = "anderson",
        bias: float = 0.3,
        calibration: str = "power",
    ):
        self.selection = selection
        self.element_modes = element_modes
        self.geometry_modes = geometry_modes
        self.alphas = alphas
        self.activity = activity
        self.activity_floor = activity_floor
        self.unseen_moment = unseen_moment
        self.bias = bias
        self.calibration = calibration

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is a pair table (DataFrame), not a numeric array
        tags.input_tags.string = True
        return tags

    # -- checks ---------------------------------------------------------------------------------
    def _check_params(self):
        choices = {
            "selection": SELECTIONS,
            "activity": ("learned", "moment"),
            "unseen_moment": ("anderson", "median"),
            "calibration": ("power", "ml"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"PairGP: {name} must be one of {', '.join(map(repr, allowed))}, not {getattr(self, name)!r}.")
        for name, allowed in (("element_modes", ELEMENT_MODES), ("geometry_modes", GEOMETRY_MODES)):
            vals = tuple(getattr(self, name))
            if not vals or any(v not in allowed for v in vals):
                raise ValueError(
                    f"PairGP: {name} must be a non-empty tuple of {', '.join(map(repr, allowed))}, not {getattr(self, name)!r}."
                )
        alphas = np.atleast_1d(np.asarray(self.alphas, float))
        if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
            raise ValueError(f"PairGP: alphas must be positive numbers, not {self.alphas!r}.")
        if not (np.isfinite(self.bias) and self.bias >= 0):
            raise ValueError(f"PairGP: bias must be a non-negative number, not {self.bias!r}.")
        return alphas

    @staticmethod
    def _check_y(X, y) -> np.ndarray:
        y = SymmetricPairKRR._check_y(X, y)
        for c in ("moment_i", "moment_j"):
            if c not in X.columns:
                raise ValueError(f"fitting PairGP needs column {c!r} (training rows only).")
            m = pd.to_numeric(X[c], errors="coerce").to_numpy(float)
            if not np.all(np.isfinite(m)):
                k = int(np.flatnonzero(~np.isfinite(m))[0])
                raise ValueError(
                    f"training row {k}, column {c!r}: {X[c].iloc[k]} is not a finite moment (μB); "
                    f"fix or remove that pair (one NaN moment would make every prediction NaN)."
                )
        if not np.any(y):
            raise ValueError(
                f"all {len(y)} training J are 0 meV: the cross-validation residuals σ is calibrated on "
                f"would all be 0, and σ = 0 would claim every prediction exact. Fit on data with couplings."
            )
        return y

    # -- inner selection --------------------------------------------------------------------------
    @staticmethod
    def _block_kinds(enc: PairEncoding, blocks, kind: str) -> list:
        """What each block holds out: ('element', index), ('distance', geometry keys) or ('rows', None).

        ``kind`` is the selection's :func:`~jijtutorial.protocols.block_kind`: 'rows' and 'pairs' are
        predicted with the fit's own kernel, 'element' and 'distance' re-described as never seen.
        """
        if kind == "element":
            return [("element", _EL[str(lab)]) for lab in blocks.labels]
        if kind == "distance":
            return [("distance", tuple(np.unique(enc.geo[B]))) for B in blocks]
        if kind in ("rows", "pairs"):
            return [("rows", None)] * len(blocks)
        raise ValueError(f"PairGP: inner blocks of unknown kind {kind!r}; use one of {', '.join(BLOCK_KINDS)}.")

    # -- fit ----------------------------------------------------------------------------------------
    def fit(self, X, y, inner=None):
        """Fit on a training pair table ``X`` (with moments) and J values ``y`` (meV, shape (n,)).

        Parameters
        ----------
        X : pandas.DataFrame
            Pair table of the training rows.
        y : array-like (n,)
            J in meV.
        inner : None, array-like (n,) or InnerBlocks, optional
            Overrides ``selection``: one group label per row (leave-one-group-out) or
            :class:`~jijtutorial.kernels.InnerBlocks` (kind ``'element'``/``'distance'`` re-describe what
            a block holds as never seen). ``None``: the blocks of ``selection``.

        Returns
        -------
        self
        """
        from threadpoolctl import threadpool_limits

        alphas = self._check_params()
        y = self._check_y(X, y)
        with threadpool_limits(limits=1):  # small dense products: one BLAS thread is fastest (and fair on a shared machine)
            return self._fit(X, y, alphas, inner)

    def _fit(self, X, y, alphas, inner):
        enc = encode_pairs(X)
        first, inverse = distinct_inputs(enc.keys())
        enc_u = enc.take(first)
        if inner is None:  # the inner blocks of the rung whose question ``selection`` names
            inner = protocol_of_blocks(self.selection).inner_blocks(X)
        kind = block_kind(inner)
        blocks = group_blocks(inner)
        if blocks is not None and len(blocks) < 2:
            blocks = None  # one block: nothing to leave out against; fall back to leave-one-out
        kinds = blocks_u = None
        if blocks is not None:
            kinds = self._block_kinds(enc, blocks, kind)
            blocks_u = [np.unique(inverse[B]) for B in blocks]
        unseen_moments = self._left_out_moments(X, kinds)
        grid = _grid_layout(enc_u, inverse)
        cells = list(itertools.product(tuple(self.element_modes), tuple(self.geometry_modes)))
        scores = np.full((len(cells), len(alphas)), np.inf)
        cache: dict = {}
        best = None
        for c, (em, gm) in enumerate(cells):
            p = {
                **KERNEL_DEFAULTS,
                **ELEMENT_MODES[em],
                **GEOMETRY_MODES[gm],
                "activity": self.activity,
                "activity_floor": self.activity_floor,
                "unseen_moment": self.unseen_moment,
                "bias": float(self.bias),
            }
            tab = _learn_tables(X, enc, y, p, cache)
            tab.unseen_moments = unseen_moments
            kap = tab.kappa()
            a_u = tab.scale(enc_u)
            if grid is not None:  # a complete grid of pairs x geometries: K = K_P ⊗ K_G + u u^T
                factors = _kronecker_factors(enc_u, grid, tab, kap, a_u)
                kdiag = factors[3]
            else:
                K = _pair_kernel(enc_u, enc_u, tab, kap, a_u, a_u)
                kdiag = np.diag(K).copy()
            ref = float(np.mean(kdiag)) if np.mean(kdiag) > 0 else 1.0
            w_fit = np.full(len(kdiag), ref)  # noise of the mean: a fraction alpha of the mean prior variance
            w_var = kdiag + p["noise_floor"]  # noise of the error bars: relative to each input's own
            cross = self._cross(tab, enc_u, blocks_u, kinds) if kinds is not None else None
            eig = None
            for k, alpha in enumerate(alphas):
                try:
                    if grid is not None:
                        gp = KroneckerGP(factors[0], factors[1], y, inverse, alpha, w_fit, w_var, u=factors[2], eig=eig)
                        eig = gp.eig
                    else:
                        gp = DistinctGP(K, y, inverse, alpha, w_fit, w_var)
                except np.linalg.LinAlgError:
                    continue
                if blocks is None:
                    e, v, _ = gp.leave_one_row_out()
                else:
                    e, v, _ = gp.leave_block_out(blocks_u, blocks, cross, variance=False)
                scores[c, k] = float(np.mean(np.abs(e))) if len(e) else 0.0
                if best is None or scores[c, k] < best[0]:
                    best = (scores[c, k], gp, tab, (em, gm, float(alpha)), e, v, cross)
        if best is None:
            raise np.linalg.LinAlgError("PairGP: no grid cell gave a positive definite system; raise alphas.")
        mae, gp, tab, (em, gm, alpha), e, v, cross = best
        if blocks is not None:  # the variances of the chosen cell only
            e, v, _ = gp.leave_block_out(blocks_u, blocks, cross, variance=True)
        self._calibrate(gp, e, v)
        gp._H = gp._Li = gp._LiT = None  # not needed to predict (the Cholesky factor is)
        self.params_ = {"element_mode": em, "geometry_mode": gm, "alpha": alpha}
        self.cv_mae_ = float(mae)
        self.grid_scores_ = scores
        self.gp_ = gp
        self.tables_ = tab
        self.train_encoding_ = enc_u
        self.dual_coef_ = gp.c
        self.moments_ = cache["moments"][0]
        self.element_moments_ = tab.m.copy()
        self.unknown_elements_ = [IMPURITY_ELEMENTS[i] for i in np.flatnonzero(~np.isfinite(tab.m))]
        _, g = np.unique(enc.geo, return_inverse=True)
        rms = np.sqrt(np.bincount(g, weights=y**2) / np.bincount(g))
        self.geometry_rms_ = {str(k): float(v) for k, v in zip(np.unique(enc.geo), rms)}
        self._rms_points = (np.array([enc.dist[enc.geo == k][0] for k in self.geometry_rms_]), rms)
        self.activity_ = tab.s.copy()
        self.seen_elements_ = [IMPURITY_ELEMENTS[i] for i in np.flatnonzero(tab.known)]
        self.geometry_scale_ = {g: v[2] for g, v in tab.geo_points.items()}
        self.scale_line_ = tab.line.copy()
        return self

    def _left_out_moments(self, X, kinds) -> dict:
        """Moment of each element left out by an inner block (:func:`~jijtutorial.kernels._element_tables.left_out_moments`)."""
        return left_out_moments(X, kinds, self.unseen_moment)

    @staticmethod
    def _cross(tab: _Tables, enc_u: PairEncoding, blocks_u, kinds) -> list:
        """Per block, the kernel seen from it when what it holds is described as never seen (None: own kernel)."""
        out = []
        m = len(enc_u)
        kap = None
        for U, (kind, what) in zip(blocks_u, kinds):
            if kind == "rows":
                out.append(None)
                continue
            keep = np.ones(m, bool)
            keep[U] = False
            eU, eT = enc_u.take(U), enc_u.take(np.flatnonzero(keep))
            if kind == "element":
                kap_b = tab.kappa(unseen=(what,))
                aU = tab.scale(eU)
            elif kind == "distance":
                kap_b = kap = tab.kappa() if kap is None else kap
                line = _scale_line(tab.geo_points, exclude=what)
                aU = np.exp(line[0] + line[1] * eU.dist + line[2] * eU.sub) if tab.p["scale"] != "none" else np.ones(len(U))
            else:
                raise ValueError(f"PairGP: a block of unknown kind {kind!r} (never silently treated as another).")
            aT = tab.scale(eT)
            KUT = _pair_kernel(eU, eT, tab, kap_b, aU, aT)
            kUU = _pair_diag(eU, tab, kap_b, aU)
            out.append((KUT, kUU, kUU + tab.p["noise_floor"]))
        return out

    def _calibrate(self, gp: DistinctGP, e, v):
        e = np.asarray(e, float)
        v = np.maximum(np.asarray(v, float), 1e-300)
        if self.calibration == "ml":
            s2, _ = gp.log_marginal_amplitude()
            self.sigma_scale_, self.sigma_power_ = float(np.sqrt(s2)), 1.0
        else:
            if len(e) and not np.any(e):
                raise ValueError(
                    "PairGP: every inner cross-validation residual is 0, so σ cannot be calibrated (it "
                    "would be 0: an exact answer claimed for every prediction). The training J leave "
                    "nothing to check the model against; fit on more varied data."
                )
            self.sigma_scale_, self.sigma_power_ = calibrate_sigma(e, v)
        self.variance_range_ = (float(np.quantile(v, 0.01)), float(np.quantile(v, 0.99))) if len(v) else (1e-300, np.inf)
        self.cv_residuals_ = e
        self.cv_std_ = self._sigma(v)
        z = np.abs(e) / np.maximum(self.cv_std_, 1e-300)
        self.interval95_ = max(2.0, float(np.quantile(z, TWO_SIGMA))) if len(z) else 2.0

    def _sigma(self, var) -> np.ndarray:
        """Calibrated σ (meV) from unit-amplitude posterior variances: ``s v^(γ/2)`` inside the calibrated range."""
        var = np.maximum(np.asarray(var, float), 0.0)
        lo, hi = self.variance_range_
        # outside the range the calibration was fitted on, σ follows the GP's own shape (γ = 1)
        return self.sigma_scale_ * np.clip(var, lo, hi) ** (0.5 * (self.sigma_power_ - 1.0)) * np.sqrt(var)

    # -- predict ------------------------------------------------------------------------------------
    def predict(self, X, return_std: bool = False, unseen_geometries=(), return_beyond: bool = False):
        """Predicted J (meV) of the pairs of ``X``, and its calibrated standard deviation.

        Parameters
        ----------
        X : pandas.DataFrame
            Pair table (only elements and geometry are read).
        return_std : bool
            Also return σ (meV): ±σ holds the true J for about 68 % of pairs of the kind the model was
            calibrated for (``selection``); ``interval95_ * σ`` is the ~95 % half-width.
        unseen_geometries : iterable of str
            Geometry keys to treat as never computed (their scale from the line), e.g. to see what the
            model would say without a shell it was trained on.
        return_beyond : bool
            Also return the flag ``beyond_data``: True for a pair with an element of
            :attr:`unknown_elements_` (no training element in its periodic-table row, so no moment and
            no similarity to any seen element). Such a J is the mean-coupling term alone and its σ is
            at least the root-mean-square J of the training pairs at that geometry (the nearest seen
            one in distance): the spread of the couplings themselves, since nothing narrows it.

        Returns
        -------
        mean : ndarray (n,)
        std : ndarray (n,), if ``return_std``
        beyond_data : ndarray of bool (n,), if ``return_beyond``
        """
        from threadpoolctl import threadpool_limits

        check_is_fitted(self, "dual_coef_")
        enc = encode_pairs(X)
        with threadpool_limits(limits=1):
            out = self._predict_encoding(enc, return_std, tuple(unseen_geometries))
        if not return_beyond:
            return out
        out = out if isinstance(out, tuple) else (out,)
        return (*out, self._beyond(enc))

    def _beyond(self, enc: PairEncoding) -> np.ndarray:
        """Rows with an element whose moment is unknown (its row has no training element), shape (n,)."""
        free = ~np.isfinite(self.tables_.m)
        return free[enc.a] | free[enc.b]

    def _spread(self, enc: PairEncoding) -> np.ndarray:
        """Root-mean-square training J (meV) at each row's geometry (the nearest seen geometry in distance)."""
        rms = np.array([self.geometry_rms_.get(g, np.nan) for g in enc.geo])
        d, r = self._rms_points
        near = r[np.argmin(np.abs(enc.dist[:, None] - d[None, :]), axis=1)] if len(d) else np.zeros(len(enc))
        return np.where(np.isfinite(rms), rms, near)

    def _predict_encoding(self, enc: PairEncoding, return_std: bool = False, unseen=(), chunk: int = 4096):
        tab, gp, enc_u = self.tables_, self.gp_, self.train_encoding_
        # (A, B, g) and (B, A, g) have identical predictions: compute each distinct input once
        first, inv = distinct_inputs(enc.keys())
        q = enc.take(first)
        kap = tab.kappa()
        a_u = tab.scale(enc_u)
        mu = np.empty(len(q))
        sd = np.empty(len(q))
        for lo in range(0, len(q), chunk):
            part = q.take(np.arange(lo, min(lo + chunk, len(q))))
            a = tab.scale(part, unseen=unseen)
            Ks = _pair_kernel(part, enc_u, tab, kap, a, a_u)
            if return_std:
                kss = _pair_diag(part, tab, kap, a)
                mu[lo : lo + len(part)], var = gp.predict(Ks, kss, kss + tab.p["noise_floor"])
                sd[lo : lo + len(part)] = self._sigma(var)
                beyond = self._beyond(part)
                if beyond.any():  # nothing narrows these: σ at least the spread of the couplings themselves
                    sd[lo : lo + len(part)][beyond] = np.maximum(
                        sd[lo : lo + len(part)][beyond], self._spread(part.take(np.flatnonzero(beyond)))
                    )
            else:
                mu[lo : lo + len(part)] = gp.predict(Ks)
        if return_std:
            return mu[inv], sd[inv]
        return mu[inv]

    @property
    def element_similarity(self) -> pd.DataFrame:
        """The fitted element kernel ``kap`` (activities included) as a 20 x 20 DataFrame."""
        check_is_fitted(self, "dual_coef_")
        return pd.DataFrame(self.tables_.kappa(), index=list(IMPURITY_ELEMENTS), columns=list(IMPURITY_ELEMENTS))
