"""One-call helpers for the book: a contour for a given Fermi level, J for element pairs on vectors."""

from __future__ import annotations

import numpy as np

from .contour import Contour, ozaki, semicircle
from .element_table import impurity_parameters
from .exchange import ExchangeResult, exchange_tensor
from .green import HostGreen
from .ti_model import band_bottom, band_edges, ti_model, upper_bi_projector
from .tight_binding import TightBinding


def midgap(model: TightBinding) -> float:
    """Middle of the bulk gap (eV)."""
    vbm, cbm = band_edges(model)
    return 0.5 * (vbm + cbm)


def make_contour(model: TightBinding, e_fermi: float | None = None, temperature: float = 0.0,
                 n_points: int = 48, n_poles: int = 100, margin: float = 0.5) -> Contour:
    """Semicircle (T = 0, from 0.5 eV below the bands) or Ozaki poles (T > 0, K) up to ``e_fermi`` (eV, default mid-gap)."""
    ef = midgap(model) if e_fermi is None else float(e_fermi)
    if temperature > 0:
        return ozaki(ef, temperature, n_poles)
    return semicircle(band_bottom(model) - margin, ef, n_points)


def pair_exchange(element_i: str, element_j: str, vectors, *, model: TightBinding | None = None, kmesh=16,
                  contour: Contour | None = None, host: HostGreen | None = None) -> ExchangeResult:
    """Exchange tensors (eV) of impurity ``element_i`` at 0 and ``element_j`` at each vector (Å, shape (n, 3)).

    Uses the Bi2Te3 model and the element table; impurities on the upper Bi layer of their QL.
    Pass ``host`` to reuse a computed host Green function (then model, kmesh, contour are ignored).
    """
    if host is None:
        model = ti_model() if model is None else model
        contour = make_contour(model) if contour is None else contour
        host = HostGreen(model, kmesh, contour)
    R = np.atleast_2d(np.asarray(vectors, dtype=float))
    g00, gij, gji = host.pair_blocks(R)
    pi, pj = impurity_parameters(element_i), impurity_parameters(element_j)
    return exchange_tensor(g00, gij, gji, host.contour, pi.as_tuple(), pj.as_tuple(), projector=upper_bi_projector())
