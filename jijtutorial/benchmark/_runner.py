"""Running a benchmark: the shared set-up (data, groups, splits, models), threaded folds, the result.

Every run -- the benchmark table, the learning curves, the plain scikit-learn reference --
starts the same way (:func:`setup`): resolve the data, label the groups of the protocol, draw
the outer splits, and prepare each model's fold interface once (:func:`prepared_models`) with
single-threaded BLAS (:func:`single_threaded_blas`), while the folds run in threads
(:func:`map_threads`). A run of several protocols (the ladder, ``protocol='all'``) prepares the
models once and runs the folds of every model of a protocol in one pool of threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import output_folder
from ..protocols import PROTOCOLS, Protocol, check_protocols, get_protocol
from ..targets import get_target
from ._registry import ALPHAS, D_MODELS, DEFAULT_MODELS, GAMMAS, LADDER_MODELS, OUR_GRID, STUDY_N, STUDY_RESULTS, get_model


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
        try:
            for fut in futures:
                out = fut.result()
                if bar is not None:
                    bar.update()
                yield out
        except BaseException:  # Ctrl-C, an error, or the caller stopped: do not run the folds still queued
            pool.shutdown(wait=False, cancel_futures=True)
            raise


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
    """Data, targets, protocol groups and outer splits of a run.

    ``protocol`` is the name asked for (``'grouped'`` stays ``'grouped'``), ``rung`` the record of the
    rung it runs (:class:`jijtutorial.protocols.Protocol`) and ``kind`` its name; ``labels`` says what
    each split holds out (the element or the geometry of a leave-one-out fold; ``''`` for random and
    grouped folds).
    """

    frame: pd.DataFrame
    name: str
    protocol: str
    y: np.ndarray
    groups: np.ndarray | None
    splits: list
    kind: str = ""
    labels: list = field(default_factory=list)

    def __post_init__(self):
        self.kind = self.kind or get_protocol(self.protocol).name
        if not self.labels:
            self.labels = [""] * len(self.splits)

    @property
    def rung(self) -> Protocol:
        return get_protocol(self.kind)

    def inner_groups(self, train_idx):
        """How the inner selection leaves out the training rows: None (leave-one-out), one group label per
        row, or :class:`~jijtutorial.protocols.InnerBlocks` (:meth:`Protocol.inner_blocks`)."""
        return self.rung.inner_blocks(self.frame, train_idx)


def setup(dataset, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0, data_path=None) -> Setup:
    """Resolve the data and draw the outer splits of ``protocol`` (:meth:`Protocol.outer_splits`)."""
    rung = get_protocol(protocol)
    frame = resolve_frame(dataset, data_path)
    name = frame.attrs.get("name", "custom") if not isinstance(dataset, str) else frame.attrs.get("name", dataset)
    splits = rung.outer_splits(frame, n_splits, n_repeats, seed)
    labels = rung.fold_labels(frame) if rung.leave_one_out else None
    return Setup(frame, name, protocol, frame["J"].to_numpy(float), rung.groups(frame), splits, rung.name,
                 labels or [])


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
    """Everything one benchmark run of one protocol produced (see :func:`run_benchmark`).

    Attributes
    ----------
    table : one row per model: mean t_train, t_test per fold and t_prep once (s), MAE (meV), R²,
        the held-out test MAE and R², and the study's figures beside them. For ``study`` and
        ``pairs`` MAE and R² are means over the folds; for ``element`` and ``distance`` (one fold
        per element or geometry, of very different sizes) they are *pooled* over the test pairs of
        all folds, and MAE_std is the spread of the per-fold MAE.
    folds : one row per model, repeat and fold (MAE, R², times, inner CV MAE, chosen parameters,
        ``label``: what the fold held out).
    predictions : out-of-fold predictions (meV): model, repeat, row, J, J_pred (``study``, ``pairs``:
        one row per data row and repeat); for ``element``/``distance`` also fold and label, one row
        per fold and test row (a pair A-B is tested in A's fold and in B's). Models that give error
        bars add J_std (σ) and J_95 (half-width of the ~95 % interval).
    test_predictions : held-out test predictions: model, row, J, J_pred (meV).
    calibration : per model with error bars: fraction of test pairs within ±1σ, ±2σ and ±J_95, mean σ.
    frame : the data the run used; config : its settings; seconds : its wall time (the folds of
        this protocol; the preparation of the models is ``config['prepare_seconds']``).
    target : what the models predict, ``'J'`` or ``'D'`` (:mod:`jijtutorial.targets`). A run of D has
        the columns of :func:`_collect_vector`: MAE of |D_pred - D| against the symmetrised D
        (``MAE_raw``: against the raw D), R² per Cartesian component, coverage of ±1σ and ±2σ.
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
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    target: str = "J"

    @property
    def kind(self) -> str:
        """The name of the rung this run is (``'grouped'`` -> ``'pairs'``)."""
        return get_protocol(self.protocol).name

    @property
    def rung(self) -> Protocol:
        """The record of the rung this run is (:class:`jijtutorial.protocols.Protocol`)."""
        return get_protocol(self.protocol)

    @property
    def best_model(self) -> str:
        """The model with the lowest cross-validation MAE."""
        return str(self.table.loc[self.table["MAE"].idxmin(), "model"])

    def markdown(self, digits: int = 3) -> str:
        """The table as Markdown, and the best model's held-out score."""
        from ._report import d_table_markdown, table_markdown

        if self.target != "J":
            return d_table_markdown([self], digits)
        best = self.table.set_index("model").loc[self.best_model]
        text = f"{table_markdown(self.table, digits)}\n\nBest model by cross-validation: {self.best_model} " \
               f"(CV MAE {best['MAE']:.3g} meV, R² {best['R2']:.3f})"
        if np.isfinite(best["test_MAE"]):
            return text + f"; on the held-out test set: MAE {best['test_MAE']:.3g} meV, R² {best['test_R2']:.3f}."
        return text + "."

    def breakdown(self) -> pd.DataFrame:
        """MAE (meV) per held-out element or geometry and model (``element``, ``distance``); see :func:`fold_breakdown`."""
        from ._report import fold_breakdown

        return fold_breakdown(self)

    def save(self, out, plots: bool = True) -> list[Path]:
        """Write table.csv/.md, folds.csv, predictions.csv, calibration.csv and (``plots``) parity plots to ``out``.

        The files are one set (:class:`jijtutorial._files.AtomicFileSet`): each is written whole to a
        temporary file first, then all are renamed into place together and ``manifest-<data>-<protocol>.json``
        (sizes and SHA-256 of every file) is written last, as the completion marker. A run killed while
        writing leaves the previous set, or a set without its manifest; never a table beside
        truncated predictions that looks complete.
        """
        from .._files import AtomicFileSet
        from ._report import describe_config

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{self.dataset}-{self.protocol}" if self.target == "J" else f"{self.dataset}-{self.target}-{self.protocol}"
        files = [out / f"table-{stem}.csv", out / f"table-{stem}.md", out / f"folds-{stem}.csv",
                 out / f"predictions-{stem}.csv"]
        with AtomicFileSet(out / f"manifest-{stem}.json") as fs:
            self.folds.to_csv(fs.path(files[2]), index=False)
            self.predictions.to_csv(fs.path(files[3]), index=False)
            if len(self.calibration):
                files.append(out / f"calibration-{stem}.csv")
                self.calibration.to_csv(fs.path(files[-1]), index=False)
            if self.rung.leave_one_out and self.target == "J":
                files.append(out / f"breakdown-{stem}.csv")
                self.breakdown().to_csv(fs.path(files[-1]))
            if plots and self.target == "J":
                import matplotlib.pyplot as plt

                from ._plots import parity_grid

                fig = parity_grid(self)
                files.append(out / f"parity-{stem}.png")
                fig.savefig(fs.path(files[-1]), dpi=120)
                plt.close(fig)
            # the tables last: renamed after everything they summarise
            self.table.to_csv(fs.path(files[0]), index=False)
            fs.path(files[1]).write_text(f"# Benchmark: {self.dataset} data, {self.protocol} protocol\n\n"
                                         f"{describe_config(self.config)}\n\n{self.markdown()}\n")
        return files + [fs.manifest]


