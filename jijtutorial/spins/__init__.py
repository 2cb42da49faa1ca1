"""From exchange couplings to a magnet: classical spin models of (co-)doped Bi2Te3.

Build the couplings, a dilute configuration and its spin model, then Monte Carlo, Binder
crossings, mean field and spin dynamics::

    from jijtutorial import spins
    table = spins.exchange_table("auto", ["Cr"], cutoff=8.8, fill="zero")   # J, D for every Bi-Bi vector
    config = spins.random_configuration({"Cr": 0.05}, size=(16, 16, 2), seed=1)
    model = spins.spin_model(config, table)
    mc = spins.run_monte_carlo(model, temperatures=[5, 10, 20, 40])
    sweep = spins.curie_sweep(table, [{"Cr": 0.04}], n_realisations=10)     # Dask, Binder crossings

Convention: H = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)], unit spins, meV, each pair once, J > 0
ferromagnetic; the convention of the data loaders (:data:`jijtutorial.datasets.CONVENTION`).
:func:`as_pairs_once` converts a table whose source counted every pair twice (J doubled).
"""

from ..parallel import dask_client, run_tasks
from ._binder import CurieEstimate, binder, crossing, curie_from_binder, refinement_temperatures
from ._conventions import PAIR_COUNTINGS, as_pairs_once
from ._exchange_table import FILL_OPTIONS, REQUIRED_COLUMNS, TABLE_COLUMNS, exchange_table, load_table, symmetry_residuals
from ._fills import FILLS, compare_fills
from ._lattice import (
    DiluteConfiguration,
    bi_sites,
    cell_widths,
    check_size_for_cutoff,
    configuration_from_sites,
    find_site,
    minimal_size,
    random_configuration,
)
from ._llg import HBAR, LLGResult, run_llg
from ._meanfield import (
    codoping_mean_field,
    j0_by_element,
    j0_matrix,
    mean_field_magnetisation,
    mean_field_tc,
    mean_field_tc_model,
)
from ._model import (
    SpinModel,
    clusters,
    ferromagnetic_network,
    largest_cluster_fraction,
    lattice_model,
    percolation_curve,
    spin_model,
)
from ._montecarlo import K_B, MonteCarloResult, energy, local_fields, run_monte_carlo
from ._order import low_temperature_order
from ._plots import plot_binder, plot_codoping, plot_llg, plot_percolation, plot_tc_vs_concentration
from ._sweep import (
    DEFAULT_SIZES,
    SweepResult,
    SweepSettings,
    composition_label,
    curie_sweep,
    curie_temperature,
    lattice_sweep,
    simulate_task,
    task_seed,
    tc_text,
)
from ._uncertainty import mean_field_spread, perturbed_table, symmetry_classes

__all__ = [
    "DEFAULT_SIZES",
    "FILLS",
    "FILL_OPTIONS",
    "HBAR",
    "K_B",
    "REQUIRED_COLUMNS",
    "TABLE_COLUMNS",
    "CurieEstimate",
    "DiluteConfiguration",
    "LLGResult",
    "MonteCarloResult",
    "PAIR_COUNTINGS",
    "SpinModel",
    "SweepResult",
    "SweepSettings",
    "as_pairs_once",
    "bi_sites",
    "binder",
    "cell_widths",
    "check_size_for_cutoff",
    "clusters",
    "compare_fills",
    "codoping_mean_field",
    "composition_label",
    "configuration_from_sites",
    "crossing",
    "curie_from_binder",
    "curie_sweep",
    "curie_temperature",
    "dask_client",
    "energy",
    "exchange_table",
    "ferromagnetic_network",
    "find_site",
    "j0_by_element",
    "j0_matrix",
    "largest_cluster_fraction",
    "lattice_model",
    "lattice_sweep",
    "load_table",
    "local_fields",
    "low_temperature_order",
    "mean_field_magnetisation",
    "mean_field_spread",
    "mean_field_tc",
    "mean_field_tc_model",
    "minimal_size",
    "percolation_curve",
    "perturbed_table",
    "plot_binder",
    "plot_codoping",
    "plot_llg",
    "plot_percolation",
    "plot_tc_vs_concentration",
    "random_configuration",
    "refinement_temperatures",
    "run_llg",
    "run_monte_carlo",
    "run_tasks",
    "simulate_task",
    "spin_model",
    "symmetry_classes",
    "symmetry_residuals",
    "task_seed",
    "tc_text",
]
