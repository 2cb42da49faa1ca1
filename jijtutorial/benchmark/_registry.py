"""The benchmark's models: names, descriptors, kernels, hyperparameter grids, and the study's figures.

Models are named as in the 2023 study -- ``CM-KRR-lap-rcut-4.0`` is a Coulomb-matrix descriptor of
the pair's environment at r_cut = 4.0 Å with a Laplacian-kernel ridge regression -- plus
``SymPair-KRR`` (our pair-symmetric element kernel, :class:`jijtutorial.kernels.SymmetricPairKRR`),
``PairGP`` (a Gaussian process that also predicts unseen elements and distances, with error bars,
:class:`jijtutorial.kernels.PairGP`) and ``Mean-baseline`` (predict the mean J of the training rows).
:func:`get_model` parses a name into a :class:`ModelSpec`, whose :meth:`~ModelSpec.fold_model` builds the model's fold interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from ._folds import FoldModel, KernelRidgeFolds, MeanFolds, PairGPFolds, PairKernelFolds
from ._folds_d import ComponentFolds, EquivariantDFolds, MagnitudeFolds, MeanDFolds
from ._prior_folds import PRIOR_MODEL


class StudyFigures(NamedTuple):
    """One row of the 2023 study's table (N = 1728): mean times per fold (s), CV and held-out scores (meV)."""

    t_train: float
    t_test: float
    MAE: float
    R2: float
    test_MAE: float
    test_R2: float


STUDY_MODELS = (
    "CM-KRR-lin-rcut-4.0",
    "CM-KRR-lap-rcut-4.0",
    "CM-KRR-lap-rcut-7.6",
    "SOAP-KRR-lin-rcut-4.0",
    "SOAP-KRR-rbf-rcut-4.0",
)
#: The study's figures (../shared/reference/README.md), N = 1728.
STUDY_RESULTS: dict[str, StudyFigures] = {
    "CM-KRR-lin-rcut-4.0": StudyFigures(1.44, 0.01, 1.56, -2.14, 1.15, -0.01),
    "CM-KRR-lap-rcut-4.0": StudyFigures(2.54, 0.04, 0.50, 0.54, 0.05, 0.99),
    "CM-KRR-lap-rcut-7.6": StudyFigures(54.1, 2.12, 0.53, 0.53, 0.05, 0.99),
    "SOAP-KRR-lin-rcut-4.0": StudyFigures(52.6, 0.83, 0.87, 0.01, 0.87, 0.01),
    "SOAP-KRR-rbf-rcut-4.0": StudyFigures(160.0, 0.90, 0.46, 0.73, 0.12, 0.96),
}
#: The number of pairs the study's figures are for.
STUDY_N = 1728
OUR_MODEL = "SymPair-KRR"
#: The model built for the harder rungs of the ladder (unseen elements and distances, with error bars).
GP_MODEL = "PairGP"
BASELINE = "Mean-baseline"
#: The models of a ``study`` or ``pairs`` (``grouped``) run, as in chapter 6.
DEFAULT_MODELS = STUDY_MODELS + (OUR_MODEL, BASELINE)
#: The models of the ladder (``protocol='all'``, ``element``, ``distance``): the above, PairGP and PairGP with the
#: crystal engine as a prior (:mod:`._prior_folds`).
LADDER_MODELS = STUDY_MODELS + (OUR_MODEL, GP_MODEL, PRIOR_MODEL, BASELINE)
#: Models of the DM vector D (target 'D'): the equivariant GP and its three baselines (see
#: :mod:`jijtutorial.benchmark._folds_d`).
D_MODEL = "EquivariantGP-D"
D_MODELS = (D_MODEL, "PairGP-xyz", "PairGP-|D|", "Mean-D")
_D_KERNELS = {
    D_MODEL: ("d-equivariant", EquivariantDFolds),
    "PairGP-xyz": ("d-components", ComponentFolds),
    "PairGP-|D|": ("d-magnitude", MagnitudeFolds),
    "Mean-D": ("d-mean", MeanDFolds),
}
#: Learning curves: the study's best model, the best study model in our reproduction, and ours.
CURVE_MODELS = ("SOAP-KRR-rbf-rcut-4.0", "CM-KRR-lap-rcut-4.0", OUR_MODEL)

