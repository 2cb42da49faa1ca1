"""What the pair kernels learn from a training fold: moments, activities, element and geometry tables.

For a grid cell's settings ``p`` (:data:`~jijtutorial.kernels._pair_kernel.KERNEL_DEFAULTS` and the
modes), :func:`_learn_tables` learns from the training rows only: each seen element's moment (the
median |moment| of its rows) and activity (``J ~ a(g) s_A s_B``), the moment of an unseen element from
the mean-field Anderson model, the periodic-table similarity of the elements, their learned exchange
profiles, and the scale a(g) of each geometry with a line in distance for unseen ones. The resulting
:class:`_Tables` give the element kernel, with any element re-described as never seen (the inner
leave-one-element-out). Shared by :class:`~jijtutorial.kernels.PairGP` (J) and
:class:`~jijtutorial.kernels.EquivariantDGP` (the components of D).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..elements import IMPURITY_ELEMENTS
from ._element_features import MomentModel, _features, learned_moments
from ._pair import SymmetricPairKRR, _psd
from ._pair_encoding import _NE, PairEncoding


def _activity(m, p) -> np.ndarray:
    """Activity from a moment (μB): ``m / (m + moment_offset)``, at least ``activity_floor``."""
    return np.maximum(m / (m + p["moment_offset"]), p["activity_floor"])


def _learned_activity(enc: PairEncoding, y, s0, known, iterations: int = 3) -> np.ndarray:
    """Activity of each seen element from the J it takes part in, ``J(A, B, g) ~ a(g) s_A s_B``.

    Alternating least squares on the squares -- ``s_A² = Σ J² / Σ a(g)² s_B²`` over the rows holding A,
    ``a(g)² = Σ J² / Σ s_A² s_B²`` -- from ``s0``, scaled so that the largest is 1.
    """
    s = np.asarray(s0, float).copy()
    if not known.any():
        return s
    y2 = np.asarray(y, float) ** 2
    _, g = np.unique(enc.geo, return_inverse=True)
    for _ in range(iterations):
        w = (s[enc.a] * s[enc.b]) ** 2
        a2 = np.bincount(g, weights=y2) / np.maximum(np.bincount(g, weights=w), 1e-300)
        num = np.bincount(enc.a, weights=y2, minlength=_NE) + np.bincount(enc.b, weights=y2, minlength=_NE)
        den = np.bincount(enc.a, weights=a2[g] * s[enc.b] ** 2, minlength=_NE) + np.bincount(
            enc.b, weights=a2[g] * s[enc.a] ** 2, minlength=_NE
        )
        new = np.sqrt(num / np.maximum(den, 1e-300))
        s = np.where(known, new, s)
        top = np.max(s[known])
        if top > 0:
            s = s / top
    return np.maximum(s, 1e-3)


def _unseen_activity(s, moment, known, x) -> float:
    """Activity of an unseen element: the median over the seen elements of its magnetic class (moment > 0.05 μB or not).

    An element without a moment (NaN: its row has no seen element) has no known class: the median over all seen
    elements."""
    if not np.isfinite(moment[x]):
        return float(np.median(s[known])) if known.any() else 1.0
    mag = moment > 0.05
    same = known & (mag == mag[x])
    same[x] = False
    return float(np.median(s[same])) if same.any() else (float(np.median(s[known])) if known.any() else 1.0)


def _feature_kernel(m, p) -> np.ndarray:
    """Periodic-table similarity of the 20 elements given their moments ``m`` (μB), (20, 20).

    An element whose moment is unknown (NaN: no seen element in its row) is similar to no other element:
    its row and column are those of the identity. Nothing in the data says which seen element it
    resembles, so the GP predicts its couplings from the mean-coupling term alone, with the prior's σ.
    """
    m = np.asarray(m, float)
    free = ~np.isfinite(m)
    if free.any():
        k = _feature_kernel(np.where(free, 0.0, m), p)
        k[free, :] = k[:, free] = 0.0
        k[free, free] = 1.0
        return k
    f = _features()
    r = f["row"].to_numpy()
    g = f["group"].to_numpy(float)
    k = np.exp(
        -((g[:, None] - g[None, :]) ** 2) / (2 * p["length_group"] ** 2)
        - ((m[:, None] - m[None, :]) ** 2) / (2 * p["length_moment"] ** 2)
    )
    return k * np.where(r[:, None] == r[None, :], 1.0, p["row_similarity"])


def _scale_line(points: dict, exclude=()) -> np.ndarray:
    """Least-squares ``log a = c0 + c1 d + c2 sub`` over the seen geometries ``{key: (d, sub, a)}``.

    Never increasing with distance (a positive slope is replaced by a flat line); the sublattice
    offset only when both sublattices have points.
    """
    items = [(d, s, a) for k, (d, s, a) in points.items() if k not in exclude and a > 0]
    if not items:
        return np.array([0.0, 0.0, 0.0])
    d, sub, a = (np.array(x, float) for x in zip(*items))
    la = np.log(a)
    if len(np.unique(d)) < 2:
        return np.array([float(np.mean(la)), 0.0, 0.0])
    both = 0 < sub.sum() < len(sub) - 1
    cols = [np.ones_like(d), d] + ([sub] if both else [])
    coef = np.linalg.lstsq(np.column_stack(cols), la, rcond=None)[0]
    coef = np.concatenate([coef, [0.0] * (3 - len(coef))])
    if coef[1] > 0:
        cols = [np.ones_like(d)] + ([sub] if both else [])
        c = np.linalg.lstsq(np.column_stack(cols), la, rcond=None)[0]
        coef = np.array([c[0], 0.0, c[1] if both else 0.0])
    return coef


@dataclass
class _Tables:
    """Everything the kernel of one grid cell needs, learned from one training fold."""

    p: dict
    known: np.ndarray  # (20,) element seen in training
    m: np.ndarray  # (20,) moment used (learned, or Anderson for unseen), μB
    m_model: np.ndarray  # (20,) moment of the fallback (Anderson or median), μB
    s: np.ndarray  # (20,) activity
    k_feat: np.ndarray  # (20, 20)
    k_prof: np.ndarray  # (20, 20), identity rows for unseen elements
    geo_points: dict  # geometry key -> (distance Å, sublattice 0/1, scale a in meV)
    line: np.ndarray  # (3,) log a = c0 + c1 d + c2 sub
    env: tuple = (0.0, np.inf)  # (slope, farthest training distance) of the mean-coupling envelope
    unseen_moments: dict = field(default_factory=dict)  # element index -> moment when left out (inner CV)

    def kappa(self, unseen=()) -> np.ndarray:
        """Element kernel (20, 20), with the elements ``unseen`` re-described as never seen."""
        s, kf, kp, p = self.s, self.k_feat, self.k_prof, self.p
        if len(unseen):
            s, kf, kp, m = s.copy(), kf.copy(), kp.copy(), self.m.copy()
            known = self.known.copy()
            for x in unseen:
                m[x] = self.unseen_moments.get(x, self.m_model[x])
                known[x] = False
            for x in unseen:
                mom = self.m_model.copy()
                mom[x] = m[x]
                if p["activity"] == "learned" or not np.isfinite(m[x]):
                    s[x] = _unseen_activity(self.s, mom, known, x)
                else:
                    s[x] = _activity(m[x], p)
            kf_new = _feature_kernel(m, p)
            for x in unseen:
                kf[x, :] = kf_new[x]
                kf[:, x] = kf_new[:, x]
                kp[x, :] = kp[:, x] = 0.0
                kp[x, x] = 1.0
        k = kf + p["profile_weight"] * kf * kp if p["profile_weight"] > 0 else kf
        return (s[:, None] * s[None, :]) * k

    def scale(self, enc: PairEncoding, unseen=()) -> np.ndarray:
        """a(g) of each row (meV, or 1 with ``scale='none'``); unseen geometries from the line in distance."""
        if self.p["scale"] == "none":
            return np.ones(len(enc))
        ug, first, inv = np.unique(enc.geo, return_index=True, return_inverse=True)
        line = np.exp(self.line[0] + self.line[1] * enc.dist[first] + self.line[2] * enc.sub[first])
        known = np.array([self.geo_points[g][2] if (g in self.geo_points and g not in unseen) else np.nan for g in ug])
        return np.where(np.isfinite(known), known, line)[inv.reshape(-1)]

    def envelope(self, dist) -> np.ndarray:
        """1 up to the farthest training distance, then the decay of the scale line."""
        slope, dmax = self.env
        return np.exp(np.minimum(0.0, slope * (np.asarray(dist, float) - dmax)))


def _learn_tables(X: pd.DataFrame, enc: PairEncoding, y, p: dict, cache: dict) -> _Tables:
    """Moments, activities, element and geometry tables of one grid cell from the training rows."""
    known = np.zeros(_NE, bool)
    known[np.unique(np.concatenate([enc.a, enc.b]))] = True
    if "moments" not in cache:
        lm = learned_moments(X["element_i"], X["element_j"], X["moment_i"], X["moment_j"])
        mm = MomentModel().fit(lm)
        cache["moments"] = (lm, mm.predict())
    lm, m_anderson = cache["moments"]
    if p["unseen_moment"] == "median":  # what SymPair-KRR does for an unseen element
        m_model = np.full(_NE, float(np.median(list(lm.values()))) if lm else 0.0)
    else:
        m_model = m_anderson
    m = np.array([lm[e] if known[i] else m_model[i] for i, e in enumerate(IMPURITY_ELEMENTS)])
    s = _activity(m, p)
    if p["activity"] == "learned":
        s = _learned_activity(enc, y, s, known)
        for x in np.flatnonzero(~known):
            s[x] = _unseen_activity(s, m_model, known, x)
    for x in np.flatnonzero(~np.isfinite(m)):  # no moment (its row unseen): the median activity of the seen elements
        s[x] = _unseen_activity(s, m, known, x)
    kf = _feature_kernel(m, p)
    kp = np.eye(_NE)
    if p["profile_weight"] > 0:
        key = ("profile", p["profile_length"])
        if key not in cache:
            if "d2" not in cache:
                cache["d2"] = SymmetricPairKRR.profile_distances(X, y)
            kk = np.exp(-cache["d2"] / (2 * p["profile_length"] ** 2))
            idx = np.flatnonzero(known)
            prof = np.eye(_NE)
            prof[np.ix_(idx, idx)] = _psd(kk[np.ix_(idx, idx)])
            cache[key] = prof
        kp = cache[key]
    y = np.asarray(y, float)
    w = (s[enc.a] * s[enc.b]) ** 2
    ug, first, g = np.unique(enc.geo, return_index=True, return_inverse=True)
    a = np.sqrt(np.bincount(g, weights=y**2) / np.maximum(np.bincount(g, weights=w), 1e-300))
    points = {str(k): (float(enc.dist[f]), float(enc.sub[f]), float(v)) for k, f, v in zip(ug, first, a)}
    line = _scale_line(points)
    env = (min(0.0, float(line[1])), float(np.max(enc.dist)) if len(enc) else np.inf)
    return _Tables(p, known, m, m_model, s, kf, kp, points, line, env)


def left_out_moments(X: pd.DataFrame, kinds, unseen_moment: str = "anderson") -> dict:
    """Moment (μB) of each element an inner block leaves out, from the Anderson model fitted without it.

    ``kinds``: what each inner block holds out, ``(kind, what)`` with ``what`` the element's index for
    kind ``'element'``. Empty unless ``unseen_moment`` is ``'anderson'`` and a block leaves out an element.
    """
    if kinds is None or unseen_moment != "anderson" or not any(k == "element" for k, _ in kinds):
        return {}
    lm = learned_moments(X["element_i"], X["element_j"], X["moment_i"], X["moment_j"])
    out = {}
    for kind, x in kinds:
        if kind == "element":
            e = IMPURITY_ELEMENTS[x]
            out[x] = float(MomentModel().fit({k: v for k, v in lm.items() if k != e}).predict([e])[0])
    return out
