"""The engine-prior models in the benchmark: ``PairGP+engine`` and ``Engine-scaled`` (the engine alone).

``PairGP+engine`` is :class:`jijtutorial.prior_model.EnginePriorGP` (PairGP and the scaled engine
stacked, or Δ-learned for an unseen distance; σ with the prior's spread, a relative part and a floor);
variants read ``PairGP+engine[mode=delta;tails=gp]`` with the parameters ``mode`` ('auto', 'stack',
'delta': Δ-learning),
``scale`` ('geometry', 'global', 'none') and ``tails`` ('prior', 'gp'). ``Engine-scaled``
is a(g) J_eng alone (:class:`jijtutorial.prior_model.ScaledEngine`). The engine table is the same
for every fold (it holds no data, :mod:`jijtutorial.engine_prior`); each fold fits a(g), δ and σ on
its training rows only, with the fold's own inner selection. When stacking, the PairGP of J is the
same fit as the ``PairGP`` model's on that fold and is made once for both (:class:`._folds.SharedFits`).
"""

from __future__ import annotations

import numpy as np

from ._folds import FoldModel, GPFit, fit_pair_gp

#: Names of the engine-prior models.
PRIOR_MODEL = "PairGP+engine"
ENGINE_MODEL = "Engine-scaled"
#: Variant parameters of ``PairGP+engine[...]`` and their allowed values.
PRIOR_OPTIONS = {"scale": ("geometry", "global", "none"), "tails": ("prior", "gp"), "mode": ("auto", "delta", "stack")}


def is_prior_model(name) -> bool:
    """Whether ``name`` is one of the engine-prior models (or a variant)."""
    name = str(name)
    return name == ENGINE_MODEL or name == PRIOR_MODEL or name.startswith(PRIOR_MODEL + "[")


def prior_options(name: str) -> tuple:
    """``(parameter, value)`` pairs of ``PairGP+engine[key=value;...]`` (empty for the plain names)."""
    if name in (PRIOR_MODEL, ENGINE_MODEL):
        return ()
    inner = name[len(PRIOR_MODEL) + 1 :]
    if not inner.endswith("]"):
        raise ValueError(f"unknown model {name!r}: a variant reads {PRIOR_MODEL}[key=value;key=value] (closing ']').")
    out = []
    for item in filter(None, inner[:-1].split(";")):
        key, sep, value = (t.strip() for t in item.partition("="))
        if not sep or key not in PRIOR_OPTIONS or value not in PRIOR_OPTIONS[key]:
            allowed = "; ".join(f"{k}: {', '.join(v)}" for k, v in PRIOR_OPTIONS.items())
            raise ValueError(f"unknown model {name!r}: {item!r} is not key=value with {allowed}.")
        out.append((key, value))
    return tuple(out)


class PriorGPFolds(FoldModel):
    """:class:`~jijtutorial.prior_model.EnginePriorGP` (or ``engine_only``: :class:`~jijtutorial.prior_model.ScaledEngine`)
    in the fold interface, with error bars; one engine table shared by every fold.

    Parameters
    ----------
    engine_only : bool
        The engine alone, scaled per geometry (no PairGP of the residuals).
    **params : ``scale``, ``tails`` of :class:`EnginePriorGP`.
    """

    predicts_std = True

    def __init__(self, engine_only: bool = False, **params):
        self.engine_only = engine_only
        self.params = params

    def prepare(self, frame) -> "PriorGPFolds":
        from ..engine_prior import EnginePrior

        self.frame_ = frame.reset_index(drop=True)
        self.prior_ = EnginePrior()
        self.prior_.values(self.frame_.head(1))  # load the table and the symmetry images once, before the threads
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None) -> GPFit:
        from ..prior_model import EnginePriorGP, ScaledEngine

        tr = np.asarray(train_idx)
        if self.engine_only:
            est = ScaledEngine(self.prior_, **{k: v for k, v in self.params.items() if k == "scale"})
            est.fit(self.frame_.iloc[tr], y_train, inner=groups_train)
        else:
            est = EnginePriorGP(self.prior_, selection="rows", **self.params)
            shared = None
            if est.resolve_mode(groups_train) == "stack":  # PairGP of J itself: the same fit as the PairGP model's
                shared = fit_pair_gp(self, est.gp_params_full(), tr, y_train, groups_train)
            est.fit(self.frame_.iloc[tr], y_train, inner=groups_train, fitted_gp=shared)
        return GPFit(dict(est.params_), est.cv_mae_, est.grid_scores_, estimator=est, interval95=est.interval95_)

    def predict_fold(self, fit: GPFit, test_idx, return_std: bool = False):
        test = self.target.hide(self.frame_.iloc[np.asarray(test_idx)])  # what the target says a model must not see
        return fit.estimator.predict(test, return_std=return_std)


__all__ = ["ENGINE_MODEL", "PRIOR_MODEL", "PRIOR_OPTIONS", "PriorGPFolds", "is_prior_model", "prior_options"]
