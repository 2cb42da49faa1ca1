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
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..elements import IMPURITY_ELEMENTS
from ..geometry import bond_class, geometry_label, layer_class, locate_bi_sites
from ..protocols import BLOCK_KINDS, block_kind, protocol_of_blocks
from ._closed_form import DistinctGP, KroneckerGP, distinct_inputs, group_blocks
from ._element_features import MomentModel, _features, learned_moments
from ._pair import SymmetricPairKRR, _psd

#: Kernel settings common to every grid cell (lengths in groups, μB and Å).
KERNEL_DEFAULTS = dict(length_group=2.0, length_moment=2.0, row_similarity=0.8, profile_weight=1.0,
                       profile_length=8.0, moment_offset=0.1, geometry_mixing=0.3, geometry_length=6.0,
                       layer_similarity=0.2, noise_floor=1e-4, scale="learned")
#: The two ways to compare elements: learned exchange profiles times a table kernel (as SymPair-KRR),
#: or the periodic table alone (broad group similarity, no moment term: what transfers to an unseen element).
ELEMENT_MODES = {"profile": dict(profile_weight=30.0, length_moment=2.0, length_group=2.0, profile_length=4.0),
                 "features": dict(profile_weight=0.0, length_moment=100.0, length_group=3.0)}
#: The two ways to treat geometries: each on its own (as SymPair-KRR), or smooth in distance with a scale a(g).
GEOMETRY_MODES = {"independent": dict(geometry_mixing=0.0, scale="none"),
                  "smooth": dict(geometry_mixing=0.8, scale="learned")}
#: Inner selections :class:`PairGP` understands (``selection``): the block kinds of the protocols.
SELECTIONS = BLOCK_KINDS
#: Nominal coverages of ±1σ and ±2σ.
ONE_SIGMA, TWO_SIGMA = 0.6827, 0.9545

_EL = {e: i for i, e in enumerate(IMPURITY_ELEMENTS)}
_NE = len(IMPURITY_ELEMENTS)


# --------------------------------------------------------------------------------------------
# encoding of a pair table
# --------------------------------------------------------------------------------------------
@dataclass
class PairEncoding:
    """Rows of a pair table as the kernel sees them.

    Attributes
    ----------
    a, b : ndarray of int (n,)
        Index of element i and j in :data:`jijtutorial.elements.IMPURITY_ELEMENTS`.
    geo : ndarray of str (n,)
        Geometry key: the bond's geometry label (:func:`jijtutorial.geometry.geometry_label`: layer
        class and distance to 0.01 Å), e.g. ``'same Bi layer, 4.38 Å'``.
    dist : ndarray (n,)
        |r| in Å (rounded to 0.01 Å, as the key).
    sub : ndarray (n,)
        0 for j on i's Bi sublattice, 1 for the other.
    cls : ndarray of str (n,)
        Layer class (:func:`jijtutorial.geometry.layer_class`).
    """

    a: np.ndarray
    b: np.ndarray
    geo: np.ndarray
    dist: np.ndarray
    sub: np.ndarray
    cls: np.ndarray

    def take(self, idx) -> "PairEncoding":
        return PairEncoding(*(x[idx] for x in (self.a, self.b, self.geo, self.dist, self.sub, self.cls)))

    def pair_index(self) -> np.ndarray:
        """Unordered element pair of each row, ``20 min + max`` (0 ... 399)."""
        return np.minimum(self.a, self.b) * _NE + np.maximum(self.a, self.b)

    def keys(self) -> np.ndarray:
        """One key per distinct kernel input: the unordered element pair and the geometry."""
        return np.char.add(np.char.mod("%03d|", self.pair_index()), self.geo)

    def __len__(self) -> int:
        return len(self.a)


