"""The plain scikit-learn reference: ``GridSearchCV(Pipeline(descriptor, DistanceScaler, KernelRidge))``.

Used to check that the closed-form fold models choose the same models as scikit-learn's refitting
grid search, and to time the two (``benchmarks/study_speed.py``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ._registry import STUDY_MODELS, ModelSpec, get_model
from ._setup import default_jobs, progress_bar, r2_score, setup, single_threaded_blas


def sklearn_search(spec: ModelSpec, cv, cache="memory"):
    """The model ``spec`` as a plain scikit-learn ``GridSearchCV(Pipeline(descriptor, scaler, KRR))``."""
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from ..kernels import KERNEL_METRIC, DistanceScaler

    if spec.descriptor is None:
        raise ValueError(
            f"{spec.name} has no descriptor pipeline; the scikit-learn reference covers the "
            f"descriptor models ({', '.join(STUDY_MODELS)})."
        )
    pipe = Pipeline(
        [
            ("desc", spec.make_descriptor(cache)),
            ("scale", DistanceScaler(KERNEL_METRIC[spec.kernel])),
            ("krr", KernelRidge(kernel=spec.kernel)),
        ]
    )
    grid = {"krr__alpha": list(spec.alphas)}
    if spec.kernel != "linear":
        grid["krr__gamma"] = list(spec.gammas)
    return GridSearchCV(pipe, grid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1)


def _inner_cv(protocol: str, seed: int, groups=None):
    """The inner CV of GridSearchCV and the ``groups`` to pass to its fit.

    Study: shuffled 5-fold; pairs: ``GroupKFold(5)`` over the element pairs; element and distance:
    every inner block (:class:`~jijtutorial.kernels.InnerBlocks`, which may overlap) left out once.
    """
    from sklearn.model_selection import GroupKFold, KFold

    from ..protocols import InnerBlocks

    if isinstance(groups, InnerBlocks):
        n = int(max(b.max(initial=-1) for b in groups)) + 1
        cv = [(np.setdiff1d(np.arange(n), b), b) for b in groups]
        return cv, None
    cv = KFold(5, shuffle=True, random_state=seed) if groups is None else GroupKFold(5)
    return cv, groups


def sklearn_reference(
    dataset="auto",
    protocol: str = "study",
    models=STUDY_MODELS,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    data_path=None,
    progress: bool = True,
    cache="memory",
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """The study's CV table with plain ``GridSearchCV(Pipeline(descriptor, DistanceScaler, KernelRidge))``.

    Same outer splits and grids as :func:`run_benchmark`; inside each training fold GridSearchCV
    refits every grid cell on an inner 5-fold split (``KFold`` or ``GroupKFold``) and refits the
    best. Grid cells run in ``n_jobs`` threads with single-threaded BLAS, like
    :func:`run_benchmark`; the descriptor keeps its in-process cache, so featurisation is paid
    once, as there. One row per model: mean t_train, t_test (s), MAE (meV), R².
    """
    from joblib import parallel_backend

    run = setup(dataset, protocol, n_splits, n_repeats, seed, data_path)
    frame, y_all = run.frame, run.y
    n_jobs = default_jobs(n_jobs)
    rows = []
    bar = progress_bar(len(models) * len(run.splits), progress, f"sklearn/{protocol}")
    with single_threaded_blas(), parallel_backend("threading", n_jobs=n_jobs):
        for name in models:
            spec = get_model(name)
            res = []
            for _r, _f, tr, te in run.splits:
                cv, groups = _inner_cv(run.kind, seed, run.inner_groups(tr))
                search = sklearn_search(spec, cv, cache)
                fit_kw = {} if groups is None else {"groups": groups}
                search.n_jobs = n_jobs
                t1 = time.perf_counter()
                search.fit(frame.iloc[tr], y_all[tr], **fit_kw)
                t2 = time.perf_counter()
                p = search.predict(frame.iloc[te])
                t3 = time.perf_counter()
                res.append((t2 - t1, t3 - t2, float(np.mean(np.abs(p - y_all[te]))), r2_score(y_all[te], p)))
                bar.update()
            a = np.array(res)
            rows.append(
                dict(
                    model=spec.name,
                    protocol=protocol,
                    t_train=a[:, 0].mean(),
                    t_test=a[:, 1].mean(),
                    MAE=a[:, 2].mean(),
                    R2=a[:, 3].mean(),
                )
            )
    bar.close()
    return pd.DataFrame(rows)


def compare_one_fold(
    dataset, model: str = "CM-KRR-lap-rcut-4.0", protocol: str = "study", *, seed: int = 0, data_path=None, cache=True
) -> pd.DataFrame:
    """One outer fold of ``model``, fitted by the closed-form fold model and by plain ``GridSearchCV``.

    Both single-threaded, on the same fold and grid. Returns one row per method: the training
    time (s, featurisation excluded for both), the chosen hyperparameters and the test-fold MAE (meV).
    """
    spec = get_model(model)
    run = setup(dataset, protocol, 5, 1, seed, data_path)
    frame, y = run.frame, run.y
    _, _, tr, te = run.splits[0]
    folds = spec.fold_model(cache).prepare(frame)
    inner = run.inner_groups(tr)
    cv, groups = _inner_cv(run.kind, seed, inner)
    search = sklearn_search(spec, cv, cache)
    spec.make_descriptor(cache).transform(frame)  # fill the feature cache: neither timing includes featurisation
    rows = []
    with single_threaded_blas():
        t0 = time.perf_counter()
        fit = folds.fit_fold(tr, y[tr], inner)
        t_ours = time.perf_counter() - t0
        rows.append(
            {
                "method": "closed-form CV, no refit (ours)",
                "t_train (s)": t_ours,
                "chosen": ", ".join(f"{k}={v:g}" for k, v in fit.params.items()),
                "test-fold MAE (meV)": float(np.mean(np.abs(folds.predict_fold(fit, te) - y[te]))),
            }
        )
        t0 = time.perf_counter()
        search.fit(frame.iloc[tr], y[tr], **({} if groups is None else {"groups": groups}))
        t_plain = time.perf_counter() - t0
        chosen = {k.removeprefix("krr__"): v for k, v in search.best_params_.items()}
        rows.append(
            {
                "method": "GridSearchCV, inner 5-fold, refit",
                "t_train (s)": t_plain,
                "chosen": ", ".join(f"{k}={v:g}" for k, v in sorted(chosen.items(), key=lambda kv: kv[0] != "gamma")),
                "test-fold MAE (meV)": float(np.mean(np.abs(search.predict(frame.iloc[te]) - y[te]))),
            }
        )
    return pd.DataFrame(rows)