@dataclass
class LadderResult:
    """One benchmark run per protocol of the ladder, on one data set with the same prepared models.

    Attributes
    ----------
    rungs : dict
        protocol -> :class:`BenchmarkResult`.
    prepare_seconds : dict
        model -> seconds spent once on featurisation and matrices (shared by all rungs).
    seconds : float
        Wall time of the whole run (s).
    """

    rungs: dict
    prepare_seconds: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def dataset(self) -> str:
        return next(iter(self.rungs.values())).dataset

    @property
    def protocol(self) -> str:
        return "all" if tuple(self.rungs) == PROTOCOLS else "+".join(self.rungs)

    @property
    def table(self) -> pd.DataFrame:
        """Every model on every rung (long form: one row per model and protocol)."""
        return pd.concat([r.table for r in self.rungs.values()], ignore_index=True)

    @property
    def rung_seconds(self) -> dict:
        """protocol -> wall time of its folds (s)."""
        return {p: r.seconds for p, r in self.rungs.items()}

    @property
    def calibration(self) -> pd.DataFrame:
        """Calibration of every model with error bars on every rung."""
        parts = [r.calibration for r in self.rungs.values() if len(r.calibration)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def wide(self) -> pd.DataFrame:
        """The ladder table: one row per model, columns (MAE | R², protocol); see :func:`ladder_table`."""
        from ._report import ladder_table

        return ladder_table(self)

    @property
    def target(self) -> str:
        return next(iter(self.rungs.values())).target

    def markdown(self, digits: int = 3) -> str:
        """The ladder table, the mean predictor's row included, and the time of each rung, as Markdown."""
        from ._report import d_table_markdown, ladder_markdown

        if self.target != "J":
            return d_table_markdown(list(self.rungs.values()), digits)
        return ladder_markdown(self, digits)

    def save(self, out, plots: bool = True) -> list[Path]:
        """Each rung's files (:meth:`BenchmarkResult.save`) and the ladder table (``ladder-<data>.csv/.md``), each an
        atomic set with its manifest."""
        out = Path(out)
        files = []
        for r in self.rungs.values():
            files += r.save(out, plots=plots)
        from .._files import AtomicFileSet

        stem = f"ladder-{self.dataset}" if self.target == "J" else f"ladder-{self.dataset}-{self.target}"
        with AtomicFileSet(out / f"manifest-{stem}.json") as fs:  # written after every rung's own set
            self.table.to_csv(fs.path(out / f"{stem}.csv"), index=False)
            fs.path(out / f"{stem}.md").write_text(f"# Benchmark ladder: {self.dataset} data\n\n{self.markdown()}\n")
        files += fs.files + [fs.manifest]
        return files


def default_models(protocol, target="J") -> tuple:
    """The models a run of ``protocol`` uses unless told otherwise.

    A single ``study`` or ``pairs``/``grouped`` run: :data:`DEFAULT_MODELS` (its tables are those of
    chapter 6); ``element``, ``distance``, ``'all'`` or several protocols: :data:`LADDER_MODELS`
    (PairGP added). Target ``'D'``: :data:`D_MODELS`.
    """
    if get_target(target).name == "D":
        return D_MODELS
    protocols = check_protocols(protocol)
    single = isinstance(protocol, str) and protocol != "all"
    return DEFAULT_MODELS if single and not get_protocol(protocols[0]).leave_one_out else LADDER_MODELS


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float, np.number)) else f"{k}={v}" for k, v in params.items())


