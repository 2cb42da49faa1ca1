"""SymPair-KRR: kernel ridge regression on (element_i, element_j, geometry), symmetric in the two impurities.

A pair is described by its two elements and its geometry (sublattice of j and distance) -- not by
the host atoms around it, which are the same for every pair. See :class:`SymmetricPairKRR` for
the kernel. Input is a *pair table*: a ``DataFrame`` with ``element_i``, ``element_j`` and the
geometry (``sublattice_j`` and ``distance``, or the pair vector ``rx, ry, rz`` in Å), such as a
tidy frame of :mod:`jijtutorial.datasets`; fitting also reads the moments ``moment_i``,
``moment_j`` (μB) of the training rows. J is in meV.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..elements import IMPURITY_ELEMENTS, group, row
from ._krr_path import PathResult, krr_path


def _pair_table_columns(X):
    """Elements, geometry labels, sublattices and distances (Å) of the rows of a pair table."""
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"SymmetricPairKRR takes a pair table (pandas DataFrame), not {type(X).__name__}.")
    for c in ("element_i", "element_j"):
        if c not in X.columns:
            raise ValueError(f"pair table lacks column {c!r}.")
    if {"sublattice_j", "distance"} <= set(X.columns):
        from ._pair_encoding import _check_geometry

        sub = X["sublattice_j"].astype(str).to_numpy()
        dist = pd.to_numeric(X["distance"], errors="coerce").to_numpy(float)
        _check_geometry(sub, dist, None, "pair table")  # NaN, negative or unknown: an error, not a silent kernel value
    elif {"rx", "ry", "rz"} <= set(X.columns):
        from ..geometry import locate_bi_site

        sites = [locate_bi_site(v, where=f"row {k}") for k, v in enumerate(X[["rx", "ry", "rz"]].to_numpy(float))]
        sub = np.array([s.sublattice for s in sites])
        dist = np.array([s.distance for s in sites])
    else:
        raise ValueError("pair table needs 'sublattice_j' and 'distance', or the pair vector 'rx', 'ry', 'rz' (Å).")
    ei = X["element_i"].astype(str).to_numpy()
    ej = X["element_j"].astype(str).to_numpy()
    for name, col in (("element_i", ei), ("element_j", ej)):
        bad = ~np.isin(col, IMPURITY_ELEMENTS)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"pair table, row {k}, column {name!r}: unknown impurity element {col[k]!r}; "
                f"the model knows {', '.join(IMPURITY_ELEMENTS)}."
            )
    geo = np.char.add(np.char.add(sub.astype(str), "|"), np.char.mod("%.2f", dist))
    return ei, ej, geo, sub, dist


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
    :meth:`fit_path` fits a whole grid of ``alpha`` at once and scores it by exact closed-form
    leave-one-out or leave-one-group-out cross-validation.

    Parameters
    ----------
    alpha : ridge parameter (units of the kernel, which is dimensionless).
    profile_length : length (meV) of the learned element similarity; None switches it off.
    length_group : length (in groups) of the periodic-table similarity.
    length_moment : length (μB) of the moment similarity.
    row_similarity : factor between elements of different rows (3d vs 4d), in [0, 1].
    moment_offset : μB; ``s_A = m_A / (m_A + moment_offset)``.
    geometry_mixing, geometry_length : ``eps`` and ``l_d`` (Å) of the geometry kernel.

    Attributes
    ----------
    alpha_ : float
        The ridge parameter of the fitted model (``alpha``, or the one :meth:`fit_path` chose).
    moments_ : dict
        Median |moment| (μB) of each element in the training rows.
    profile_d2_ : ndarray (20, 20) or None
        Mean squared profile difference (meV²) of every two elements.
    element_kernel_ : ndarray (20, 20)
        The element similarity ``k_el``.
    moment_factor_ : ndarray (20,)
        ``s_A`` of every element.
    element_index_ : dict
        Row of each element symbol in the two arrays above.
    dual_coef_ : ndarray (m,)
        Dual coefficients of the m distinct training inputs ((A, B, g) and (B, A, g) share one).
    train_encoding_ : tuple
        The distinct training inputs (element indices, geometry labels, sublattices, distances).
    """

    def __init__(
        self,
        alpha: float = 1e-2,
        profile_length: float | None = 8.0,
        length_group: float = 2.0,
        length_moment: float = 2.0,
        row_similarity: float = 0.8,
        moment_offset: float = 0.1,
        geometry_mixing: float = 0.0,
        geometry_length: float = 3.0,
    ):
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
        """Median |moment| of each element over the rows of ``X`` (both impurity slots); a non-finite one is an error."""
        import pandas as pd

        for c in ("moment_i", "moment_j"):
            if c not in X.columns:
                raise ValueError(f"fitting SymmetricPairKRR needs column {c!r} (training rows only).")
            m = np.asarray(pd.to_numeric(X[c], errors="coerce"), float)
            if not np.all(np.isfinite(m)):
                k = int(np.flatnonzero(~np.isfinite(m))[0])
                raise ValueError(
                    f"training row {k}, column {c!r}: {X[c].iloc[k]} is not a finite moment (μB); fix or remove that pair."
                )
        from ._element_features import learned_moments  # the same medians, in periodic-table order

        return learned_moments(X["element_i"], X["element_j"], X["moment_i"], X["moment_j"])

    @staticmethod
    def profile_distances(X, y) -> np.ndarray:
        """Mean squared difference (meV^2) of the exchange profiles of every two elements (20 x 20).

        Profile of A: J averaged over the training rows of {A, B} at geometry g, for every
        partner B and geometry g. Element pairs without a common entry get the largest distance.
        """
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
        els = list(IMPURITY_ELEMENTS)
        fallback = float(np.median(list(moments.values()))) if moments else 0.0
        m = np.array([moments.get(e, fallback) for e in els])
        grp = np.array([group(e) for e in els], float)
        rw = np.array([row(e) for e in els])
        k = np.exp(
            -((grp[:, None] - grp[None, :]) ** 2) / (2 * self.length_group**2)
            - ((m[:, None] - m[None, :]) ** 2) / (2 * self.length_moment**2)
        )
        k = k * np.where(rw[:, None] == rw[None, :], 1.0, self.row_similarity)
        if self.profile_length and d2 is not None:
            k = k * _psd(np.exp(-d2 / (2 * self.profile_length**2)))
        s = m / (m + self.moment_offset) if self.moment_offset > 0 else np.ones_like(m)
        return {e: i for i, e in enumerate(els)}, k, s, m

    def _encode(self, X):
        ei, ej, geo, sub, dist = _pair_table_columns(X)
        idx = self.element_index_
        a = np.array([idx[e] for e in ei], dtype=int)
        b = np.array([idx[e] for e in ej], dtype=int)
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
        i1, i2 = inv[: len(g1)], inv[len(g1) :]
        out = k[a1][:, a2] * k[b1][:, b2]
        out += k[a1][:, b2] * k[b1][:, a2]
        out *= 0.5
        out *= kg[np.ix_(i1, i2)]
        out *= (self.moment_factor_[a1] * self.moment_factor_[b1])[:, None]
        out *= (self.moment_factor_[a2] * self.moment_factor_[b2])[None, :]
        return out

    def _prepare(self, X, y):
        """Learn moments and profiles from the training rows; return their encoding."""
        _pair_table_columns(X)  # a clear error for anything but a pair table
        self.moments_ = self.learn_moments(X)
        self.profile_d2_ = self.profile_distances(X, y) if self.profile_length else None
        (self.element_index_, self.element_kernel_, self.moment_factor_, self.element_moment_array_) = self._element_tables(
            self.moments_, self.profile_d2_
        )
        return self._encode(X)

    # -- estimator ------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is a pair table (DataFrame), not a numeric array
        tags.input_tags.string = True
        return tags

    @staticmethod
    def _check_y(X, y) -> np.ndarray:
        if len(X) == 0:
            raise ValueError("the pair table has no rows; fitting needs at least one pair with its J.")
        y = np.asarray(y, dtype=float).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} values; give one J (meV) per pair.")
        if not np.all(np.isfinite(y)):
            k = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(f"y[{k}] = {y[k]!r} is not a finite J (meV); remove or fix that pair.")
        return y

    def fit_path(self, X, y, alphas, groups=None, solver: str = "auto") -> PathResult:
        """Fit for every ridge parameter in ``alphas`` and keep the best by closed-form CV.

        Parameters
        ----------
        X : pair table of the training rows (with moments).
        y : array (n,), J in meV.
        alphas : ridge parameters to try.
        groups : None (leave-one-out) or a label per row (leave-one-group-out).
        solver : see :func:`jijtutorial.kernels.krr_path`.

        Returns the :class:`PathResult` (CV residuals of every alpha); the estimator is left fitted
        with the alpha of the lowest CV MAE (``alpha_``). ``alpha`` itself is not changed.
        """
        y = self._check_y(X, y)
        enc = self._prepare(X, y)
        # (A, B, g) and (B, A, g) have identical kernel rows: fit on the distinct ones
        a, b, geo = enc[0], enc[1], enc[2]
        key = np.char.add(np.char.add(np.char.mod("%d|", np.minimum(a, b) * 100 + np.maximum(a, b)), "|"), geo)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        enc_u = tuple(np.asarray(x)[first] for x in enc)
        path = krr_path(self._kernel(enc_u, enc_u), y, alphas, groups, solver, inverse=inverse)
        best = int(np.argmin(path.scores("mae")))
        self.alpha_ = float(path.alphas[best])
        self.dual_coef_ = path.coef[best]
        self.train_encoding_ = enc_u
        return path

    def fit(self, X, y):
        """Fit on a training pair table ``X`` (with moments) and J values ``y`` (meV). Returns ``self``."""
        self.fit_path(X, y, [self.alpha], solver="cholesky")
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted J (meV), shape (n,), of the pairs of ``X`` (only elements and geometry are read)."""
        check_is_fitted(self, "dual_coef_")
        enc = self._encode(X)
        return self._kernel(enc, self.train_encoding_) @ self.dual_coef_

    def kernel(self, X, Y=None) -> np.ndarray:
        """The fitted kernel between pair tables ``X`` (n rows) and ``Y`` (m rows, default ``X``); shape (n, m)."""
        check_is_fitted(self, "element_kernel_")
        ex = self._encode(X)
        return self._kernel(ex, ex if Y is None else self._encode(Y))

    @property
    def element_similarity(self):
        """The fitted element kernel ``k_el`` as a 20 x 20 DataFrame."""
        import pandas as pd

        check_is_fitted(self, "element_kernel_")
        names = list(self.element_index_)
        return pd.DataFrame(self.element_kernel_, index=names, columns=names)
