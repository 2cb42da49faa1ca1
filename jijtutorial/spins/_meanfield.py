"""Mean-field Curie temperature for the convention H = −Σ_{i<j} J_ij S_i·S_j (pairs once, unit spins).

Each classical unit spin in the mean field h_i = Σ_j J_ij ⟨S_j⟩ has ⟨S_i⟩ = L(β|h_i|) ĥ_i with the
Langevin function L(x) = coth x − 1/x ≈ x/3. Linearising, ⟨S⟩ = β J_0 ⟨S⟩/3, so

    k_B T_C^MF = J_0 / 3,   J_0 = Σ_j J_0j   (every partner j once).

For dopants spread at random over the Bi sites (virtual-crystal average) with concentrations
c_a, the sum runs over all Bi sites, each occupied by species b with probability c_b:
J_0^{ab} = Σ_r J_ab(r), and k_B T_C^MF = λ_max / 3 with λ_max the largest eigenvalue of
M_ab = J_0^{ab} c_b (for one species, c Σ_r J(r) / 3). The sum over r uses an upper-Bi site; a
lower-Bi site has the same sum (the inverted vectors).

Mean-field theory ignores fluctuations and, for a dilute magnet, percolation: it gives a finite
T_C at any concentration, however far apart the dopants are. It is an upper bound to compare
Monte Carlo with, not a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._exchange_table import check_table
from ._lattice import check_concentrations
from ._model import SpinModel
from ._montecarlo import K_B


def j0_matrix(table: pd.DataFrame, elements) -> np.ndarray:
    """J_0^{ab} = Σ_r J_ab(r) (meV) over the table's vectors (within its cut-off), shape (n, n)."""
    check_table(table)
    sums = table.groupby(["element_i", "element_j"])["J"].sum()
    out = np.zeros((len(elements), len(elements)))
    for a, ea in enumerate(elements):
        for b, eb in enumerate(elements):
            if (ea, eb) not in sums.index:
                raise ValueError(f"table has no couplings {ea}-{eb}; build it with every dopant in elements.")
            out[a, b] = sums[(ea, eb)]
    return out


def mean_field_tc(table: pd.DataFrame, concentrations: Mapping[str, float]) -> dict:
    """Mean-field Curie temperature (K) of dopants at ``concentrations`` (fractions of Bi sites).

    Returns {'T_C': K (0 if no ordered state is favoured, λ_max ≤ 0), 'lambda_max': meV,
    'J0': (n, n) meV, 'elements': tuple, 'mode': (n,) eigenvector of the ordering (signs show
    ferro- or ferrimagnetic alignment of the species)}.
    """
    conc = check_concentrations(concentrations, "concentrations")
    elements = tuple(conc)
    j0 = j0_matrix(table, elements)
    c = np.array([conc[e] for e in elements])
    sym = np.sqrt(c)[:, None] * 0.5 * (j0 + j0.T) * np.sqrt(c)[None, :]
    w, v = np.linalg.eigh(sym)
    lam = float(w[-1])
    mode = v[:, -1] / np.sqrt(np.maximum(c, 1e-300))
    mode = mode / np.abs(mode).max() * np.sign(mode[np.argmax(np.abs(mode))])
    return {"T_C": max(lam, 0.0) / 3.0 / K_B, "lambda_max": lam, "J0": j0, "elements": elements, "mode": mode}


