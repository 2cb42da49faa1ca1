"""Curie-temperature sweeps over composition × concentration × size × disorder, run through Dask.

Every task is one disorder realisation of one composition at one size: it draws the
configuration, builds its spin model and runs parallel-tempering Monte Carlo over the whole
temperature grid. Tasks are independent, so they scale out: by default over a local
``dask.distributed`` cluster (one single-threaded worker process per core), or over any cluster
you connect a ``Client`` to (``client=`` in Python, ``--scheduler ADDRESS`` on the command line).
On an HPC machine, ``dask-jobqueue`` starts the workers as batch jobs::

    from dask_jobqueue import SLURMCluster
    from distributed import Client
    cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="01:00:00")
    cluster.scale(jobs=64)
    sweep = curie_sweep(table, compositions, client=Client(cluster))

Each task's seed is derived from the sweep's seed and the task itself (composition, size,
realisation) -- never from the order in which workers pick tasks up -- so a sweep returns the same
numbers on 1, 2 or 200 workers. Results are cached per task on disk (``$JIJTUTORIAL_CACHE_DIR``
or ``~/.cache/jijtutorial``, folder ``spins``), keyed by the task, the couplings it uses and the
code of this subpackage, so a repeated sweep or a larger one reuses what exists.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..parallel import run_tasks
from ._binder import CurieEstimate, curie_from_binder
from ._exchange_table import check_table
from ._lattice import check_concentrations, check_size_for_cutoff, random_configuration
from ._meanfield import mean_field_tc
from ._model import spin_model
from ._montecarlo import check_temperatures, run_monte_carlo

#: Supercells (n1, n2, n3) of the default sweep: the same shape (about 30 Å along every axis per
#: step), 3072, 10368 and 24576 Bi sites.
DEFAULT_SIZES = ((16, 16, 2), (24, 24, 3), (32, 32, 4))
#: Default temperature window, as fractions of the mean-field T_C, and number of temperatures.
DEFAULT_WINDOW = (0.04, 1.0)
DEFAULT_N_TEMPERATURES = 20
_FORMAT = 1


@dataclass(frozen=True)
class SweepSettings:
    """Monte Carlo and statistics settings of a sweep (see :func:`curie_sweep`)."""

    sizes: tuple = DEFAULT_SIZES
    n_realisations: int = 10
    n_sweeps: int = 2000
    n_therm: int = 1000
    n_overrelax: int = 2
    n_temperatures: int = DEFAULT_N_TEMPERATURES
    window: tuple = DEFAULT_WINDOW
    temperatures: tuple | None = None
    seed: int = 0

    def __post_init__(self):
        sizes = tuple(tuple(int(x) for x in s) for s in self.sizes)
        object.__setattr__(self, "sizes", sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes: Binder crossings need at least two sizes (three recommended), got {sizes}.")
        for name in ("n_realisations", "n_sweeps", "n_temperatures"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}.")
        if int(self.n_therm) != self.n_therm or self.n_therm < 0:
            raise ValueError(f"n_therm must be an integer ≥ 0, not {self.n_therm!r}.")
        lo, hi = (float(x) for x in self.window)
        if not (0 < lo < hi):
            raise ValueError(f"window must be (low, high) fractions of the mean-field T_C with 0 < low < high, "
                             f"not {self.window!r}.")
        if self.temperatures is not None:
            object.__setattr__(self, "temperatures", tuple(check_temperatures(self.temperatures).tolist()))

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class SweepResult:
    """Result of :func:`curie_sweep`.

    ``summary``: one row per composition (label, concentrations, T_C, error, status, upper_bound
    (for 'none'), T_max (highest temperature simulated), mean-field T_C, spins in the largest cell);
    ``moments``: every task's thermal averages per temperature;
    ``estimates``: the :class:`CurieEstimate` of each composition label.
    """

    summary: pd.DataFrame
    moments: pd.DataFrame
    estimates: dict = field(default_factory=dict)
    settings: SweepSettings | None = None


def composition_label(composition: Mapping[str, float]) -> str:
    """Readable label, e.g. 'Cr 4%' or 'Cr 3% + V 1%'."""
    return " + ".join(f"{e} {100 * c:g}%" for e, c in composition.items())


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def task_seed(seed: int, composition: Mapping[str, float], size, realisation: int) -> np.random.SeedSequence:
    """The seed of one task: from the sweep's seed and the task itself, not from scheduling."""
    comp = ",".join(f"{e}:{c:.10g}" for e, c in sorted(composition.items()))
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(_stable_int(comp), *map(int, size), int(realisation)))


