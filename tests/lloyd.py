"""Shared by the Green-function tests: the host on a small mesh, and Lloyd's grand potential with rotated moments."""

from __future__ import annotations

import numpy as np

from jijtutorial import greens

P_UP = greens.upper_bi_projector()
R_INPLANE = np.array([-4.383, 0.0, 0.0])
R_UP = np.array([2.1915, 1.265263, 10.162333])  # t1, the nearest inter-QL vector


def ti_host():
    """(model, contour, host, (G0(0), G0(R), G0(−R))) of the Bi2Te3 model for R = R_INPLANE, R_UP: small mesh."""
    model = greens.ti_model()
    vbm, cbm = greens.band_edges(model, kmesh=12)
    contour = greens.semicircle(greens.band_bottom(model, 6) - 0.5, 0.5 * (vbm + cbm), 40)
    host = greens.HostGreen(model, 8, contour)
    return model, contour, host, host.pair_blocks(np.array([R_INPLANE, R_UP, -R_UP]))


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
    return greens.grand_potential_change(g00, gij[:, k], gji[:, k], contour, (V(imp_i, axis_i, a), V(imp_j, axis_j, b)), ref)