#: Hyperparameter grids (about 3 x 3, as in the study). Kernel widths gamma are in units of the
#: training rows' median pairwise distance (L1 for Laplacian, L2 for Gaussian kernels).
GAMMAS = {"laplacian": (2.0, 16.0, 128.0), "rbf": (2.0, 16.0, 128.0)}
ALPHAS = {"linear": (1e-3, 1e-1, 1e1, 1e3, 1e5), "laplacian": (1e-6, 1e-4, 1e-2), "rbf": (1e-6, 1e-4, 1e-2)}
#: Our model: the length (meV) of the learned element similarity and the ridge alpha.
OUR_GRID = {"profile_length": (4.0, 8.0, 16.0), "alpha": (1e-3, 1e-2, 1e-1)}

_KERNEL_ALIASES = {"lin": "linear", "lap": "laplacian", "rbf": "rbf", "gauss": "rbf"}
#: A descriptor model's name after its descriptor's key in :data:`jijtutorial.descriptors.DESCRIPTORS`.
_NAME_TAIL = r"-K[RK]R-(lin|lap|rbf|gauss)-rcut-(\d+(?:\.\d+)?)$"


def _descriptors() -> dict:
    """Descriptor key ('CM', 'SOAP', ...) -> transformer class: the descriptors module's own table."""
    from ..descriptors import DESCRIPTORS

    return DESCRIPTORS


@dataclass(frozen=True)
class ModelSpec:
    """A model of the benchmark: descriptor, kernel and hyperparameter grid.

    ``kernel`` is ``'linear'``, ``'laplacian'``, ``'rbf'``, ``'pair'`` (SymPair-KRR), ``'gp'`` (PairGP),
    ``'mean'``, or one of the D models' (``'d-equivariant'``, ``'d-components'``, ``'d-magnitude'``,
    ``'d-mean'``); ``target`` is what the model predicts (``'J'`` or ``'D'``, :mod:`jijtutorial.targets`).
    """

    name: str
    descriptor: str | None  # a key of jijtutorial.descriptors.DESCRIPTORS ('CM', 'SOAP') or None
    r_cut: float | None  # Å
    kernel: str
    gammas: tuple = ()
    alphas: tuple = ()
    options: tuple = ()  # (parameter, value) pairs of a PairGP variant
    target: str = "J"

    def make_descriptor(self, cache=True):
        """The descriptor transformer (None for the pair model and the baseline)."""
        if self.descriptor is None:
            return None
        return _descriptors()[self.descriptor](r_cut=self.r_cut, cache=cache)

    def fold_model(self, cache=True, store: dict | None = None) -> FoldModel:
        """The model's fold interface (see :mod:`jijtutorial.benchmark._folds`), not yet prepared.

        ``store``: a dict per descriptor in which models on the same features share their
        Gram/distance matrices (see :class:`KernelRidgeFolds`).
        """
        from ..targets import get_target

        if self.kernel == "pair":
            model = PairKernelFolds({"profile_length": OUR_GRID["profile_length"]}, alphas=self.alphas)
        elif self.kernel == "gp":
            model = PairGPFolds(**dict(self.options))
        elif self.kernel == "mean":
            model = MeanFolds()
        elif self.kernel in ("gp-prior", "engine"):  # the engine-prior models (:mod:`._prior_folds`)
            from ._prior_folds import PriorGPFolds

            model = PriorGPFolds(engine_only=self.kernel == "engine", **dict(self.options))
        elif self.kernel in dict(_D_KERNELS.values()):
            model = dict(_D_KERNELS.values())[self.kernel](**dict(self.options))
        else:
            model = KernelRidgeFolds(self.make_descriptor(cache), self.kernel, self.gammas, self.alphas, store=store)
        target = get_target(self.target)
        if model.target.is_vector != target.is_vector:
            raise ValueError(
                f"model {self.name!r} predicts a {'vector' if model.target.is_vector else 'scalar'}, the "
                f"target {target.name} is a {'vector' if target.is_vector else 'scalar'}."
            )
        model.target = target  # what the model predicts, and so what it must never see of a test row
        return model