def _calibration_rows(name, protocol, p: pd.DataFrame) -> dict:
    from ._calibration import coverage

    c = coverage(p["J"], p["J_pred"], p["J_std"])
    inside95 = float(np.mean(np.abs(p["J"] - p["J_pred"]) <= p["J_95"]))
    return {"model": name, "protocol": protocol, "within_1sigma": c[1.0], "within_2sigma": c[2.0],
            "within_J95": inside95, "mean_sigma": float(p["J_std"].mean()), "mean_J95": float(p["J_95"].mean()),
            "MAE": float(np.mean(np.abs(p["J"] - p["J_pred"]))), "n": len(p)}


def run_benchmark(dataset="auto", protocol="study", models=None, *, n_splits: int = 5,
                  n_repeats: int = 3, seed: int = 0, test_size: float = 0.2, data_path=None,
                  progress: bool = True, cache=True, out=None, plots: bool = True,
                  n_jobs: int | None = None, target="J"):
    """Cross-validate ``models`` under ``protocol`` and score them on a held-out test set.

    Parameters
    ----------
    dataset : ``'auto'`` (JuKKR if available, else the model data), ``'jukkr'``, ``'model'``,
        or a tidy DataFrame.
    protocol : ``'study'`` (random splits), ``'pairs'`` (alias ``'grouped'``: element pairs kept
        together), ``'element'`` (leave one element out), ``'distance'`` (leave one pair geometry
        out), ``'all'`` (the ladder: all four) or a sequence of these names. See
        :mod:`jijtutorial.protocols`.
    models : names (default: the study's five, ``SymPair-KRR`` and ``Mean-baseline`` for a single
        ``study``/``pairs``/``grouped`` run, as ever; :data:`LADDER_MODELS`, which adds ``PairGP``,
        for ``element``, ``distance`` and several protocols).
    n_splits, n_repeats, seed : the outer cross-validation of ``study`` and ``pairs``; repeat r
        uses seed + r. ``element`` and ``distance`` have one fold per element or geometry.
    test_size : fraction held out before the cross-validation (0: none; ``element`` and
        ``distance`` hold every element or geometry out once and have no separate held-out set).
    cache : featurisation cache, ``True`` (memory and disk), ``'memory'`` or ``False``.
    out : folder to write the tables (CSV, Markdown), predictions and parity plots to (checked
        before anything is computed).
    n_jobs : folds run in this many threads, each with single-threaded BLAS (default: the
        number of CPUs, at most 4).
    target : ``'J'`` (default) or ``'D'``, what the models predict (:mod:`jijtutorial.targets`);
        ``models`` must all be models of it (default for D: :data:`D_MODELS`).

    Returns
    -------
    BenchmarkResult for one protocol; LadderResult for ``'all'`` or several. The models are
    prepared (featurised, distance matrices) once and shared by all protocols of a run.
    """
    t_start = time.perf_counter()
    protocols = check_protocols(protocol)
    single = isinstance(protocol, str) and protocol != "all"
    tgt = get_target(target)
    specs = [get_model(m) for m in (models or default_models(protocol, tgt))]
    wrong = [s.name for s in specs if s.target != tgt.name]
    if wrong:
        raise ValueError(f"models {wrong} predict {get_model(wrong[0]).target}, not the target {tgt.name} of this run; "
                         f"models of {tgt.name}: {', '.join(default_models('all', tgt))}.")
    if out is not None:
        output_folder(out)
    if isinstance(dataset, pd.DataFrame):
        frame = resolve_frame(dataset)
    else:
        frame = resolve_frame(dataset, data_path)
    runs = [setup(frame, p, n_splits, n_repeats, seed) for p in protocols]
    name = frame.attrs.get("name", "custom") if not isinstance(dataset, str) else frame.attrs.get("name", dataset)
    for run in runs:
        run.name = name
    n_jobs = default_jobs(n_jobs)
    published = bool(frame.attrs.get("provenance", {}).get("sha256_matches_published", False)) and len(frame) == STUDY_N
    holdouts = {run.protocol: run.rung.holdout(frame, test_size, seed) for run in runs}
    total = sum(len(specs) * (len(run.splits) + (1 if len(holdouts[run.protocol][1]) else 0)) for run in runs)
    bar = progress_bar(total, progress, f"{name}/{protocol if isinstance(protocol, str) else '+'.join(protocols)}")
    y_all = tgt.values(frame)  # what the models are fitted to
    y_ref = tgt.reference(frame)  # what they are scored against (D: the symmetrised D)
    results = {}
    with single_threaded_blas():
        prepared, prep_seconds = [], {}
        names = [s.name for s in specs]
        for k, run in enumerate(runs):
            t_rung = time.perf_counter()
            dev, test = holdouts[run.protocol]
            bar.set_postfix_str(run.protocol)

            def tasks_of(spec, model, run=run, dev=dev, test=test):
                # the CV folds and the held-out task (tuned on the development set, scored on the test set)
                out = [(spec, model, (r, f, tr, te), lab) for (r, f, tr, te), lab in zip(run.splits, run.labels)]
                return out + ([(spec, model, ("holdout", 0, dev, test), "")] if len(test) else [])

            def one_task(task, run=run):
                spec, model, (r, f, tr, te), label = task
                c1 = time.thread_time()  # CPU of this thread (BLAS runs single-threaded in it)
                t1 = time.perf_counter()
                fit = model.fit_fold(tr, y_all[tr], run.inner_groups(tr))
                t2 = time.perf_counter()
                if getattr(model, "predicts_std", False):
                    p, sd = model.predict_fold(fit, te, return_std=True)
                    half95 = sd * float(getattr(fit, "interval95", 2.0))
                else:
                    p, sd, half95 = model.predict_fold(fit, te), None, None
                t3 = time.perf_counter()
                row = dict(model=spec.name, repeat=r, fold=f, n_train=len(tr), n_test=len(te),
                           **_fold_scores(tgt, y_ref[te], y_all[te], p), t_train=t2 - t1,
                           t_test=t3 - t2, inner_cv_MAE=fit.inner_mae, params=_fmt_params(fit.params))
                if run.rung.leave_one_out:
                    row["label"] = label
                row["_cpu"] = time.thread_time() - c1
                return te, p, sd, half95, row

            if k == 0:
                # the first protocol: each model's folds start as soon as it is prepared, while the next is
                # being featurised (in one background thread, in order: models share descriptor matrices)
                done = _run_while_preparing(names, frame, cache, tasks_of, one_task, n_jobs, bar, prepared,
                                            prep_seconds)
            else:
                tasks = [t for spec, model in prepared for t in tasks_of(spec, model)]
                done = list(map_threads(one_task, tasks, n_jobs, bar))
            cpu: dict = {}
            for d in done:
                cpu[d[4]["model"]] = cpu.get(d[4]["model"], 0.0) + d[4].pop("_cpu")
            collect = _collect if tgt.name == "J" else _collect_vector
            results[run.protocol] = collect(run, specs, done, frame, y_all, prep_seconds, dev, test,
                                            time.perf_counter() - t_rung, y_ref)
            results[run.protocol].config.update(
                protocol=run.protocol, dataset=name, published_table=published, n_rows=len(frame), n_dev=len(dev),
                n_test=len(test), n_splits=n_splits, n_repeats=n_repeats, seed=seed, test_size=test_size,
                models=[s.name for s in specs], gammas=GAMMAS, alphas=ALPHAS, our_grid=OUR_GRID, n_jobs=n_jobs,
                cpu_seconds=dict(cpu), target=tgt.name)
            if run.rung.leave_one_out:
                results[run.protocol].config.update(n_splits=len(run.splits), n_repeats=1)
    bar.close()
    seconds = time.perf_counter() - t_start
    for r in results.values():
        r.config["seconds"] = r.seconds
        r.config["prepare_seconds"] = dict(prep_seconds)
    if single:
        result = results[protocols[0]]
        result.seconds = seconds  # one protocol: the whole run, as ever
        result.config["seconds"] = seconds
    else:
        result = LadderResult(results, prep_seconds, seconds)
    if out is not None:
        result.save(out, plots=plots)
    return result


