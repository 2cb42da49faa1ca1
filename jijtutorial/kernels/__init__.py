"""Kernel methods: distances and length scales, closed-form KRR paths, the pair models, sparse KRR.

==============================  ===========================================================
module                          concept
==============================  ===========================================================
``_distances``                  distance matrices, the median length scale, distance kernels
``_krr_path``                   KRR along a grid of alphas with exact leave-one-(group-/block-)out CV
``_distinct_gp``                GP regression on distinct inputs with closed-form leave-block-out
                                (dense, or Kronecker on a complete grid of element pairs x geometries)
``_pair``                       :class:`SymmetricPairKRR` (SymPair-KRR), the pair-symmetric kernel
``_element_features``           library features of the elements, the mean-field Anderson moment
``_pair_encoding``              a pair table as the pair kernels see it (element indices, geometry keys)
``_element_tables``             what a pair kernel learns from a training fold (moments, activities,
                                element similarity, geometry scales)
``_pair_kernel``                PairGP's kernel: settings, element-pair and geometry factors, Kronecker form
``_sigma_calibration``          σ = s v^(γ/2) calibrated on the inner cross-validation residuals
``_pair_gp``                    :class:`PairGP`, a GP that also predicts unseen elements and distances
``_equivariant_d``              :class:`EquivariantDGP`, the DM vector D, equivariant by construction
``_sparse``                     :class:`SparseKRR` on inducing points (subset of regressors)
==============================  ===========================================================

The benchmark's fold models (:mod:`jijtutorial.benchmark`) are built from these pieces.
"""

from ._distances import (
    KERNEL_METRIC,
    KERNELS,
    DistanceScaler,
    distance_matrix,
    gram_matrix,
    kernel_from_distance,
    median_distance,
    scale_rows,
)
from ._distinct_gp import DistinctGP, KroneckerGP, distinct_inputs
from ._element_features import MomentModel, anderson_moment, anderson_u, critical_u, element_features, learned_moments
from ._equivariant_d import EquivariantDGP
from ._krr_path import PathResult, duplicate_index, krr_path, linear_krr_path
from ._pair import SymmetricPairKRR
from ._pair_encoding import PairEncoding, encode_pairs
from ._pair_gp import PairGP
from ._sigma_calibration import calibrate_sigma
from ._sparse import SparseKRR, farthest_point_sampling

__all__ = [
    "DistanceScaler",
    "DistinctGP",
    "EquivariantDGP",
    "KERNELS",
    "KERNEL_METRIC",
    "KroneckerGP",
    "MomentModel",
    "PairEncoding",
    "PairGP",
    "PathResult",
    "SparseKRR",
    "SymmetricPairKRR",
    "anderson_moment",
    "anderson_u",
    "calibrate_sigma",
    "critical_u",
    "distance_matrix",
    "distinct_inputs",
    "duplicate_index",
    "element_features",
    "encode_pairs",
    "farthest_point_sampling",
    "gram_matrix",
    "kernel_from_distance",
    "krr_path",
    "learned_moments",
    "linear_krr_path",
    "median_distance",
    "scale_rows",
]
