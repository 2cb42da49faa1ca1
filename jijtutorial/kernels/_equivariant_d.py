"""EquivariantDGP: the Dzyaloshinskii–Moriya vector D of a pair, equivariant under the crystal's symmetry by construction.

J is a scalar: the same for every symmetry-equivalent bond, the same seen from i or from j. D is an
*axial vector*: it turns with the crystal's operations (``D -> det(R) R D``), changes sign when the
two impurities are exchanged (``D_ji = -D_ij``) and vanishes for two equal impurities on a bond
whose midpoint is an inversion centre (every bond between the two Bi sublattices of Bi2Te3). No
kernel on invariant inputs can represent that: fitted per Cartesian component it gives equivalent
bonds the same D instead of rotated copies, and (A, B) and (B, A) the same D instead of opposite ones.

**The choice: the components the bond's own symmetry allows, in the bond's frame, each a scalar.**
For each class of equivalent bonds (:func:`jijtutorial.geometry.bond_class`) take its
representative r0. The operations that keep the bond confine D(A, B, r0) to the fixed space V of
``{det(R) R}`` -- a line perpendicular to a mirror through the bond, nothing on the three-fold
axis -- and those that exchange i and j split V into parts symmetric and antisymmetric in the two
elements (:meth:`jijtutorial.geometry.BondSymmetry.allowed_basis`, orthonormal, aligned with the bond
frame ``t = ẑ × r̂``, ``rho``, ``z``). So

    D(A, B, r0) = sum_k c_k(A, B) e_k,     c_k(B, A) = s_k c_k(A, B),   s_k in {+1, -1, 0 (unrelated)},

and a bond v of the class gets ``D(A', B', v) = M D(A, B, r0)`` with the class's orthogonal map M
(elements exchanged if the operation exchanges i and j). The coefficients c_k are scalars that do not
change under any operation: each is learned by a Gaussian process on the element pair with the
pair kernel of :class:`~jijtutorial.kernels.PairGP` (element similarity ``kap`` from the periodic
table, the moments and the learned profiles, activities learned from |D|),

    k_s((A, B), (A', B')) = a_k² [kap(A, A') kap(B, B') + s kap(A, B') kap(B, A')] / 2    (s = ±1)
    k_0((A, B), (A', B')) = a_k² kap(A, A') kap(B, B')                                     (s = 0)

-- symmetric, antisymmetric (zero for A = A) or ordered in the two elements, with a scale ``a_k``
per channel (bond class x basis vector). Equivariance, ``D_ji = -D_ij`` and ``D = 0`` for equal
impurities on an inversion-centred bond then hold exactly, for every prediction, whatever was
learned: they are properties of the construction, not of the fit (the tests check them to 1e-12).

Why not a vector-valued GP with an equivariant matrix kernel? On the JuKKR data each bond class has
one vector, so the two are the same model written differently; the basis makes the allowed
subspace explicit (0 to 3 numbers per bond instead of 3 correlated ones), makes the symmetry-
forbidden part of the training data visible (it is projected out: the raw JuKKR rows carry up to
3.4 meV of it on inversion-centred bonds), and reuses the scalar GP machinery (closed-form nested
cross-validation, calibrated σ) unchanged. Channels are independent: D at a bond class the data
never computed is 0 with its prior σ (the channel scale from a line in distance through the seen
ones); the model does not pretend to know its direction.

Error bars: each coefficient's GP variance is calibrated on the inner cross-validation residuals of
the coefficients (:func:`~jijtutorial.kernels.calibrate_sigma`, the same kind of held-out question as
the outer one); the Cartesian covariance ``M (sum_k σ_k² e_k e_kᵀ) Mᵀ`` gives σ per component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..elements import IMPURITY_ELEMENTS
from ..protocols import BLOCK_KINDS, InnerBlocks, block_kind, protocol_of_blocks
from ..targets import DChannels, decompose
from ._distinct_gp import DistinctGP
from ._element_tables import _learn_tables, _scale_line, left_out_moments
from ._pair_encoding import encode_pairs
from ._pair_kernel import ELEMENT_MODES, GEOMETRY_MODES, KERNEL_DEFAULTS
from ._sigma_calibration import calibrate_sigma

_EL = {e: i for i, e in enumerate(IMPURITY_ELEMENTS)}
_NE = len(IMPURITY_ELEMENTS)
#: Inner selections :class:`EquivariantDGP` understands: the block kinds of the protocols.
D_SELECTIONS = BLOCK_KINDS


def _pair_kernel(lo1, hi1, lo2, hi2, kap, s) -> np.ndarray:
    """The unit-amplitude kernel between element pairs (lo, hi): symmetric (s = +1), antisymmetric (-1) or ordered (0)."""
    direct = kap[np.ix_(lo1, lo2)] * kap[np.ix_(hi1, hi2)]
    if s == 0:
        return direct
    return 0.5 * (direct + s * kap[np.ix_(lo1, hi2)] * kap[np.ix_(hi1, lo2)])


def _pair_diag(lo, hi, kap, s) -> np.ndarray:
    d = kap[lo, lo] * kap[hi, hi]
    if s == 0:
        return d
    return np.maximum(0.5 * (d + s * kap[lo, hi] * kap[hi, lo]), 0.0)


#: Correlation between the channels of one family: each on its own, or smooth in distance (as PairGP's geometries).
D_GEOMETRY_MODES = {"independent": 0.0, "smooth": 0.8}
#: Length (Å) of the decay of the correlation between channels, and its factor between layer classes.
_GEOMETRY_LENGTH, _LAYER_SIMILARITY = 6.0, 0.2
#: Noise floor of the error bars, relative to a channel's mean prior variance.
_NOISE_FLOOR = 1e-4


@dataclass
class _Family:
    """Channels that share a bond-frame label, a parity and a sublattice: one GP over their element pairs.

    ``inputs`` (m, 3): distinct (channel, lo, hi); ``obs``: observation indices; ``inv``: observation -> input.
    """

    key: tuple
    inputs: np.ndarray
    obs: np.ndarray
    inv: np.ndarray


def _families(ch: DChannels) -> dict:
    """The channel families of a decomposition: key (label, parity, sublattice) -> channels."""
    out: dict = {}
    for c in range(len(ch.channel)):
        out.setdefault((ch.label[c], int(ch.parity[c]), float(ch.sublattice[c])), []).append(c)
    return out


def _training_families(ch: DChannels) -> list:
    fams = []
    for key, chans in _families(ch).items():
        obs = np.flatnonzero(np.isin(ch.obs_channel, chans))
        if not len(obs):
            continue
        triple = np.column_stack([ch.obs_channel[obs], ch.obs_lo[obs], ch.obs_hi[obs]])
        inputs, inv = np.unique(triple, axis=0, return_inverse=True)
        fams.append(_Family(key, inputs, obs, inv.reshape(-1)))
    return fams


class EquivariantDGP(RegressorMixin, BaseEstimator):
    """Gaussian-process regression of the DM vector D, equivariant under the crystal's symmetry by construction.

    See the module docstring (:mod:`jijtutorial.kernels._equivariant_d`) for the construction and the
    choice. Input: a pair table (DataFrame) with ``element_i``, ``element_j`` and the pair vector
    ``rx, ry, rz`` (Å, from i on an upper Bi site); ``fit`` also reads the moments ``moment_i``,
    ``moment_j`` (μB) of the training rows. ``y``: D (meV), shape (n, 3).

    Parameters
    ----------
    selection : {'rows', 'pairs', 'element', 'distance'}
        The inner cross-validation that chooses the element mode and α and calibrates σ (as
        :class:`~jijtutorial.kernels.PairGP`).
    element_modes : tuple of str
        ``'profile'`` and/or ``'features'`` (see PairGP).
    alphas : tuple of float
        Noise variances to choose from, relative to each channel's mean prior variance.
    activity, activity_floor, unseen_moment : as :class:`~jijtutorial.kernels.PairGP` (activities learned from |D|).

    Attributes
    ----------
    params_ : dict
        Chosen ``element_mode`` and ``alpha``.
    cv_mae_ : float
        Inner cross-validation MAE of |D_pred - D| (meV, the allowed part of D) of the chosen cell.
    grid_scores_ : ndarray (n_modes, n_alphas)
    channels_ : jijtutorial.targets.DChannels
        The training rows decomposed onto the allowed D.
    channel_scale_ : ndarray (n_channels,)
        Scale ``a_k`` of each channel (meV).
    forbidden_ : ndarray (n,)
        |D - D_allowed| of each training row (meV): the part of the training D the symmetry forbids.
    sigma_scale_, sigma_power_, interval95_ : float
        Calibration of σ (see :func:`~jijtutorial.kernels.calibrate_sigma`).
    """

    def __init__(
        self,
        selection: str = "rows",
        element_modes=("profile", "features"),
        geometry_modes=("independent", "smooth"),
        alphas=(0.01, 0.03, 0.1, 0.3),
        activity: str = "learned",
        activity_floor: float = 0.05,
        unseen_moment: str = "anderson",
    ):
        self.selection = selection
        self.element_modes = element_modes
        self.geometry_modes = geometry_modes
        self.alphas = alphas
        self.activity = activity
        self.activity_floor = activity_floor
        self.unseen_moment = unseen_moment

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- checks -----------------------------------------------------------------------------------
    def _check_params(self) -> np.ndarray:
        choices = {"selection": D_SELECTIONS, "activity": ("learned", "moment"), "unseen_moment": ("anderson", "median")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"EquivariantDGP: {name} must be one of {', '.join(map(repr, allowed))}, not {getattr(self, name)!r}."
                )
        modes = tuple(self.element_modes)
        if not modes or any(m not in ELEMENT_MODES for m in modes):
            raise ValueError(
                f"EquivariantDGP: element_modes must be a non-empty tuple of "
                f"{', '.join(map(repr, ELEMENT_MODES))}, not {self.element_modes!r}."
            )
        gmodes = tuple(self.geometry_modes)
        if not gmodes or any(m not in D_GEOMETRY_MODES for m in gmodes):
            raise ValueError(
                f"EquivariantDGP: geometry_modes must be a non-empty tuple of "
                f"{', '.join(map(repr, D_GEOMETRY_MODES))}, not {self.geometry_modes!r}."
            )
        alphas = np.atleast_1d(np.asarray(self.alphas, float))
        if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
            raise ValueError(f"EquivariantDGP: alphas must be positive numbers, not {self.alphas!r}.")
        return alphas

    @staticmethod
    def _check_y(X, y) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"EquivariantDGP takes a pair table (pandas DataFrame), not {type(X).__name__}.")
        if len(X) == 0:
            raise ValueError("the pair table has no rows; fitting needs at least one pair with its D.")
        y = np.asarray(y, dtype=float)
        if y.shape != (len(X), 3):
            raise ValueError(
                f"y must hold one D vector (Dx, Dy, Dz in meV) per row of X, shape ({len(X)}, 3); got shape {y.shape}."
            )
        bad = ~np.isfinite(y).all(axis=1)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"y[{k}] = {y[k]} is not a finite D vector (meV); remove or fix that pair.")
        for c in ("moment_i", "moment_j"):
            if c not in X.columns:
                raise ValueError(f"fitting EquivariantDGP needs column {c!r} (training rows only).")
        if not np.any(y):
            raise ValueError(
                f"all {len(y)} training D vectors are 0: there is nothing to learn and no residual to "
                "calibrate σ on (σ = 0 would claim every prediction exact). Fit on data with D."
            )
        return y

    # -- inner blocks -----------------------------------------------------------------------------
    def _blocks(self, X, enc, inner):
        """(row blocks, kinds): None for leave-one-row-out, else a list of row arrays and what each holds out.

        Without ``inner`` the blocks are those of the rung whose question ``selection`` names
        (:func:`jijtutorial.protocols.protocol_of_blocks`).
        """
        if inner is None:
            inner = protocol_of_blocks(self.selection).inner_blocks(X)
        kind = block_kind(inner)
        if kind == "rows" and not isinstance(inner, InnerBlocks):
            return None, None
        if isinstance(inner, InnerBlocks):
            blocks = [np.asarray(b, int) for b in inner]
        else:
            labels = np.asarray(inner)
            if len(labels) != len(enc):
                raise ValueError(f"inner: {len(labels)} group labels for {len(enc)} training rows.")
            order = np.argsort(labels, kind="stable")
            blocks = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
        if kind == "element":
            kinds = [("element", _EL[str(lab)]) for lab in inner.labels]
        elif kind == "distance":
            kinds = [("distance", tuple(np.unique(enc.geo[b]))) for b in blocks]
        else:
            kinds = [("rows", None)] * len(blocks)
        return blocks, kinds

    # -- fit --------------------------------------------------------------------------------------
    def fit(self, X, y, inner=None):
        """Fit on a training pair table ``X`` (with vectors and moments) and D vectors ``y`` (meV, (n, 3)).

        ``inner`` overrides ``selection`` as in :meth:`PairGP.fit`: None, one group label per row, or
        :class:`~jijtutorial.protocols.InnerBlocks` (kinds 'element'/'distance' re-describe what a block
        holds as never seen).
        """
        from threadpoolctl import threadpool_limits

        alphas = self._check_params()
        y = self._check_y(X, y)
        with threadpool_limits(limits=1):
            return self._fit(X.reset_index(drop=True), y, alphas, inner)

    def _fit(self, X, D, alphas, inner):
        enc = encode_pairs(X)
        ch = decompose(X)
        yobs = ch.coefficients(D)
        allowed = ch.assemble(yobs, len(X))  # the allowed part of each row's D (what the model can represent)
        self.forbidden_ = np.linalg.norm(D - allowed, axis=1)
        blocks, kinds = self._blocks(X, enc, inner)
        if blocks is not None and len(blocks) < 2:
            blocks = kinds = None
        left_out = left_out_moments(X, kinds, self.unseen_moment)
        fams = _training_families(ch)
        layer = np.array([ch.classes[k].layer_class for k, _ in ch.channel])
        cache: dict = {}
        modes = tuple(self.element_modes)
        gmodes = tuple(self.geometry_modes)
        scores = np.full((len(modes) * len(gmodes), len(alphas)), np.inf)
        best = None
        y_abs = np.linalg.norm(allowed, axis=1)
        for e, em in enumerate(modes):
            p = {
                **KERNEL_DEFAULTS,
                **ELEMENT_MODES[em],
                **GEOMETRY_MODES["independent"],
                "activity": self.activity,
                "activity_floor": self.activity_floor,
                "unseen_moment": self.unseen_moment,
                "bias": 0.0,
            }
            tab = _learn_tables(X, enc, y_abs, p, cache)
            tab.unseen_moments = left_out
            kap = tab.kappa()
            scale, points = self._channel_scales(ch, yobs, kap)
            for g, gm in enumerate(gmodes):
                model = _Kernel(ch.distance, layer, ch.parity, scale, D_GEOMETRY_MODES[gm])
                cell = e * len(gmodes) + g
                for a, alpha in enumerate(alphas):
                    try:
                        gps = [self._family_gp(f, yobs, kap, model, float(alpha)) for f in fams]
                    except np.linalg.LinAlgError:
                        continue
                    cv = self._inner_cv(ch, fams, gps, blocks, kinds, tab, model, points, variance=False)
                    score = self._vector_mae(cv[0], cv[2], cv[3])
                    scores[cell, a] = score
                    if best is None or score < best[0]:
                        best = (score, em, gm, float(alpha), tab, kap, model, points, gps)
        if best is None:
            raise np.linalg.LinAlgError("EquivariantDGP: no grid cell gave a positive definite system; raise alphas.")
        score, em, gm, alpha, tab, kap, model, points, gps = best
        e_obs, v_obs, _, _ = self._inner_cv(ch, fams, gps, blocks, kinds, tab, model, points, variance=True)
        for gp in gps:  # not needed to predict (the Cholesky factor is), formed again if a method asks
            gp._H = gp._Li = gp._LiT = None
        self.sigma_scale_, self.sigma_power_ = calibrate_sigma(e_obs, v_obs)
        v = np.maximum(v_obs, 1e-300)
        self.variance_range_ = (float(np.quantile(v, 0.01)), float(np.quantile(v, 0.99))) if len(v) else (1e-300, np.inf)
        sd = self._sigma(v)
        z = np.abs(e_obs) / np.maximum(sd, 1e-300)
        self.interval95_ = max(2.0, float(np.quantile(z, 0.9545))) if len(z) else 2.0
        self.cv_residuals_ = e_obs
        self.cv_std_ = sd
        self.params_ = {"element_mode": em, "geometry_mode": gm, "alpha": alpha}
        self.cv_mae_ = float(score)
        self.grid_scores_ = scores
        self.channels_ = ch
        self.channel_scale_ = model.scale
        self.scale_line_ = _scale_line(points)
        self.tables_ = tab
        self.kappa_ = kap
        self.kernel_ = model
        self.families_ = fams
        self.gps_ = gps
        return self

    @staticmethod
    def _channel_scales(ch: DChannels, yobs, kap):
        """Scale a_k (meV) of each channel, ``a² = sum y² / sum k_unit``, and the points of the line in distance.

        Channels without data take their scale from ``log a = c0 + c1 d + c2 sub`` through the others
        (as PairGP's geometries). Returns (scales (n_channels,), points {channel: (d, sub, a)}).
        """
        a = np.full(len(ch.channel), np.nan)
        points = {}
        for c in range(len(ch.channel)):
            obs = np.flatnonzero(ch.obs_channel == c)
            if not len(obs):
                continue
            kd = _pair_diag(ch.obs_lo[obs], ch.obs_hi[obs], kap, ch.parity[c])
            a[c] = max(float(np.sqrt(np.sum(yobs[obs] ** 2) / max(np.sum(kd), 1e-300))), 1e-6)
            points[c] = (float(ch.distance[c]), float(ch.sublattice[c]), a[c])
        line = _scale_line(points)
        missing = ~np.isfinite(a)
        a[missing] = np.exp(line[0] + line[1] * ch.distance[missing] + line[2] * ch.sublattice[missing])
        return a, points

    @staticmethod
    def _family_gp(f: _Family, yobs, kap, model, alpha) -> DistinctGP:
        K = model(f.inputs, f.inputs, kap)
        kd = np.diag(K).copy()
        ref = model.channel_reference(f.inputs, kd)
        return DistinctGP(K, yobs[f.obs], f.inv, alpha, ref, kd + _NOISE_FLOOR * ref)

    def _inner_cv(self, ch, fams, gps, blocks, kinds, tab, model, points, variance: bool):
        """Inner CV of the coefficients: residuals (meV), posterior variances (meV²), and each one's row and block.

        Leave-one-row-out is exact per family: a row has at most one observation in a family (one per
        basis vector of its class, and a class's basis vectors differ in label or parity). An
        'element' block re-describes the element as never seen; a 'distance' block the bond class as
        never computed (its channels' scale from the line through the other classes).
        """
        res, var, rows, blk = [], [], [], []
        kap_cache: dict = {}
        for f, gp in zip(fams, gps):
            if blocks is None:
                e, v, r = gp.leave_one_row_out()
                res.append(e)
                var.append(v)
                rows.append(ch.obs_row[f.obs[r]])
                blk.append(ch.obs_row[f.obs[r]])  # each row its own block
                continue
            local_of_row: dict = {}
            for k, o in enumerate(f.obs):
                local_of_row.setdefault(int(ch.obs_row[o]), []).append(k)
            blocks_u, row_blocks, cross, ids = [], [], [], []
            ref = gp.w
            for b, (B, (kind, what)) in enumerate(zip(blocks, kinds)):
                local = np.array(sorted(k for r in B for k in local_of_row.get(int(r), ())), int)
                if not len(local):
                    continue
                U = np.unique(f.inv[local])
                blocks_u.append(U)
                row_blocks.append(local)
                ids.append(b)
                if kind == "rows":
                    cross.append(None)
                    continue
                keep = np.ones(len(f.inputs), bool)
                keep[U] = False
                IU, IT = f.inputs[U], f.inputs[keep]
                if kind == "element":
                    if what not in kap_cache:
                        kap_cache[what] = tab.kappa(unseen=(what,))
                    KUT = model(IU, IT, kap_cache[what])
                    kUU = model.diag(IU, kap_cache[what])
                elif kind == "distance":
                    held = {c for c in np.unique(IU[:, 0]) if ch.classes[ch.channel[c][0]].geometry in what}
                    line = _scale_line({c: v for c, v in points.items() if c not in held})
                    scale = model.scale.copy()
                    for c in held:
                        scale[c] = np.exp(line[0] + line[1] * ch.distance[c] + line[2] * ch.sublattice[c])
                    KUT = model.with_scale(scale)(IU, IT, tab.kappa())
                    kUU = model.with_scale(scale).diag(IU, tab.kappa())
                else:
                    raise ValueError(f"EquivariantDGP: unknown block kind {kind!r}.")
                cross.append((KUT, kUU, kUU + _NOISE_FLOOR * ref[U]))
            if not blocks_u:
                continue
            e, v, r = gp.leave_block_out(blocks_u, row_blocks, cross, variance=variance)
            res.append(e)
            var.append(v)
            rows.append(ch.obs_row[f.obs[r]])
            blk.append(np.repeat(np.array(ids, int), [len(x) for x in row_blocks]))
        cat = lambda parts, dt=float: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
        return cat(res), cat(var), cat(rows, int), cat(blk, int)

    @staticmethod
    def _vector_mae(e_obs, o_rows, o_block) -> float:
        """Mean over (block, row) of |D_pred - D| from the coefficient residuals (orthonormal basis)."""
        if not len(e_obs):
            return 0.0
        key = o_block.astype(np.int64) * (int(o_rows.max()) + 1) + o_rows
        _, inv = np.unique(key, return_inverse=True)
        sq = np.bincount(inv.reshape(-1), weights=e_obs**2)
        return float(np.mean(np.sqrt(sq)))

    def _sigma(self, var) -> np.ndarray:
        """Calibrated σ (meV) of a coefficient from its GP posterior variance (meV²): ``s v^(γ/2)`` in the calibrated range."""
        var = np.maximum(np.asarray(var, float), 0.0)
        lo, hi = self.variance_range_
        return self.sigma_scale_ * np.clip(var, lo, hi) ** (0.5 * (self.sigma_power_ - 1.0)) * np.sqrt(var)

    # -- predict ----------------------------------------------------------------------------------
    def predict(self, X, return_std: bool = False, return_cov: bool = False):
        """D (meV, (n, 3)) of the pairs of ``X`` (element_i, element_j, rx, ry, rz in Å), and σ per component.

        Parameters
        ----------
        X : pandas.DataFrame
            Pair table: elements and pair vectors only are read.
        return_std : bool
            Also return σ (meV, (n, 3)): the calibrated standard deviation of each Cartesian component.
        return_cov : bool
            Also return the Cartesian covariance (meV², (n, 3, 3)), which turns with the bond as D does.

        Returns
        -------
        mean : ndarray (n, 3)
        std : ndarray (n, 3), if ``return_std``; cov : ndarray (n, 3, 3), if ``return_cov``
        """
        from threadpoolctl import threadpool_limits

        check_is_fitted(self, "gps_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"EquivariantDGP takes a pair table (pandas DataFrame), not {type(X).__name__}.")
        with threadpool_limits(limits=1):
            return self._predict(X.reset_index(drop=True), return_std, return_cov)

    def _predict(self, X, return_std, return_cov):
        fit = self.channels_
        q = decompose(X, fit.classes)
        n_fit = len(fit.channel)
        line = self.scale_line_
        # the query's channels: those of the fit keep their number and scale; new ones take the line's
        scale = np.concatenate(
            [self.channel_scale_, np.exp(line[0] + line[1] * q.distance[n_fit:] + line[2] * q.sublattice[n_fit:])]
        )
        layer = np.array([q.classes[k].layer_class for k, _ in q.channel])
        model = _Kernel(q.distance, layer, q.parity, scale, self.kernel_.mixing)
        trained = {f.key: (f, gp) for f, gp in zip(self.families_, self.gps_)}
        kap = self.kappa_
        mu_obs = np.zeros(len(q.obs_row))
        var_obs = np.zeros(len(q.obs_row))
        for key, chans in _families(q).items():
            sel = np.flatnonzero(np.isin(q.obs_channel, chans))
            if not len(sel):
                continue
            IQ = np.column_stack([q.obs_channel[sel], q.obs_lo[sel], q.obs_hi[sel]])
            kss = model.diag(IQ, kap)
            ref = scale[IQ[:, 0]] ** 2
            if key in trained:
                f, gp = trained[key]
                mu, v = gp.predict(model(IQ, f.inputs, kap), kss, kss + _NOISE_FLOOR * ref)
            else:  # nothing learned for this family: the prior
                mu, v = np.zeros(len(sel)), kss * (1 + self.params_["alpha"])
            mu_obs[sel] = mu
            var_obs[sel] = self._sigma(v) ** 2
        n = len(X)
        mean = q.assemble(mu_obs, n)  # D = M sum_k sign c_k e_k
        if not (return_std or return_cov):
            return mean
        cov_rep = np.zeros((n, 3, 3))
        e = q.basis[q.obs_channel]
        np.add.at(cov_rep, q.obs_row, var_obs[:, None, None] * e[:, :, None] * e[:, None, :])
        cov = np.einsum("nab,nbc,ndc->nad", q.maps, cov_rep, q.maps)
        out = [mean]
        if return_std:
            out.append(np.sqrt(np.maximum(np.einsum("naa->na", cov), 0.0)))
        if return_cov:
            out.append(cov)
        return tuple(out)


class _Kernel:
    """The kernel between channel observations (channel, lo, hi) of one family.

    ``k = a_c a_c' k_geo(c, c') k_s((lo, hi), (lo', hi'))`` with ``k_geo = (1 - ε) [c = c'] + ε exp(-|d - d'|/6 Å)
    x (1 if same layer class else 0.2)`` (ε = ``mixing``) and the pair kernel of the family's parity s.
    """

    def __init__(self, distance, layer, parity, scale, mixing: float):
        self.distance = np.asarray(distance, float)
        self.layer = np.asarray(layer)
        self.parity = np.asarray(parity, int)
        self.scale = np.asarray(scale, float)
        self.mixing = float(mixing)

    def with_scale(self, scale) -> "_Kernel":
        return _Kernel(self.distance, self.layer, self.parity, scale, self.mixing)

    def geometry(self, c1, c2) -> np.ndarray:
        same = (c1[:, None] == c2[None, :]).astype(float)
        if self.mixing <= 0:
            return same
        near = np.exp(-np.abs(self.distance[c1][:, None] - self.distance[c2][None, :]) / _GEOMETRY_LENGTH)
        near *= np.where(self.layer[c1][:, None] == self.layer[c2][None, :], 1.0, _LAYER_SIMILARITY)
        return (1 - self.mixing) * same + self.mixing * near

    def __call__(self, I1, I2, kap) -> np.ndarray:
        s = int(self.parity[I1[0, 0]]) if len(I1) else 0
        K = _pair_kernel(I1[:, 1], I1[:, 2], I2[:, 1], I2[:, 2], kap, s)
        K *= self.geometry(I1[:, 0], I2[:, 0])
        K *= self.scale[I1[:, 0]][:, None] * self.scale[I2[:, 0]][None, :]
        return K

    def diag(self, I, kap) -> np.ndarray:
        s = int(self.parity[I[0, 0]]) if len(I) else 0
        return self.scale[I[:, 0]] ** 2 * _pair_diag(I[:, 1], I[:, 2], kap, s)

    def channel_reference(self, inputs, kd) -> np.ndarray:
        """Each input's noise weight: the mean prior variance of its channel (the noise is a fraction α of it)."""
        c = inputs[:, 0]
        u, inv = np.unique(c, return_inverse=True)
        mean = np.bincount(inv.reshape(-1), weights=kd) / np.bincount(inv.reshape(-1))
        mean = np.where(mean > 0, mean, self.scale[u] ** 2)
        return mean[inv.reshape(-1)]


__all__ = ["D_GEOMETRY_MODES", "D_SELECTIONS", "EquivariantDGP"]