def _run_while_preparing(names, frame, cache, tasks_of, fn, n_jobs, bar, prepared: list, prep_seconds: dict) -> list:
    """Prepare the models one after the other in a background thread and run each model's tasks in ``n_jobs``
    threads as soon as it is ready; fills ``prepared`` and ``prep_seconds``, returns the results model by model."""
    if n_jobs <= 1:
        done = []
        for spec, model, t_prep in prepared_models(names, frame, cache):
            prepared.append((spec, model))
            prep_seconds[spec.name] = t_prep
            done += list(map_threads(fn, tasks_of(spec, model), 1, bar))
        return done
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    ready: queue.Queue = queue.Queue()

    def prepare():
        try:
            for item in prepared_models(names, frame, cache):
                ready.put(item)
            ready.put(None)
        except BaseException as err:  # hand it to the main thread
            ready.put(err)

    threading.Thread(target=prepare, daemon=True, name="jijtutorial-prepare").start()
    futures = []
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        try:
            while True:
                item = ready.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                spec, model, t_prep = item
                prepared.append((spec, model))
                prep_seconds[spec.name] = t_prep
                futures += [pool.submit(fn, task) for task in tasks_of(spec, model)]
            done = []
            for fut in futures:
                done.append(fut.result())
                bar.update()
        except BaseException:  # Ctrl-C or an error: do not run the folds still queued before re-raising
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return done


