"""The kernel ridge benchmark of the 2023 study, its leakage-free counterpart, and our model.

Run it with :func:`run_benchmark` (or :func:`cached_benchmark`, which reuses identical runs) or
``jijtutorial benchmark``. Models are named as in the study (``CM-KRR-lap-rcut-4.0``), plus
``SymPair-KRR``, ``PairGP`` and ``Mean-baseline`` (:func:`get_model`). The protocols form a ladder
(:mod:`jijtutorial.protocols`, one record per rung): ``study`` (random splits), ``pairs`` (alias ``grouped``:
unordered element pairs kept together), ``element`` (leave one element out) and ``distance``
(leave one pair geometry out); ``'all'`` runs the four.

==================  ==========================================================================
module              concept
==================  ==========================================================================
``_folds``          the fold interface (prepare, fit a fold, predict a fold) and its models
``_folds_d``        the fold models of the DM vector D (the equivariant model and three baselines)
``_registry``       model names, descriptors, grids, the study's figures
``_setup``          the set-up every run shares (data, groups, splits, prepared models, threads, BLAS)
``_results``        :class:`BenchmarkResult` (one protocol) and :class:`LadderResult` (several), saved atomically
``_scoring``        fold scores, and the finished folds of a protocol turned into its result (J or D)
``_runner``         :func:`run_benchmark` (one protocol) and :func:`run_ladder` (several, shared preparation)
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

from ..protocols import PROTOCOLS, check_protocol, check_protocols, get_protocol, subsample_pairs
from ._cache import cached_benchmark, cached_ladder, cached_learning_curve
from ._calibration import calibration_table, coverage, reliability_curve, reliability_plot
from ._curves import learning_curve
from ._folds import FoldFit, FoldModel, KernelRidgeFolds, PairKernelFolds
from ._leakage import TWIN_LOOKUP, leakage_breakdown, twin_rows
from ._plots import breakdown_plot, ladder_plot, learning_curve_plot, parity_grid, study_comparison_plot
from ._prior_folds import PRIOR_MODEL
from ._reference import compare_one_fold, sklearn_reference
from ._registry import (
    ALPHAS,
    BASELINE,
    D_MODEL,
    GAMMAS,
    GP_MODEL,
    OUR_MODEL,
    STUDY_MODELS,
    STUDY_RESULTS,
    ModelSpec,
    get_model,
)
from ._report import (
    ERROR_COLUMNS,
    TIME_COLUMNS,
    chosen_parameters,
    compare_protocols,
    d_table,
    describe_config,
    fold_breakdown,
    ladder_markdown,
    ladder_table,
    present_ladder,
    present_results,
    present_side_by_side,
)
from ._results import BenchmarkResult, LadderResult
from ._runner import run_benchmark, run_ladder
from ._setup import map_threads, resolve_frame, single_threaded_blas
from ._subgroups import magnetic_elements, subgroup_calibration, subgroup_reliability_plot, worst_subgroups

__all__ = [
    "ALPHAS",
    "BASELINE",
    "BenchmarkResult",
    "D_MODEL",
    "ERROR_COLUMNS",
    "FoldFit",
    "FoldModel",
    "GAMMAS",
    "GP_MODEL",
    "KernelRidgeFolds",
    "LadderResult",
    "ModelSpec",
    "OUR_MODEL",
    "PRIOR_MODEL",
    "PROTOCOLS",
    "PairKernelFolds",
    "STUDY_MODELS",
    "STUDY_RESULTS",
    "TIME_COLUMNS",
    "TWIN_LOOKUP",
    "breakdown_plot",
    "cached_benchmark",
    "cached_ladder",
    "cached_learning_curve",
    "calibration_table",
    "check_protocol",
    "check_protocols",
    "chosen_parameters",
    "compare_one_fold",
    "compare_protocols",
    "coverage",
    "d_table",
    "describe_config",
    "fold_breakdown",
    "get_model",
    "get_protocol",
    "ladder_markdown",
    "ladder_plot",
    "ladder_table",
    "leakage_breakdown",
    "magnetic_elements",
    "learning_curve",
    "learning_curve_plot",
    "map_threads",
    "parity_grid",
    "present_ladder",
    "present_results",
    "present_side_by_side",
    "reliability_curve",
    "reliability_plot",
    "resolve_frame",
    "run_benchmark",
    "run_ladder",
    "single_threaded_blas",
    "sklearn_reference",
    "study_comparison_plot",
    "subgroup_calibration",
    "subgroup_reliability_plot",
    "subsample_pairs",
    "twin_rows",
    "worst_subgroups",
]
