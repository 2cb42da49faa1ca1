"""Small synthetic pair tables for tests (raw rows and tidy frames of :mod:`jijtutorial.datasets`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jijtutorial.datasets import tidy_frame
from jijtutorial.geometry import bi_pair_vectors, locate_bi_site

MOMENTS = {"V": 2.6, "Cr": 3.8, "Mn": 4.4, "Fe": 3.4, "Co": 2.1, "Mo": 2.6, "Sc": 0.0, "Cu": 0.0}
#: The first in-plane (4.38 Å) and the across-gap (6.10 Å) pair vector.
TWO_VECTORS = (bi_pair_vectors(4.5, "same")[0], np.array([0.0, 0.0, 6.0966]))


def ordered_pairs(elements, vectors=TWO_VECTORS, moments=None) -> pd.DataFrame:
    """Raw rows (the model-data CSV schema) of every ordered pair of ``elements`` at each vector (Å); J = D = 0.

    ``moments``: μB per element (default :data:`MOMENTS`, 1.0 for others).
    """
    moments = {**{e: 1.0 for e in elements}, **MOMENTS} if moments is None else moments
    rows = [
        dict(
            element_i=a,
            element_j=b,
            rx=v[0],
            ry=v[1],
            rz=v[2],
            J=0.0,
            Dx=0.0,
            Dy=0.0,
            Dz=0.0,
            moment_i=moments[a],
            moment_j=moments[b],
        )
        for v in vectors
        for a in elements
        for b in elements
    ]
    return pd.DataFrame(rows)


def pair_frame(elements=tuple(MOMENTS), n_vectors=2, seed=0) -> pd.DataFrame:
    """Tidy frame of all ordered pairs of ``elements`` at the first ``n_vectors`` of :data:`TWO_VECTORS`, toy J.

    J = m_i m_j cos(0.7 (Z_i - Z_j)) / r + noise (meV), with the moments of i jittered by 1 %.
    """
    rng = np.random.default_rng(seed)
    raw = ordered_pairs(elements, TWO_VECTORS[:n_vectors])
    raw["moment_i"] *= 1 + rng.normal(scale=0.01, size=len(raw))
    f = tidy_frame(raw, {"name": "toy"}, source="toy")
    ma, mb = f["moment_i"].to_numpy(), f["moment_j"].to_numpy()
    f["J"] = ma * mb * np.cos(0.7 * (f["Z_i"] - f["Z_j"])) / f["distance"] + rng.normal(scale=0.01, size=len(f))
    return f


#: Elements of the ladder toy table, and the few that also have "far" pairs (like JuKKR's far shells).
LADDER_ELEMENTS = ("V", "Cr", "Mn", "Fe", "Co", "Mo", "Sc", "Cu", "Nb", "Zn")
FAR_ELEMENTS = ("V", "Cr", "Mn")


def ladder_frame(seed=0, elements=LADDER_ELEMENTS, far_elements=FAR_ELEMENTS) -> pd.DataFrame:
    """Tidy frame for the protocol ladder: all ordered pairs of ``elements`` at three geometries (4.38 Å,
    6.10 Å across the gap, 8.77 Å) and the pairs of ``far_elements`` at 13.15 Å, with a toy J (meV).

    J = m_i m_j cos(0.6 (group_i - group_j)) / d² + noise; twins (A, B)/(B, A) get the same J.
    """
    from jijtutorial.elements import group

    moments = {**{e: 1.0 for e in elements}, **MOMENTS, "Nb": 1.2, "Zn": 0.0}
    vecs = [bi_pair_vectors(4.5, "same")[0], TWO_VECTORS[1], bi_pair_vectors(8.8, "same")[-1]]
    far = bi_pair_vectors(13.2, "same")[-1]
    rng = np.random.default_rng(seed)
    rows = []
    for k, v in enumerate(vecs + [far]):
        els = elements if k < 3 else far_elements
        noise = {}
        for a in els:
            for b in els:
                key = tuple(sorted((a, b)))
                noise.setdefault(key, rng.normal(scale=0.01))
                J = moments[a] * moments[b] * np.cos(0.6 * (group(a) - group(b))) / np.linalg.norm(v) ** 2 + noise[key]
                rows.append(
                    dict(
                        element_i=a,
                        element_j=b,
                        rx=v[0],
                        ry=v[1],
                        rz=v[2],
                        J=J,
                        Dx=0.01 * k,
                        Dy=0.0,
                        Dz=0.0,
                        moment_i=moments[a],
                        moment_j=moments[b],
                    )
                )
    return tidy_frame(pd.DataFrame(rows), {"name": "toy"}, source="toy")


#: Bonds of the D toy table: in-plane 4.38 Å (no mirror through it, i <-> j by a mirror), across the
#: gap 6.10 Å (on the three-fold axis: no D), 7.51 Å across the gap (inversion-centred), 7.59 Å in plane
#: (in a mirror, no i <-> j operation) and 10.47 Å one QL up (in a mirror).
D_VECTORS = tuple(
    np.array(locate_bi_site(v).position)
    for v in (
        (-4.382981, 0.0, 0.0),
        (0.0, 0.0, 6.097427),
        (-4.382981, 0.0, 6.097427),
        (-6.574471, -3.795789, 0.0),
        (2.191490, 1.265258, 10.162379),
    )
)
D_ELEMENTS = ("V", "Cr", "Mn", "Fe", "Co", "Mo", "Sc", "Cu")


def interfacial_d(element_i, element_j, vectors, sublattice) -> np.ndarray:
    """A D field that obeys the crystal's symmetry, built without the package's symmetry code (meV, (n, 3)).

    ``D = g(A, B) ẑ × r / |r|`` -- the interfacial (Moriya) form, axial under every operation of the
    site group C3v (each keeps ẑ) and odd in r -- with ``g`` symmetric in A, B on the same sublattice
    (the bond seen from j is (B, A, -r)) and antisymmetric on the other (seen from j through the
    inversion centre: (B, A, r)).
    """
    from jijtutorial.elements import group, z_of

    ga = np.array([group(a) for a in element_i], float)
    gb = np.array([group(b) for b in element_j], float)
    za = np.array([z_of(a) for a in element_i], float)
    zb = np.array([z_of(b) for b in element_j], float)
    sym = np.cos(0.5 * (ga + gb)) * (1 + 0.1 * (za + zb) / 40)
    anti = np.sin(0.4 * (ga - gb)) + 0.02 * (za - zb)
    g = np.where(np.asarray(sublattice) == "same", sym, anti)
    v = np.asarray(vectors, float)
    t = np.cross([0.0, 0.0, 1.0], v) / np.linalg.norm(v, axis=1)[:, None]
    return g[:, None] * t


def d_frame(seed=0, noise: float = 0.0) -> pd.DataFrame:
    """Tidy frame of every ordered pair of :data:`D_ELEMENTS` at :data:`D_VECTORS` with D = :func:`interfacial_d`
    plus ``noise`` (meV) of symmetry-forbidden D: a component along the bond on every row, the same for
    (A, B) and (B, A) (allowed only antisymmetric, or not at all on the three-fold axis and in mirrors)."""
    raw = ordered_pairs(D_ELEMENTS, D_VECTORS)
    f = tidy_frame(raw, {"name": "toy"}, source="toy")
    vec = f[["rx", "ry", "rz"]].to_numpy()
    d = interfacial_d(f["element_i"], f["element_j"], vec, f["sublattice_j"])
    rng = np.random.default_rng(seed)
    sym_noise = {}
    for k, (a, b) in enumerate(zip(f["element_i"], f["element_j"])):
        sym_noise.setdefault((min(a, b), max(a, b), k // len(D_ELEMENTS) ** 2), rng.normal())
    eta = np.array(
        [
            sym_noise[(min(a, b), max(a, b), k // len(D_ELEMENTS) ** 2)]
            for k, (a, b) in enumerate(zip(f["element_i"], f["element_j"]))
        ]
    )
    along = vec / np.linalg.norm(vec, axis=1)[:, None]
    d = d + noise * eta[:, None] * along
    f[["Dx", "Dy", "Dz"]] = d
    f["D"] = np.linalg.norm(d, axis=1)
    f["J"] = np.cos(0.3 * (f["Z_i"] + f["Z_j"])) / f["distance"]
    return f
