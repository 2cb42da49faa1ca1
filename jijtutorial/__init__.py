"""jijtutorial: learn magnetic exchange couplings J_ij of impurity pairs in Bi2Te3.

The public surface is the subpackages and modules below, each with its ``__all__``; the most used
functions are also reachable from here. Subpackages are imported on first use, so
``import jijtutorial`` is cheap and the core needs no Jupyter package (only :mod:`.viewer`'s 3D
widget needs nglview).

=================  ==============================================================================
module             what it holds
=================  ==============================================================================
``datasets``       loaders of the JuKKR table and the model data set (tidy frames with provenance)
``elements``       the 20 impurity elements
``geometry``       the Bi2Te3 crystal, Bi–Bi pair vectors and their labels, the crystal's symmetry, bond classes
``structures``     impurity pairs embedded in supercells and their atomic environments
``descriptors``    Coulomb-matrix and SOAP descriptors as scikit-learn transformers
``kernels``        distances, closed-form KRR paths, SymPair-KRR, sparse KRR
``benchmark``      the study's benchmark, the ladder of protocols, reports and plots
``jij_table``      J with error bars for every element pair and Bi–Bi geometry (the filled table)
``greens``         exchange from Green functions of a tight-binding host (engine)
``model_data``     the package's own J_ij data set, computed with ``greens``
``clusters``       exchange inside clusters of several impurities
``exploration``    first looks at a data set, mean-field Curie temperature
``featurecache``   the featurisation cache (memory and disk)
``viewer``         static and interactive (nglview) structure views
``pages``          numbers and sentences glued into a chapter's text (myst-nb glue)
``plotting``       the figure style
``protocols``      the ladder of cross-validation protocols as records: splits, inner blocks, held-out set
``targets``        what a model predicts (J, D): columns, symmetry, what it must not see, symmetrised D
``tables``         tables for a page: significant digits, units in the header, no index
``parallel``       independent tasks through Dask: here, on a local cluster or on any cluster
``spins``          Heisenberg + DMI spin models of doped Bi2Te3: Monte Carlo T_C, LLG dynamics
``units``          constants (k_B) and unit conversions
=================  ==============================================================================
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Subpackages and modules of the public surface (imported on first attribute access).
SUBMODULES = (
    "benchmark",
    "clusters",
    "datasets",
    "descriptors",
    "elements",
    "exploration",
    "featurecache",
    "geometry",
    "greens",
    "jij_table",
    "kernels",
    "model_data",
    "pages",
    "parallel",
    "plotting",
    "protocols",
    "spins",
    "structures",
    "tables",
    "targets",
    "units",
    "viewer",
)

#: Shortcuts: name -> module that defines it.
_SHORTCUTS = {
    "load_jukkr": "datasets",
    "load_model": "datasets",
    "load_dataset": "datasets",
    "describe": "datasets",
    "CoulombMatrixDescriptor": "descriptors",
    "SOAPDescriptor": "descriptors",
    "SymmetricPairKRR": "kernels",
    "PairGP": "kernels",
    "run_benchmark": "benchmark",
    "pair_exchange": "greens",
    "predict_jij_table": "jij_table",
}

__all__ = ["__version__", *SUBMODULES, *_SHORTCUTS]


def __getattr__(name: str):
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _SHORTCUTS:
        return getattr(importlib.import_module(f".{_SHORTCUTS[name]}", __name__), name)
    raise AttributeError(f"module 'jijtutorial' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
