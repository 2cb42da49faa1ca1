"""Running a benchmark: one protocol (:func:`run_benchmark`) or several on the same prepared models (:func:`run_ladder`).

Each returns one type: :func:`run_benchmark` a :class:`~jijtutorial.benchmark.BenchmarkResult`,
:func:`run_ladder` a :class:`~jijtutorial.benchmark.LadderResult`. A ladder prepares the models once
(featurisation, distance matrices) once. Small runs fit the folds in a pool of threads, the first
protocol's folds starting while the later models are still being prepared; large runs (the ladder)
fit every fold of every protocol in worker processes (:func:`jijtutorial.parallel.run_tasks`), all
models of a fold in one task, so that they share PairGP's fit there too.
"""

from __future__ import annotations

import time

import pandas as pd

from .._files import output_folder
from ..protocols import check_protocols, get_protocol
from ..targets import get_target
from ._folds import SharedFits
from ._registry import ALPHAS, D_MODELS, DEFAULT_MODELS, GAMMAS, LADDER_MODELS, OUR_GRID, STUDY_N, get_model
from ._results import BenchmarkResult, LadderResult
from ._scoring import _collect, _collect_vector, _fmt_params, _fold_scores
from ._setup import default_jobs, map_threads, prepared_models, progress_bar, resolve_frame, setup, single_threaded_blas


def default_models(protocol, target="J") -> tuple:
    """The models a run of ``protocol`` uses unless told otherwise.

    A single ``study`` or ``pairs``/``grouped`` run: :data:`DEFAULT_MODELS` (its tables are those of
    chapter 6); ``element``, ``distance``, ``'all'`` or several protocols: :data:`LADDER_MODELS`
    (PairGP added). Target ``'D'``: :data:`D_MODELS`; another scalar target: PairGP and the mean on it.
    """
    name = get_target(target).name
    if name == "D":
        return D_MODELS
    if name != "J":
        return (f"PairGP@{name}", f"Mean-baseline@{name}")
    protocols = check_protocols(protocol)
    single = isinstance(protocol, str) and protocol != "all"
    return DEFAULT_MODELS if single and not get_protocol(protocols[0]).leave_one_out else LADDER_MODELS


def run_benchmark(
    dataset="auto",
    protocol="study",
    models=None,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    test_size: float = 0.2,
    data_path=None,
    progress: bool = True,
    cache=True,
    out=None,
    plots: bool = True,
    n_jobs: int | None = None,
    target="J",
    processes: bool | None = None,
) -> BenchmarkResult:
    """Cross-validate ``models`` under ``protocol`` and score them on a held-out test set.

    Parameters
    ----------
    dataset : ``'auto'`` (JuKKR if available, else the model data), ``'jukkr'``, ``'model'``,
        or a tidy DataFrame.
    protocol : ``'study'`` (random splits), ``'pairs'`` (alias ``'grouped'``: element pairs kept
        together), ``'element'`` (leave one element out) or ``'distance'`` (leave one pair geometry
        out); see :mod:`jijtutorial.protocols`. Several, or ``'all'``: :func:`run_ladder`.
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
    n_jobs : folds run in this many threads or worker processes, each with single-threaded BLAS
        (default: the number of CPUs, at most 4).
    target : ``'J'`` (default) or ``'D'``, what the models predict (:mod:`jijtutorial.targets`);
        ``models`` must all be models of it (default for D: :data:`D_MODELS`).
    processes : run the folds in ``n_jobs`` worker processes of a local Dask cluster (True) or in
        threads of this process (False); None (default): processes when ``n_jobs`` > 1 and the run
        has at least :data:`PROCESS_MIN_FITS` model fits (the ladder), threads otherwise. The
        results are the same either way.

    Returns
    -------
    BenchmarkResult
    """
    if not isinstance(protocol, str) or protocol == "all":
        raise ValueError(
            f"run_benchmark runs one protocol and returns its BenchmarkResult; for {protocol!r} use "
            "run_ladder, which runs several on the same prepared models and returns a LadderResult."
        )
    get_protocol(protocol)
    return _run(
        dataset,
        (protocol,),
        protocol,
        True,
        models,
        n_splits=n_splits,
        n_repeats=n_repeats,
        seed=seed,
        test_size=test_size,
        data_path=data_path,
        progress=progress,
        cache=cache,
        out=out,
        plots=plots,
        n_jobs=n_jobs,
        target=target,
        processes=processes,
    )