def _fold_scores(target, y_ref, y_raw, p) -> dict:
    """Scores of one fold's predictions: J: MAE (meV) and R²; D: see :func:`vector_scores`."""
    if target.name == "J":
        return dict(MAE=float(np.mean(np.abs(p - y_ref))) if len(y_ref) else np.nan,
                    R2=r2_score(y_ref, p) if len(y_ref) else np.nan)
    return vector_scores(y_ref, y_raw, p)


def vector_scores(y_ref, y_raw, p) -> dict:
    """Scores of predicted D vectors ``p`` (meV, (m, 3)).

    ``MAE``: mean |p - D| against the symmetrised D ``y_ref``; ``MAE_raw``: against the raw D ``y_raw``;
    ``R2``: 1 - sum |p - D|² / sum |D - mean D|² (the vector pooled); ``R2_x``, ``R2_y``, ``R2_z``: per
    Cartesian component (against the symmetrised D).
    """
    if not len(y_ref):
        return dict(MAE=np.nan, MAE_raw=np.nan, R2=np.nan, R2_x=np.nan, R2_y=np.nan, R2_z=np.nan)
    y_ref, y_raw, p = (np.asarray(a, float).reshape(-1, 3) for a in (y_ref, y_raw, p))
    ss = float(np.sum((y_ref - y_ref.mean(axis=0)) ** 2))
    out = dict(MAE=float(np.mean(np.linalg.norm(p - y_ref, axis=1))), MAE_raw=float(np.mean(np.linalg.norm(p - y_raw, axis=1))),
               R2=1.0 - float(np.sum((p - y_ref) ** 2)) / ss if ss > 0 else np.nan)
    for k, c in enumerate("xyz"):
        out[f"R2_{c}"] = r2_score(y_ref[:, k], p[:, k])
    return out


