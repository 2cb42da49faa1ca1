"""The kernel ridge benchmark of the 2023 study, its leakage-free counterpart, and our model.

Run it with :func:`run_benchmark` (or :func:`cached_benchmark`, which reuses identical runs) or
``jijtutorial benchmark``. Models are named as in the study (``CM-KRR-lap-rcut-4.0``), plus
``SymPair-KRR``, ``PairGP`` and ``Mean-baseline`` (:func:`get_model`). The protocols form a ladder
(:mod:`jijtutorial.benchmark._protocols`): ``study`` (random splits), ``pairs`` (alias ``grouped``:
unordered element pairs kept together), ``element`` (leave one element out) and ``distance``
(leave one pair geometry out); ``'all'`` runs the four.

==================  ==========================================================================
module              concept
==================  ==========================================================================
``_folds``          the fold interface (prepare, fit a fold, predict a fold) and its models
``_registry``       model names, descriptors, grids, the study's figures
``_protocols``      the ladder of protocols: outer splits, inner selection, held-out split, subsampling
``_runner``         the shared set-up, threaded folds, :func:`run_benchmark` (one protocol or the ladder)
``_report``         Markdown and page tables, run descriptions, protocols side by side, chosen parameters,
                    the ladder table and per-element / per-distance breakdowns
``_calibration``    coverage of the error bars, reliability curves and plots
``_cache``          :func:`cached_benchmark`
``_leakage``        twins on both sides of a split
``_curves``         learning curves
``_reference``      the plain scikit-learn ``GridSearchCV`` reference
``_plots``          parity plots, error maps, learning curves, the study comparison
``_cli``            ``jijtutorial benchmark``
==================  ==========================================================================
"""

from ._cache import cached_benchmark, cached_ladder, cached_learning_curve, frame_digest, merge_results
from ._calibration import calibration_table, coverage, reliability_curve, reliability_plot
from ._curves import learning_curve
from ._folds import (
                     DualFit,
                     EstimatorFit,
                     FoldFit,
                     FoldModel,
                     GPFit,
                     KernelRidgeFolds,
                     MeanFit,
                     MeanFolds,
                     PairGPFolds,
                     PairKernelFolds,
                     PrimalFit,
)
from ._leakage import TWIN_LOOKUP, leakage_breakdown, twin_rows
from ._plots import (
                     breakdown_plot,
                     error_heatmap,
                     error_table,
                     errors_by_geometry_plot,
                     ladder_plot,
                     learning_curve_plot,
                     parity_grid,
                     study_comparison_plot,
)
from ._prior_folds import ENGINE_MODEL, PRIOR_MODEL, PriorGPFolds
from ._protocols import (
                         ALIASES,
                         LADDER,
                         PROTOCOLS,
                         check_protocol,
                         check_protocols,
                         cv_splits,
                         element_membership,
                         fold_labels,
                         geometry_labels,
                         held_out,
                         holdout_split,
                         inner_selection,
                         split_groups,
                         subsample_pairs,
)
from ._reference import compare_one_fold, sklearn_reference, sklearn_search
from ._registry import (
                     ALPHAS,
                     BASELINE,
                     CURVE_MODELS,
                     DEFAULT_MODELS,
                     GAMMAS,
                     GP_MODEL,
                     LADDER_MODELS,
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
                     ERROR_COLUMNS,
                     QUESTIONS,
                     TIME_COLUMNS,
                     chosen_parameters,
                     compare_protocols,
                     describe_config,
                     fold_breakdown,
                     ladder_markdown,
                     ladder_table,
                     present_ladder,
                     present_results,
                     present_side_by_side,
                     protocols_side_by_side,
                     table_markdown,
)
from ._runner import (
                     BenchmarkResult,
                     LadderResult,
                     Setup,
                     default_jobs,
                     default_models,
                     map_threads,
                     prepared_models,
                     r2_score,
                     resolve_frame,
                     run_benchmark,
                     setup,
                     single_threaded_blas,
)
from ._subgroups import (
                     MAGNETIC_MOMENT,
                     SUBGROUP_KINDS,
                     magnetic_elements,
                     subgroup_calibration,
                     subgroup_reliability_plot,
                     worst_subgroups,
)

__all__ = [
    "ENGINE_MODEL", "MAGNETIC_MOMENT", "PRIOR_MODEL", "PriorGPFolds", "SUBGROUP_KINDS", "magnetic_elements",
    "subgroup_calibration", "subgroup_reliability_plot", "worst_subgroups",
    "ALIASES", "ALPHAS", "BASELINE", "BenchmarkResult", "CURVE_MODELS", "DEFAULT_MODELS", "DualFit", "ERROR_COLUMNS",
    "EstimatorFit",
    "FoldFit", "FoldModel", "GAMMAS", "GPFit", "GP_MODEL", "KernelRidgeFolds", "LADDER", "LADDER_MODELS",
    "LadderResult", "MeanFit", "MeanFolds", "ModelSpec", "OUR_GRID", "OUR_MODEL", "PROTOCOLS", "PairGPFolds",
    "PairKernelFolds", "PrimalFit", "QUESTIONS", "STUDY_MODELS", "STUDY_N", "STUDY_RESULTS", "Setup", "StudyFigures",
    "TIME_COLUMNS", "TWIN_LOOKUP",
    "breakdown_plot", "cached_benchmark", "cached_ladder", "cached_learning_curve", "calibration_table",
    "check_protocol", "check_protocols", "chosen_parameters", "compare_one_fold", "compare_protocols", "coverage",
    "cv_splits", "default_jobs", "default_models", "describe_config", "element_membership", "error_heatmap",
    "error_table", "errors_by_geometry_plot", "fold_breakdown", "fold_labels", "frame_digest", "geometry_labels",
    "get_model", "held_out", "holdout_split", "inner_selection", "ladder_markdown", "ladder_plot", "ladder_table",
    "leakage_breakdown", "learning_curve", "learning_curve_plot", "map_threads", "merge_results", "parity_grid",
    "prepared_models", "present_ladder", "present_results", "present_side_by_side", "protocols_side_by_side",
    "r2_score", "reliability_curve", "reliability_plot", "resolve_frame", "run_benchmark", "setup",
    "single_threaded_blas", "sklearn_reference", "sklearn_search", "split_groups", "study_comparison_plot",
    "subsample_pairs", "table_markdown", "twin_rows",
]
