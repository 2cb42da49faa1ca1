"""Impurity parameters U (on-site potential) and Δ (exchange splitting) for the 20 elements, eV.

Every number has its source next to it:

* moment m (μB): median spin moment of the element over all pair calculations of the JuKKR data
  set (columns mom1/mom2 of ``jukkr_bi2te3_jij_dimers.csv``; Mozumder et al., arXiv:2407.04413,
  Materials Cloud doi:10.24435/materialscloud:c9-9x), read once from the table and written here.
  Elements whose median |m| < 0.05 μB are non-magnetic in Bi2Te3 (Sc, Cu, Zn, Y, Zr, Rh, Pd, Ag, Cd):
  their Δ is exactly 0, so every J with them is exactly 0.
* Δ = I·m, the Stoner picture of the exchange splitting, with a row-averaged Stoner parameter
  I = 0.9 eV for the 3d and I = 0.6 eV for the 4d elements (Janak, PRB 16, 255 (1977), whose
  values for the late 3d metals are 0.9–1.0 eV and for the 4d metals 0.6–0.7 eV; Himpsel,
  PRL 67, 2363 (1991) gives I ≈ 1 eV for Fe, Co, Ni from photoemission).
* U = −κ (χ_X − χ_Bi): the potential of the substituted site relative to Bi follows the Pauling
  electronegativity difference (an element that binds electrons more strongly than Bi lowers the
  site energy), κ = 1 eV per Pauling unit (a modelling choice). χ: Pauling scale as revised by
  Allred, J. Inorg. Nucl. Chem. 17, 215 (1961); χ_Bi = 2.02.

This is a *model*: the model site is a whole quintuple layer with two p-like orbitals, not a d shell,
so U and Δ set the scale and the chemical trend of J, not JuKKR's numbers. These are the parameters
of the 'static' impurity model; the default 'resonant' model (a spin-split d virtual bound state,
:mod:`jijtutorial.greens.resonant`) uses the same moments.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..elements import IMPURITY_ELEMENTS, row, z_of

#: Median spin moments (μB) in Bi2Te3 from the JuKKR pair calculations (mom1, mom2 columns).
MOMENT_SOURCE = (
    "median of mom1/mom2 per element over the JuKKR table, Mozumder et al. arXiv:2407.04413, doi:10.24435/materialscloud:c9-9x"
)
MEDIAN_MOMENT = {
    "Sc": 0.000,
    "Ti": 0.802,
    "V": 2.646,
    "Cr": 3.802,
    "Mn": 4.412,
    "Fe": 3.386,
    "Co": 2.114,
    "Ni": 0.931,
    "Cu": 0.000,
    "Zn": 0.000,
    "Y": 0.000,
    "Zr": 0.000,
    "Nb": 1.177,
    "Mo": 2.574,
    "Tc": 2.256,
    "Ru": 0.326,
    "Rh": 0.000,
    "Pd": 0.000,
    "Ag": 0.000,
    "Cd": 0.000,
}

#: |m| below this (μB) counts as non-magnetic: Δ = 0.
MAGNETIC_THRESHOLD = 0.05

#: Row-averaged Stoner parameters (eV).
STONER_I = {3: 0.9, 4: 0.6}
STONER_SOURCE = "Stoner I = 0.9 eV (3d), 0.6 eV (4d): Janak, Phys. Rev. B 16, 255 (1977)"

#: Pauling electronegativities (Allred 1961 revision).
ELECTRONEGATIVITY = {
    "Sc": 1.36,
    "Ti": 1.54,
    "V": 1.63,
    "Cr": 1.66,
    "Mn": 1.55,
    "Fe": 1.83,
    "Co": 1.88,
    "Ni": 1.91,
    "Cu": 1.90,
    "Zn": 1.65,
    "Y": 1.22,
    "Zr": 1.33,
    "Nb": 1.60,
    "Mo": 2.16,
    "Tc": 1.90,
    "Ru": 2.20,
    "Rh": 2.28,
    "Pd": 2.20,
    "Ag": 1.93,
    "Cd": 1.69,
    "Bi": 2.02,
}
ELECTRONEGATIVITY_SOURCE = "Pauling electronegativity, Allred, J. Inorg. Nucl. Chem. 17, 215 (1961)"

#: eV per Pauling unit in U = −κ (χ_X − χ_Bi).
KAPPA = 1.0


@dataclass(frozen=True)
class ImpurityParameters:
    """U and Δ (eV) of one impurity element, the moment behind Δ (μB), and where the numbers come from."""

    symbol: str
    moment: float
    U: float
    delta: float
    sources: str

    @property
    def magnetic(self) -> bool:
        return self.delta > 0

    def as_tuple(self) -> tuple[float, float]:
        """(U, Δ) in eV, the form the exchange functions take."""
        return (self.U, self.delta)


def impurity_parameters(symbol: str) -> ImpurityParameters:
    """Parameters of ``symbol`` (one of the 20 impurity elements); ValueError names the valid ones."""
    z_of(symbol, where="impurity element")
    m = MEDIAN_MOMENT[symbol]
    magnetic = abs(m) >= MAGNETIC_THRESHOLD
    I = STONER_I[row(symbol)]
    delta = I * abs(m) if magnetic else 0.0
    U = -KAPPA * (ELECTRONEGATIVITY[symbol] - ELECTRONEGATIVITY["Bi"])
    sources = (
        f"m: {MOMENT_SOURCE}; Δ = I·m, {STONER_SOURCE}"
        + ("" if magnetic else " (|m| < 0.05 μB: Δ = 0)")
        + f"; U = −{KAPPA} eV·(χ − χ_Bi), {ELECTRONEGATIVITY_SOURCE}"
    )
    return ImpurityParameters(symbol=symbol, moment=m if magnetic else 0.0, U=round(U, 6), delta=round(delta, 6), sources=sources)


def element_table():
    """All 20 elements as a pandas DataFrame (columns symbol, Z, moment, U, delta, magnetic, sources)."""
    import pandas as pd

    rows = []
    for s in IMPURITY_ELEMENTS:
        p = impurity_parameters(s)
        rows.append(
            {
                "symbol": s,
                "Z": z_of(s),
                "moment": p.moment,
                "U": p.U,
                "delta": p.delta,
                "magnetic": p.magnetic,
                "sources": p.sources,
            }
        )
    return pd.DataFrame(rows)