def run_ladder(
    dataset="auto",
    protocols="all",
    models=None,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    test_size: float = 0.2,
    data_path=None,
    progress: bool = True,
    cache=True,
    out=None,
    plots: bool = True,
    n_jobs: int | None = None,
    target="J",
    processes: bool | None = None,
) -> LadderResult:
    """Several protocols -- ``'all'`` (the ladder) or a sequence of names -- on the same prepared models.

    The models are prepared (featurised, distance matrices) once and shared by every protocol;
    parameters as :func:`run_benchmark` (default models: :data:`LADDER_MODELS`, or :data:`D_MODELS`
    for the target D).

    Returns
    -------
    LadderResult
        ``rungs``: protocol -> :class:`BenchmarkResult`, in the order asked for.
    """
    names = check_protocols(protocols)
    label = "all" if isinstance(protocols, str) else "+".join(names)
    return _run(
        dataset,
        names,
        label,
        False,
        models,
        n_splits=n_splits,
        n_repeats=n_repeats,
        seed=seed,
        test_size=test_size,
        data_path=data_path,
        progress=progress,
        cache=cache,
        out=out,
        plots=plots,
        n_jobs=n_jobs,
        target=target,
        processes=processes,
    )


def _run(
    dataset,
    protocols: tuple,
    label: str,
    single: bool,
    models=None,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    test_size: float = 0.2,
    data_path=None,
    progress: bool = True,
    cache=True,
    out=None,
    plots: bool = True,
    n_jobs: int | None = None,
    target="J",
    processes: bool | None = None,
):
    """The protocols ``protocols`` on one data set with the same prepared models (see :func:`run_benchmark`)."""
    t_start = time.perf_counter()
    tgt = get_target(target)
    specs = [get_model(m) for m in (models or default_models(protocols[0] if single else "all", tgt))]
    wrong = [s.name for s in specs if s.target != tgt.name]
    if wrong:
        raise ValueError(
            f"models {wrong} predict {get_model(wrong[0]).target}, not the target {tgt.name} of this run; "
            f"models of {tgt.name}: {', '.join(default_models('all', tgt))}."
        )
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
    tasks_per_run = [_fold_tasks(run, holdouts[run.protocol]) for run in runs]
    total = len(specs) * sum(len(t) for t in tasks_per_run)
    if processes is None:
        processes = n_jobs > 1 and total >= PROCESS_MIN_FITS
    y_all = tgt.values(frame)  # what the models are fitted to
    y_ref = tgt.reference(frame)  # what they are scored against (D: the symmetrised D)
    results = {}
    shared = SharedFits()  # fold fits two models have in common (PairGP's, for PairGP and PairGP+engine)
    bar = progress_bar(0 if processes else total, progress and not processes, f"{name}/{label}")
    with single_threaded_blas():
        prepared, prep_seconds = [], {}
        names = [s.name for s in specs]
        by_process = {}
        if processes:
            # every model prepared here, then every fold of every protocol as one task in a worker process
            # (all models of the fold in one task, so they share fits there too); the workers get the models once
            for spec, model, t_prep in prepared_models(names, frame, cache):
                prepared.append((spec, model))
                prep_seconds[spec.name] = t_prep
            by_process = _run_in_processes(runs, tasks_per_run, prepared, tgt, y_all, y_ref, n_jobs, progress, name, label)
        for k, run in enumerate(runs):
            t_rung = time.perf_counter()
            dev, test = holdouts[run.protocol]
            bar.set_postfix_str(run.protocol)

            def tasks_of(spec, model, k=k):
                # the CV folds and the held-out task (tuned on the development set, scored on the test set)
                return [(spec, model, split, lab) for split, lab in tasks_per_run[k]]

            def one_task(task, run=run):
                spec, model, split, lab = task
                return _one_fold(run, tgt, y_all, y_ref, model, spec.name, split, lab)

            if processes:
                done, rung_seconds = by_process[k]
            elif k == 0:
                # the first protocol: each model's folds start as soon as it is prepared, while the next is
                # being featurised (in one background thread, in order: models share descriptor matrices)
                done = _run_while_preparing(names, frame, cache, tasks_of, one_task, n_jobs, bar, prepared, prep_seconds, shared)
            else:
                tasks = [t for spec, model in prepared for t in tasks_of(spec, model)]
                done = list(map_threads(one_task, tasks, n_jobs, bar))
            shared.clear()  # the next protocol has other folds: nothing of this one is asked for again
            if not processes:
                rung_seconds = time.perf_counter() - t_rung
            cpu: dict = {}
            for d in done:
                cpu[d[4]["model"]] = cpu.get(d[4]["model"], 0.0) + d[4].pop("_cpu")
            collect = _collect_vector if tgt.is_vector else _collect
            results[run.protocol] = collect(run, specs, done, frame, y_all, prep_seconds, dev, test, rung_seconds, y_ref, tgt)
            results[run.protocol].config.update(
                protocol=run.protocol,
                dataset=name,
                published_table=published,
                n_rows=len(frame),
                n_dev=len(dev),
                n_test=len(test),
                n_splits=n_splits,
                n_repeats=n_repeats,
                seed=seed,
                test_size=test_size,
                models=[s.name for s in specs],
                gammas=GAMMAS,
                alphas=ALPHAS,
                our_grid=OUR_GRID,
                n_jobs=n_jobs,
                cpu_seconds=dict(cpu),
                target=tgt.name,
                processes=bool(processes),
            )
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