def encode_pairs(X, what: str = "pair table") -> PairEncoding:
    """Element indices and geometry of each row of a pair table, with clear errors.

    ``X`` needs ``element_i``, ``element_j`` and the geometry: ``sublattice_j``, ``distance`` (Å)
    and ``layer`` (as in the tidy frames of :mod:`jijtutorial.datasets`; their ``geometry`` label is
    the key when present), or the pair vector ``rx, ry, rz`` (Å), which must end on a Bi site.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"PairGP takes a pair table (pandas DataFrame), not {type(X).__name__}.")
    for c in ("element_i", "element_j"):
        if c not in X.columns:
            raise ValueError(f"{what} lacks column {c!r}.")
    els = []
    for c in ("element_i", "element_j"):
        col = X[c].astype(str).to_numpy()
        bad = ~np.isin(col, IMPURITY_ELEMENTS)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}, row {k}, column {c!r}: unknown impurity element {col[k]!r}; "
                             f"the model knows {', '.join(IMPURITY_ELEMENTS)}.")
        els.append(np.array([_EL[e] for e in col], dtype=int))
    label = None
    if {"sublattice_j", "distance", "layer"} <= set(X.columns):
        sub = X["sublattice_j"].astype(str).to_numpy()
        dist = pd.to_numeric(X["distance"], errors="coerce").to_numpy(float)
        layer = X["layer"].astype(str).to_numpy()
        _check_geometry(sub, dist, layer, what)
        if "geometry" in X.columns:
            label = X["geometry"].astype(str).to_numpy()
    elif {"rx", "ry", "rz"} <= set(X.columns):
        sites = locate_bi_sites(X[["rx", "ry", "rz"]].to_numpy(float), where=f"{what}, row")
        sub = np.array([s.sublattice for s in sites])
        dist = np.array([s.distance for s in sites])
        layer = np.array([s.layer for s in sites])
        label = np.array([bond_class(s.position).geometry for s in sites])
    else:
        raise ValueError(f"{what} needs 'sublattice_j', 'distance' and 'layer', or the pair vector 'rx', 'ry', "
                         "'rz' (Å).")
    ul, inv_l = np.unique(np.char.add(np.char.add(sub.astype(str), "|"), layer.astype(str)), return_inverse=True)
    cls_u = np.array([layer_class(x.split("|", 1)[1], x.split("|", 1)[0]) for x in ul])
    cls = cls_u[inv_l.reshape(-1)] if len(ul) else np.zeros(0, str)
    dist = np.round(dist, 2)
    if label is None:
        geo = np.array([geometry_label(c, d) for c, d in zip(cls, dist)], dtype=str).reshape(-1)
    else:
        geo = label.astype(str)
    return PairEncoding(els[0], els[1], geo, dist, (sub == "other").astype(float), cls.astype(str))


#: Layer labels of each sublattice (:func:`jijtutorial.geometry.locate_bi_site`, or merged by
#: :func:`jijtutorial.geometry.layer_class`).
_LAYER_LABELS = {"same": re.compile(r"^(same Bi layer|upper Bi layer, QL [+\-±]\d+)$"),
                 "other": re.compile(r"^(other Bi layer, same QL|across the vdW gap|lower Bi layer, QL [+\-±]\d+)$")}
#: Shortest Bi–Bi distance (Å), less a tolerance.
_NEAREST = 4.37


def _check_geometry(sub, dist, layer, what) -> None:
    """Raise naming the row for a geometry no Bi–Bi pair has: unknown sublattice or layer (None: not checked),
    bad distance."""
    bad = ~np.isin(sub, tuple(_LAYER_LABELS))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}, row {k}, column 'sublattice_j': {sub[k]!r} is not a Bi sublattice; use 'same' or "
                         f"'other' (as in the tidy frames of jijtutorial.datasets).")
    bad = ~(np.isfinite(dist) & (dist >= _NEAREST))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}, row {k}, column 'distance': {dist[k]:g} is not a Bi–Bi distance (a finite length "
                         f"of at least 4.38 Å); {int(bad.sum())} such row(s).")
    if layer is None:
        return
    pairs, inv = np.unique(np.char.add(np.char.add(sub.astype(str), "|"), layer.astype(str)), return_inverse=True)
    ok = np.array([bool(_LAYER_LABELS[p.split("|", 1)[0]].match(p.split("|", 1)[1])) for p in pairs])[inv.reshape(-1)]
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"{what}, row {k}, column 'layer': {layer[k]!r} is not a Bi layer of the {sub[k]!r} sublattice "
                         f"(e.g. 'same Bi layer', 'upper Bi layer, QL +1', 'across the vdW gap', as "
                         f"jijtutorial.geometry.locate_bi_site names them); give the pair vector rx, ry, rz instead.")


# --------------------------------------------------------------------------------------------
# what the kernel learns from a training fold
# --------------------------------------------------------------------------------------------
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
        den = (np.bincount(enc.a, weights=a2[g] * s[enc.b] ** 2, minlength=_NE)
               + np.bincount(enc.b, weights=a2[g] * s[enc.a] ** 2, minlength=_NE))
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
    k = np.exp(-((g[:, None] - g[None, :]) ** 2) / (2 * p["length_group"] ** 2)
               - ((m[:, None] - m[None, :]) ** 2) / (2 * p["length_moment"] ** 2))
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


# --------------------------------------------------------------------------------------------
# the kernel
# --------------------------------------------------------------------------------------------
def _geometry_kernel(e1: PairEncoding, e2: PairEncoding, p):
    """(k_geo on the distinct geometries (g1, g2), row -> geometry index of e1, of e2)."""
    u1, f1, i1 = np.unique(e1.geo, return_index=True, return_inverse=True)
    u2, f2, i2 = np.unique(e2.geo, return_index=True, return_inverse=True)
    same = (u1[:, None] == u2[None, :]).astype(float)
    if p["geometry_mixing"] > 0:
        near = np.exp(-np.abs(e1.dist[f1][:, None] - e2.dist[f2][None, :]) / p["geometry_length"])
        near *= np.where(e1.cls[f1][:, None] == e2.cls[f2][None, :], 1.0, p["layer_similarity"])
        same = (1 - p["geometry_mixing"]) * same + p["geometry_mixing"] * near
    return same, i1.reshape(-1), i2.reshape(-1)


def _element_pair_kernel(e1: PairEncoding, e2: PairEncoding, kap):
    """Symmetrised element kernel on the distinct unordered element pairs, and each row's pair index."""
    p1, p2 = e1.pair_index(), e2.pair_index()
    u1, j1 = np.unique(p1, return_inverse=True)
    u2, j2 = np.unique(p2, return_inverse=True)
    A1, B1, A2, B2 = u1 // _NE, u1 % _NE, u2 // _NE, u2 % _NE
    kel = 0.5 * (kap[np.ix_(A1, A2)] * kap[np.ix_(B1, B2)] + kap[np.ix_(A1, B2)] * kap[np.ix_(B1, A2)])
    return kel, j1.reshape(-1), j2.reshape(-1)


