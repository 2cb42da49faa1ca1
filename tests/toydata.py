"""Small synthetic pair tables for tests (raw rows and tidy frames of :mod:`jijtutorial.datasets`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jijtutorial.datasets import tidy_frame
from jijtutorial.geometry import bi_pair_vectors

MOMENTS = {"V": 2.6, "Cr": 3.8, "Mn": 4.4, "Fe": 3.4, "Co": 2.1, "Mo": 2.6, "Sc": 0.0, "Cu": 0.0}
#: The first in-plane (4.38 Å) and the across-gap (6.10 Å) pair vector.
TWO_VECTORS = (bi_pair_vectors(4.5, "same")[0], np.array([0.0, 0.0, 6.0966]))


def ordered_pairs(elements, vectors=TWO_VECTORS, moments=None) -> pd.DataFrame:
    """Raw rows (the model-data CSV schema) of every ordered pair of ``elements`` at each vector (Å); J = D = 0.

    ``moments``: μB per element (default :data:`MOMENTS`, 1.0 for others).
    """
    moments = {**{e: 1.0 for e in elements}, **MOMENTS} if moments is None else moments
    rows = [dict(element_i=a, element_j=b, rx=v[0], ry=v[1], rz=v[2], J=0.0, Dx=0.0, Dy=0.0, Dz=0.0,
                 moment_i=moments[a], moment_j=moments[b])
            for v in vectors for a in elements for b in elements]
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
                rows.append(dict(element_i=a, element_j=b, rx=v[0], ry=v[1], rz=v[2], J=J, Dx=0.01 * k, Dy=0.0,
                                 Dz=0.0, moment_i=moments[a], moment_j=moments[b]))
    return tidy_frame(pd.DataFrame(rows), {"name": "toy"}, source="toy")
