"""What the missing shells do to T_C: one composition, the same data, four ways to fill what the data lack.

A table of computed couplings (the JuKKR table) lacks some Bi–Bi shells. :func:`compare_fills` builds
the spin-model table of a composition with each fill of :func:`jijtutorial.spins.exchange_table`:

* ``'zero'``: the missing shells at zero (a prediction too, without an error bar);
* ``'predicted'`` (ML): PairGP fitted on the data (J ± σ, D = 0);
* ``'engine'``: the package's crystal engine (:mod:`jijtutorial.greens.engine`, J and D, no σ; its |J|
  is about three times JuKKR's on average where both exist);
* ``'engine-ml'`` (engine + ML): PairGP with the engine as a prior
  (:class:`jijtutorial.prior_model.EnginePriorGP`, J ± σ, D = 0),

and gives for each the couplings of the nearest missing shell of the first element pair, the
mean-field T_C (± its spread over draws of the filled couplings' σ, one Gaussian error per symmetry
class) and the Monte Carlo T_C of the table itself (:func:`jijtutorial.spins.curie_sweep`, Binder
crossings). Convention: H = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)], each pair once, meV, K.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The four fills, in the order of the comparison, with their names in a table.
FILLS = {"zero": "zero", "predicted": "ML (PairGP)", "engine": "engine", "engine-ml": "engine + ML"}


def compare_fills(
    data,
    composition: dict,
    cutoff: float,
    *,
    fills=tuple(FILLS),
    settings=None,
    client=None,
    n_draws: int = 200,
    seed: int = 1,
    progress: bool = False,
    tables: dict | None = None,
) -> pd.DataFrame:
    """T_C of ``composition`` with the missing shells of ``data`` filled in each way of ``fills``.

    Parameters
    ----------
    data : tidy J table (or 'jukkr', 'model', 'auto').
    composition : {element: fraction of the Bi sites}, e.g. ``{'Cr': 0.10}``.
    cutoff : largest pair distance (Å).
    fills : subset of :data:`FILLS`.
    settings, client : of :func:`jijtutorial.spins.curie_sweep` (its disk cache makes a repeated call cheap).
    n_draws, seed : draws of the filled couplings' σ for the spread of the mean-field T_C (0: none).
    tables : {fill: expanded table} already built (e.g. by the chapter), reused instead of rebuilt.

    Returns
    -------
    DataFrame, one row per fill: ``fill``, ``filled`` (pair vectors of the composition's elements filled), ``nearest_shell``
    (geometry of the nearest missing shell of the first element with itself), ``J_nearest``,
    ``sigma_nearest`` (meV, mean over its vectors; NaN without σ), ``T_MF`` (K), ``T_MF_spread`` (K,
    standard deviation over the draws; 0 without σ), ``T_C``, ``error`` (K, Monte Carlo), ``status``
    ('ordered', 'below', 'none') and ``Monte Carlo`` (in words, :func:`tc_text`); ``attrs['tables']``
    the expanded tables.
    """
    from ._exchange_table import exchange_table
    from ._meanfield import mean_field_tc
    from ._sweep import curie_sweep, tc_text
    from ._uncertainty import mean_field_spread

    unknown = [f for f in fills if f not in FILLS]
    if unknown:
        raise ValueError(f"fills: unknown fill(s) {unknown}; use some of {list(FILLS)}.")
    if not isinstance(composition, dict) or not composition:
        raise ValueError(f"composition must be a non-empty dict {{element: fraction}}, not {composition!r}.")
    elements = list(composition)
    base = elements[0]
    tables = dict(tables or {})
    rows = []
    for fill in fills:
        tab = tables.get(fill)
        if tab is None:
            tab = exchange_table(data, elements, cutoff, fill=fill, progress=progress)
            tables[fill] = tab
        ours = (tab["element_i"].isin(elements) & tab["element_j"].isin(elements)).to_numpy()
        filled = tab["source"].astype(str).map(_is_fill).to_numpy(bool) & ours
        bb = tab[(tab.element_i == base) & (tab.element_j == base) & filled]
        near = bb[bb["distance"] == bb["distance"].min()] if len(bb) else bb
        has_sigma = bool(np.isfinite(tab.loc[filled, "sigma"].to_numpy(float)).any())
        spread = 0.0
        if has_sigma and n_draws > 0:
            draws = mean_field_spread(tab, composition, sigma=None, n_draws=n_draws, seed=seed, include_missing=False)
            spread = float(np.std(draws))
        mc = curie_sweep(tab, [composition], settings=settings, client=client, progress=False).summary.iloc[0]
        rows.append(
            {
                "fill": FILLS[fill],
                "filled": int(filled.sum()),
                "nearest_shell": str(near["geometry"].iloc[0]) if len(near) else "",
                "J_nearest": float(near["J"].mean()) if len(near) else np.nan,
                "sigma_nearest": float(near["sigma"].mean()) if len(near) and has_sigma else np.nan,
                "T_MF": float(mean_field_tc(tab, composition)["T_C"]),
                "T_MF_spread": spread,
                "T_C": float(mc["T_C"]) if np.isfinite(mc["T_C"]) else np.nan,
                "error": float(mc["error"]),
                "status": str(mc["status"]),
                "Monte Carlo": tc_text(mc),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["tables"] = tables
    out.attrs["composition"] = dict(composition)
    return out


def _is_fill(source: str) -> bool:
    """Whether a ``source`` label of an expanded table marks a filled entry (not a computed one)."""
    from ._exchange_table import ENGINE_ML_SOURCE, ENGINE_SOURCE, PREDICTED_SOURCE, ZERO_SOURCE

    return any(str(source).startswith(s) for s in (ZERO_SOURCE, PREDICTED_SOURCE, ENGINE_ML_SOURCE, ENGINE_SOURCE))


__all__ = ["FILLS", "compare_fills"]
