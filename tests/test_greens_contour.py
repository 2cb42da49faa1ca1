"""The default T = 0 contour starts far enough below the bands: doubling its margin changes no J."""

import numpy as np
import pytest

from jijtutorial import greens
from jijtutorial.greens import HostGreen, exchange_tensor, impurity_on_contour, make_contour, pair_exchange, ti_model

# nearest and second in-plane neighbours and the nearest neighbour in the next QL (Å)
VECTORS = np.array([[-4.383, 0.0, 0.0], [-8.766, 0.0, 0.0], [2.1915, 1.265263, 10.162333]])


def _J(host, a, b, kind, whole_site):
    if not whole_site:
        return pair_exchange(a, b, VECTORS, host=host, impurity_model=kind).J
    g00, gij, gji = host.pair_blocks(VECTORS)
    pa, pb = (impurity_on_contour(s, host.contour, kind) for s in (a, b))
    return exchange_tensor(g00, gij, gji, host.contour, pa, pb, projector=None).J


@pytest.mark.parametrize(
    "kind, whole_site, pairs",
    [
        ("resonant", False, [("Mn", "Mn"), ("Fe", "Fe"), ("Cr", "Fe")]),  # Lorentzian tails below the bands
        ("static", False, [("Fe", "Fe"), ("Cr", "Ru")]),  # in-gap bound states next to E_F
        ("static", True, [("Fe", "Fe"), ("Mo", "Mo")]),  # bound states below the band bottom
    ],
    ids=["resonant", "static", "static-whole-site"],
)
@pytest.mark.slow
def test_doubling_the_default_margin_changes_no_J(kind, whole_site, pairs):
    model = ti_model()
    default = make_contour(model)
    margin = greens.band_bottom(model) - default.params["e_bottom"]
    doubled = make_contour(model, margin=2 * margin)
    J1, J2 = (np.array([_J(HostGreen(model, 12, c), a, b, kind, whole_site) for a, b in pairs]) for c in (default, doubled))
    rel = np.abs(J1 - J2) / np.maximum(np.abs(J2), 1e-3 * np.abs(J2).max())
    assert rel.max() < 1e-4, f"J changes by {rel.max():.1e} (relative) when the margin is doubled"
