"""Shared by the force-theorem tests: Lloyd's grand potential of a pair with rotated moments."""

from __future__ import annotations

import numpy as np

from jijtutorial import greens

P_UP = greens.upper_bi_projector()


def rotated_omega(contour, blocks, k, imp_i, imp_j, axis_i, axis_j, a, b):
    """Ω(θ_i = a, θ_j = b) − Ω(0, 0) (eV): moment i tilted from z towards ``axis_i`` by a, j by b.

    blocks: host (G_0(0), G_0(R), G_0(−R)) with the pair vector at index ``k``; imp_i, imp_j: (U, Δ).
    """
    g00, gij, gji = blocks

    def V(imp, axis, th):
        e = np.array([0.0, 0.0, np.cos(th)])
        e["xy".index(axis)] = np.sin(th)
        return greens.impurity_potential(*imp, e, 2, P_UP)

    ref = (V(imp_i, axis_i, 0.0), V(imp_j, axis_j, 0.0))
    return greens.grand_potential_change(g00, gij[:, k], gji[:, k], contour,
                                         (V(imp_i, axis_i, a), V(imp_j, axis_j, b)), ref)
