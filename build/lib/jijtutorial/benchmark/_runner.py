"""Running a benchmark: the shared set-up (data, groups, splits, models), threaded folds, the result.

Every run -- the benchmark table, the learning curves, the plain scikit-learn reference --
starts the same way (:func:`setup`): resolve the data, label the groups of the protocol, draw
the outer splits, and prepare each model's fold interface once (:func:`prepared_models`) with
single-threaded BLAS (:func:`single_threaded_blas`), while the folds run in threads
(:func:`map_threads`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import output_folder
from ._protocols import check_protocol, cv_splits, holdout_split, split_groups
from ._registry import ALPHAS, DEFAULT_MODELS, GAMMAS, OUR_GRID, STUDY_N, STUDY_RESULTS, get_model


# --------------------------------------------------------------------------------------------
# threads, BLAS, progress
# --------------------------------------------------------------------------------------------
def default_jobs(n_jobs: int | None = None) -> int:
    """Threads for the folds: ``n_jobs``, or the number of CPUs (at most 4)."""
    if n_jobs is None:
        n_jobs = min(4, os.cpu_count() or 1)
    return max(1, int(n_jobs))


def single_threaded_blas():
    """Context limiting BLAS/OpenMP to one thread (folds are parallel instead).

    Single-threaded BLAS per fold is much faster than threaded BLAS on a busy 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def map_threads(fn, items, n_jobs: int, bar=None):
    """``map(fn, items)`` in ``n_jobs`` threads (numpy/LAPACK release the GIL), results in order."""
    if n_jobs <= 1 or len(items) <= 1:
        for it in items:
            out = fn(it)
            if bar is not None:
                bar.update()
            yield out
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        futures = [pool.submit(fn, it) for it in items]
        for fut in futures:
            out = fut.result()
            if bar is not None:
                bar.update()
            yield out


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar (notebook-aware), or a silent one."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, leave=False)


def r2_score(y, p) -> float:
    """Coefficient of determination of predictions ``p`` of ``y`` (NaN if ``y`` is constant)."""
    ss = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / ss if ss > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# the set-up shared by every run
# --------------------------------------------------------------------------------------------
def resolve_frame(dataset="auto", path=None) -> pd.DataFrame:
    """``dataset`` itself if a DataFrame, else :func:`jijtutorial.datasets.load_dataset` of that name."""
    from ..datasets import load_dataset

    if isinstance(dataset, pd.DataFrame):
        return dataset.reset_index(drop=True)
    return load_dataset(dataset, path)


@dataclass
class Setup:
    """Data, targets, protocol groups and outer splits of a run."""

    frame: pd.DataFrame
    name: str
    protocol: str
    y: np.ndarray
    groups: np.ndarray | None
    splits: list

    def inner_groups(self, train_idx) -> np.ndarray | None:
        """Group labels of the training rows for the inner selection (None: leave-one-out)."""
        return None if self.groups is None else self.groups[train_idx]


def setup(dataset, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0, data_path=None) -> Setup:
    """Resolve the data and draw the outer splits of ``protocol`` (see :func:`cv_splits`)."""
    check_protocol(protocol)
    frame = resolve_frame(dataset, data_path)
    name = frame.attrs.get("name", "custom") if not isinstance(dataset, str) else frame.attrs.get("name", dataset)
    return Setup(frame, name, protocol, frame["J"].to_numpy(float), split_groups(frame, protocol),
                 cv_splits(frame, protocol, n_splits, n_repeats, seed))


def prepared_models(models, frame: pd.DataFrame, cache=True):
    """``(spec, fold_model, seconds)`` for each model name, its fold interface prepared on ``frame``.

    Models on the same descriptor share its Gram and distance matrices; ``seconds`` is the time
    spent preparing (featurisation, matrices).
    """
    stores: dict[str, dict] = {}
    for name in models:
        spec = get_model(name)
        t0 = time.perf_counter()
        desc = spec.make_descriptor(cache)
        store = stores.setdefault(repr(desc), {}) if desc is not None else None
        model = spec.fold_model(cache, store).prepare(frame)
        yield spec, model, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# the benchmark table
