"""Tight-binding models on any Bravais lattice, given by their real-space hoppings.

A model has one site per lattice point with ``n_orbitals`` orbitals and two spin states. The
basis of a site is ordered spin-outer: index ``s * n_orbitals + o`` with s = 0 (↑), 1 (↓) along z,
so a site block is ``n_basis = 2 * n_orbitals`` wide.

Convention: ``hoppings[n] = <0|H|R_n>`` with ``R_n = n @ cell`` (Å), and the Bloch Hamiltonian is
``H(k) = Σ_n exp(i k·R_n) hoppings[n]`` (eV), k in Å⁻¹ (Cartesian, ``exp(i k·R)`` without 2π).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Pauli matrices σ_x, σ_y, σ_z (2 × 2).
PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


@dataclass
class TightBinding:
    """Tight-binding model on a Bravais lattice.

    cell: (3, 3) lattice vectors as rows (Å).
    hoppings: {(n1, n2, n3): (n_basis, n_basis) complex matrix} = <0|H|R> in eV; must be Hermitian,
        ``hoppings[-n] == hoppings[n].conj().T``.
    n_orbitals: orbitals per site; the basis per site is 2 * n_orbitals (spin-outer).
    name: label for plots and provenance.
    """

    cell: np.ndarray
    hoppings: dict
    n_orbitals: int
    name: str = "tight-binding model"
    _vectors: np.ndarray = field(init=False, repr=False)
    _matrices: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.cell = np.asarray(self.cell, dtype=float)
        if self.cell.shape != (3, 3) or abs(np.linalg.det(self.cell)) < 1e-9:
            raise ValueError(f"cell must be three linearly independent lattice vectors (3 × 3, Å), got {self.cell!r}.")
        if int(self.n_orbitals) < 1:
            raise ValueError(f"n_orbitals must be a positive integer, not {self.n_orbitals!r}.")
        nb = self.n_basis
        keys = sorted(tuple(int(x) for x in k) for k in self.hoppings)
        if not keys:
            raise ValueError("hoppings is empty: give at least the on-site block for (0, 0, 0).")
        mats = []
        for key in keys:
            m = np.asarray(self.hoppings[key], dtype=complex)
            if m.shape != (nb, nb):
                raise ValueError(
                    f"hoppings[{key}] has shape {m.shape}; every block must be ({nb}, {nb}) "
                    f"= 2 spins × {self.n_orbitals} orbitals."
                )
            mats.append(m)
        self.hoppings = dict(zip(keys, mats))
        for key, m in self.hoppings.items():
            partner = self.hoppings.get(tuple(-x for x in key))
            if partner is None or not np.allclose(partner, m.conj().T, atol=1e-12):
                raise ValueError(
                    f"hoppings are not Hermitian: hoppings[{tuple(-x for x in key)}] must equal hoppings[{key}].conj().T."
                )
        self._vectors = np.array(keys, dtype=float) @ self.cell
        self._matrices = np.array(mats)

    @property
    def n_basis(self) -> int:
        """Basis functions per site: 2 spins × n_orbitals."""
        return 2 * int(self.n_orbitals)

    @property
    def reciprocal_cell(self) -> np.ndarray:
        """Reciprocal lattice vectors as rows (Å⁻¹), b_i·a_j = 2π δ_ij."""
        return 2 * np.pi * np.linalg.inv(self.cell).T

    @property
    def hopping_vectors(self) -> np.ndarray:
        """Cartesian vectors R (Å) of the hoppings, shape (n_hop, 3)."""
        return self._vectors.copy()

    def hamiltonian(self, k) -> np.ndarray:
        """Bloch Hamiltonian H(k) (eV) for Cartesian k (Å⁻¹) of shape (..., 3) -> (..., n_basis, n_basis)."""
        k = np.asarray(k, dtype=float)
        phases = np.exp(1j * (k @ self._vectors.T))  # (..., n_hop)
        return np.einsum("...r,rab->...ab", phases, self._matrices)

    def eigh(self, k) -> tuple[np.ndarray, np.ndarray]:
        """Band energies (eV, ascending) and eigenvectors (columns) at k (Å⁻¹, shape (..., 3))."""
        return np.linalg.eigh(self.hamiltonian(k))

    def kmesh(self, n) -> np.ndarray:
        """Monkhorst–Pack mesh of n = (n1, n2, n3) points along the reciprocal vectors, Γ-centred.

        Returns Cartesian k (Å⁻¹), shape (n1 n2 n3, 3). Γ-centred meshes make the k-sum of
        ``exp(-i k·R)`` exactly periodic under R -> R + n_i a_i, which the Green function relies on.
        """
        n = _mesh_size(n)
        axes = [np.arange(m) / m for m in n]
        frac = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        return frac @ self.reciprocal_cell

    def fractional(self, vectors) -> np.ndarray:
        """Lattice coordinates of Cartesian vectors (Å); raises ValueError if one is not a lattice vector."""
        v = np.atleast_2d(np.asarray(vectors, dtype=float))
        frac = v @ np.linalg.inv(self.cell)
        n = np.rint(frac)
        bad = np.abs(frac - n).max(axis=1) > 1e-4
        if bad.any():
            raise ValueError(
                f"vector {v[bad][0]} Å is not a lattice vector of {self.name}: its lattice "
                f"coordinates are {np.round(frac[bad][0], 4)}."
            )
        return n.astype(int)


def _mesh_size(n) -> tuple[int, int, int]:
    n = np.broadcast_to(np.asarray(n), (3,))
    if not np.all(np.equal(np.mod(n, 1), 0)) or np.any(n < 1):
        raise ValueError(f"kmesh must be three positive integers (or one), not {n.tolist()!r}.")
    return tuple(int(x) for x in n)


def spin_diagonal(block) -> np.ndarray:
    """Spin-independent hopping: 1_spin ⊗ block (n_orbitals × n_orbitals -> n_basis × n_basis)."""
    block = np.atleast_2d(np.asarray(block, dtype=complex))
    return np.kron(np.eye(2), block)


def simple_cubic(t: float = 1.0, a: float = 1.0, onsite: float = 0.0) -> TightBinding:
    """Single-band simple cubic model, spin-degenerate: ε(k) = onsite − 2t Σ_α cos(k_α a) (eV, Å)."""
    if not (np.isfinite(a) and a > 0):
        raise ValueError(f"lattice constant a must be a positive length in Å, not {a!r}.")
    hop = {(0, 0, 0): spin_diagonal([[onsite]])}
    for axis in range(3):
        n = [0, 0, 0]
        n[axis] = 1
        hop[tuple(n)] = spin_diagonal([[-t]])
        hop[tuple(-x for x in n)] = spin_diagonal([[-t]])
    return TightBinding(cell=a * np.eye(3), hoppings=hop, n_orbitals=1, name=f"simple cubic (t = {t} eV)")


def slab_hamiltonian(model: TightBinding, k_parallel, n_layers: int, layer_height: float) -> np.ndarray:
    """Hamiltonian of a slab of ``n_layers`` lattice planes normal to z (eV).

    The plane of a site is ``round(R_z / layer_height)``; every hopping vector must have R_z a whole
    multiple of ``layer_height`` (Å). k_parallel: in-plane Cartesian wave vectors (Å⁻¹), shape (nk, 2)
    or (nk, 3). Returns (nk, n_layers * n_basis, n_layers * n_basis), layer-major.
    """
    if int(n_layers) < 1:
        raise ValueError(f"n_layers must be a positive integer, not {n_layers!r}.")
    kp = np.atleast_2d(np.asarray(k_parallel, dtype=float))
    kp = np.column_stack([kp[:, 0], kp[:, 1], np.zeros(len(kp))])
    R = model.hopping_vectors
    layer = R[:, 2] / layer_height
    dl = np.rint(layer).astype(int)
    if np.abs(layer - dl).max() > 1e-6:
        raise ValueError(f"layer_height {layer_height} Å does not divide the z components of the hoppings.")
    nb = model.n_basis
    H = np.zeros((len(kp), n_layers * nb, n_layers * nb), dtype=complex)
    phases = np.exp(1j * kp @ R.T)  # (nk, n_hop)
    for d in np.unique(dl):
        sel = dl == d
        block = np.einsum("kr,rab->kab", phases[:, sel], model._matrices[sel])
        for lay in range(max(0, -d), min(n_layers, n_layers - d)):
            H[:, lay * nb : (lay + 1) * nb, (lay + d) * nb : (lay + d + 1) * nb] += block
    return H
