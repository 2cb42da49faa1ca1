"""How a J table counts its pairs, and what a factor of two does to T_C.

This package writes the energy with every pair once,

    H = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)],   unit spins S, J > 0 ferromagnetic,

so that flipping one spin of an isolated ferromagnetic pair costs E(↑↓) − E(↑↑) = 2J. Codes differ:
TB2J, for example, sums over ordered pairs, H = −Σ_{i≠j} J'_ij S_i·S_j, which counts every pair
twice and makes J' = J/2 for the same physics. A table whose J was defined the second way, read as
if it were the first, halves every coupling.

The JuKKR table states its convention as H = −Σ J_ij S_i·S_j, J > 0 ferromagnetic (the data's
README and the Materials Cloud record), without saying over which pairs the sum runs. Its J is a
Liechtenstein force-theorem coupling of an impurity *pair*; the package reads it as the coefficient
of that pair's energy, each pair once, which is how its own engine defines J (the mixed second
derivative of the pair energy, chapter 3). The prefactor of JuKKR's formula is not given with the
data, and the data themselves (J_ij and J_ji both listed, equal up to 1e-3 meV) fit either reading:
nothing in the table can settle it.

What is at stake is exact: every energy scales with J, Monte Carlo sees only J/k_BT, so doubling
every coupling doubles every T_C -- mean field and Monte Carlo alike -- and changes nothing else.
:func:`as_pairs_once` converts a table whose source counted every pair twice.
"""

from __future__ import annotations

import pandas as pd

#: How a source may count its pairs: 'once' (H = −Σ_{i<j} J S·S, this package) or 'twice' (H = −Σ_{i≠j} J S·S).
PAIR_COUNTINGS = ("once", "twice")


def as_pairs_once(data: pd.DataFrame, counted: str) -> pd.DataFrame:
    """``data`` in this package's convention (each pair once), given how its source counted pairs.

    Parameters
    ----------
    data : a tidy J table (:func:`jijtutorial.datasets.load_dataset`) or an expanded exchange table
        (:func:`jijtutorial.spins.exchange_table`): columns J, Dx, Dy, Dz (meV), optionally sigma.
    counted : 'once' (the source wrote H = −Σ_{i<j} J_ij S_i·S_j: returned unchanged, as a copy) or
        'twice' (H = −Σ_{i≠j} J_ij S_i·S_j, every pair twice: J, D and sigma doubled).

    Returns
    -------
    A copy with the same columns and attrs, and ``attrs['pair_counting']`` saying what was done.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame with columns J, Dx, Dy, Dz (meV), not {type(data).__name__}.")
    if counted not in PAIR_COUNTINGS:
        raise ValueError(
            f"counted must be one of {PAIR_COUNTINGS} (how the source's Hamiltonian counts each pair), not {counted!r}."
        )
    missing = [c for c in ("J", "Dx", "Dy", "Dz") if c not in data.columns]
    if missing:
        raise ValueError(f"data: column(s) {missing} missing; a J table has J, Dx, Dy, Dz in meV.")
    out = data.copy()
    out.attrs = dict(data.attrs)
    factor = 2.0 if counted == "twice" else 1.0
    for col in ("J", "Dx", "Dy", "Dz", "sigma"):
        if col in out.columns:
            out[col] = out[col].astype(float) * factor
    out.attrs["pair_counting"] = (
        "source counts each pair once: unchanged"
        if counted == "once"
        else "source counts each pair twice (H = -sum_{i!=j}): J, D and sigma doubled"
    )
    return out
