"""Propagating uncertain couplings (e.g. the error bars of a machine-learned J table) into T_C.

An ML model's error is systematic for a geometry: every copy of one coupling in the crystal carries
the same error. :func:`perturbed_table` therefore draws one Gaussian error per *symmetry class* of
the expanded table -- the same draw for J(A, B, r) and for the same pair seen from B -- so a
perturbed table is still symmetric, and it can feed the mean field (thousands of draws) or
Monte Carlo (a few).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..structures import locate_bi_site
from ._exchange_table import ZERO_SOURCE, check_table
from ._meanfield import mean_field_tc


def symmetry_classes(table: pd.DataFrame) -> np.ndarray:
    """Integer class per row: rows related by symmetry or by exchanging i and j share a class."""
    check_table(table)
    back = {}
    keys = []
    for r in table.itertuples():
        if r.sublattice_j == "same":
            v = (-r.rx, -r.ry, -r.rz)
            k = tuple(np.round(v, 3))
            if k not in back:
                back[k] = locate_bi_site(v).geometry
            geo_back = back[k]
        else:
            geo_back = r.geometry
        keys.append(min((r.element_i, r.element_j, r.geometry), (r.element_j, r.element_i, geo_back)))
    _, cls = np.unique(np.array(["|".join(k) for k in keys]), return_inverse=True)
    return cls.reshape(-1)


def perturbed_table(table: pd.DataFrame, sigma: float | None = None, seed=0, classes=None, *,
                    include_missing: bool = True) -> pd.DataFrame:
    """The table with J + σ z, z ~ N(0, 1) drawn once per symmetry class.

    sigma : meV, used where the table has no ``sigma`` of its own (NaN), e.g. for JuKKR values or
        zero-filled shells; ``None`` keeps those rows unperturbed.
    classes : precomputed :func:`symmetry_classes` (saves time over many draws).
    include_missing : also perturb the zero-filled entries (as if a model had predicted them as
        0 ± σ); False keeps them at zero.
    """
    cls = symmetry_classes(table) if classes is None else classes
    s = table["sigma"].to_numpy(float).copy()
    if sigma is not None:
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma must be a non-negative uncertainty in meV, not {sigma!r}.")
        s[~np.isfinite(s)] = sigma
    s[~np.isfinite(s)] = 0.0
    if not include_missing:
        s[table["source"].to_numpy() == ZERO_SOURCE] = 0.0
    z = np.random.default_rng(seed).standard_normal(cls.max() + 1)
    out = table.copy()
    out["J"] = table["J"].to_numpy(float) + s * z[cls]
    out.attrs = dict(table.attrs)
    return out


def mean_field_spread(table: pd.DataFrame, composition, sigma: float | None = None, n_draws: int = 500,
                      seed=0, *, include_missing: bool = True) -> np.ndarray:
    """Mean-field T_C (K) of ``composition`` for ``n_draws`` perturbed tables, shape (n_draws,)."""
    cls = symmetry_classes(table)
    ss = np.random.SeedSequence(seed).spawn(int(n_draws))
    return np.array([mean_field_tc(perturbed_table(table, sigma, s, cls, include_missing=include_missing),
                                   composition)["T_C"] for s in ss])