def _pair_kernel(e1, e2, tables: _Tables, kap, a1, a2) -> np.ndarray:
    """The pair kernel (n1, n2) between two encodings (element kernel ``kap``, row scales ``a1``, ``a2``)."""
    p = tables.p
    kel, j1, j2 = _element_pair_kernel(e1, e2, kap)
    kg, g1, g2 = _geometry_kernel(e1, e2, p)
    out = kel[np.ix_(j1, j2)]
    out *= kg[np.ix_(g1, g2)]
    out *= a1[:, None]
    out *= a2[None, :]
    if p["bias"] > 0:
        s = np.sqrt(np.clip(np.diag(kap), 0, None))
        u1 = s[e1.a] * s[e1.b] * tables.envelope(e1.dist)
        u2 = s[e2.a] * s[e2.b] * tables.envelope(e2.dist)
        out += p["bias"] ** 2 * np.outer(u1, u2)
    return out


def _pair_diag(e: PairEncoding, tables: _Tables, kap, a) -> np.ndarray:
    """Prior variances (n,) of the rows of ``e``."""
    out = 0.5 * (kap[e.a, e.a] * kap[e.b, e.b] + kap[e.a, e.b] ** 2) * a**2
    if tables.p["bias"] > 0:
        s2 = np.clip(np.diag(kap), 0, None)
        out = out + tables.p["bias"] ** 2 * s2[e.a] * s2[e.b] * tables.envelope(e.dist) ** 2
    return out


