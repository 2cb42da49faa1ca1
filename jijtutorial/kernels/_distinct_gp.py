"""Gaussian-process regression on the distinct inputs of a training set, with exact leave-block-out.

:class:`DistinctGP` is the Gaussian-process counterpart used by :class:`~jijtutorial.kernels.PairGP`:
a GP on the distinct inputs with a noise variance per input, its exact leave-block-out means and
variances, and leave-block-out predictions with a *different* cross-kernel for the left-out block
(an element or a distance re-described as never seen).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.linalg.lapack import dtrtri


def distinct_inputs(keys) -> tuple[np.ndarray, np.ndarray]:
    """``first`` (one row per distinct key) and ``inverse`` (row -> distinct input) of ``keys``, shape (n,)."""
    _, first, inverse = np.unique(np.asarray(keys), return_index=True, return_inverse=True)
    return first, inverse


def _cat(parts, dtype=float) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


class DistinctGP:
    """GP regression on the distinct inputs of a training set, with exact leave-block-out CV.

    Rows that share an input (the twins (A, B, g) and (B, A, g) of a pair-symmetric kernel) are
    exactly a weighted fit on the distinct inputs: input ``u`` with ``n_u`` rows, mean target
    ``ybar_u`` and noise variance ``alpha w_u / n_u``. The system is ``A = K + diag(alpha w / n)``
    with ``c = A^-1 ybar``; the predictive mean at new inputs is ``K_* c``.

    Leaving out a block ``U`` of inputs: with ``H = A^-1``, the weights of the GP trained without
    ``U`` are ``w_T = c_T - H_TU H_UU^-1 c_U``, so the prediction at ``U`` with *any* cross-kernel
    ``K'_UT`` -- for instance with the left-out element re-described as never seen -- is
    ``K'_UT w_T``, and its variance ``k'_UU - K'_UT (A_TT)^-1 K'_TU`` with
    ``(A_TT)^-1 = H_TT - H_TU H_UU^-1 H_UT`` (block inversion). With the fit's own kernel this
    reduces to ``e_U = H_UU^-1 c_U`` (Sundararajan & Keerthi 2001 for leave-one-out).

    Parameters
    ----------
    K : ndarray (m, m)
        Kernel of the m distinct inputs (symmetric positive semi-definite).
    y : ndarray (n,)
        Targets of the n rows.
    inverse : ndarray (n,)
        Distinct input of each row (0 ... m-1, every input used).
    alpha : float
        Noise, relative to the weights ``w``.
    w : ndarray (m,), optional
        Noise weight of each input (default 1): its noise variance is ``alpha w_u / n_u``.
    w_var : ndarray (m,), optional
        Noise weights of the *reported* variances (default ``w``): a model may fit its mean with
        one noise model and state its error bars with another.

    Attributes
    ----------
    c : ndarray (m,)
        ``A^-1 ybar``, the weights of the predictive mean.
    L : ndarray (m, m)
        Lower Cholesky factor of ``A``.
    """

    def __init__(self, K, y, inverse, alpha: float, w=None, w_var=None):
        K = np.asarray(K, float)  # not kept: every later use goes through L (and K is as large as L)
        m = K.shape[0]
        self._setup(m, y, inverse, alpha, w, w_var)
        A = K.copy()
        A.flat[:: m + 1] += self.noise
        self.L = sla.cholesky(A, lower=True, check_finite=False, overwrite_a=True)
        self.c = sla.cho_solve((self.L, True), self.ybar, check_finite=False)

    # -- pickling: a stored model (e.g. the filled table's) keeps only what it cannot form again exactly --
    def __getstate__(self):
        """The state without the caches formed on first use (``L^-1``, its transpose, ``A^-1``, the rows of each
        input: formed again from ``L`` by the same operations, to the same bits) and with ``L`` packed to its
        lower triangle (its upper triangle is zero): half the bytes, exact."""
        state = dict(self.__dict__)
        state.update(_H=None, _Li=None, _LiT=None, _rows_of=None)
        L = state.get("L")
        if isinstance(L, np.ndarray) and L.ndim == 2 and L.shape[0] == L.shape[1] and L.dtype == float:
            lower = np.tri(L.shape[0], dtype=bool)
            if not L[~lower].view(np.uint64).any():  # every bit zero above the diagonal (no -0.0 either)
                order = "F" if L.flags.f_contiguous and not L.flags.c_contiguous else "C"
                state["L"] = ("lower triangle", L.shape[0], order, L[lower])
        return state

    def __setstate__(self, state):
        L = state.get("L")
        if isinstance(L, tuple) and len(L) == 4 and L[0] == "lower triangle":
            _, m, order, packed = L
            full = np.zeros((m, m), order=order)
            full[np.tri(m, dtype=bool)] = packed
            state = {**state, "L": full}
        self.__dict__.update(state)

    def _setup(self, m, y, inverse, alpha, w, w_var):
        """Rows, counts, mean targets and noise of the m distinct inputs (shared by the solvers)."""
        self.inv = np.asarray(inverse, dtype=int)
        self.y = np.asarray(y, float)
        self.counts = np.bincount(self.inv, minlength=m).astype(float)
        if np.any(self.counts == 0):
            raise ValueError("DistinctGP: every distinct input needs at least one row.")
        self.ybar = np.bincount(self.inv, weights=self.y, minlength=m) / self.counts
        self.w = np.ones(m) if w is None else np.asarray(w, float)
        self.w_var = self.w if w_var is None else np.asarray(w_var, float)
        self.alpha = float(alpha)
        self.noise = self.alpha * self.w / self.counts  # variance of each input's mean target
        self._H = None
        self._Li = None
        self._LiT = None
        self._rows_of = None

    # -- A^-1 and its pieces -----------------------------------------------------------------
    @property
    def Li(self) -> np.ndarray:
        """``L^-1`` (m, m, lower triangular), formed once on first use (LAPACK ``trtri``)."""
        if self._Li is None:
            Li, info = dtrtri(self.L, lower=1)
            if info != 0:
                raise np.linalg.LinAlgError("DistinctGP: triangular inverse failed")
            self._Li = Li
        return self._Li

    @property
    def LiT(self) -> np.ndarray:
        """``(L^-1)^T`` as a C-ordered copy: its rows are the columns of ``L^-1``, gathered contiguously."""
        if getattr(self, "_LiT", None) is None:
            self._LiT = np.ascontiguousarray(self.Li.T)
        return self._LiT

    @property
    def H(self) -> np.ndarray:
        """``A^-1 = L^-T L^-1`` (m, m), formed once on first use (the CV formulas need only slices of it)."""
        if self._H is None:
            self._H = self.LiT @ self.Li
        return self._H

    def H_diag(self) -> np.ndarray:
        """Diagonal of ``A^-1`` (column norms of ``L^-1``)."""
        return np.einsum("ij,ij->j", self.Li, self.Li)

    def H_block(self, U) -> np.ndarray:
        """``(A^-1)_UU`` (|U|, |U|) from the columns ``U`` of ``L^-1``."""
        LUt = self.LiT[np.asarray(U)]
        return LUt @ LUt.T

    def H_blocks(self, Us) -> np.ndarray:
        """``(A^-1)_UU`` of several blocks of one size, ``Us`` (nb, k) -> (nb, k, k)."""
        LUt = self.LiT[np.asarray(Us)]  # (nb, k, m): the columns of L^-1 of each block
        return LUt @ np.swapaxes(LUt, 1, 2)

    def H_apply_columns(self, U, z) -> np.ndarray:
        """``(A^-1)_{:,U} z`` (m,) for a vector ``z`` (|U|,)."""
        return self.LiT @ (self.LiT[np.asarray(U)].T @ z)

    def H_apply(self, V) -> np.ndarray:
        """``A^-1 V`` for ``V`` (m, k)."""
        return self.H @ V

    def _logdet(self) -> float:
        """log det A."""
        return 2 * float(np.sum(np.log(np.diag(self.L))))

    def _quad(self, Ks) -> np.ndarray:
        """``diag(Ks A^-1 Ks^T)`` (t,) for a cross-kernel ``Ks`` (t, m)."""
        V = sla.solve_triangular(self.L, np.asarray(Ks).T, lower=True, check_finite=False)
        return np.einsum("ij,ij->j", V, V)

    def rows_of(self, U) -> np.ndarray:
        """The rows (positions into ``y``) of the inputs ``U``."""
        if self._rows_of is None:
            order = np.argsort(self.inv, kind="stable")
            self._rows_of = (order, np.searchsorted(self.inv[order], np.arange(len(self.counts) + 1)))
        order, cuts = self._rows_of
        return _cat([order[cuts[u] : cuts[u + 1]] for u in np.asarray(U)], int)

    # -- fit quantities ----------------------------------------------------------------------
    def log_marginal_amplitude(self) -> tuple[float, float]:
        """Maximum-likelihood amplitude ``s2`` and the log marginal likelihood at it.

        The row-level model is ``y ~ N(0, s2 (P K P^T + alpha diag(w_u(i))))``; ``s2`` multiplies
        the kernel and the noise together (profiled out in closed form).
        """
        n = len(self.y)
        a_w = self.alpha * self.w
        within = np.sum((self.y - self.ybar[self.inv]) ** 2 / a_w[self.inv])
        s2 = (within + float(self.ybar @ self.c)) / n
        logdet = np.sum((self.counts - 1) * np.log(a_w)) + np.sum(np.log(self.counts)) + self._logdet()
        return s2, -0.5 * (n * np.log(2 * np.pi * s2) + logdet + n)

    def predict(self, Ks, kss=None, ws=None):
        """Mean, and (if ``kss`` is given) the unit-amplitude predictive variance, at new inputs.

        Parameters
        ----------
        Ks : ndarray (t, m)
            Cross-kernel of the t new inputs with the distinct training inputs.
        kss : ndarray (t,), optional
            Prior variances of the new inputs.
        ws : ndarray (t,), optional
            Noise weights of the new inputs (a new *measurement*: adds ``alpha ws``).

        Returns
        -------
        mean : ndarray (t,), and variance : ndarray (t,) if ``kss`` is given.
        """
        mu = Ks @ self.c
        if kss is None:
            return mu
        var = np.asarray(kss, float) - self._quad(Ks)
        if ws is not None:
            var = var + self.alpha * np.asarray(ws, float)
        return mu, np.maximum(var, 0.0)

    # -- cross-validation --------------------------------------------------------------------
    def leave_one_row_out(self):
        """Exact leave-one-row-out residuals and unit-amplitude predictive variances of the rows.

        Row-level system ``C = P K P^T + diag(alpha w_u(i))``: ``(C^-1 y)_i = (y_i - ybar_u)/(alpha w_u)
        + c_u/n_u`` and ``(C^-1)_ii = (n_u - 1)/(n_u alpha w_u) + H_uu/n_u^2``.

        Returns
        -------
        residuals, variances, rows : ndarray (n,)
        """
        n_u, inv = self.counts, self.inv
        a_u = self.alpha * self.w
        c_rows = (self.y - self.ybar[inv]) / a_u[inv] + (self.c / n_u)[inv]
        h_rows = ((n_u - 1) / (n_u * a_u))[inv] + (self.H_diag() / n_u**2)[inv]
        var = 1.0 / h_rows + self.alpha * (self.w_var - self.w)[inv]
        return c_rows / h_rows, np.maximum(var, 0.0), np.arange(len(self.y))

    def leave_block_out(self, blocks_u, row_blocks=None, cross=None, variance: bool = True):
        """Exact leave-block-out residuals and unit-amplitude variances of rows.

        Parameters
        ----------
        blocks_u : list of ndarray
            Distinct-input indices of each block (all rows of an input leave together).
        row_blocks : list of ndarray, optional
            The rows scored for each block (default: every row of its inputs).
        cross : list, optional
            Per block ``(K'_UT, k'_UU, w'_U)`` or ``None``: the cross-kernel (|U|, m - |U|) of the
            block's inputs with the others (in index order), their prior variances and noise
            weights, when the block is described as never seen. ``None`` (or a ``None`` entry):
            the fit's own kernel.
        variance : bool
            Compute the variances (the costly part with a cross-kernel); NaN otherwise.

        Returns
        -------
        residuals, variances, rows : ndarray (n_scored,)
            Concatenated over blocks (a row in two blocks appears twice).
        """
        m = len(self.c)
        res, var, rows = [], [], []
        own = [b for b in range(len(blocks_u)) if cross is None or cross[b] is None]
        for b, mu_u, v_u, w_u in self._own_blocks(blocks_u, own):
            U = np.asarray(blocks_u[b])
            R = np.asarray(row_blocks[b]) if row_blocks is not None else self.rows_of(U)
            pos = np.searchsorted(U, self.inv[R])
            res.append((b, self.y[R] - mu_u[pos]))
            var.append((b, np.maximum(v_u, 0.0)[pos] + self.alpha * w_u[pos]))
            rows.append((b, R))
        for b in range(len(blocks_u)):
            if b in own:
                continue
            U = np.asarray(blocks_u[b])
            R = np.asarray(row_blocks[b]) if row_blocks is not None else self.rows_of(U)
            pos = np.searchsorted(U, self.inv[R])
            keep = np.ones(m, bool)
            keep[U] = False
            T = np.flatnonzero(keep)
            KUT, kUU, w_u = cross[b]
            HUU = self.H_block(U)
            # weights of the GP without U: w = c - (A^-1)_{:,U} (A^-1)_UU^-1 c_U (zero on U)
            w_full = self.c - self.H_apply_columns(U, np.linalg.solve(HUU, self.c[U]))
            mu_u = KUT @ w_full[T]
            if variance:
                # K'_UT (A_TT)^-1 K'_TU with (A_TT)^-1 = H_TT - H_TU H_UU^-1 H_UT, from one product H Z^T
                ZT = np.zeros((m, len(U)))
                ZT[T] = KUT.T
                HZ = self.H_apply(ZT)  # (m, |U|): H_{:,T} K'_TU
                Y = HZ[U]  # H_UT K'_TU
                q = np.einsum("ij,ji->i", KUT, HZ[T]) - np.einsum("ji,ji->i", Y, np.linalg.solve(HUU, Y))
                v_u = np.asarray(kUU, float) - q
            else:
                v_u = np.full(len(U), np.nan)
            res.append((b, self.y[R] - mu_u[pos]))
            var.append((b, np.maximum(v_u, 0.0)[pos] + self.alpha * np.asarray(w_u, float)[pos]))
            rows.append((b, R))
        order = lambda parts: [x for _, x in sorted(parts, key=lambda t: t[0])]  # block order
        return _cat(order(res)), _cat(order(var)), _cat(order(rows), int)

    def _own_blocks(self, blocks_u, which):
        """Leave-block-out with the fit's own kernel; blocks of one size solved as a batch."""
        by_size: dict[int, list[int]] = {}
        for b in which:
            by_size.setdefault(len(blocks_u[b]), []).append(b)
        for k, bs in by_size.items():
            if k == 0:
                for b in bs:
                    yield b, np.zeros(0), np.zeros(0), np.zeros(0)
                continue
            Us = np.array([np.asarray(blocks_u[b]) for b in bs])  # (nb, k)
            Hinv = np.linalg.inv(self.H_blocks(Us))  # (nb, k, k)
            e_u = np.einsum("bij,bj->bi", Hinv, self.c[Us])
            v_u = np.einsum("bii->bi", Hinv) - self.noise[Us]
            for j, b in enumerate(bs):
                yield b, self.ybar[Us[j]] - e_u[j], v_u[j], self.w_var[Us[j]]


class KroneckerGP(DistinctGP):
    """:class:`DistinctGP` for inputs on a complete grid, with a Kronecker-product kernel: exact and fast.

    When the distinct inputs are every element pair of a set P at every geometry of a set G
    (m = |P| |G|, ordered pair-major: input ``p |G| + g``), the pair kernel is
    ``K = K_P ⊗ K_G + β² u u^T`` and the noise ``alpha w / n`` depends on the pair only (``w``
    constant, ``n`` the rows of an input: 2 for (A, B) and (B, A), 1 for (A, A)). With
    ``Ñ = diag(n)``, ``Ñ^1/2 A Ñ^1/2 = (N_P^1/2 K_P N_P^1/2) ⊗ K_G + alpha w I + β² ũ ũ^T``: one
    eigendecomposition of each factor (|P| and |G| rows) gives ``A^-1`` for every ``alpha`` in
    ``O(m (|P| + |G|))`` per product, the rank-one term by Sherman-Morrison. The package's model data
    set (210 element pairs x 13 geometries) is such a grid. Same results as :class:`DistinctGP`.

    Parameters
    ----------
    K_pairs : ndarray (|P|, |P|)
        Kernel factor of the element pairs.
    K_geo : ndarray (|G|, |G|)
        Kernel factor of the geometries.
    y, inverse, alpha, w, w_var :
        As :class:`DistinctGP` (``w`` must be constant, and every pair must have the same number of
        rows at every geometry).
    u : ndarray (m,), optional
        Vector of the rank-one term (``β u``, scale included).
    eig : tuple, optional
        ``(lam_P, Q_P, lam_G, Q_G)`` of a previous fit with the same ``K_pairs``, ``K_geo`` and counts
        (an alpha path reuses them).
    """

    def __init__(self, K_pairs, K_geo, y, inverse, alpha: float, w=None, w_var=None, u=None, eig=None):
        self.Kp = np.asarray(K_pairs, float)
        self.Kg = np.asarray(K_geo, float)
        n_p, n_g = self.Kp.shape[0], self.Kg.shape[0]
        m = n_p * n_g
        self.shape = (n_p, n_g)
        self._setup(m, y, inverse, alpha, w, w_var)
        cnt = self.counts.reshape(n_p, n_g)
        if not np.all(cnt == cnt[:, :1]) or not np.allclose(self.w, self.w[0]):
            raise ValueError(
                "KroneckerGP: every pair needs the same number of rows at every geometry, and one noise weight for all inputs."
            )
        self.sq = np.sqrt(self.counts)  # Ñ^1/2 (m,)
        if eig is None:
            sp_ = np.sqrt(cnt[:, 0])
            lp, Qp = np.linalg.eigh(sp_[:, None] * self.Kp * sp_[None, :])
            lg, Qg = np.linalg.eigh(self.Kg)
            eig = (np.maximum(lp, 0.0), Qp, np.maximum(lg, 0.0), Qg)
        self.eig = eig
        lp, Qp, lg, Qg = eig
        self.Qp, self.Qg = Qp, Qg
        self.dinv = 1.0 / (np.outer(lp, lg) + self.alpha * self.w[0])  # (n_p, n_g)
        self.u = None if u is None else self.sq * np.asarray(u, float)  # ũ = Ñ^1/2 u
        if self.u is not None and np.any(self.u):
            self.z = self._a0inv(self.u[:, None])[:, 0]
            self.den = 1.0 + float(self.u @ self.z)
        else:
            self.u = None
        self.c = self.H_apply(self.ybar[:, None])[:, 0]
        self.L = None

    # -- A0^-1 = (Q_P ⊗ Q_G) diag(1 / (lam + r)) (Q_P ⊗ Q_G)^T, and A^-1 -------------------------
    def _a0inv(self, V) -> np.ndarray:
        n_p, n_g = self.shape
        k = V.shape[1]
        X = (self.Qp.T @ V.reshape(n_p, n_g * k)).reshape(n_p, n_g, k)
        X = self.Qg.T @ X  # (n_p, n_g, k), broadcast over the pairs
        X *= self.dinv[:, :, None]
        X = (self.Qg @ X).reshape(n_p, n_g * k)
        return (self.Qp @ X).reshape(n_p * n_g, k)

    def _cartesian(self, Qb, ug) -> np.ndarray:
        """``(A0^-1)`` on pairs x geometries ``ug`` for pair rows ``Qb`` (nb, k_p, n_p) of Q_P: (nb, k_p, |ug|, k_p, |ug|)."""
        Qgu = self.Qg[ug]  # (|ug|, n_g)
        T = (Qgu[None, :, :] * self.dinv[:, None, :]) @ Qgu.T  # (n_p, |ug|, |ug|): sum_j Qg Qg dinv
        nb, kp, n_p = Qb.shape
        ng = len(ug)
        T2 = T.reshape(n_p, ng * ng)
        if kp == 1:  # one pair, several geometries (leave-one-pair-out)
            B = ((Qb[:, 0, :] ** 2) @ T2).reshape(nb, 1, 1, ng, ng)
        elif ng == 1:  # several pairs, one geometry (leave-one-distance-out)
            B = ((Qb * T2[:, 0]) @ np.swapaxes(Qb, 1, 2)).reshape(nb, kp, kp, 1, 1)
        else:
            X = Qb[:, :, :, None] * T2[None, None]  # (nb, kp, n_p, ng²)
            B = (Qb[:, None] @ X).reshape(nb, kp, kp, ng, ng)  # sum_i Qb[q, i] Qb[p, i] T[i, g, h]
        return B.transpose(0, 1, 3, 2, 4)

    def _tinv(self, V) -> np.ndarray:
        """``(Ñ^1/2 A Ñ^1/2)^-1 V`` (Sherman-Morrison for the rank-one term)."""
        X = self._a0inv(V)
        if self.u is not None:  # (A0 + ũ ũ^T)^-1 V = A0^-1 V - z (z^T V) / (1 + ũ^T z),  z = A0^-1 ũ
            X -= np.outer(self.z, (self.z @ V) / self.den)
        return X

    def H_apply(self, V) -> np.ndarray:
        V = np.asarray(V, float)
        return self.sq[:, None] * self._tinv(self.sq[:, None] * V)

    def H_apply_columns(self, U, z) -> np.ndarray:
        V = np.zeros((len(self.counts), 1))
        V[np.asarray(U), 0] = z
        return self.H_apply(V)[:, 0]

    @property
    def H(self) -> np.ndarray:
        if self._H is None:
            self._H = self.H_apply(np.eye(len(self.counts)))
        return self._H

    def H_diag(self) -> np.ndarray:
        d = ((self.Qp**2) @ self.dinv @ (self.Qg**2).T).ravel()  # diag of (Q_P ⊗ Q_G) D (Q_P ⊗ Q_G)^T
        if self.u is not None:
            d = d - self.z**2 / self.den
        return self.counts * d

    def H_block(self, U) -> np.ndarray:
        U = np.asarray(U)
        n_p, n_g = self.shape
        p, g = U // n_g, U % n_g
        up, ug = np.unique(p), np.unique(g)
        if len(up) * len(ug) == len(U):  # a product of pairs and geometries: contract the factors
            B = self._cartesian(self.Qp[up][None], ug)[0].reshape(len(U), len(U))
            order = np.searchsorted(up, p) * len(ug) + np.searchsorted(ug, g)  # U in (pair, geometry) order
            B = B[np.ix_(order, order)]
        else:
            QU = (self.Qp[p][:, :, None] * self.Qg[g][:, None, :]).reshape(len(U), -1)
            B = (QU * self.dinv.ravel()) @ QU.T
        if self.u is not None:
            B = B - np.outer(self.z[U], self.z[U]) / self.den
        return self.sq[U][:, None] * B * self.sq[U][None, :]

    def H_blocks(self, Us) -> np.ndarray:
        Us = np.asarray(Us)
        n_p, n_g = self.shape
        P, G = Us // n_g, Us % n_g
        ug = np.unique(G[0])
        nup = len(np.unique(P[0]))
        same = all(
            np.array_equal(np.unique(g), ug) and len(np.unique(p)) == nup and nup * len(ug) == Us.shape[1] for p, g in zip(P, G)
        )
        if not same:
            return np.stack([self.H_block(U) for U in Us])
        # every block: nup pairs x the same geometries; blocks in (pair, geometry) order after sorting
        up = np.array([np.unique(p) for p in P])  # (nb, nup)
        B = self._cartesian(self.Qp[up], ug).reshape(len(Us), Us.shape[1], Us.shape[1])
        order = np.stack([np.searchsorted(u, p) * len(ug) + np.searchsorted(ug, g) for u, p, g in zip(up, P, G)])
        B = np.take_along_axis(np.take_along_axis(B, order[:, :, None], 1), order[:, None, :], 2)
        if self.u is not None:
            zU = self.z[Us]
            B = B - zU[:, :, None] * zU[:, None, :] / self.den
        sU = self.sq[Us]
        return sU[:, :, None] * B * sU[:, None, :]

    def _logdet(self) -> float:
        lp, _, lg, _ = self.eig
        ld = float(np.sum(np.log(np.outer(lp, lg) + self.alpha * self.w[0])))
        if self.u is not None:
            ld += np.log(self.den)
        return ld - float(np.sum(np.log(self.counts)))

    def _quad(self, Ks) -> np.ndarray:
        Ks = np.asarray(Ks, float)
        return np.einsum("ti,it->t", Ks, self.H_apply(Ks.T))
