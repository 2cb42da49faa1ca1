"""Small synthetic pair tables for tests (tidy frames of :mod:`jijtutorial.datasets`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jijtutorial.datasets import tidy_frame
from jijtutorial.structures import bi_pair_vectors

MOMENTS = {"V": 2.6, "Cr": 3.8, "Mn": 4.4, "Fe": 3.4, "Co": 2.1, "Mo": 2.6, "Sc": 0.0, "Cu": 0.0}


def pair_frame(elements=tuple(MOMENTS), n_vectors=2, seed=0) -> pd.DataFrame:
    """All ordered pairs of ``elements`` at the first in-plane and across-gap vectors, toy J."""
    rng = np.random.default_rng(seed)
    vectors = [bi_pair_vectors(4.5, "same")[0], np.array([0.0, 0.0, 6.0966])][:n_vectors]
    rows = []
    for v in vectors:
        for a in elements:
            for b in elements:
                rows.append(dict(element_i=a, element_j=b, rx=v[0], ry=v[1], rz=v[2], J=0.0, Dx=0, Dy=0, Dz=0,
                                 moment_i=MOMENTS[a] * (1 + rng.normal(scale=0.01)), moment_j=MOMENTS[b]))
    f = tidy_frame(pd.DataFrame(rows), {"name": "toy"}, source="toy")
    ma, mb = f["moment_i"].to_numpy(), f["moment_j"].to_numpy()
    f["J"] = ma * mb * np.cos(0.7 * (f["Z_i"] - f["Z_j"])) / f["distance"] + rng.normal(scale=0.01, size=len(f))
    return f
