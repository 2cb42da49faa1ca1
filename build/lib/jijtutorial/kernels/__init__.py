"""Kernel methods: distances and length scales, closed-form KRR paths, the pair model, sparse KRR.

==============================  ===========================================================
module                          concept
==============================  ===========================================================
``_distances``                  distance matrices, the median length scale, distance kernels
``_closed_form``                KRR along a grid of alphas with exact leave-one-(group-)out CV
``_pair``                       :class:`SymmetricPairKRR` (SymPair-KRR), the pair-symmetric kernel
``_sparse``                     :class:`SparseKRR` on inducing points (subset of regressors)
==============================  ===========================================================

The benchmark's fold models (:mod:`jijtutorial.benchmark`) are built from these pieces.
"""

from ._closed_form import PathResult, duplicate_index, group_blocks, krr_path, linear_krr_path
from ._distances import (
                         KERNEL_FLOOR,
                         KERNEL_METRIC,
                         KERNELS,
                         SCALE_ROWS,
                         DistanceScaler,
                         distance_matrix,
                         gram_matrix,
                         kernel_from_distance,
                         median_distance,
                         scale_rows,
)
from ._pair import SymmetricPairKRR
from ._sparse import SparseKRR, farthest_point_sampling, kernel_farthest_point_sampling

__all__ = [
    "DistanceScaler", "KERNELS", "KERNEL_FLOOR", "KERNEL_METRIC", "PathResult", "SCALE_ROWS", "SparseKRR",
    "SymmetricPairKRR", "distance_matrix", "duplicate_index", "farthest_point_sampling", "gram_matrix",
    "group_blocks", "kernel_farthest_point_sampling", "kernel_from_distance", "krr_path", "linear_krr_path",
    "median_distance", "scale_rows",
]
