"""What a model can know about an impurity element before (and without) seeing any of its couplings.

Element features (from libraries, never typed by hand)
------------------------------------------------------
:func:`element_features`: the group and the 3d/4d row (:mod:`jijtutorial.elements`), the d count
``N_d`` of the divalent ion (``group - 2``, :func:`jijtutorial.greens.d_count`, the rule of the
package's Green-function engine), and from :mod:`ase.data` the atomic number, the covalent radius
(Å) and the free atom's ground-state moment (μB).

The element's moment in Bi2Te3: a mean-field Anderson model
-----------------------------------------------------------
The moments in the data are outputs of the same DFT calculations as J, so for an element that was
never computed they are unknown. :class:`MomentModel` estimates them with the mean-field
(Hartree-Fock) Anderson model of a d virtual bound state (Anderson 1961): five Lorentzian
levels of half-width Γ per spin, split by ``I m``. Self-consistency,
``n_σ = (5/π) arccot((ε_0 - σ I m / 2) / Γ)`` with ``n_↑ + n_↓ = N_d`` and ``n_↑ - n_↓ = m``,
has the closed solution (:func:`anderson_u`)

    u = I / Γ = [cot(π (N_d - m) / 10) - cot(π (N_d + m) / 10)] / m,

and a moment forms iff ``u > (π/5) / sin²(π N_d / 10)`` (Anderson's criterion, :func:`critical_u`).
One ``(u, δ)`` per transition-metal row -- ``δ`` a shift of the d count, since the divalent rule is
only a convention -- is fitted to the moments of the *training* elements of that row; the moment
of any element, seen or not, then follows from its ``N_d``. An unseen element therefore gets a
physical moment from its d count and its row's fitted ``u``, never from its own rows. An element
whose whole row is unseen gets none (NaN, :meth:`MomentModel.covers` False): its row's ``u`` is
unknown, and a guessed one invents moments (Ru 3.7 μB where the JuKKR data have 0.3).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..elements import IMPURITY_ELEMENTS, group, row

#: d orbitals per spin.
N_ORBITALS = 5
#: Grid of u = I/Γ (log-spaced) on which a row's u is fitted.
U_GRID = np.geomspace(0.3, 30.0, 121)
#: Grid of shifts δ of the d count (the divalent rule is a convention).
DELTA_GRID = np.round(np.arange(-1.0, 1.0001, 0.1), 10)
_ND_STEP = 0.1


def element_features():
    """Library features of the 20 impurity elements.

    Returns
    -------
    pandas.DataFrame
        Index: symbol (order of :data:`jijtutorial.elements.IMPURITY_ELEMENTS`); columns ``Z``,
        ``group``, ``row`` (3 or 4), ``N_d`` (d electrons of the divalent ion), ``hund``
        (Hund's-rule moment ``min(N_d, 10 - N_d)``, μB), ``covalent_radius`` (Å) and
        ``free_atom_moment`` (μB, ``ase.data.ground_state_magnetic_moments``).
    """
    return _features().copy()


@lru_cache(maxsize=1)
def _features():
    import pandas as pd
    from ase.data import atomic_numbers, covalent_radii, ground_state_magnetic_moments

    from ..greens.resonant import d_count

    rows = []
    for e in IMPURITY_ELEMENTS:
        z = atomic_numbers[e]
        n_d = d_count(e, "divalent")
        rows.append(
            dict(
                symbol=e,
                Z=z,
                group=group(e),
                row=row(e),
                N_d=n_d,
                hund=min(n_d, 10 - n_d),
                covalent_radius=float(covalent_radii[z]),
                free_atom_moment=float(ground_state_magnetic_moments[z]),
            )
        )
    return pd.DataFrame(rows).set_index("symbol")


# --------------------------------------------------------------------------------------------
# the mean-field Anderson model
# --------------------------------------------------------------------------------------------
def critical_u(n_d):
    """Anderson's criterion: the smallest ``u = I/Γ`` at which ``n_d`` d electrons form a moment.

    Parameters
    ----------
    n_d : float or ndarray
        d electrons (0 ... 10).

    Returns
    -------
    ndarray
        ``(π/5) / sin²(π n_d / 10)`` (infinite for an empty or full shell).
    """
    n_d = np.asarray(n_d, float)
    with np.errstate(divide="ignore"):
        return (np.pi / N_ORBITALS) / np.sin(np.pi * n_d / (2 * N_ORBITALS)) ** 2


def anderson_u(n_d, m):
    """``u = I/Γ`` at which ``n_d`` d electrons carry the self-consistent moment ``m`` (μB).

    Parameters
    ----------
    n_d, m : float or ndarray (broadcast together)
        d electrons and moment (μB); ``m = 0`` gives :func:`critical_u`.

    Returns
    -------
    ndarray
    """
    n_d = np.asarray(n_d, float)
    m = np.asarray(m, float)
    k = np.pi / (2 * N_ORBITALS)
    small = np.abs(m) < 1e-9
    mm = np.where(small, 1e-9, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (1 / np.tan(k * (n_d - mm)) - 1 / np.tan(k * (n_d + mm))) / mm
    return np.where(small, critical_u(n_d), u)


@lru_cache(maxsize=256)
def _moment_curve(n_d: float, n: int = 400):
    """(u, m) along the magnetic branch of ``n_d`` electrons, u increasing from the critical value."""
    m_max = min(n_d, 2 * N_ORBITALS - n_d)
    if m_max <= 0:
        return np.array([0.0, np.inf]), np.array([0.0, 0.0])
    m = np.linspace(0, m_max, n + 2)[1:-1]
    u = np.maximum.accumulate(anderson_u(n_d, m))  # monotonic; guard round-off
    return np.concatenate([[critical_u(n_d)], u]), np.concatenate([[0.0], m])


def anderson_moment(n_d, u) -> np.ndarray:
    """Self-consistent moment (μB) of ``n_d`` d electrons at ``u = I/Γ``; 0 below the criterion.

    Parameters
    ----------
    n_d : float or ndarray (k,)
        d electrons (0 ... 10).
    u : float or ndarray (k,)
        Exchange splitting over level width, ``I / Γ`` (dimensionless).

    Returns
    -------
    ndarray (k,)
        Moments in μB, between 0 and ``min(n_d, 10 - n_d)`` (Hund's limit, reached as u → ∞).
    """
    n_d = np.atleast_1d(np.asarray(n_d, float))
    u = np.broadcast_to(np.asarray(u, float), n_d.shape)
    out = np.zeros(n_d.shape)
    for i, (nd, uu) in enumerate(zip(n_d, u)):
        if nd <= 0 or nd >= 2 * N_ORBITALS:
            continue
        uc, mc = _moment_curve(float(nd))
        out[i] = 0.0 if uu <= uc[0] else float(np.interp(uu, uc, mc, right=mc[-1]))
    return out


@lru_cache(maxsize=1)
def _moment_table() -> np.ndarray:
    """Moments (len(U_GRID), 101) for N_d = 0, 0.1, ..., 10 on :data:`U_GRID`."""
    nds = np.round(np.arange(0, 10.0001, _ND_STEP), 10)
    return np.stack([anderson_moment(np.full(len(U_GRID), nd), U_GRID) for nd in nds], axis=1)


def _nd_index(n_d):
    return np.clip(np.round(np.asarray(n_d, float) / _ND_STEP).astype(int), 0, int(round(10 / _ND_STEP)))


def fit_row(n_d, moments, shift: bool = True) -> tuple[float, float]:
    """Least-squares ``(u, δ)`` of one transition-metal row from its known elements' (N_d, moment).

    Parameters
    ----------
    n_d, moments : array-like (k,)
        d counts and moments (μB) of the row's known elements.
    shift : bool
        Fit the shift δ of the d count (``N_d -> N_d + δ``, on :data:`DELTA_GRID`); else δ = 0.

    Returns
    -------
    (u, delta) : tuple of float
        Grid search over :data:`U_GRID` x :data:`DELTA_GRID`, the smaller shift on ties.

    Raises
    ------
    ValueError
        With no known element: nothing fixes the row's ``u``, and any value (the middle of the grid
        gave Ru 3.7 μB against 0.3 in the JuKKR data) would be an invented moment.
    """
    n_d = np.asarray(n_d, float)
    moments = np.asarray(moments, float)
    if len(n_d) == 0:
        raise ValueError(
            "fit_row: no known element in this row, so its u = I/Γ cannot be fitted; a moment for its elements would be invented."
        )
    if len(moments) != len(n_d) or not np.all(np.isfinite(moments)) or not np.all(np.isfinite(n_d)):
        raise ValueError(f"fit_row: n_d and moments must be finite and of one length, not {n_d!r} and {moments!r}.")
    table = _moment_table()
    best = None
    for d in DELTA_GRID if shift else (0.0,):
        err = np.sum((table[:, _nd_index(n_d + d)] - moments[None, :]) ** 2, axis=1)
        k = int(np.argmin(err))
        if best is None or err[k] < best[0] - 1e-9 or (abs(err[k] - best[0]) <= 1e-9 and abs(d) < abs(best[2])):
            best = (err[k], float(U_GRID[k]), float(d))
    return best[1], best[2]


class MomentModel:
    """Mean-field Anderson moments of the 20 impurities, one ``(u, δ)`` per row fitted to known moments.

    Parameters
    ----------
    shift : bool
        Fit a shift δ of the d count per row (default) or keep the divalent count.

    Attributes
    ----------
    params_ : dict
        Row (3 or 4) -> fitted ``(u, delta)``, or None for a row without a known element.
    unknown_rows_ : tuple of int
        Rows without a known element: :meth:`predict` gives NaN for their elements (a moment there
        would be invented, not estimated) and :meth:`covers` says False.

    Examples
    --------
    >>> known = {"V": 2.6, "Cr": 3.8, "Mn": 4.4, "Co": 2.1, "Ni": 0.9, "Sc": 0.0, "Cu": 0.0, "Zn": 0.0}
    >>> round(float(MomentModel().fit(known).predict(["Fe"])[0]), 1)  # Fe never seen
    3.5
    """

    def __init__(self, shift: bool = True):
        self.shift = shift

    def fit(self, known: dict) -> "MomentModel":
        """Fit each row's ``(u, δ)`` to ``known`` (symbol -> |moment| in μB; only these elements are read)."""
        f = _features()
        for e in known:
            if e not in f.index:
                raise ValueError(f"MomentModel.fit: unknown impurity element {e!r}; use one of {', '.join(IMPURITY_ELEMENTS)}.")
            if not isinstance(known[e], (int, float, np.number)) or not np.isfinite(known[e]):
                raise ValueError(f"MomentModel.fit: the moment of {e} is {known[e]!r}, not a finite number (μB).")
        self.params_ = {}
        for r in (3, 4):
            els = [e for e in known if f.loc[e, "row"] == r]
            self.params_[r] = (
                fit_row(f.loc[els, "N_d"].to_numpy(float), [abs(known[e]) for e in els], self.shift) if els else None
            )
        self.unknown_rows_ = tuple(r for r, p in self.params_.items() if p is None)
        return self

    def covers(self, elements=IMPURITY_ELEMENTS) -> np.ndarray:
        """Whether the moment of each of ``elements`` is estimated (its row has a known element), shape (k,)."""
        f = _features().loc[list(elements)]
        return np.array([self.params_[r] is not None for r in f["row"]], bool)

    def predict(self, elements=IMPURITY_ELEMENTS) -> np.ndarray:
        """Moments (μB) of ``elements`` (symbols), shape (len(elements),); NaN where :meth:`covers` is False."""
        f = _features().loc[list(elements)]
        table = _moment_table()
        out = []
        for nd, r in zip(f["N_d"], f["row"]):
            if self.params_[r] is None:  # no known element in the row: refuse to invent a moment
                out.append(np.nan)
                continue
            u, d = self.params_[r]
            out.append(table[int(np.argmin(np.abs(U_GRID - u))), _nd_index(nd + d)])
        return np.array(out, float)


def learned_moments(element_i, element_j, moment_i, moment_j) -> dict:
    """Median |moment| (μB) of each element over the given (training) rows, both impurity slots.

    Parameters
    ----------
    element_i, element_j : array-like of str (n,)
    moment_i, moment_j : array-like of float (n,), μB

    Returns
    -------
    dict
        symbol -> median |moment| (μB), for the elements that occur, in order of atomic number.
    """
    from ase.data import atomic_numbers

    el = np.concatenate([np.asarray(element_i, str), np.asarray(element_j, str)])
    mom = np.abs(np.concatenate([np.asarray(moment_i, float), np.asarray(moment_j, float)]))
    return {str(e): float(np.median(mom[el == e])) for e in sorted(np.unique(el), key=lambda e: atomic_numbers.get(e, 0))}
