"""The pair kernel of PairGP: its settings, the element-pair and geometry factors, the Kronecker form on a grid.

For rows ``(A, B, g)`` (unit amplitude)::

    k = a(g) a(g') k_geo(g, g') [kap(A,A') kap(B,B') + kap(A,B') kap(B,A')] / 2 + β² s_A s_B s_A' s_B' e(d) e(d')

with the element kernel ``kap`` of :class:`~jijtutorial.kernels._element_tables._Tables` (see
:mod:`jijtutorial.kernels._pair_gp` for the whole model). Symmetric in the two impurities by
construction. On a complete grid of element pairs x geometries the first term is a Kronecker product
(:class:`~jijtutorial.kernels.KroneckerGP`).
"""

from __future__ import annotations

import numpy as np

from ._element_tables import _Tables
from ._pair_encoding import _NE, PairEncoding

#: Kernel settings common to every grid cell (lengths in groups, μB and Å).
KERNEL_DEFAULTS = dict(
    length_group=2.0,
    length_moment=2.0,
    row_similarity=0.8,
    profile_weight=1.0,
    profile_length=8.0,
    moment_offset=0.1,
    geometry_mixing=0.3,
    geometry_length=6.0,
    layer_similarity=0.2,
    noise_floor=1e-4,
    scale="learned",
)
#: The two ways to compare elements: learned exchange profiles times a table kernel (as SymPair-KRR),
#: or the periodic table alone (broad group similarity, no moment term: what transfers to an unseen element).
ELEMENT_MODES = {
    "profile": dict(profile_weight=30.0, length_moment=2.0, length_group=2.0, profile_length=4.0),
    "features": dict(profile_weight=0.0, length_moment=100.0, length_group=3.0),
}
#: The two ways to treat geometries: each on its own (as SymPair-KRR), or smooth in distance with a scale a(g).
GEOMETRY_MODES = {"independent": dict(geometry_mixing=0.0, scale="none"), "smooth": dict(geometry_mixing=0.8, scale="learned")}


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
