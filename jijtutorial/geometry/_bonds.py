"""A bond's own symmetry, its class of symmetry-equivalent bonds, and what that allows D to be.

A *bond* is impurity i on an upper Bi site and impurity j at r. Two kinds of crystal operations
matter (R a rotation of :func:`~jijtutorial.geometry.site_operations`, about i's site):

* those that keep i and j: R in the site group C3v of i with ``R r = r``;
* those that *exchange* i and j: R carries j's sublattice onto an upper site and ``-R r = r``.
  On the other sublattice the inversion through the bond's midpoint is always one of them: every
  upper-lower Bi bond is **inversion-centred**. On the same sublattice the mirror perpendicular to
  an in-plane bond along a C2 axis is one.

Together they form the bond's stabiliser (:func:`bond_symmetry`). What a D vector must satisfy
follows from the energy ``D_ij·(S_i × S_j)`` being invariant, D axial (``det(R) R D``):

* keeping i and j: ``D(A, B, r) = det(R) R D(A, B, r)``: D lies in the fixed space V of
  ``{det(R) R}`` -- a line perpendicular to a mirror that contains the bond (Moriya's rule), 0 on the
  three-fold axis, all of R³ for a bond in no mirror;
* exchanging them: ``D(B, A, r) = S D(A, B, r)`` with ``S = -det(R) R``, an involution on V. Its
  eigenvectors with eigenvalue +1 are the parts of D *symmetric* in the two elements, those with
  -1 the *antisymmetric* parts, zero when A = B. For an inversion-centred bond ``S = -1``: D is
  antisymmetric in the elements, and **D = 0 for two equal impurities**. Without such an operation
  the two orders of the elements are unrelated (parity 0).

The *class* of a bond is its orbit under all these operations (:func:`bond_class`): the
vectors ``R r`` (elements in the same order, ``D -> det(R) R D``) and ``-R r`` (elements exchanged,
``D -> -det(R) R D``). One representative r0 per class (the vector pointing highest, then with the
smallest x, then y); every bond of the class carries the D of the representative by a known
orthogonal map M: ``D(A', B', v) = M D(A, B, r0)`` with ``(A', B') = (A, B)`` or, if the class
operation exchanges i and j, ``(B, A)``.

The basis of the allowed D at r0 (:attr:`BondClass.basis`) is written in the bond's frame where it
can be: ``t = ẑ × r̂ / |ẑ × r̂|`` (in plane, perpendicular to the bond), ``rho`` (in plane, along the
bond's projection) and ``z``; its vectors are the frame vectors projected onto each allowed
subspace (symmetric, antisymmetric or unrelated in the elements) and orthonormalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ._sites import bi_pair_vectors, geometry_label, layer_class, locate_bi_site
from ._symmetry import operations_onto_upper

#: Two vectors are the same bond when they agree to this (Å); Bi sites are 4.38 Å apart.
_KEY_DIGITS = 4


def _key(v) -> tuple:
    return tuple(np.round(np.asarray(v, float), _KEY_DIGITS) + 0.0)


@dataclass(frozen=True)
class BondSymmetry:
    """The operations that map a bond onto itself, and what they allow D to be.

    Attributes
    ----------
    vector : ndarray (3,)
        The bond r (Å), from i on an upper Bi site to j (an exact Bi site).
    sublattice : str
        j's sublattice, 'same' or 'other'.
    keeping : ndarray (k, 3, 3)
        Rotations R of i's site group with ``R r = r`` (i and j stay).
    exchanging : ndarray (l, 3, 3)
        Rotations R with ``-R r = r`` that carry j onto i and i onto j.
    """

    vector: np.ndarray = field(repr=False)
    sublattice: str
    keeping: np.ndarray = field(repr=False)
    exchanging: np.ndarray = field(repr=False)

    @property
    def inversion_centred(self) -> bool:
        """Whether the bond's midpoint is an inversion centre of the crystal (D = 0 for A = B)."""
        return any(np.allclose(R, -np.eye(3), atol=1e-9) for R in self.exchanging)

    @property
    def axial_projector(self) -> np.ndarray:
        """Projector (3, 3) onto the D vectors the operations keeping i and j allow (any elements)."""
        return np.mean([np.linalg.det(R) * R for R in self.keeping], axis=0)

    @property
    def exchange_map(self) -> np.ndarray | None:
        """``S`` (3, 3) with ``D(B, A, r) = S D(A, B, r)`` on the allowed D, or None without an exchanging operation."""
        if not len(self.exchanging):
            return None
        R = self.exchanging[0]
        return -np.linalg.det(R) * R

    def allowed_basis(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """Orthonormal basis of the allowed D, its parity under A <-> B and the frame labels.

        Returns
        -------
        basis : ndarray (m, 3)
            Rows: unit vectors; D(A, B, r) = sum_k c_k(A, B) basis[k], m = 0 ... 3.
        parity : ndarray of int (m,)
            +1: ``c_k(B, A) = c_k(A, B)``; -1: ``c_k(B, A) = -c_k(A, B)`` (0 for A = B); 0: unrelated.
        labels : tuple of str (m,)
            The frame vector each basis vector came from: 't', 'rho' or 'z' (or 'x', 'y', 'z' on the c axis).
        """
        P = self.axial_projector
        S = self.exchange_map
        frame, names = bond_frame(self.vector)
        parts = [(0, P)] if S is None else [(+1, P @ (np.eye(3) + S) / 2 @ P), (-1, P @ (np.eye(3) - S) / 2 @ P)]
        basis, parity, labels = [], [], []
        for s, Q in parts:
            mine = []
            for f, name in zip(frame, names):
                u = Q @ f
                for b in mine:
                    u = u - (b @ u) * b
                n = np.linalg.norm(u)
                if n > 1e-8:
                    mine.append(u / n)
                    basis.append(u / n)
                    parity.append(s)
                    labels.append(name)
        return (np.array(basis).reshape(-1, 3), np.array(parity, dtype=int), tuple(labels))


def bond_frame(vector) -> tuple[np.ndarray, tuple[str, ...]]:
    """The bond's frame (3, 3), rows ``t = ẑ × r̂/|ẑ × r̂|``, ``rho`` (in-plane direction of r), ``z``.

    On the c axis (no in-plane part) the frame is x, y, z.
    """
    v = np.asarray(vector, float).reshape(3)
    rxy = np.hypot(v[0], v[1])
    if rxy < 1e-9:
        return np.eye(3), ("x", "y", "z")
    rho = np.array([v[0], v[1], 0.0]) / rxy
    t = np.array([-v[1], v[0], 0.0]) / rxy
    return np.array([t, rho, [0.0, 0.0, 1.0]]), ("t", "rho", "z")


def bond_symmetry(vector) -> BondSymmetry:
    """The stabiliser of the bond from an upper Bi site to ``vector`` (Å; must end on a Bi site).

    See the module docstring: the operations that keep i and j, those that exchange them, and the D
    they allow (:meth:`BondSymmetry.allowed_basis`).
    """
    site = locate_bi_site(vector)
    return _bond_symmetry(_key(site.position), site.sublattice)


@lru_cache(maxsize=4096)
def _bond_symmetry(key: tuple, sublattice: str) -> BondSymmetry:
    r = np.array(key, float)
    tol = 1e-3
    keep = [R for R in operations_onto_upper("same") if np.linalg.norm(R @ r - r) < tol]
    swap = [R for R in operations_onto_upper(sublattice) if np.linalg.norm(-R @ r - r) < tol]
    return BondSymmetry(r, sublattice, np.array(keep).reshape(-1, 3, 3), np.array(swap).reshape(-1, 3, 3))


@dataclass(frozen=True)
class BondClass:
    """All bonds symmetry-equivalent to one (its orbit), a representative, and how D travels between them.

    Attributes
    ----------
    geometry : str
        The class's geometry label (:func:`jijtutorial.geometry.geometry_label`), e.g. 'same Bi layer, 4.38 Å'.
    sublattice, layer_class : str
        j's sublattice and the bond's layer class.
    distance : float
        |r| (Å).
    representative : ndarray (3,)
        r0 (Å): the member pointing highest, then with the smallest x, then y.
    vectors : ndarray (n, 3)
        Every bond of the class (Å), from one upper site; ``n`` is the multiplicity.
    maps : ndarray (n, 3, 3)
        ``M``: ``D(A', B', vectors[k]) = maps[k] @ D(A, B, r0)``.
    exchanged : ndarray of bool (n,)
        ``(A', B') = (B, A)`` (the operation exchanged i and j) rather than ``(A, B)``.
    symmetry : BondSymmetry
        The representative's stabiliser.
    """

    geometry: str
    sublattice: str
    layer_class: str
    distance: float
    representative: np.ndarray = field(repr=False)
    vectors: np.ndarray = field(repr=False)
    maps: np.ndarray = field(repr=False)
    exchanged: np.ndarray = field(repr=False)
    symmetry: BondSymmetry = field(repr=False)
    _index: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {_key(x): k for k, x in enumerate(self.vectors)})

    @property
    def multiplicity(self) -> int:
        """Number of bonds of the class from one upper site."""
        return len(self.vectors)

    def member(self, vector) -> tuple[np.ndarray, bool]:
        """``(M, exchanged)`` of one bond of the class (see :attr:`maps`); a ValueError if it is not a member."""
        k = self._index.get(_key(vector))
        if k is None:
            raise ValueError(
                f"vector {np.round(np.asarray(vector, float), 4)} Å is not a bond of the class "
                f"{self.geometry!r} (representative {np.round(self.representative, 4)} Å)."
            )
        return self.maps[k], bool(self.exchanged[k])