def _grid_layout(enc_u: PairEncoding, inverse):
    """``(n_pairs, n_geometries)`` if the distinct inputs are every pair at every geometry, ordered
    pair-major with one row count per pair (so the kernel is a Kronecker product); else None."""
    pairs = enc_u.pair_index()
    n_p, n_g = len(np.unique(pairs)), len(np.unique(enc_u.geo))
    if n_p * n_g != len(enc_u) or n_p < 2 or n_g < 2:
        return None
    geo = enc_u.geo.reshape(n_p, n_g)
    if not np.all(geo == geo[:1]) or not np.all(pairs.reshape(n_p, n_g) == pairs.reshape(n_p, n_g)[:, :1]):
        return None
    counts = np.bincount(inverse, minlength=len(enc_u)).reshape(n_p, n_g)
    if not np.all(counts == counts[:, :1]):
        return None
    return n_p, n_g


def _kronecker_factors(enc_u: PairEncoding, grid, tables: _Tables, kap, a_u):
    """``(K_P, K_G, u, diag K)`` of the pair kernel on a complete grid (see :class:`KroneckerGP`)."""
    n_p, n_g = grid
    e_p = enc_u.take(np.arange(0, n_p * n_g, n_g))  # each pair once
    e_g = enc_u.take(np.arange(n_g))  # each geometry once
    kel, j1, j2 = _element_pair_kernel(e_p, e_p, kap)
    Kp = kel[np.ix_(j1, j2)]
    kg, g1, g2 = _geometry_kernel(e_g, e_g, tables.p)
    a = a_u[:n_g]
    Kg = kg[np.ix_(g1, g2)] * a[:, None] * a[None, :]
    kdiag = np.kron(np.diag(Kp), np.diag(Kg))
    u = None
    if tables.p["bias"] > 0:
        s = np.sqrt(np.clip(np.diag(kap), 0, None))
        u = tables.p["bias"] * np.outer(s[e_p.a] * s[e_p.b], tables.envelope(e_g.dist)).ravel()
        kdiag = kdiag + u**2
    return Kp, Kg, u, kdiag


# --------------------------------------------------------------------------------------------
# calibration of σ
# --------------------------------------------------------------------------------------------
def _quantile_scale(e, v, level: float = ONE_SIGMA) -> float:
    """``s`` such that a fraction ``level`` of ``|e| / (s sqrt(v))`` is at most 1."""
    z = np.abs(e) / np.sqrt(np.maximum(v, 1e-300))
    return float(np.quantile(z, level)) if len(z) else 1.0


#: Powers γ tried by :func:`calibrate_sigma`.
SIGMA_POWERS = np.round(np.linspace(0.5, 2.0, 31), 10)


