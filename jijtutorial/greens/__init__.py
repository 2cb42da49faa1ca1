"""Exchange couplings J_ij from Green functions: tight-binding hosts, contours, Dyson embedding, force theorem.

Typical use::

    from jijtutorial import greens
    model = greens.ti_model()                         # Bi2Te3 4-band TI on its rhombohedral lattice
    vbm, cbm = greens.band_edges(model)
    contour = greens.semicircle(greens.band_bottom(model) - 0.5, 0.5 * (vbm + cbm))
    host = greens.HostGreen(model, kmesh=16, contour=contour)
    g00, gij, gji = host.pair_blocks([[-4.383, 0, 0]])
    fe = greens.impurity_parameters("Fe").as_tuple()   # (U, Δ) in eV
    res = greens.exchange_tensor(g00, gij, gji, contour, fe, fe, projector=greens.upper_bi_projector())
    res.J * 1e3, res.D * 1e3                          # meV, E = −Σ_{i<j} e_i·J·e_j
    # resonant d level (the default of pair_exchange and the model data set): (Ū(z), Δ(z)) on the contour
    fe_d = greens.impurity_on_contour("Fe", contour, "resonant")
    greens.exchange_tensor(g00, gij, gji, contour, fe_d, fe_d, projector=greens.upper_bi_projector())
"""

from .contour import Contour, fermi_function, fermi_pole_expansion, ozaki, ozaki_poles, semicircle
from .element_table import element_table, impurity_parameters, ImpurityParameters
from .exchange import (ExchangeResult, exchange_for_reference, exchange_tensor, grand_potential_change,
                       liechtenstein)
from .green import HostGreen
from .impurity import embed_pair, embed_single, impurity_potential, orbital_projector
from .resonant import ResonantParameters, d_count, d_occupation, resonant_parameters, resonant_table
from .ti_model import (BI2TE3, TIParameters, band_bottom, band_edges, bulk_gap, high_symmetry_path,
                       inversion_operator, mass_at_trim, rhombohedral_cell, slab_bands, surface_path, ti_model,
                       trim_parities, trim_points, upper_bi_projector, z2_index)
from .tight_binding import PAULI, TightBinding, simple_cubic, slab_hamiltonian, spin_diagonal
from .workflow import (DEFAULT_IMPURITY_MODEL, IMPURITY_MODELS, impurity_on_contour, make_contour, midgap,
                       pair_exchange)

__all__ = [
    "BI2TE3", "Contour", "DEFAULT_IMPURITY_MODEL", "IMPURITY_MODELS", "ResonantParameters", "ExchangeResult", "HostGreen", "ImpurityParameters", "PAULI", "TIParameters", "TightBinding",
    "band_bottom", "band_edges", "bulk_gap", "d_count", "d_occupation", "element_table", "embed_pair", "embed_single", "exchange_for_reference",
    "exchange_tensor", "fermi_function", "fermi_pole_expansion", "grand_potential_change", "high_symmetry_path",
    "impurity_on_contour", "impurity_parameters", "impurity_potential", "inversion_operator", "liechtenstein", "make_contour", "mass_at_trim",
    "midgap", "ozaki", "pair_exchange",
    "orbital_projector", "ozaki_poles", "resonant_parameters", "resonant_table", "rhombohedral_cell", "semicircle", "simple_cubic", "slab_bands", "slab_hamiltonian",
    "spin_diagonal", "surface_path", "ti_model", "trim_parities", "trim_points", "upper_bi_projector", "z2_index",
]
