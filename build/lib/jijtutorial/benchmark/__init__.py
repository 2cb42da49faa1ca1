"""The kernel ridge benchmark of the 2023 study, its leakage-free counterpart, and our model.

Run it with :func:`run_benchmark` (or :func:`cached_benchmark`, which reuses identical runs) or
``jijtutorial benchmark``. Models are named as in the study (``CM-KRR-lap-rcut-4.0``), plus
``SymPair-KRR`` and ``Mean-baseline`` (:func:`get_model`); protocols ``study`` (random splits)
and ``grouped`` (unordered element pairs kept together) are described in :func:`cv_splits`.

==================  ==========================================================================
module              concept
==================  ==========================================================================
``_folds``          the fold interface (prepare, fit a fold, predict a fold) and its models
``_registry``       model names, descriptors, grids, the study's figures
``_protocols``      outer splits, held-out split, groups of a protocol, subsampling
``_runner``         the shared set-up, threaded folds, :func:`run_benchmark`
``_report``         Markdown and page tables, run descriptions, protocols side by side, chosen parameters
``_cache``          :func:`cached_benchmark`
``_leakage``        twins on both sides of a split
``_curves``         learning curves
``_reference``      the plain scikit-learn ``GridSearchCV`` reference
``_plots``          parity plots, error maps, learning curves, the study comparison
``_cli``            ``jijtutorial benchmark``
==================  ==========================================================================
"""

from ._cache import cached_benchmark, frame_digest
from ._curves import learning_curve
from ._folds import (
                     DualFit,
                     EstimatorFit,
                     FoldFit,
                     FoldModel,
                     KernelRidgeFolds,
                     MeanFit,
                     MeanFolds,
                     PairKernelFolds,
                     PrimalFit,
)
from ._leakage import leakage_breakdown, twin_rows
from ._plots import (
                     error_heatmap,
                     error_table,
                     errors_by_geometry_plot,
                     learning_curve_plot,
                     parity_grid,
                     study_comparison_plot,
)
from ._protocols import PROTOCOLS, check_protocol, cv_splits, holdout_split, split_groups, subsample_pairs
from ._reference import compare_one_fold, sklearn_reference, sklearn_search
from ._registry import (
                     ALPHAS,
                     BASELINE,
                     CURVE_MODELS,
                     DEFAULT_MODELS,
                     GAMMAS,
                     OUR_GRID,
                     OUR_MODEL,
                     STUDY_MODELS,
                     STUDY_N,
                     STUDY_RESULTS,
                     ModelSpec,
                     StudyFigures,
                     get_model,
)
from ._report import (
                     chosen_parameters,
                     compare_protocols,
                     describe_config,
                     present_results,
                     present_side_by_side,
                     protocols_side_by_side,
                     table_markdown,
)
from ._runner import (
                     BenchmarkResult,
                     Setup,
                     default_jobs,
                     map_threads,
                     prepared_models,
                     r2_score,
                     resolve_frame,
                     run_benchmark,
                     setup,
                     single_threaded_blas,
)

__all__ = [
    "ALPHAS", "BASELINE", "BenchmarkResult", "CURVE_MODELS", "DEFAULT_MODELS", "DualFit", "EstimatorFit", "FoldFit",
    "FoldModel", "GAMMAS", "KernelRidgeFolds", "MeanFit", "MeanFolds", "ModelSpec", "OUR_GRID", "OUR_MODEL",
    "PROTOCOLS", "PairKernelFolds", "PrimalFit", "STUDY_MODELS", "STUDY_N", "STUDY_RESULTS", "Setup", "StudyFigures",
    "cached_benchmark", "check_protocol", "chosen_parameters", "compare_one_fold", "compare_protocols", "cv_splits",
    "default_jobs", "describe_config", "error_heatmap", "error_table", "errors_by_geometry_plot", "frame_digest",
    "get_model", "holdout_split", "leakage_breakdown", "learning_curve", "learning_curve_plot", "map_threads",
    "parity_grid", "prepared_models", "present_results", "present_side_by_side", "protocols_side_by_side", "r2_score",
    "resolve_frame", "run_benchmark", "setup", "single_threaded_blas", "sklearn_reference", "sklearn_search",
    "split_groups", "study_comparison_plot", "subsample_pairs", "table_markdown", "twin_rows",
]