def simulate_task(table: pd.DataFrame, task: dict) -> dict:
    """One disorder realisation: configuration, model, parallel-tempering Monte Carlo.

    ``task``: composition, size, realisation, temperatures (K), n_sweeps, n_therm, n_overrelax,
    seed. Returns the thermal averages per temperature (arrays) and the number of spins.
    """
    ss = task_seed(task["seed"], task["composition"], task["size"], task["realisation"])
    conf_ss, mc_ss = ss.spawn(2)
    config = random_configuration(task["composition"], task["size"], seed=conf_ss)
    model = spin_model(config, table)
    res = run_monte_carlo(model, task["temperatures"], n_sweeps=task["n_sweeps"], n_therm=task["n_therm"],
                          n_overrelax=task["n_overrelax"], seed=mc_ss)
    return {"T": res.temperatures, "e": res.energy, "e2": res.energy2, "m": res.m, "m2": res.m2, "m4": res.m4,
            "n_spins": model.n_spins, "n_pairs": model.n_pairs, "acceptance": res.exchange_acceptance}


# --------------------------------------------------------------------------------------- cache
#: Modules whose code decides a task's numbers (part of the cache key, with everything they import). The
#: exchange table is keyed by its content (:func:`table_digest`); figures cannot change a number.
_TASK_MODULES = tuple(f"jijtutorial.spins.{m}" for m in ("_kernels", "_lattice", "_model", "_montecarlo", "_sweep"))
_NOT_TASK_CODE = ("jijtutorial.spins._exchange_table", "jijtutorial.spins._plots", "jijtutorial.plotting",
                  "jijtutorial.tables")


def _code_digest() -> str:
    import numba

    from ..featurecache import code_digest

    return hashlib.sha256((code_digest(*_TASK_MODULES, exclude=_NOT_TASK_CODE) + numba.__version__).encode()).hexdigest()[:16]


def table_digest(table: pd.DataFrame, elements) -> str:
    """Digest of the couplings among ``elements`` (what a task's result depends on)."""
    sub = table[table["element_i"].isin(elements) & table["element_j"].isin(elements)]
    cols = ["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz"]
    text = sub[cols].round(10).to_csv(index=False) + f"cutoff={table.attrs.get('cutoff')}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cache_folder() -> Path:
    folder = os.environ.get("JIJTUTORIAL_CACHE_DIR")
    root = Path(folder).expanduser() if folder else Path.home() / ".cache" / "jijtutorial"
    return root / "spins"


def _task_key(task: dict, tdigest: str, code: str) -> str:
    payload = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in task.items()}
    payload["size"] = list(payload["size"])
    payload["temperatures"] = [round(float(t), 10) for t in payload["temperatures"]]
    payload["composition"] = {e: round(float(c), 12) for e, c in sorted(task["composition"].items())}
    text = json.dumps(payload, sort_keys=True) + tdigest + code + str(_FORMAT)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


#: Arrays a cached task must hold, per kind of task (besides the temperatures ``T``).
_CACHE_FIELDS = {"curie": ("e", "e2", "m", "m2", "m4"), "lattice": ("m2", "m4")}
_CACHE_SCALARS = {"curie": ("n_spins", "n_pairs"), "lattice": ("n",)}


