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

from ..geometry import locate_bi_site
from ._exchange_table import ZERO_SOURCE, check_table
from ._lattice import check_concentrations
from ._meanfield import j0_matrix
from ._montecarlo import K_B


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


def perturbed_table(
    table: pd.DataFrame, sigma: float | None = None, seed=0, classes=None, *, include_missing: bool = True
) -> pd.DataFrame:
    """The table with J + σ z, z ~ N(0, 1) drawn once per symmetry class.

    sigma : meV, used where the table has no ``sigma`` of its own (NaN), e.g. for JuKKR values or
        zero-filled shells; ``None`` keeps those rows unperturbed.
    classes : precomputed :func:`symmetry_classes` (saves time over many draws).
    include_missing : also perturb the zero-filled entries (as if a model had predicted them as
        0 ± σ); False keeps them at zero.
    """
    cls = symmetry_classes(table) if classes is None else classes
    s = _sigmas(table, sigma, include_missing)
    z = np.random.default_rng(seed).standard_normal(cls.max() + 1)
    out = table.copy()
    out["J"] = table["J"].to_numpy(float) + s * z[cls]
    out.attrs = dict(table.attrs)
    return out


def _sigmas(table: pd.DataFrame, sigma: float | None, include_missing: bool) -> np.ndarray:
    """σ per row (meV) as :func:`perturbed_table` uses it."""
    s = table["sigma"].to_numpy(float).copy()
    if sigma is not None:
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma must be a non-negative uncertainty in meV, not {sigma!r}.")
        s[~np.isfinite(s)] = sigma
    s[~np.isfinite(s)] = 0.0
    if not include_missing:
        s[table["source"].to_numpy() == ZERO_SOURCE] = 0.0
    return s


def mean_field_spread(
    table: pd.DataFrame, composition, sigma: float | None = None, n_draws: int = 500, seed=0, *, include_missing: bool = True
) -> np.ndarray:
    """Mean-field T_C (K) of ``composition`` for ``n_draws`` perturbed tables, shape (n_draws,).

    The same numbers as :func:`mean_field_tc` of :func:`perturbed_table` draw by draw (draw k uses
    the k-th child of ``SeedSequence(seed)``), computed at once: J_0 is linear in the couplings,
    so each draw only adds its errors, summed per element pair, to the unperturbed J_0.
    """
    conc = check_concentrations(composition, "composition")
    elements = tuple(conc)
    n_draws = int(n_draws)
    if n_draws < 1:
        raise ValueError(f"n_draws must be a positive number of draws, not {n_draws!r}.")
    cls = symmetry_classes(table)
    s = _sigmas(table, sigma, include_missing)
    j0 = j0_matrix(table, elements)
    index = {e: k for k, e in enumerate(elements)}
    a = table["element_i"].map(index).to_numpy()
    b = table["element_j"].map(index).to_numpy()
    keep = ~(pd.isna(a) | pd.isna(b)) & (s > 0)
    flat = a[keep].astype(int) * len(elements) + b[keep].astype(int)
    ss = np.random.SeedSequence(seed).spawn(n_draws)
    z = np.stack([np.random.default_rng(q).standard_normal(cls.max() + 1) for q in ss])  # (n_draws, n_classes)
    delta = np.zeros((n_draws, len(elements) ** 2))
    np.add.at(delta.T, flat, (z[:, cls[keep]] * s[keep]).T)
    j0s = j0[None] + delta.reshape(n_draws, len(elements), len(elements))
    c = np.sqrt(np.array([conc[e] for e in elements]))
    sym = c[None, :, None] * 0.5 * (j0s + j0s.transpose(0, 2, 1)) * c[None, None, :]
    lam = np.linalg.eigvalsh(sym)[:, -1]
    return np.maximum(lam, 0.0) / 3.0 / K_B
