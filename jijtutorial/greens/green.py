"""Host Green function between two sites on a complex energy contour.

    G_0(R; z) = <0| (z − H)^{-1} |R> = (1/N_k) Σ_k e^{−ik·R} [z − H(k)]^{-1}

on a Γ-centred k-mesh of N_k points. With H(k) = V diag(ε) V†, [z − H(k)]^{-1} = V diag(1/(z − ε)) V†,
so one diagonalisation per k serves every contour point; the Fourier sum is one matrix product.
On a finite mesh G_0(R) is the exact Green function of the periodic supercell n_1 a_1 × n_2 a_2 ×
n_3 a_3, i.e. the sum of G over R + n_i a_i: converge the mesh until R's images are far away.
"""

from __future__ import annotations

import numpy as np

from .contour import Contour
from .tight_binding import TightBinding


class HostGreen:
    """Host Green functions of ``model`` on a k-mesh at the points of ``contour``.

    model: the :class:`TightBinding` host; kmesh: (n1, n2, n3) or n; contour: :class:`Contour`.
    Call with Cartesian lattice vectors (Å, shape (nR, 3)) to get G_0(R; z), shape (nz, nR, nb, nb), 1/eV.
    """

    def __init__(self, model: TightBinding, kmesh, contour: Contour, k_chunk: int = 1024):
        self.model = model
        self.contour = contour
        self.kmesh_size = tuple(int(x) for x in np.broadcast_to(np.asarray(kmesh), (3,)))
        self.k = model.kmesh(self.kmesh_size)
        self.energies, self.vectors = model.eigh(self.k)
        self.k_chunk = int(k_chunk)
        self._cache: dict[tuple, np.ndarray] = {}

    @property
    def n_k(self) -> int:
        return len(self.k)

    def __call__(self, vectors) -> np.ndarray:
        R = np.atleast_2d(np.asarray(vectors, dtype=float))
        self.model.fractional(R)  # clear error for a vector that is not a lattice vector
        key = tuple(np.round(R, 8).ravel().tolist())
        if key not in self._cache:
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = self._compute(R)
        return self._cache[key].copy()

    def _compute(self, R: np.ndarray) -> np.ndarray:
        z = self.contour.z
        nz, nb, nR = len(z), self.model.n_basis, len(R)
        out = np.zeros((nz, nR * nb * nb), dtype=complex)
        for start in range(0, self.n_k, self.k_chunk):
            sl = slice(start, start + self.k_chunk)
            k, e, v = self.k[sl], self.energies[sl], self.vectors[sl]
            phase = np.exp(-1j * (k @ R.T))  # (nk, nR)
            proj = np.einsum("kan,kbn->knab", v, v.conj())  # (nk, n, a, b)
            X = np.einsum("kr,knab->knrab", phase, proj).reshape(len(k) * nb, nR * nb * nb)
            res = 1.0 / (z[:, None, None] - e[None, :, :])  # (nz, nk, n)
            out += res.reshape(nz, -1) @ X
        return (out / self.n_k).reshape(nz, nR, nb, nb)

    def onsite(self) -> np.ndarray:
        """G_0(0; z), shape (nz, nb, nb)."""
        return self(np.zeros((1, 3)))[:, 0]

    def pair_blocks(self, vectors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(G_0(0), G_0(R), G_0(−R)) for each R: shapes (nz, nb, nb), (nz, nR, nb, nb), (nz, nR, nb, nb).

        G_0(R) = <0|G|R> is the block from impurity i (at 0) to impurity j (at R); G_0(−R) = <R|G|0>.
        """
        R = np.atleast_2d(np.asarray(vectors, dtype=float))
        allR = np.vstack([np.zeros((1, 3)), R, -R])
        g = self(allR)
        n = len(R)
        return g[:, 0], g[:, 1 : n + 1], g[:, n + 1 :]

    def describe(self) -> dict:
        return {"kmesh": list(self.kmesh_size), "n_k": self.n_k, "contour": self.contour.describe()}