def _cache_check(z, key: str, kind: str, temperatures) -> dict:
    """The cached result in ``z`` (an open npz) if it is the task ``key`` of ``kind``; else ValueError saying why."""
    files = set(z.files)
    if "key" in files and str(z["key"]) != key:
        raise ValueError(f"it holds the task {str(z['key'])!r}, not {key!r}")
    need = ("T",) + _CACHE_FIELDS[kind] + _CACHE_SCALARS[kind]
    missing = [k for k in need if k not in files]
    if missing:
        raise ValueError(f"it lacks {missing} (not a spin-model task result)")
    out = {k: z[k] for k in files if k not in ("task", "key")}
    temps = np.asarray(temperatures, float)
    if out["T"].shape != temps.shape or not np.allclose(out["T"], temps, rtol=1e-9, atol=0):
        raise ValueError("its temperatures are not the task's")
    for k in _CACHE_FIELDS[kind]:
        a = np.asarray(out[k])
        if a.shape != temps.shape or not np.all(np.isfinite(a)):
            raise ValueError(f"its {k!r} has shape {a.shape} or non-finite values")
    for k in _CACHE_SCALARS[kind]:
        if out[k].shape != () or int(out[k]) != out[k] or out[k] < 0:
            raise ValueError(f"its {k!r} is not a count")
        out[k] = int(out[k])  # integers saved as 0-d arrays
    return out


def _cache_load(key: str, kind: str, temperatures):
    """The cached result of task ``key``, or None (not cached, or unusable: then a CacheWarning says why once).

    The file is checked: it must be an npz holding this task's key, the fields of a ``kind`` task and
    its temperatures, all finite. A truncated, foreign or damaged file is recomputed and replaced.
    """
    from ..featurecache._files import _warn_once

    path = _cache_folder() / f"task-{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return _cache_check(z, key, kind, temperatures)
    except FileNotFoundError:  # removed meanwhile by another run
        return None
    except Exception as err:  # noqa: BLE001 - BadZipFile, EOFError, KeyError, ValueError, ...: recompute
        _warn_once(path, "corrupt", f"spin-model cache file {path} is unusable ({type(err).__name__}: {err}); it "
                                    f"is being recomputed and replaced.")
    return None


def _cache_store(key: str, result: dict, task: dict | None = None) -> bool:
    """Store a task's result atomically; if the cache folder cannot be written, warn once and go on (False)."""
    from .._files import atomic_path
    from ..featurecache._files import _warn_once

    folder = _cache_folder()
    meta = {"key": np.array(key)}
    if task is not None:
        meta["task"] = np.array(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                            for k, v in task.items()}))
    try:
        with atomic_path(folder / f"task-{key}.npz") as tmp:
            np.savez(tmp, **result, **meta)
    except OSError as err:
        _warn_once(folder, "unwritable", f"cannot write the spin-model cache in {folder} ({err.strerror or err}); "
                                         f"results of this run are not kept (set JIJTUTORIAL_CACHE_DIR to a "
                                         f"writable folder, or pass --no-cache).")
        return False
    return True


# --------------------------------------------------------------------------------------- Dask
def _temperature_grid(table, composition, settings: SweepSettings) -> tuple[np.ndarray | None, float]:
    tmf = mean_field_tc(table, composition)["T_C"]
    if settings.temperatures is not None:
        return np.array(settings.temperatures), tmf
    if tmf <= 0:
        return None, tmf
    lo, hi = settings.window
    return np.geomspace(lo * tmf, hi * tmf, settings.n_temperatures), tmf