def calibrate_sigma(residuals, variances, gammas=SIGMA_POWERS) -> tuple[float, float]:
    """Amplitude ``s`` and power ``γ`` of ``σ = s v^(γ/2)`` from cross-validation residuals.

    ``s`` puts a fraction 0.683 of the residuals inside ±1σ; ``γ`` brings the fraction inside ±2σ
    closest to 0.954. ``γ = 1`` is the GP's own shape (σ proportional to the posterior standard
    deviation); ``γ > 1`` widens the spread between confident and unsure predictions, as the
    residuals of pairs with and without a magnetic impurity demand. σ stays monotonic in ``v``.

    Parameters
    ----------
    residuals : ndarray (k,)
        Inner cross-validation residuals (meV).
    variances : ndarray (k,)
        Unit-amplitude posterior variances of the same predictions.
    gammas : ndarray
        Powers to try.

    Returns
    -------
    (s, gamma) : tuple of float
    """
    e = np.asarray(residuals, float)
    v = np.maximum(np.asarray(variances, float), 1e-300)
    if len(e) == 0:
        return 1.0, 1.0
    lv = np.log(v)
    best = None
    for g in gammas:
        sd = np.exp(0.5 * g * lv)
        s = _quantile_scale(e, sd**2)
        err = abs(float(np.mean(np.abs(e) <= 2 * s * sd)) - TWO_SIGMA)
        if best is None or err < best[0] - 1e-12:
            best = (err, s, float(g))
    return best[1], best[2]


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------
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

    def __init__(self, selection: str = "rows", element_modes=("profile", "features"),
                 geometry_modes=("independent", "smooth"), alphas=(0.003, 0.01, 0.03, 0.1), activity: str = "learned",
                 activity_floor: float = 0.05, unseen_moment: str = "anderson", bias: float = 0.3,
                 calibration: str = "power"):
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
        choices = {"selection": SELECTIONS, "activity": ("learned", "moment"), "unseen_moment": ("anderson", "median"),
                   "calibration": ("power", "ml")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"PairGP: {name} must be one of {', '.join(map(repr, allowed))}, not "
                                 f"{getattr(self, name)!r}.")
        for name, allowed in (("element_modes", ELEMENT_MODES), ("geometry_modes", GEOMETRY_MODES)):
            vals = tuple(getattr(self, name))
            if not vals or any(v not in allowed for v in vals):
                raise ValueError(f"PairGP: {name} must be a non-empty tuple of {', '.join(map(repr, allowed))}, "
                                 f"not {getattr(self, name)!r}.")
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
                raise ValueError(f"training row {k}, column {c!r}: {X[c].iloc[k]} is not a finite moment (μB); "
                                 f"fix or remove that pair (one NaN moment would make every prediction NaN).")
        if not np.any(y):
            raise ValueError(f"all {len(y)} training J are 0 meV: the cross-validation residuals σ is calibrated on "
                             f"would all be 0, and σ = 0 would claim every prediction exact. Fit on data with couplings.")
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
            p = {**KERNEL_DEFAULTS, **ELEMENT_MODES[em], **GEOMETRY_MODES[gm], "activity": self.activity,
                 "activity_floor": self.activity_floor, "unseen_moment": self.unseen_moment, "bias": float(self.bias)}
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
        """Moment of each element left out by an inner block, from the Anderson model fitted without it."""
        if kinds is None or self.unseen_moment != "anderson" or not any(k == "element" for k, _ in kinds):
            return {}
        lm = learned_moments(X["element_i"], X["element_j"], X["moment_i"], X["moment_j"])
        out = {}
        for kind, x in kinds:
            if kind == "element":
                e = IMPURITY_ELEMENTS[x]
                out[x] = float(MomentModel().fit({k: v for k, v in lm.items() if k != e}).predict([e])[0])
        return out

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
                aU = np.exp(line[0] + line[1] * eU.dist + line[2] * eU.sub) if tab.p["scale"] != "none" else \
                    np.ones(len(U))
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
                raise ValueError("PairGP: every inner cross-validation residual is 0, so σ cannot be calibrated (it "
                                 "would be 0: an exact answer claimed for every prediction). The training J leave "
                                 "nothing to check the model against; fit on more varied data.")
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
                mu[lo:lo + len(part)], var = gp.predict(Ks, kss, kss + tab.p["noise_floor"])
                sd[lo:lo + len(part)] = self._sigma(var)
                beyond = self._beyond(part)
                if beyond.any():  # nothing narrows these: σ at least the spread of the couplings themselves
                    sd[lo:lo + len(part)][beyond] = np.maximum(sd[lo:lo + len(part)][beyond],
                                                                self._spread(part.take(np.flatnonzero(beyond))))
            else:
                mu[lo:lo + len(part)] = gp.predict(Ks)
        if return_std:
            return mu[inv], sd[inv]
        return mu[inv]

    @property
    def element_similarity(self) -> pd.DataFrame:
        """The fitted element kernel ``kap`` (activities included) as a 20 x 20 DataFrame."""
        check_is_fitted(self, "dual_coef_")
        return pd.DataFrame(self.tables_.kappa(), index=list(IMPURITY_ELEMENTS), columns=list(IMPURITY_ELEMENTS))
