"""Learning curves: test-fold MAE against the number of training pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import CURVE_MODELS
from ._setup import default_jobs, map_threads, prepared_models, progress_bar, r2_score, setup, single_threaded_blas


def learning_curve(
    dataset="auto",
    models=CURVE_MODELS,
    protocol: str = "grouped",
    *,
    fractions=(0.1, 0.2, 0.35, 0.5, 0.75, 1.0),
    n_splits: int = 5,
    n_repeats: int = 1,
    seed: int = 0,
    data_path=None,
    progress: bool = True,
    cache=True,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """MAE on the test folds against the number of training pairs.

    Each training fold of the outer CV is subsampled (random rows for ``study``, whole element
    pairs for ``grouped``) to each fraction; hyperparameters are chosen inside the subsample.
    Returns one row per model, fraction, repeat and fold: ``model, protocol, fraction, n_train,
    repeat, fold, MAE`` (meV), ``R2``.
    """
    fractions = tuple(fractions)
    if not fractions or not all(0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions must be numbers in (0, 1] of each training fold, not {fractions!r}.")
    run = setup(dataset, protocol, n_splits, n_repeats, seed, data_path)
    y = run.y
    tasks = []
    for r, f, tr, te in run.splits:
        rng = np.random.default_rng(seed + 1000 * r + f)
        if run.groups is None:
            order = rng.permutation(tr)
        else:
            ug = rng.permutation(np.unique(run.groups[tr]))
            rank = {g: i for i, g in enumerate(ug)}
            order = tr[np.argsort([rank[g] for g in run.groups[tr]], kind="stable")]
        for frac in fractions:
            tasks.append((r, f, frac, np.sort(order[: max(10, int(round(frac * len(tr))))]), te))
    rows = []
    bar = progress_bar(len(models) * len(tasks), progress, f"learning curve/{protocol}")
    with single_threaded_blas():
        for spec, model, _ in prepared_models(models, run.frame, cache):

            def one(task, model=model, spec=spec):
                r, f, frac, sub, te = task
                fit = model.fit_fold(sub, y[sub], run.inner_groups(sub))
                p = model.predict_fold(fit, te)
                return dict(
                    model=spec.name,
                    protocol=protocol,
                    fraction=frac,
                    n_train=len(sub),
                    repeat=r,
                    fold=f,
                    MAE=float(np.mean(np.abs(p - y[te]))),
                    R2=r2_score(y[te], p),
                )

            rows.extend(map_threads(one, tasks, default_jobs(n_jobs), bar))
    bar.close()
    return pd.DataFrame(rows)
