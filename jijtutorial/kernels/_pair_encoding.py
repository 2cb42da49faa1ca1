"""A pair table as the pair kernels see it: element indices, the bond's geometry key, its distance and layer class.

:func:`encode_pairs` reads ``element_i``, ``element_j`` and the geometry of each row -- the tidy
columns ``sublattice_j``, ``distance``, ``layer`` (and ``geometry``, the bond class's label, when
present), or the pair vector ``rx, ry, rz`` -- and checks them, naming the row of the first bad one.
Labels follow the one convention of :mod:`jijtutorial.geometry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..elements import IMPURITY_ELEMENTS
from ..geometry import bond_class, geometry_label, layer_class, locate_bi_sites

_EL = {e: i for i, e in enumerate(IMPURITY_ELEMENTS)}
_NE = len(IMPURITY_ELEMENTS)


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
            raise ValueError(
                f"{what}, row {k}, column {c!r}: unknown impurity element {col[k]!r}; "
                f"the model knows {', '.join(IMPURITY_ELEMENTS)}."
            )
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
        raise ValueError(f"{what} needs 'sublattice_j', 'distance' and 'layer', or the pair vector 'rx', 'ry', 'rz' (Å).")
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
_LAYER_LABELS = {
    "same": re.compile(r"^(same Bi layer|upper Bi layer, QL [+\-±]\d+)$"),
    "other": re.compile(r"^(other Bi layer, same QL|across the vdW gap|lower Bi layer, QL [+\-±]\d+)$"),
}
#: Shortest Bi–Bi distance (Å), less a tolerance.
_NEAREST = 4.37


def _check_geometry(sub, dist, layer, what) -> None:
    """Raise naming the row for a geometry no Bi–Bi pair has: unknown sublattice or layer (None: not checked),
    bad distance."""
    bad = ~np.isin(sub, tuple(_LAYER_LABELS))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{what}, row {k}, column 'sublattice_j': {sub[k]!r} is not a Bi sublattice; use 'same' or "
            f"'other' (as in the tidy frames of jijtutorial.datasets)."
        )
    bad = ~(np.isfinite(dist) & (dist >= _NEAREST))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{what}, row {k}, column 'distance': {dist[k]:g} is not a Bi–Bi distance (a finite length "
            f"of at least 4.38 Å); {int(bad.sum())} such row(s)."
        )
    if layer is None:
        return
    pairs, inv = np.unique(np.char.add(np.char.add(sub.astype(str), "|"), layer.astype(str)), return_inverse=True)
    ok = np.array([bool(_LAYER_LABELS[p.split("|", 1)[0]].match(p.split("|", 1)[1])) for p in pairs])[inv.reshape(-1)]
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise ValueError(
            f"{what}, row {k}, column 'layer': {layer[k]!r} is not a Bi layer of the {sub[k]!r} sublattice "
            f"(e.g. 'same Bi layer', 'upper Bi layer, QL +1', 'across the vdW gap', as "
            f"jijtutorial.geometry.locate_bi_site names them); give the pair vector rx, ry, rz instead."
        )