# --------------------------------------------------------------------------------------------
@dataclass
class BenchmarkResult:
    """Everything one benchmark run produced (see :func:`run_benchmark`).

    Attributes
    ----------
    table : one row per model: mean t_train, t_test per fold and t_prep once (s), MAE (meV), R²
        over the folds, the held-out test MAE and R², and the study's figures beside them.
    folds : one row per model, repeat and fold (MAE, R², times, inner CV MAE, chosen parameters).
    predictions : out-of-fold predictions: model, repeat, row, J, J_pred (meV).
    test_predictions : held-out test predictions: model, row, J, J_pred (meV).
    frame : the data the run used; config : its settings; seconds : its wall time.
    """

    protocol: str
    dataset: str
    table: pd.DataFrame
    folds: pd.DataFrame
    predictions: pd.DataFrame
    test_predictions: pd.DataFrame
    frame: pd.DataFrame = field(repr=False)
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def best_model(self) -> str:
        """The model with the lowest cross-validation MAE."""
        return str(self.table.loc[self.table["MAE"].idxmin(), "model"])

    def markdown(self, digits: int = 3) -> str:
        """The table as Markdown, and the best model's held-out score."""
        from ._report import table_markdown

        best = self.table.set_index("model").loc[self.best_model]
        return (f"{table_markdown(self.table, digits)}\n\nBest model by cross-validation: {self.best_model} "
                f"(CV MAE {best['MAE']:.3g} meV, R² {best['R2']:.3f}); on the held-out test set: "
                f"MAE {best['test_MAE']:.3g} meV, R² {best['test_R2']:.3f}.")

    def save(self, out, plots: bool = True) -> list[Path]:
        """Write table.csv/.md, folds.csv, predictions.csv and (``plots``) parity plots to ``out``."""
        from ._report import describe_config

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{self.dataset}-{self.protocol}"
        files = [out / f"table-{stem}.csv", out / f"table-{stem}.md", out / f"folds-{stem}.csv",
                 out / f"predictions-{stem}.csv"]
        self.table.to_csv(files[0], index=False)
        files[1].write_text(f"# Benchmark: {self.dataset} data, {self.protocol} protocol\n\n"
                            f"{describe_config(self.config)}\n\n{self.markdown()}\n")
        self.folds.to_csv(files[2], index=False)
        self.predictions.to_csv(files[3], index=False)
        if plots:
            import matplotlib.pyplot as plt

            from ._plots import parity_grid

            fig = parity_grid(self)
            files.append(out / f"parity-{stem}.png")
            fig.savefig(files[-1], dpi=120)
            plt.close(fig)
        return files


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.items())


