"""Pair geometry and crystal symmetry of Bi2Te3: one home, low in the package (it imports only ASE and numpy).

==============  ==============================================================================
module          concept
==============  ==============================================================================
``_crystal``    lattice constants, Wyckoff positions, the host cell, clouds of host atoms
``_sites``      Bi–Bi pair vectors from an upper Bi site: the Bi site a vector ends on, its shell,
                and the labels (``layer``, layer class, ``geometry``) -- one convention
``_symmetry``   the point group D3d and the site operations, polar and axial vectors, i <-> j
``_bonds``      a bond's stabiliser (inversion-centred bonds), its class of equivalent bonds with
                a representative, and the D vectors the symmetry allows
==============  ==============================================================================

Conventions: hexagonal setting of R-3m, ``a`` along x, ``c`` along z, lengths in Å; a pair
vector points from impurity i, on an *upper* Bi site, to impurity j.
"""

from ._bonds import BondClass, BondSymmetry, bond_class, bond_classes, bond_symmetry
from ._crystal import (
    A_HEX,
    ALAT,
    C_HEX,
    MAX_CLOUD_RADIUS,
    MAX_PAIR_DISTANCE,
    QL_HEIGHT,
    SITE_TOLERANCE,
    Z_BI,
    Z_TE1,
    bi2te3_host,
    host_cloud,
)
from ._sites import BiSite, bi_pair_vectors, geometry_label, layer_class, locate_bi_site, locate_bi_sites
from ._symmetry import axial, exchange_ij, point_group, polar, site_operations

__all__ = [
    "ALAT",
    "A_HEX",
    "BiSite",
    "BondClass",
    "BondSymmetry",
    "C_HEX",
    "MAX_CLOUD_RADIUS",
    "MAX_PAIR_DISTANCE",
    "QL_HEIGHT",
    "SITE_TOLERANCE",
    "Z_BI",
    "Z_TE1",
    "axial",
    "bi2te3_host",
    "bi_pair_vectors",
    "bond_class",
    "bond_classes",
    "bond_symmetry",
    "exchange_ij",
    "geometry_label",
    "host_cloud",
    "layer_class",
    "locate_bi_site",
    "locate_bi_sites",
    "point_group",
    "polar",
    "site_operations",
]