#: A run with at least this many model fits (models x folds) and more than one job runs its folds in worker
#: processes (:func:`jijtutorial.parallel.run_tasks`), fewer in threads: the folds' Python work holds the GIL, so
#: threads reach about 1.3 cores of 2, processes nearly 2; starting the workers costs a few seconds.
PROCESS_MIN_FITS = 150


def _fold_tasks(run, holdout) -> list:
    """``[((repeat, fold, train, test), label)]``: the outer folds of ``run`` and its held-out task, if any."""
    dev, test = holdout
    out = [((r, f, tr, te), lab) for (r, f, tr, te), lab in zip(run.splits, run.labels or [""] * len(run.splits))]
    return out + ([(("holdout", 0, dev, test), "")] if len(test) else [])


def _one_fold(run, tgt, y_all, y_ref, model, model_name: str, split, label):
    """Fit ``model`` on one fold of ``run`` and score it: ``(test rows, predictions, σ, 95 % half-width, fold row)``."""
    r, f, tr, te = split
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
    row = dict(
        model=model_name,
        repeat=r,
        fold=f,
        n_train=len(tr),
        n_test=len(te),
        **_fold_scores(tgt, y_ref[te], y_all[te], p),
        t_train=t2 - t1,
        t_test=t3 - t2,
        inner_cv_MAE=fit.inner_mae,
        params=_fmt_params(fit.params),
    )
    if run.rung.leave_one_out:
        row["label"] = label
    row["_cpu"] = time.thread_time() - c1
    return te, p, sd, half95, row


def _fold_group(shared: dict, task):
    """Every model on one fold (in a worker process): the list of :func:`_one_fold` results, in model order."""
    from threadpoolctl import threadpool_limits

    k, split, label = task
    run = shared["runs"][k]
    tgt = get_target(shared["target"])
    fits = SharedFits()
    out = []
    with threadpool_limits(limits=1):
        for spec_name, model in shared["models"]:
            model.shared_fits = fits  # the worker's copy of the model; put back as it came below
            try:
                out.append(_one_fold(run, tgt, shared["y_all"], shared["y_ref"], model, spec_name, split, label))
            finally:
                model.shared_fits = None
    return out


def _run_in_processes(runs, tasks_per_run, prepared, tgt, y_all, y_ref, n_jobs, progress, name, label) -> dict:
    """Run every fold of every protocol in ``n_jobs`` worker processes: protocol index -> (done, seconds).

    ``done`` is ordered model by model, fold by fold, as the thread path gives it; ``seconds`` is the summed
    wall time of the protocol's tasks divided by ``n_jobs`` (the protocols run side by side)."""
    from ..parallel import run_tasks

    tasks = [(k, split, lab) for k, fold_tasks in enumerate(tasks_per_run) for split, lab in fold_tasks]
    # the leave-one-out rungs' folds first: they are the longest, and a long task last would leave a worker idle
    tasks.sort(key=lambda t: not runs[t[0]].rung.leave_one_out)
    for _, model in prepared:
        model.shared_fits = None  # each worker task makes its own
    shared = {
        "runs": runs,
        "models": [(spec.name, model) for spec, model in prepared],
        "target": tgt.name,
        "y_all": y_all,
        "y_ref": y_ref,
    }
    groups = run_tasks(_fold_group, tasks, shared=shared, n_workers=n_jobs, progress=progress, desc=f"{name}/{label} folds")
    out = {}
    for k in range(len(runs)):
        mine = [g for (kk, _, _), g in zip(tasks, groups) if kk == k]
        done = [group[m] for m in range(len(prepared)) for group in mine]
        wall = sum(d[4]["t_train"] + d[4]["t_test"] for d in done)
        out[k] = (done, wall / max(1, n_jobs))
    return out


def _run_while_preparing(names, frame, cache, tasks_of, fn, n_jobs, bar, prepared: list, prep_seconds: dict, shared=None) -> list:
    """Prepare the models one after the other in a background thread and run each model's tasks in ``n_jobs``
    threads as soon as it is ready; fills ``prepared`` and ``prep_seconds``, returns the results model by model."""
    if n_jobs <= 1:
        done = []
        for spec, model, t_prep in prepared_models(names, frame, cache, shared):
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
            for item in prepared_models(names, frame, cache, shared):
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