def run_benchmark(dataset="auto", protocol: str = "study", models=None, *, n_splits: int = 5,
                  n_repeats: int = 3, seed: int = 0, test_size: float = 0.2, data_path=None,
                  progress: bool = True, cache=True, out=None, plots: bool = True,
                  n_jobs: int | None = None) -> BenchmarkResult:
    """Cross-validate ``models`` under ``protocol`` and score them on a held-out test set.

    Parameters
    ----------
    dataset : ``'auto'`` (JuKKR if available, else the model data), ``'jukkr'``, ``'model'``,
        or a tidy DataFrame.
    protocol : ``'study'`` (random splits) or ``'grouped'`` (element pairs kept together).
    models : names (default: the study's five, ``SymPair-KRR`` and ``Mean-baseline``).
    n_splits, n_repeats, seed : the outer cross-validation; repeat r uses seed + r.
    test_size : fraction held out before the cross-validation (0: none).
    cache : featurisation cache, ``True`` (memory and disk), ``'memory'`` or ``False``.
    out : folder to write the table (CSV, Markdown), predictions and parity plots to.
    n_jobs : folds run in this many threads, each with single-threaded BLAS (default: the
        number of CPUs, at most 4).

    Returns
    -------
    BenchmarkResult
    """
    t_start = time.perf_counter()
    specs = [get_model(m) for m in (models or DEFAULT_MODELS)]
    if out is not None:
        output_folder(out)
    run = setup(dataset, protocol, n_splits, n_repeats, seed, data_path)
    frame, y_all = run.frame, run.y
    dev, test = holdout_split(frame, protocol, test_size, seed)
    n_jobs = default_jobs(n_jobs)
    published = bool(frame.attrs.get("provenance", {}).get("sha256_matches_published", False)) and len(frame) == STUDY_N
    config = dict(protocol=protocol, dataset=run.name, published_table=published, n_rows=len(frame), n_dev=len(dev),
                  n_test=len(test),
                  n_splits=n_splits, n_repeats=n_repeats, seed=seed, test_size=test_size,
                  models=[s.name for s in specs], gammas=GAMMAS, alphas=ALPHAS, our_grid=OUR_GRID, n_jobs=n_jobs)
    bar = progress_bar(len(specs) * (len(run.splits) + 1), progress, f"{run.name}/{protocol}")
    rows, fold_rows, preds, test_preds = [], [], [], []
    with single_threaded_blas():
        for spec, model, t_prep in prepared_models([s.name for s in specs], frame, cache):
            bar.set_postfix_str(spec.name)

            def one_task(task, model=model, spec=spec):
                r, f, tr, te = task
                t1 = time.perf_counter()
                fit = model.fit_fold(tr, y_all[tr], run.inner_groups(tr))
                t2 = time.perf_counter()
                p = model.predict_fold(fit, te)
                t3 = time.perf_counter()
                yt = y_all[te]
                row = dict(model=spec.name, repeat=r, fold=f, n_train=len(tr), n_test=len(te),
                           MAE=float(np.mean(np.abs(p - yt))) if len(te) else np.nan,
                           R2=r2_score(yt, p) if len(te) else np.nan, t_train=t2 - t1,
                           t_test=t3 - t2, inner_cv_MAE=fit.inner_mae, params=_fmt_params(fit.params))
                return te, p, row

            # the CV folds, and the held-out task: tuned on the development set, scored on the test set
            tasks = list(run.splits) + ([("holdout", 0, dev, test)] if len(test) else [])
            oof: dict[int, np.ndarray] = {}
            model_rows = []
            test_mae = test_r2 = np.nan
            test_params = ""
            for te, p, row in map_threads(one_task, tasks, n_jobs, bar):
                if row["repeat"] == "holdout":
                    test_preds.append(pd.DataFrame({"model": spec.name, "row": te, "J": y_all[te], "J_pred": p}))
                    test_mae, test_r2, test_params = row["MAE"], row["R2"], row["params"]
                    continue
                model_rows.append(row)
                oof.setdefault(row["repeat"], np.full(len(frame), np.nan))[te] = p
            fold_rows.extend(model_rows)
            for r in sorted(oof):
                preds.append(pd.DataFrame({"model": spec.name, "repeat": r, "row": np.arange(len(frame)),
                                           "J": y_all, "J_pred": oof[r]}))
            fr = pd.DataFrame(model_rows)
            study = STUDY_RESULTS.get(spec.name)
            rows.append({
                "model": spec.name, "protocol": protocol,
                "t_train": fr["t_train"].mean(), "t_test": fr["t_test"].mean(), "t_prep": t_prep,
                "MAE": fr["MAE"].mean(), "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan,
                "R2": fr["R2"].mean(), "test_MAE": test_mae, "test_R2": test_r2, "test_params": test_params,
                **{f"study_{k}": (getattr(study, k) if study else np.nan)
                   for k in ("t_train", "t_test", "MAE", "R2", "test_MAE", "test_R2")},
            })
    bar.close()
    result = BenchmarkResult(
        protocol=protocol, dataset=run.name, table=pd.DataFrame(rows), folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame, config=config, seconds=time.perf_counter() - t_start,
    )
    result.config["seconds"] = result.seconds
    if out is not None:
        result.save(out, plots=plots)
    return result
