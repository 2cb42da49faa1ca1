"""Exchange couplings J_ij from Green functions: tight-binding hosts, contours, Dyson embedding, force theorem.

Two hosts. The crystal engine (the package's default for data): an sp³ Slater–Koster model of
Bi2Te3 with all five atoms of the cell (:mod:`.crystal`), d-shell impurities on Bi sites with
their own Stoner moments (:mod:`.dshell`), the force-theorem tensor on the d blocks
(:mod:`.dshell_exchange`), every Bi–Bi geometry of both sublattices (:mod:`.bi_pairs`)::

    from jijtutorial import greens
    engine = greens.CrystalEngine()                    # host, Green function on the Ozaki contour
    engine.impurity("Mn").moment                       # μB, self-consistent
    res = engine.pair("Cr", "Cr", [-4.383, 0, 0])      # tensor in eV, E = −e_i·J·e_j
    table = greens.exchange_table(engine, elements=["V", "Cr", "Mn"])   # every geometry up to 13.2 Å, meV

The teaching model of chapter 3's first part: the 4-band continuum model on one site per
quintuple layer (:mod:`.ti_model`) with static or resonant impurities. Typical use::

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

from .bi_pairs import pair_geometries, site_group
from .comparison import COMPLETE_SHELLS, match_frames, shell_agreement
from .contour import KB_EV, Contour, fermi_function, fermi_pole_expansion, ozaki, ozaki_poles, semicircle
from .crystal import (
    BI2TE3_SK,
    CrystalParameters,
    crystal_band_facts,
    crystal_model,
    crystal_trim_parities,
    crystal_z2_index,
)
from .crystal_green import CrystalGreen
from .dshell import DEFAULT_IMPURITY, ImpurityModel, ImpurityState
from .element_table import ImpurityParameters, element_table, impurity_parameters
from .engine import CrystalEngine, EngineSettings, PairResult, exchange_table
from .exchange import (
    REFERENCES,
    ExchangeResult,
    assemble_references,
    exchange_for_reference,
    exchange_tensor,
    grand_potential_change,
    liechtenstein,
)
from .green import HostGreen
from .impurity import embed, embed_pair, impurity_potential, orbital_projector
from .resonant import (
    ResonantParameters,
    d_count,
    d_occupation,
    level_from_occupation,
    level_potential,
    occupation_from_level,
    resonant_parameters,
    resonant_table,
)
from .ti_model import (
    BI2TE3,
    TIParameters,
    band_bottom,
    band_edges,
    bulk_gap,
    high_symmetry_path,
    inversion_operator,
    mass_at_trim,
    rhombohedral_cell,
    slab_bands,
    surface_path,
    ti_model,
    trim_parities,
    trim_points,
    upper_bi_projector,
    z2_index,
)
from .tight_binding import PAULI, TightBinding, simple_cubic, slab_hamiltonian, spin_diagonal
from .workflow import (
    CONTOUR_MARGIN,
    CONTOUR_POINTS,
    DEFAULT_IMPURITY_MODEL,
    IMPURITY_MODELS,
    check_impurity_model,
    impurity_on_contour,
    make_contour,
    midgap,
    pair_exchange,
)

__all__ = [
    "BI2TE3_SK",
    "COMPLETE_SHELLS",
    "CrystalEngine",
    "CrystalGreen",
    "CrystalParameters",
    "crystal_band_facts",
    "crystal_model",
    "crystal_trim_parities",
    "crystal_z2_index",
    "DEFAULT_IMPURITY",
    "EngineSettings",
    "exchange_table",
    "ImpurityModel",
    "ImpurityState",
    "match_frames",
    "pair_geometries",
    "PairResult",
    "shell_agreement",
    "site_group",
    "assemble_references",
    "band_bottom",
    "band_edges",
    "BI2TE3",
    "bulk_gap",
    "check_impurity_model",
    "Contour",
    "CONTOUR_MARGIN",
    "CONTOUR_POINTS",
    "d_count",
    "d_occupation",
    "DEFAULT_IMPURITY_MODEL",
    "element_table",
    "embed",
    "embed_pair",
    "exchange_for_reference",
    "exchange_tensor",
    "ExchangeResult",
    "fermi_function",
    "fermi_pole_expansion",
    "grand_potential_change",
    "high_symmetry_path",
    "HostGreen",
    "IMPURITY_MODELS",
    "impurity_on_contour",
    "impurity_parameters",
    "impurity_potential",
    "ImpurityParameters",
    "inversion_operator",
    "KB_EV",
    "level_from_occupation",
    "level_potential",
    "liechtenstein",
    "make_contour",
    "mass_at_trim",
    "midgap",
    "occupation_from_level",
    "orbital_projector",
    "ozaki",
    "ozaki_poles",
    "pair_exchange",
    "PAULI",
    "REFERENCES",
    "resonant_parameters",
    "resonant_table",
    "ResonantParameters",
    "rhombohedral_cell",
    "semicircle",
    "simple_cubic",
    "slab_bands",
    "slab_hamiltonian",
    "spin_diagonal",
    "surface_path",
    "ti_model",
    "TightBinding",
    "TIParameters",
    "trim_parities",
    "trim_points",
    "upper_bi_projector",
    "z2_index",
]