def curie_sweep(table: pd.DataFrame, compositions: Sequence[Mapping[str, float]], *, settings: SweepSettings | None = None,
                client=None, n_workers: int | None = None, cache: bool = True, progress: bool = True,
                **kwargs) -> SweepResult:
    """Monte Carlo T_C (Binder crossings) and mean-field T_C for each composition.

    Parameters
    ----------
    table : expanded exchange table (:func:`jijtutorial.spins.exchange_table`) covering every
        dopant of ``compositions``.
    compositions : list of {element: concentration} (fractions of Bi sites), e.g.
        ``[{'Cr': 0.04}, {'Cr': 0.02, 'V': 0.02}]``.
    settings : :class:`SweepSettings`; or give its fields as keyword arguments (sizes,
        n_realisations, n_sweeps, n_therm, n_overrelax, n_temperatures, window, temperatures, seed).
        Without explicit temperatures each composition gets a geometric grid over ``window`` ×
        its mean-field T_C; a composition whose mean field favours no ordered state (λ_max ≤ 0) is
        not simulated and reported with status 'no mean-field order'.
    client : ``distributed.Client``, scheduler address, None (local cluster) or 'sync' (no Dask).
    n_workers : workers of the local cluster (default: number of cores).
    cache : reuse and store per-task results on disk.
    progress : tqdm bar over tasks.
    """
    check_table(table)
    if settings is None:
        settings = SweepSettings(**kwargs)
    elif kwargs:
        raise ValueError(f"give either settings or keyword arguments, not both ({sorted(kwargs)}).")
    if isinstance(compositions, Mapping):
        compositions = [compositions]
    comps = [check_concentrations(c, "compositions") for c in compositions]
    if not comps:
        raise ValueError("compositions is empty: give at least one {element: concentration}.")
    cutoff = float(table.attrs["cutoff"])
    for size in settings.sizes:
        check_size_for_cutoff(size, cutoff)
    code = _code_digest()
    tasks, keys, grids, owners = [], [], {}, []
    for ci, comp in enumerate(comps):
        temps, tmf = _temperature_grid(table, comp, settings)
        grids[ci] = (temps, tmf)
        if temps is None:
            continue
        tdig = table_digest(table, list(comp))
        for size in settings.sizes:
            for r in range(settings.n_realisations):
                task = {"composition": comp, "size": tuple(size), "realisation": r, "temperatures": temps,
                        "n_sweeps": settings.n_sweeps, "n_therm": settings.n_therm,
                        "n_overrelax": settings.n_overrelax, "seed": settings.seed}
                tasks.append(task)
                keys.append(_task_key(task, tdig, code))
                owners.append(ci)
    results = [(_cache_load(k, "curie", t["temperatures"]) if cache else None) for k, t in zip(keys, tasks)]
    todo = [k for k, r in enumerate(results) if r is None]

    def store(k, result):
        if cache:
            _cache_store(keys[todo[k]], result, tasks[todo[k]])

    fresh = run_tasks(simulate_task, [tasks[k] for k in todo], shared=table, client=client, n_workers=n_workers,
                      progress=progress, desc="Monte Carlo tasks", on_result=store)
    for k, r in zip(todo, fresh):
        results[k] = r
    rows = []
    for task, res, ci in zip(tasks, results, owners):
        size = task["size"]
        for k, T in enumerate(res["T"]):
            rows.append({"composition": ci, "label": composition_label(comps[ci]), "size": "x".join(map(str, size)),
                         "n_sites": 6 * size[0] * size[1] * size[2], "realisation": task["realisation"], "T": float(T),
                         "n_spins": res["n_spins"], "e": res["e"][k], "e2": res["e2"][k], "m": res["m"][k],
                         "m2": res["m2"][k], "m4": res["m4"][k]})
    moments = pd.DataFrame(rows)
    summary, estimates = [], {}
    for ci, comp in enumerate(comps):
        label = composition_label(comp)
        temps, tmf = grids[ci]
        row = {"label": label, "concentration": sum(comp.values()), **{f"c_{e}": c for e, c in comp.items()},
               "T_MF": tmf}
        if temps is None:
            row.update(T_C=0.0, error=np.nan, status="no mean-field order", upper_bound=np.nan, T_max=np.nan,
                       n_spins_largest=np.nan)
        else:
            sub = moments[moments["composition"] == ci]
            est = curie_from_binder(sub, seed=settings.seed)
            estimates[label] = est
            largest = sub[sub["n_sites"] == sub["n_sites"].max()]
            row.update(T_C=est.tc, error=est.error, status=est.status, upper_bound=est.upper_bound,
                       T_max=float(temps.max()), n_spins_largest=float(largest["n_spins"].mean()))
        summary.append(row)
    return SweepResult(pd.DataFrame(summary), moments, estimates, settings)