def _images(r: np.ndarray, sublattice: str):
    """Images of the bond r: (vector, M, exchanged), the operations keeping i and j first (identity first)."""
    out = []
    for R in operations_onto_upper("same"):
        out.append((R @ r, np.linalg.det(R) * R, False))
    for R in operations_onto_upper(sublattice):
        out.append((-R @ r, -np.linalg.det(R) * R, True))
    return out


def _representative(vectors: np.ndarray) -> np.ndarray:
    v = np.round(vectors, 6) + 0.0
    order = np.lexsort((v[:, 1], v[:, 0], -v[:, 2]))
    return vectors[order[0]]


def bond_class(vector) -> BondClass:
    """The class of symmetry-equivalent bonds that the bond to ``vector`` (Å) belongs to (see the module docstring)."""
    v = np.asarray(vector, float).reshape(3)
    if not np.all(np.isfinite(v)):
        locate_bi_site(v)  # raises, naming the problem
    return _class_of(tuple(np.round(v, 6) + 0.0))


@lru_cache(maxsize=8192)
def _class_of(key: tuple) -> BondClass:
    site = locate_bi_site(np.array(key))
    r = np.array(site.position)
    members = np.array([img for img, _, _ in _images(r, site.sublattice)])
    r0 = _representative(members)
    return _bond_class(_key(r0), site.sublattice)