def _collect_vector(run: Setup, specs, done, frame, y_raw, prep_seconds, dev, test, seconds, y_ref) -> BenchmarkResult:
    """One protocol's :class:`BenchmarkResult` for the target D (vectors): predictions with σ per component.

    ``predictions``: model, repeat, (fold, label for element/distance), row, Dx, Dy, Dz (the symmetrised
    D), Dx_raw ... (the data's), Dx_pred ..., and Dx_std ... for models with error bars. ``table``: per
    model MAE, MAE_std, MAE_raw, R2, R2_x, R2_y, R2_z (means over folds for study/pairs, pooled over
    the folds' test pairs for element/distance), coverage of ±1σ and ±2σ pooled over the three
    components with σ > 0 (a component the symmetry fixes has σ = 0 and is known exactly; NaN without
    error bars), the held-out test MAE and R². ``calibration``: coverage per component, the mean σ
    and the fraction of components fixed by symmetry.
    """
    comps = ("x", "y", "z")
    loo = run.rung.leave_one_out
    rows, fold_rows, preds, test_preds, calib = [], [], [], [], []

    def block(model, te, p, sd, extra):
        d = {"model": model, **extra, "row": te}
        for k, c in enumerate(comps):
            d[f"D{c}"] = y_ref[te, k]
        for k, c in enumerate(comps):
            d[f"D{c}_raw"] = y_raw[te, k]
        for k, c in enumerate(comps):
            d[f"D{c}_pred"] = p[:, k]
        if sd is not None:
            for k, c in enumerate(comps):
                d[f"D{c}_std"] = sd[:, k]
        return pd.DataFrame(d)

    for spec in specs:
        mine = [d for d in done if d[4]["model"] == spec.name]
        model_rows, long = [], []
        test_scores = dict(MAE=np.nan, R2=np.nan)
        test_params = ""
        for te, p, sd, _, row in mine:
            p = np.asarray(p, float).reshape(-1, 3)
            sd = None if sd is None else np.asarray(sd, float).reshape(-1, 3)
            if row["repeat"] == "holdout":
                test_preds.append(block(spec.name, te, p, sd, {}))
                test_scores, test_params = {k: row[k] for k in ("MAE", "R2")}, row["params"]
                continue
            model_rows.append(row)
            extra = {"repeat": row["repeat"]}
            if loo:
                extra.update(fold=row["fold"], label=row["label"])
            long.append(block(spec.name, te, p, sd, extra))
        fold_rows.extend(model_rows)
        mp = pd.concat(long, ignore_index=True)
        if not loo:
            mp = mp.sort_values(["repeat", "row"], kind="stable").reset_index(drop=True)
        preds.append(mp)
        fr = pd.DataFrame(model_rows)
        ref = mp[[f"D{c}" for c in comps]].to_numpy()
        pred = mp[[f"D{c}_pred" for c in comps]].to_numpy()
        if loo:
            scores = vector_scores(ref, mp[[f"D{c}_raw" for c in comps]].to_numpy(), pred)
        else:
            scores = {k: float(fr[k].mean()) for k in ("MAE", "MAE_raw", "R2", "R2_x", "R2_y", "R2_z")}
        cover = {"within_1sigma": np.nan, "within_2sigma": np.nan}
        if "Dx_std" in mp and mp["Dx_std"].notna().all():
            sd = mp[[f"D{c}_std" for c in comps]].to_numpy()
            err = np.abs(pred - ref)
            free = sd > 0  # components the symmetry fixes (σ = 0, exactly known) say nothing about σ
            cover = {"within_1sigma": float(np.mean((err <= sd)[free])), "within_2sigma": float(np.mean((err <= 2 * sd)[free]))}
            c = {"model": spec.name, "protocol": run.protocol, **cover}
            for k, comp in enumerate(comps):
                c[f"within_1sigma_{comp}"] = float(np.mean((err[:, k] <= sd[:, k])[free[:, k]]))
                c[f"within_2sigma_{comp}"] = float(np.mean((err[:, k] <= 2 * sd[:, k])[free[:, k]]))
            c.update(mean_sigma=float(sd[free].mean()), fixed_by_symmetry=float(np.mean(~free)), MAE=scores["MAE"],
                     n=len(mp))
            calib.append(c)
        rows.append({"model": spec.name, "protocol": run.protocol, "t_train": fr["t_train"].mean(),
                     "t_test": fr["t_test"].mean(), "t_prep": prep_seconds[spec.name], **scores,
                     "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan, **cover,
                     "test_MAE": test_scores["MAE"], "test_R2": test_scores["R2"], "test_params": test_params})
    return BenchmarkResult(
        protocol=run.protocol, dataset=run.name, table=pd.DataFrame(rows), folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame, config={}, seconds=seconds, calibration=pd.DataFrame(calib), target="D",
    )