def get_model(name: str) -> ModelSpec:
    """The model called ``name``: a study name like ``CM-KRR-lap-rcut-4.0``, ``SymPair-KRR``, ``PairGP`` or ``Mean-baseline``.

    Any ``<descriptor>-KRR-lin|lap|rbf-rcut-<Å>`` with a descriptor of :data:`jijtutorial.descriptors.DESCRIPTORS`
    (``CM``, ``SOAP``) is understood (``KKR`` as on the study's slide too). A model
    of J applied to another scalar target is ``<name>@<target>`` (e.g. ``PairGP@Jzz``, with a target of
    :data:`jijtutorial.targets.TARGETS`).
    """
    if "@" in str(name):
        base, _, target = str(name).partition("@")
        from ..targets import get_target

        spec = get_model(base)
        if spec.target != "J" or get_target(target).is_vector:
            raise ValueError(f"unknown model {name!r}: '<model>@<target>' applies a model of J to another scalar target.")
        return replace(spec, name=str(name), target=get_target(target).name)
    if name == OUR_MODEL:
        return ModelSpec(name, None, None, "pair", (), OUR_GRID["alpha"])
    if name == GP_MODEL:
        return ModelSpec(name, None, None, "gp")
    if str(name).startswith(GP_MODEL + "["):
        return ModelSpec(str(name), None, None, "gp", options=_gp_options(str(name)))
    if name == BASELINE:
        return ModelSpec(name, None, None, "mean")
    if name in _D_KERNELS:
        return ModelSpec(name, None, None, _D_KERNELS[name][0], target="D")
    from ._prior_folds import ENGINE_MODEL, is_prior_model, prior_options

    if is_prior_model(name):
        kernel = "engine" if name == ENGINE_MODEL else "gp-prior"
        return ModelSpec(str(name), None, None, kernel, options=prior_options(str(name)))
    keys = "|".join(map(re.escape, _descriptors()))
    m = re.match(f"^({keys}){_NAME_TAIL}", str(name))
    if not m:
        raise ValueError(
            f"unknown model {name!r}: use one of {', '.join(LADDER_MODELS)} (models of J), {', '.join(D_MODELS)} "
            f"(models of D), a name of the form "
            f"{keys}-KRR-lin|lap|rbf-rcut-<r_cut in Å> (e.g. SOAP-KRR-lap-rcut-5.0), or a PairGP variant "
            f"such as PairGP[bias=0;element_modes=profile/features]."
        )
    desc, kern, rc = m.group(1), _KERNEL_ALIASES[m.group(2)], float(m.group(3))
    canonical = f"{desc}-KRR-{m.group(2) if m.group(2) != 'gauss' else 'rbf'}-rcut-{rc:.1f}"
    return ModelSpec(canonical, desc, rc, kern, GAMMAS.get(kern, ()), ALPHAS[kern])


def _gp_options(name: str) -> tuple:
    """``(parameter, value)`` pairs of a variant name ``PairGP[key=value;key=a/b]`` (``a/b``: a tuple)."""
    import inspect

    from ..kernels import PairGP

    inner = name[len(GP_MODEL) + 1 :]
    if not inner.endswith("]"):
        raise ValueError(f"unknown model {name!r}: a PairGP variant reads PairGP[key=value;key=value] (closing ']').")
    allowed = [p for p in inspect.signature(PairGP.__init__).parameters if p != "self"]
    out = []
    for item in filter(None, inner[:-1].split(";")):
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise ValueError(f"unknown model {name!r}: {item!r} is not key=value with key one of {', '.join(allowed)}.")
        parts = [_literal(t.strip()) for t in text.split("/")]
        tuple_params = ("element_modes", "geometry_modes", "alphas")
        out.append((key, tuple(parts) if key in tuple_params else parts[0]))
    return tuple(out)


def _literal(text: str):
    try:
        return float(text) if any(c in text for c in ".e") or text.lstrip("-").isdigit() else text
    except ValueError:
        return text