@lru_cache(maxsize=4096)
def _bond_class(key: tuple, sublattice: str) -> BondClass:
    r0 = np.array(key, float)
    site = locate_bi_site(r0)
    r0 = np.array(site.position)
    seen, vectors, maps, exchanged = set(), [], [], []
    for v, M, ex in _images(r0, sublattice):
        k = _key(v)
        if k in seen:
            continue
        seen.add(k)
        vectors.append(v)
        maps.append(M)
        exchanged.append(ex)
    d = float(np.linalg.norm(r0))
    cls = layer_class(site.layer, sublattice)
    label = geometry_label(cls, d)
    siblings = _sibling_representatives(sublattice, cls, round(d, 2))
    if len(siblings) > 1:  # several classes share the layer class and the distance: number them
        label += f" ({siblings.index(_key(r0)) + 1})"
    out = BondClass(
        label,
        sublattice,
        cls,
        d,
        r0,
        np.array(vectors),
        np.array(maps),
        np.array(exchanged, dtype=bool),
        _bond_symmetry(_key(r0), sublattice),
    )
    for a in (out.representative, out.vectors, out.maps, out.exchanged):
        a.flags.writeable = False
    return out


@lru_cache(maxsize=256)
def _sibling_representatives(sublattice: str, cls: str, distance: float) -> list:
    """Representatives (keys, in the order of :func:`_representative`) of every class with this layer class and distance."""
    reps = set()
    for v in bi_pair_vectors(distance + 0.01, sublattice):
        if abs(round(float(np.linalg.norm(v)), 2) - distance) > 1e-9:
            continue
        if layer_class(locate_bi_site(v).layer, sublattice) != cls:
            continue
        reps.add(_key(_representative(np.array([img for img, _, _ in _images(v, sublattice)]))))
    v = np.array(sorted(reps))
    return [_key(x) for x in v[np.lexsort((v[:, 1], v[:, 0], -v[:, 2]))]]


def bond_classes(max_distance: float) -> list[BondClass]:
    """Every class of bonds from an upper Bi site up to ``max_distance`` Å, by distance (same sublattice first at a tie)."""
    out, seen = [], set()
    for sub in ("same", "other"):
        for v in bi_pair_vectors(max_distance + 1e-9, sub):
            if _key(v) in seen:
                continue
            c = bond_class(v)
            seen.update(_key(x) for x in c.vectors)
            out.append(c)
    out.sort(key=lambda c: (round(c.distance, 2), c.sublattice != "same", c.geometry))
    return out