def _collect(run: Setup, specs, done, frame, y_all, prep_seconds, dev, test, seconds, y_ref=None) -> BenchmarkResult:
    """One protocol's :class:`BenchmarkResult` from the finished tasks of all models."""
    rows, fold_rows, preds, test_preds, calib = [], [], [], [], []
    loo = run.rung.leave_one_out
    with_std = any(sd is not None for _, _, sd, _, _ in done)
    for spec in specs:
        mine = [d for d in done if d[4]["model"] == spec.name]
        model_rows, oof, long = [], {}, []
        test_mae = test_r2 = np.nan
        test_params = ""
        for te, p, sd, half95, row in mine:
            if row["repeat"] == "holdout":
                tp = pd.DataFrame({"model": spec.name, "row": te, "J": y_all[te], "J_pred": p})
                if with_std:
                    tp["J_std"] = np.nan if sd is None else sd
                    tp["J_95"] = np.nan if half95 is None else half95
                test_preds.append(tp)
                test_mae, test_r2, test_params = row["MAE"], row["R2"], row["params"]
                continue
            model_rows.append(row)
            if loo:
                d = {"model": spec.name, "repeat": 0, "fold": row["fold"], "label": row["label"], "row": te,
                     "J": y_all[te], "J_pred": p}
                if with_std:
                    d["J_std"] = np.nan if sd is None else sd
                    d["J_95"] = np.nan if half95 is None else half95
                long.append(pd.DataFrame(d))
            else:
                arrs = oof.setdefault(row["repeat"], [np.full(len(frame), np.nan) for _ in range(3)])
                arrs[0][te] = p
                if sd is not None:
                    arrs[1][te] = sd
                    arrs[2][te] = half95
        fold_rows.extend(model_rows)
        if loo:
            mp = pd.concat(long, ignore_index=True)
            preds.append(mp)
        else:
            parts = []
            for r in sorted(oof):
                d = {"model": spec.name, "repeat": r, "row": np.arange(len(frame)), "J": y_all, "J_pred": oof[r][0]}
                if with_std:
                    d["J_std"], d["J_95"] = oof[r][1], oof[r][2]
                parts.append(pd.DataFrame(d))
            mp = pd.concat(parts, ignore_index=True)
            preds.append(mp)
        fr = pd.DataFrame(model_rows)
        if loo:  # pooled over the test pairs of all folds
            mae, r2 = float(np.mean(np.abs(mp["J_pred"] - mp["J"]))), r2_score(mp["J"].to_numpy(), mp["J_pred"].to_numpy())
        else:
            mae, r2 = fr["MAE"].mean(), fr["R2"].mean()
        if with_std and "J_std" in mp and mp["J_std"].notna().all():
            calib.append(_calibration_rows(spec.name, run.protocol, mp))
        study = STUDY_RESULTS.get(spec.name)
        rows.append({
            "model": spec.name, "protocol": run.protocol,
            "t_train": fr["t_train"].mean(), "t_test": fr["t_test"].mean(), "t_prep": prep_seconds[spec.name],
            "MAE": mae, "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan,
            "R2": r2, "test_MAE": test_mae, "test_R2": test_r2, "test_params": test_params,
            **{f"study_{k}": (getattr(study, k) if study else np.nan)
               for k in ("t_train", "t_test", "MAE", "R2", "test_MAE", "test_R2")},
        })
    return BenchmarkResult(
        protocol=run.protocol, dataset=run.name, table=pd.DataFrame(rows), folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame, config={}, seconds=seconds, calibration=pd.DataFrame(calib),
    )
