"""One-call helpers for the book: a contour for a given Fermi level, impurities on it, J for element pairs on vectors."""

from __future__ import annotations

import numpy as np

from .contour import Contour, ozaki, semicircle
from .element_table import impurity_parameters
from .exchange import ExchangeResult, exchange_tensor
from .green import HostGreen
from .resonant import DEFAULT_RULE, GAMMA, WEIGHT, resonant_parameters
from .ti_model import band_bottom, band_edges, ti_model, upper_bi_projector
from .tight_binding import TightBinding


def midgap(model: TightBinding) -> float:
    """Middle of the bulk gap (eV)."""
    vbm, cbm = band_edges(model)
    return 0.5 * (vbm + cbm)


#: Start of the T = 0 contour below the lowest host band (eV). The integrand is not confined to the
#: host bands: a resonant d level has Lorentzian tails (Mn's majority level lies 1.6 eV below E_F,
#: Γ = 0.3 eV) and a static impurity that replaces the whole site has bound states below the band
#: bottom (−2.35 eV; Fe's between −2.85 and −3.35 eV). With 0.5 eV the Mn–Mn nearest-neighbour J
#: was 10 % low and whole-site static J up to 50 %; from 4 eV on every J of the model data set
#: changes by less than 1e-4 (relative) when the margin is doubled.
CONTOUR_MARGIN = 4.0
#: Points of the T = 0 semicircle: 96 keep the larger arc converged to 1e-4 also for the static
#: impurities, whose in-gap bound states next to E_F need points near the end of the arc.
CONTOUR_POINTS = 96


def make_contour(
    model: TightBinding,
    e_fermi: float | None = None,
    temperature: float = 0.0,
    n_points: int = CONTOUR_POINTS,
    n_poles: int = 100,
    margin: float = CONTOUR_MARGIN,
) -> Contour:
    """Semicircle (T = 0, from ``margin`` eV below the bands) or Ozaki poles (T > 0, K) up to ``e_fermi``.

    ``e_fermi`` in eV (default mid-gap), ``temperature`` in K. The defaults
    (:data:`CONTOUR_MARGIN`, :data:`CONTOUR_POINTS`) give exchange couplings converged to 1e-4
    (relative) in the margin and the number of points; see their notes.
    """
    ef = midgap(model) if e_fermi is None else float(e_fermi)
    if temperature > 0:
        return ozaki(ef, temperature, n_poles)
    return semicircle(band_bottom(model) - margin, ef, n_points)


#: Impurity models: 'static' (U, Δ of the element table) and 'resonant' (spin-split d virtual bound state).
IMPURITY_MODELS = ("static", "resonant")
#: The model used when none is given.
DEFAULT_IMPURITY_MODEL = "resonant"


def check_impurity_model(impurity_model: str) -> str:
    if impurity_model not in IMPURITY_MODELS:
        raise ValueError(f"unknown impurity_model {impurity_model!r}: use one of {', '.join(IMPURITY_MODELS)}.")
    return impurity_model


def impurity_on_contour(
    symbol: str,
    contour: Contour,
    impurity_model: str = DEFAULT_IMPURITY_MODEL,
    *,
    gamma: float = GAMMA,
    weight: float = WEIGHT,
    rule: str = DEFAULT_RULE,
):
    """The (U, Δ) pair of ``symbol`` that the exchange functions take, for the chosen impurity model.

    'static': numbers (eV) from :func:`impurity_parameters`. 'resonant': arrays over the contour,
    Ū(z) = (V↑ + V↓)/2 and Δ(z) = V↓ − V↑ of the virtual bound state (:mod:`.resonant`), with the
    d levels placed relative to the contour's Fermi level.
    """
    if check_impurity_model(impurity_model) == "static":
        return impurity_parameters(symbol).as_tuple()
    p = resonant_parameters(symbol, gamma=gamma, weight=weight, rule=rule)
    return p.on_contour(contour.z, contour.params["e_fermi"])


def pair_exchange(
    element_i: str,
    element_j: str,
    vectors,
    *,
    model: TightBinding | None = None,
    kmesh=16,
    contour: Contour | None = None,
    host: HostGreen | None = None,
    impurity_model: str = DEFAULT_IMPURITY_MODEL,
    **resonant,
) -> ExchangeResult:
    """Exchange tensors (eV) of impurity ``element_i`` at 0 and ``element_j`` at each vector (Å, shape (n, 3)).

    Uses the Bi2Te3 model and the element table; impurities on the upper Bi layer of their QL.
    Pass ``host`` to reuse a computed host Green function (then model, kmesh, contour are ignored).
    impurity_model: 'resonant' (default; keyword arguments gamma, weight, rule go to
    :func:`jijtutorial.greens.resonant_parameters`) or 'static'.
    """
    if host is None:
        model = ti_model() if model is None else model
        contour = make_contour(model) if contour is None else contour
        host = HostGreen(model, kmesh, contour)
    R = np.atleast_2d(np.asarray(vectors, dtype=float))
    g00, gij, gji = host.pair_blocks(R)
    pi = impurity_on_contour(element_i, host.contour, impurity_model, **resonant)
    pj = impurity_on_contour(element_j, host.contour, impurity_model, **resonant)
    return exchange_tensor(g00, gij, gji, host.contour, pi, pj, projector=upper_bi_projector())
