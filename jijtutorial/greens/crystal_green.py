"""Host Green function of a crystal with several atoms per cell, between any two atoms, on a contour.

    G_0(a, b, n; z) = <a, cell 0| (z − H)^{-1} |b, cell n> = (1/N_k) Σ_k e^{−ik·R_n} [z − H(k)]^{-1}_ab,

R_n = n @ cell, on the Γ-centred k-mesh of :meth:`TightBinding.kmesh` (n₁ × n₂ × n₃ points; the
phases of :mod:`.crystal` carry lattice vectors only). H(k) is diagonalised once per k; at each
contour point G(k; z) = V diag(1/(z − ε)) V† on the orbitals that are asked for, and one FFT over
the mesh gives G for every lattice vector of the n₁ × n₂ × n₃ supercell at once — the finite mesh
makes G exactly the Green function of that periodic supercell (images at R + n_i t_i).

Only the blocks listed in a request are kept: :meth:`CrystalGreen.compute` takes the set of
(atom a, atom b, n) and :meth:`CrystalGreen.cluster` assembles the Green function of a cluster of
sites (atom, n) from them, using G(a, b; n_b − n_a) (translation invariance).
"""

from __future__ import annotations

import numpy as np

from .contour import Contour
from .tight_binding import TightBinding


class CrystalGreen:
    """Host Green function blocks of a multi-atom :class:`TightBinding` model on a contour.

    Parameters
    ----------
    model : the crystal (one cell = one model site); ``orbitals[a]`` lists the indices (in the
        cell basis) of the orbitals of atom a that blocks are wanted for.
    kmesh : points per reciprocal axis (int or 3 ints); contour : the energy points.
    orbitals : list over atoms of index arrays into the cell basis.
    """

    def __init__(self, model: TightBinding, kmesh, contour: Contour, orbitals, z_chunk: int = 4):
        self.model, self.contour = model, contour
        self.kmesh_size = tuple(int(x) for x in np.broadcast_to(np.asarray(kmesh), (3,)))
        if min(self.kmesh_size) < 1:
            raise ValueError(f"kmesh must be positive integers, not {kmesh!r}.")
        self.orbitals = [np.asarray(o, dtype=int) for o in orbitals]
        self.k = model.kmesh(self.kmesh_size)
        self.energies, self.vectors = model.eigh(self.k)
        self.z_chunk = int(z_chunk)
        self._blocks: dict[tuple, np.ndarray] = {}

    @property
    def n_k(self) -> int:
        return len(self.k)

    def describe(self) -> dict:
        return {"kmesh": list(self.kmesh_size), "n_k": self.n_k, "contour": self.contour.describe()}

    def compute(self, requests) -> None:
        """Compute and keep G_0(a, b, n) for every (a, b, n) in ``requests`` not yet known: (nz, |o_a|, |o_b|)."""
        todo = sorted({(int(a), int(b), tuple(int(x) for x in n)) for a, b, n in requests} - set(self._blocks))
        if not todo:
            return
        atoms = sorted({a for a, _, _ in todo} | {b for _, b, _ in todo})
        offsets, cols = {}, []
        for a in atoms:
            offsets[a] = sum(len(c) for c in cols)
            cols.append(self.orbitals[a])
        O = np.concatenate(cols)
        n1, n2, n3 = self.kmesh_size
        nz = len(self.contour.z)
        VO = self.vectors[:, O, :]  # (nk, |O|, nb)
        VOh = VO.conj().swapaxes(1, 2)
        out = {key: np.empty((nz, len(self.orbitals[key[0]]), len(self.orbitals[key[1]])), dtype=complex) for key in todo}
        m_idx = {key: tuple(int(x) % s for x, s in zip(key[2], self.kmesh_size)) for key in todo}
        for iz, z in enumerate(self.contour.z):
            G = (VO * (1.0 / (z - self.energies))[:, None, :]) @ VOh  # (nk, |O|, |O|)
            # G(R_m) = (1/N) Σ_κ e^{−2πi κ·m/n} G(κ): numpy's forward FFT over the mesh axes
            Gr = np.fft.fftn(G.reshape(n1, n2, n3, len(O), len(O)), axes=(0, 1, 2)) / self.n_k
            for key in todo:
                a, b, _ = key
                ia = slice(offsets[a], offsets[a] + len(self.orbitals[a]))
                ib = slice(offsets[b], offsets[b] + len(self.orbitals[b]))
                out[key][iz] = Gr[m_idx[key]][ia, ib]
        self._blocks.update(out)

    def block(self, a: int, b: int, n) -> np.ndarray:
        """G_0(a, b, n; z), shape (nz, |o_a|, |o_b|) (1/eV); computed on demand."""
        key = (int(a), int(b), tuple(int(x) for x in n))
        if key not in self._blocks:
            self.compute([key])
        return self._blocks[key]

    def cluster(self, sites, orbitals=None) -> np.ndarray:
        """G_0 on a cluster of sites [(atom, n), ...]: (nz, Σ|o|, Σ|o|), blocks G_0(a_i, a_j, n_j − n_i).

        ``orbitals`` (optional, per site) selects columns within each atom's orbital list.
        """
        sites = [(int(a), tuple(int(x) for x in n)) for a, n in sites]
        req = [(a, b, tuple(np.subtract(nb, na))) for a, na in sites for b, nb in sites]
        self.compute(req)
        sel = [
            np.arange(len(self.orbitals[a])) if orbitals is None else np.asarray(orbitals[i]) for i, (a, _) in enumerate(sites)
        ]
        sizes = [len(s) for s in sel]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        nz = len(self.contour.z)
        G = np.empty((nz, starts[-1], starts[-1]), dtype=complex)
        for i, (a, na) in enumerate(sites):
            for j, (b, nb) in enumerate(sites):
                blk = self._blocks[(a, b, tuple(np.subtract(nb, na)))]
                G[:, starts[i] : starts[i + 1], starts[j] : starts[j + 1]] = blk[:, sel[i]][:, :, sel[j]]
        return G


__all__ = ["CrystalGreen"]