def mean_field_tc_model(model: SpinModel) -> float:
    """Mean-field T_C (K) of one finite model: λ_max of its coupling matrix J_ij, divided by 3 k_B.

    For a periodic lattice with z neighbours at J this is z J / (3 k_B) (2 J/k_B on the simple
    cubic lattice); for a dilute configuration it is the mean-field T_C of that very
    arrangement, dominated by its most strongly coupled cluster.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import eigsh

    n = model.n_spins
    mat = csr_matrix((model.csr_J, model.indices, model.indptr), shape=(n, n))
    if n <= 400:
        lam = float(np.linalg.eigvalsh(mat.toarray())[-1])
    else:
        lam = float(eigsh(mat, k=1, which="LA", return_eigenvectors=False)[0])
    return max(lam, 0.0) / 3.0 / K_B


def mean_field_magnetisation(model: SpinModel, temperature: float, *, n_iter: int = 2000, tol: float = 1e-12) -> np.ndarray:
    """Self-consistent mean-field moments ⟨S_i⟩ = L(β|h_i|) ĥ_i at ``temperature`` (K), shape (N, 3).

    Iterated from all spins along +z; the isotropic part only (DMI ignored). A numerical check of
    the 1/3 in k_B T_C = J_0/3: the moments vanish above T_C^MF and stay finite below.
    """
    from ._montecarlo import check_temperatures

    t = float(check_temperatures([temperature], "temperature")[0])
    beta = 1.0 / (K_B * t)
    from scipy.sparse import csr_matrix

    n = model.n_spins
    mat = csr_matrix((model.csr_J, model.indices, model.indptr), shape=(n, n))
    m = np.zeros((n, 3))
    m[:, 2] = 1.0
    for _ in range(n_iter):
        h = mat @ m
        x = beta * np.linalg.norm(h, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lang = np.where(x > 1e-6, 1.0 / np.tanh(x) - 1.0 / x, x / 3.0)
            unit = np.where(x[:, None] > 0, h / np.linalg.norm(h, axis=1, keepdims=True), 0.0)
        new = lang[:, None] * unit
        if np.max(np.abs(new - m)) < tol:
            return new
        m = new
    return m


def codoping_mean_field(table: pd.DataFrame, base: str, partners, total: float, shares) -> pd.DataFrame:
    """Mean-field T_C (K) of ``base`` + each partner at a fixed ``total`` concentration.

    ``shares``: fractions of the total that are ``base`` (1 = base alone, 0 = partner alone).
    Returns columns partner, share, c_base, c_partner, T_MF.
    """
    rows = []
    for p in partners:
        for s in shares:
            comp = {e: c for e, c in ((base, s * total), (p, (1 - s) * total)) if c > 0}
            rows.append(
                {
                    "partner": p,
                    "share": float(s),
                    "c_base": s * total,
                    "c_partner": (1 - s) * total,
                    "T_MF": mean_field_tc(table, comp)["T_C"],
                }
            )
    return pd.DataFrame(rows)


def j0_by_element(table: pd.DataFrame, elements=None, concentration: float | None = None) -> pd.DataFrame:
    """J_0 = Σ_r J(r) of each element with itself (meV), split into its ferromagnetic and antiferromagnetic parts.

    Parameters
    ----------
    table : expanded exchange table (:func:`jijtutorial.spins.exchange_table`); the sums run over its
        vectors (within its cut-off, each Bi site around an upper-Bi dopant once).
    elements : the elements (default: all of the table's).
    concentration : optional fraction of Bi sites; adds the mean-field T_C (K) of each element alone
        at that concentration, c J_0 / (3 k_B) (0 where J_0 ≤ 0).

    Returns
    -------
    One row per element: J0, J0_ferro (sum of the J > 0), J0_antiferro (sum of the J < 0), J_nearest
    (mean J at the shortest distance), all meV; n_ferro and n_antiferro (number of Bi sites with
    J > 0 and J < 0); T_MF if ``concentration`` is given. The sign of J0 decides whether mean field
    favours a ferromagnet at all.
    """
    check_table(table)
    if elements is None:
        elements = list(dict.fromkeys(table["element_i"]))
    rows = []
    for e in elements:
        sub = table[(table["element_i"] == e) & (table["element_j"] == e)]
        if sub.empty:
            raise ValueError(f"table has no couplings {e}-{e}; build it with {e} among the elements.")
        J = sub["J"].to_numpy(float)
        nearest = sub["distance"].to_numpy(float) <= sub["distance"].min() + 1e-6
        row = {
            "element": e,
            "J0": float(J.sum()),
            "J0_ferro": float(J[J > 0].sum()),
            "J0_antiferro": float(J[J < 0].sum()),
            "J_nearest": float(J[nearest].mean()),
            "n_ferro": int((J > 0).sum()),
            "n_antiferro": int((J < 0).sum()),
        }
        if concentration is not None:
            row["T_MF"] = mean_field_tc(table, {e: concentration})["T_C"]
        rows.append(row)
    return pd.DataFrame(rows)