def tc_text(row) -> str:
    """A summary row of :func:`curie_sweep` in words: '13.4 ± 0.3 K', 'no order down to 2.4 K', ..."""
    def kelvin(t):
        return f"{t:.2g} K" if abs(t) < 1 else f"{t:.1f} K"

    status = row["status"]
    if status == "ordered":
        if not np.isfinite(row["error"]):
            return f"{kelvin(row['T_C'])} (no error bar: one disorder realisation per size)"
        return f"{row['T_C']:.1f} ± {row['error']:.1f} K" if row["T_C"] >= 1 else f"{row['T_C']:.2g} ± {row['error']:.1g} K"
    if status == "none":
        return f"no order down to {kelvin(row['upper_bound'])}"
    if status == "above":
        return f"above {kelvin(row['T_max'])} (the highest temperature simulated)"
    return "no ferromagnetic order (mean-field J_0 ≤ 0)"


def curie_temperature(table: pd.DataFrame, dopants: Mapping[str, float], **kwargs) -> tuple[CurieEstimate | None, dict]:
    """T_C of one composition: (Binder estimate or None if mean field favours no order, summary row)."""
    res = curie_sweep(table, [dopants], **kwargs)
    label = res.summary["label"].iloc[0]
    return res.estimates.get(label), res.summary.iloc[0].to_dict()


def _lattice_task(_, task: dict) -> dict:
    from ._model import lattice_model

    model = lattice_model(task["kind"], task["L"], task["J"])
    res = run_monte_carlo(model, task["temperatures"], n_sweeps=task["n_sweeps"], n_therm=task["n_therm"],
                          seed=[task["seed"], task["L"], task["run"]])
    return {"m2": res.m2, "m4": res.m4, "T": res.temperatures, "n": model.n_spins}


def lattice_sweep(kind: str, sizes, temperatures, *, J: float = 0.08617333262, n_runs: int = 3, n_sweeps: int = 1500,
                  n_therm: int = 300, seed: int = 0, client="sync", progress: bool = False,
                  cache: bool = True) -> pd.DataFrame:
    """Thermal moments of the nearest-neighbour cubic ferromagnet ``kind`` for Binder crossings.

    Independent runs (seeds) play the role of disorder realisations. ``J`` in meV (default k_B × 1 K:
    temperatures in K are then in units of J/k_B). Returns the frame :func:`curie_from_binder` takes.
    Runs are cached on disk like those of :func:`curie_sweep` (``cache=False`` recomputes).
    """
    temps = check_temperatures(temperatures)
    tasks = [{"kind": kind, "L": int(L), "J": float(J), "temperatures": temps, "n_sweeps": int(n_sweeps),
              "n_therm": int(n_therm), "seed": int(seed), "run": r} for L in sizes for r in range(n_runs)]
    code = _code_digest()
    keys = [hashlib.sha256((json.dumps({**t, "temperatures": [round(float(x), 10) for x in temps]}, sort_keys=True)
                            + "lattice" + code + str(_FORMAT)).encode()).hexdigest()[:24] for t in tasks]
    results = [(_cache_load(k, "lattice", temps) if cache else None) for k in keys]
    todo = [k for k, r in enumerate(results) if r is None]

    def store(k, result):
        if cache:
            _cache_store(keys[todo[k]], result, tasks[todo[k]])

    fresh = run_tasks(_lattice_task, [tasks[k] for k in todo], client=client, progress=progress,
                      desc=f"{kind} lattice", on_result=store)
    for k, r in zip(todo, fresh):
        results[k] = r
    rows = [{"size": f"L={t['L']}", "n_sites": res["n"], "realisation": t["run"], "T": T, "m2": m2, "m4": m4}
            for t, res in zip(tasks, results) for T, m2, m4 in zip(res["T"], res["m2"], res["m4"])]
    return pd.DataFrame(rows)
