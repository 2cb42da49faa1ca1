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

Temperatures come in two passes. The first covers a wide window (fractions of the mean-field
T_C) with few temperatures; where the Binder curves of the sizes cross, a second pass adds
``refine`` temperatures inside the grid interval that brackets the crossing (the same disorder
realisations, a Monte Carlo stream of their own), and T_C comes from both passes together. The
crossing then no longer hangs on where the first grid put its points, and the grid part of the
error bar (:mod:`._binder`) shrinks with the refined spacing; temperatures far from T_C, which
only have to show order or disorder, stay few. Compositions without a crossing get no second
pass. Each task also records whether its ferromagnetic bonds percolate
(:func:`jijtutorial.spins.ferromagnetic_network`), which tells 'T_C below the lowest temperature'
from 'no ferromagnetic order'.

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

from ..parallel import LazyClient, run_tasks
from ._binder import CurieEstimate, curie_from_binder, refinement_temperatures
from ._exchange_table import check_table
from ._lattice import check_concentrations, check_size_for_cutoff, random_configuration
from ._meanfield import mean_field_tc
from ._model import ferromagnetic_network, spin_model
from ._montecarlo import check_temperatures, run_monte_carlo

#: Supercells (n1, n2, n3) of the default sweep: the same shape (about 30 Å along every axis per
#: step), 3072, 10368 and 24576 Bi sites.
DEFAULT_SIZES = ((16, 16, 2), (24, 24, 3), (32, 32, 4))
#: Default temperature window, as fractions of the mean-field T_C, the number of temperatures of the
#: first pass over it, and the number the second pass adds around the crossing.
DEFAULT_WINDOW = (0.04, 1.0)
DEFAULT_N_TEMPERATURES = 12
DEFAULT_REFINE = 8
_FORMAT = 2


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
    refine: int = DEFAULT_REFINE

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
        if int(self.refine) != self.refine or self.refine < 0:
            raise ValueError(f"refine must be a number of temperatures ≥ 0 (0: no second pass), not {self.refine!r}.")
        lo, hi = (float(x) for x in self.window)
        if not (0 < lo < hi):
            raise ValueError(
                f"window must be (low, high) fractions of the mean-field T_C with 0 < low < high, not {self.window!r}."
            )
        if self.temperatures is not None:
            object.__setattr__(self, "temperatures", tuple(check_temperatures(self.temperatures).tolist()))

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class SweepResult:
    """Result of :func:`curie_sweep`.

    ``summary``: one row per composition (label, concentrations, T_C, error, status, upper_bound
    (for 'below' and 'none': the lowest temperature simulated), T_min and T_max (the range simulated),
    n_temperatures (first pass + refinement), spacing (the grid interval bracketing the crossing, K),
    mean-field T_C, spins in the largest cell, fm_cluster (share of the dopants in the largest
    ferromagnetic cluster of the largest cell) and percolating (share of its realisations whose
    ferromagnetic bonds percolate));
    ``moments``: every task's thermal averages per temperature;
    ``estimates``: the :class:`CurieEstimate` of each composition label;
    ``first_temperatures``: the first pass's temperatures (K) of each composition label.
    """

    summary: pd.DataFrame
    moments: pd.DataFrame
    estimates: dict = field(default_factory=dict)
    settings: SweepSettings | None = None
    first_temperatures: dict = field(default_factory=dict)

    def first_pass_estimate(self, label: str) -> CurieEstimate:
        """The estimate of composition ``label`` from its first pass alone: what the refinement changed."""
        if label not in self.first_temperatures:
            raise KeyError(f"no Monte Carlo for {label!r}; simulated: {sorted(self.first_temperatures)}.")
        sub = self.moments[self.moments["label"] == label]
        first = np.asarray(self.first_temperatures[label], dtype=float)
        keep = np.isclose(sub["T"].to_numpy(float)[:, None], first[None, :], rtol=1e-9, atol=0).any(axis=1)
        row = self.summary[self.summary["label"] == label].iloc[0]
        seed = self.settings.seed if self.settings is not None else 0
        return curie_from_binder(sub[keep], seed=seed, percolating=row["percolating"])


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
    seed, and optionally stage ('refine' for the second pass: the same configuration, another
    Monte Carlo stream). Returns the thermal averages per temperature (arrays), the number of spins
    and pairs, and the ferromagnetic network (fm_fraction, fm_wraps; see
    :func:`jijtutorial.spins.ferromagnetic_network`).
    """
    ss = task_seed(task["seed"], task["composition"], task["size"], task["realisation"])
    conf_ss, mc_ss, refine_ss = ss.spawn(3)
    config = random_configuration(task["composition"], task["size"], seed=conf_ss)
    model = spin_model(config, table)
    network = ferromagnetic_network(model)
    res = run_monte_carlo(
        model,
        task["temperatures"],
        n_sweeps=task["n_sweeps"],
        n_therm=task["n_therm"],
        n_overrelax=task["n_overrelax"],
        seed=refine_ss if task.get("stage") == "refine" else mc_ss,
    )
    return {
        "T": res.temperatures,
        "e": res.energy,
        "e2": res.energy2,
        "m": res.m,
        "m2": res.m2,
        "m4": res.m4,
        "n_spins": model.n_spins,
        "n_pairs": model.n_pairs,
        "acceptance": res.exchange_acceptance,
        "fm_fraction": network["fraction"],
        "fm_wraps": network["wraps"],
    }


# --------------------------------------------------------------------------------------- cache
#: Modules whose code decides a task's numbers (part of the cache key, with everything they import). The
#: exchange table is keyed by its content (:func:`table_digest`); figures cannot change a number.
_TASK_MODULES = tuple(f"jijtutorial.spins.{m}" for m in ("_kernels", "_lattice", "_model", "_montecarlo", "_sweep"))
_NOT_TASK_CODE = ("jijtutorial.spins._exchange_table", "jijtutorial.spins._plots", "jijtutorial.plotting", "jijtutorial.tables")


def _code_digest(*roots: str) -> str:
    """Cache-key part of the code of a kind of task: ``roots`` (default :data:`_TASK_MODULES`), what they
    import, and numba's version."""
    import numba

    from ..featurecache import code_digest

    code = code_digest(*(roots or _TASK_MODULES), exclude=_NOT_TASK_CODE)
    return hashlib.sha256((code + numba.__version__).encode()).hexdigest()[:16]


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
_CACHE_FIELDS = {"curie": ("e", "e2", "m", "m2", "m4"), "lattice": ("m2", "m4"), "order": ()}
_CACHE_SCALARS = {"curie": ("n_spins", "n_pairs", "fm_wraps"), "lattice": ("n",), "order": ("n_spins", "fm_wraps")}
#: Fractions in [0, 1] a task stores as 0-d arrays.
_CACHE_FRACTIONS = {"curie": ("fm_fraction",), "lattice": (), "order": ("fm_fraction",)}
#: Finite real numbers a task stores as 0-d arrays (the low-temperature order's single-temperature results).
_CACHE_VALUES = {"curie": (), "lattice": (), "order": ("m", "e", "e_ferro")}
#: Kinds whose results are one value per temperature (stored with the temperatures ``T``).
_CACHE_PER_TEMPERATURE = ("curie", "lattice")


def _cache_check(z, key: str, kind: str, temperatures) -> dict:
    """The cached result in ``z`` (an open npz) if it is the task ``key`` of ``kind``; else ValueError saying why."""
    files = set(z.files)
    if "key" in files and str(z["key"]) != key:
        raise ValueError(f"it holds the task {str(z['key'])!r}, not {key!r}")
    per_t = kind in _CACHE_PER_TEMPERATURE
    need = (("T",) if per_t else ()) + _CACHE_FIELDS[kind] + _CACHE_SCALARS[kind] + _CACHE_FRACTIONS[kind] + _CACHE_VALUES[kind]
    missing = [k for k in need if k not in files]
    if missing:
        raise ValueError(f"it lacks {missing} (not a spin-model task result of kind {kind!r})")
    out = {k: z[k] for k in files if k not in ("task", "key")}
    temps = np.asarray(temperatures, float)
    if per_t and (out["T"].shape != temps.shape or not np.allclose(out["T"], temps, rtol=1e-9, atol=0)):
        raise ValueError("its temperatures are not the task's")
    for k in _CACHE_VALUES[kind]:
        if out[k].shape != () or not np.isfinite(out[k]):
            raise ValueError(f"its {k!r} is not one finite number")
    for k in _CACHE_FIELDS[kind]:
        a = np.asarray(out[k])
        if a.shape != temps.shape or not np.all(np.isfinite(a)):
            raise ValueError(f"its {k!r} has shape {a.shape} or non-finite values")
    for k in _CACHE_SCALARS[kind]:
        if out[k].shape != () or int(out[k]) != out[k] or out[k] < 0:
            raise ValueError(f"its {k!r} is not a count")
        out[k] = int(out[k])  # integers saved as 0-d arrays
    for k in _CACHE_FRACTIONS[kind]:
        if out[k].shape != () or not 0.0 <= float(out[k]) <= 1.0:
            raise ValueError(f"its {k!r} is not a fraction in [0, 1]")
    return {k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in out.items()}


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
        _warn_once(
            path,
            "corrupt",
            f"spin-model cache file {path} is unusable ({type(err).__name__}: {err}); it is being recomputed and replaced.",
        )
    return None


def _cache_store(key: str, result: dict, task: dict | None = None) -> bool:
    """Store a task's result atomically; if the cache folder cannot be written, warn once and go on (False)."""
    from .._files import atomic_path
    from ..featurecache._files import _warn_once

    folder = _cache_folder()
    meta = {"key": np.array(key)}
    if task is not None:
        meta["task"] = np.array(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in task.items()}))
    try:
        with atomic_path(folder / f"task-{key}.npz") as tmp:
            np.savez(tmp, **result, **meta)
    except OSError as err:
        _warn_once(
            folder,
            "unwritable",
            f"cannot write the spin-model cache in {folder} ({err.strerror or err}); "
            f"results of this run are not kept (set JIJTUTORIAL_CACHE_DIR to a "
            f"writable folder, or pass --no-cache).",
        )
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


def curie_sweep(
    table: pd.DataFrame,
    compositions: Sequence[Mapping[str, float]],
    *,
    settings: SweepSettings | None = None,
    client=None,
    n_workers: int | None = None,
    cache: bool = True,
    progress: bool = True,
    **kwargs,
) -> SweepResult:
    """Monte Carlo T_C (Binder crossings) and mean-field T_C for each composition.

    Parameters
    ----------
    table : expanded exchange table (:func:`jijtutorial.spins.exchange_table`) covering every
        dopant of ``compositions``.
    compositions : list of {element: concentration} (fractions of Bi sites), e.g.
        ``[{'Cr': 0.04}, {'Cr': 0.02, 'V': 0.02}]``.
    settings : :class:`SweepSettings`; or give its fields as keyword arguments (sizes,
        n_realisations, n_sweeps, n_therm, n_overrelax, n_temperatures, window, temperatures, seed,
        refine). Without explicit temperatures each composition's first pass is a geometric grid of
        ``n_temperatures`` over ``window`` × its mean-field T_C; a composition whose Binder curves
        cross then gets ``refine`` more temperatures inside the bracketing interval (see the module
        docstring). A composition whose mean field favours no ordered state (λ_max ≤ 0) is not
        simulated and reported with status 'no mean-field order'.
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
    grids = {ci: _temperature_grid(table, comp, settings) for ci, comp in enumerate(comps)}
    digests = {ci: table_digest(table, list(comp)) for ci, comp in enumerate(comps)}
    own = None
    if client is None:  # one local cluster for both passes, started only if a task is not cached
        own = client = LazyClient(None, n_workers)
    try:
        first = {ci: grids[ci][0] for ci in grids if grids[ci][0] is not None}
        results = _run_pass(table, comps, first, settings, digests, code, "first", client, n_workers, cache, progress)
        moments = _moments_frame(comps, results)
        network = _network_summary(results)
        estimates = {ci: _estimate(moments, ci, network, settings) for ci in first}
        second = {}
        if settings.refine:
            for ci, est in estimates.items():
                new = refinement_temperatures(est, settings.refine)
                if len(new):
                    second[ci] = new
        if second:
            more = _run_pass(table, comps, second, settings, digests, code, "refine", client, n_workers, cache, progress)
            moments = pd.concat([moments, _moments_frame(comps, more)], ignore_index=True)
            moments = moments.sort_values(["composition", "n_sites", "realisation", "T"], ignore_index=True)
            estimates.update({ci: _estimate(moments, ci, network, settings) for ci in second})
    finally:
        if own is not None:
            own.close()
    summary, by_label = [], {}
    for ci, comp in enumerate(comps):
        label = composition_label(comp)
        temps, tmf = grids[ci]
        row = {"label": label, "concentration": sum(comp.values()), **{f"c_{e}": c for e, c in comp.items()}, "T_MF": tmf}
        if temps is None:
            row.update(
                T_C=0.0,
                error=np.nan,
                status="no mean-field order",
                upper_bound=np.nan,
                T_min=np.nan,
                T_max=np.nan,
                n_temperatures=0,
                spacing=np.nan,
                n_spins_largest=np.nan,
                fm_cluster=np.nan,
                percolating=np.nan,
            )
        else:
            est = estimates[ci]
            by_label[label] = est
            sub = moments[moments["composition"] == ci]
            largest = sub[sub["n_sites"] == sub["n_sites"].max()]
            ok = est.crossings[est.crossings["status"] == "crossing"]
            row.update(
                T_C=est.tc,
                error=est.error,
                status=est.status,
                upper_bound=est.upper_bound,
                T_min=float(est.temperatures.min()),
                T_max=float(est.temperatures.max()),
                n_temperatures=len(est.temperatures),
                spacing=float((ok["T_high"] - ok["T_low"]).mean()) if est.status == "ordered" else np.nan,
                n_spins_largest=float(largest["n_spins"].mean()),
                fm_cluster=network[ci][0],
                percolating=network[ci][1],
            )
        summary.append(row)
    firsts = {composition_label(comps[ci]): temps for ci, temps in first.items()}
    return SweepResult(pd.DataFrame(summary), moments, by_label, settings, firsts)


def _run_pass(
    table,
    comps,
    grids: dict,
    settings: SweepSettings,
    digests: dict,
    code: str,
    stage: str,
    client,
    n_workers,
    cache: bool,
    progress: bool,
) -> list[tuple[int, dict, dict]]:
    """Run (or load from the cache) every (composition, size, realisation) task at ``grids[ci]`` (K)."""
    tasks, keys, owners = [], [], []
    for ci, temps in grids.items():
        for size in settings.sizes:
            for r in range(settings.n_realisations):
                task = {
                    "composition": comps[ci],
                    "size": tuple(size),
                    "realisation": r,
                    "temperatures": np.asarray(temps, dtype=float),
                    "n_sweeps": settings.n_sweeps,
                    "n_therm": settings.n_therm,
                    "n_overrelax": settings.n_overrelax,
                    "seed": settings.seed,
                }
                if stage == "refine":
                    task["stage"] = "refine"
                tasks.append(task)
                keys.append(_task_key(task, digests[ci], code))
                owners.append(ci)
    results = [(_cache_load(k, "curie", t["temperatures"]) if cache else None) for k, t in zip(keys, tasks)]
    todo = [k for k, r in enumerate(results) if r is None]

    def store(k, result):
        if cache:
            _cache_store(keys[todo[k]], result, tasks[todo[k]])

    desc = "Monte Carlo tasks" if stage == "first" else "Monte Carlo tasks, refined around T_C"
    fresh = run_tasks(
        simulate_task,
        [tasks[k] for k in todo],
        shared=table,
        client=client,
        n_workers=n_workers,
        progress=progress,
        desc=desc,
        on_result=store,
    )
    for k, r in zip(todo, fresh):
        results[k] = r
    return list(zip(owners, tasks, results))


def _moments_frame(comps, results) -> pd.DataFrame:
    rows = []
    for ci, task, res in results:
        size = task["size"]
        for k, T in enumerate(res["T"]):
            rows.append(
                {
                    "composition": ci,
                    "label": composition_label(comps[ci]),
                    "size": "x".join(map(str, size)),
                    "n_sites": 6 * size[0] * size[1] * size[2],
                    "realisation": task["realisation"],
                    "T": float(T),
                    "n_spins": res["n_spins"],
                    "e": res["e"][k],
                    "e2": res["e2"][k],
                    "m": res["m"][k],
                    "m2": res["m2"][k],
                    "m4": res["m4"][k],
                }
            )
    return pd.DataFrame(rows)


def _network_summary(results) -> dict[int, tuple[float, float]]:
    """Per composition: mean share of the dopants in the largest ferromagnetic cluster and share of the
    realisations whose ferromagnetic bonds percolate, both in the largest cell."""
    by = {}
    for ci, task, res in results:
        by.setdefault(ci, []).append((6 * int(np.prod(task["size"])), res["fm_fraction"], res["fm_wraps"] == 3))
    out = {}
    for ci, rows in by.items():
        big = max(r[0] for r in rows)
        sel = [(f, p) for n, f, p in rows if n == big]
        out[ci] = (float(np.mean([f for f, _ in sel])), float(np.mean([p for _, p in sel])))
    return out


def _estimate(moments: pd.DataFrame, ci: int, network: dict, settings: SweepSettings) -> CurieEstimate:
    return curie_from_binder(moments[moments["composition"] == ci], seed=settings.seed, percolating=network[ci][1])


def tc_text(row) -> str:
    """A summary row of :func:`curie_sweep` in words: '13.4 ± 0.3 K', '< 1.2 K', 'no order: ...', ...

    'below' (no Binder crossing above the lowest temperature simulated) is an upper bound, '< T_min';
    'none' is reserved for a composition whose ferromagnetic bonds do not percolate either.
    """

    def kelvin(t):
        return f"{t:.2g} K" if abs(t) < 1 else f"{t:.1f} K"

    status = row["status"]
    if status == "ordered":
        if not np.isfinite(row["error"]):
            return f"{kelvin(row['T_C'])} (no error bar: one disorder realisation per size)"
        return f"{row['T_C']:.1f} ± {row['error']:.1f} K" if row["T_C"] >= 1 else f"{row['T_C']:.2g} ± {row['error']:.1g} K"
    if status == "below":
        return f"< {kelvin(row['upper_bound'])}"
    if status == "none":
        return "no order: FM bonds do not percolate"
    if status == "above":
        return f"above {kelvin(row['T_max'])} (the highest temperature simulated)"
    return "no ferromagnetic order (mean-field J₀ ≤ 0)"


def curie_temperature(table: pd.DataFrame, dopants: Mapping[str, float], **kwargs) -> tuple[CurieEstimate | None, dict]:
    """T_C of one composition: (Binder estimate or None if mean field favours no order, summary row)."""
    res = curie_sweep(table, [dopants], **kwargs)
    label = res.summary["label"].iloc[0]
    return res.estimates.get(label), res.summary.iloc[0].to_dict()


def _lattice_task(_, task: dict) -> dict:
    from ._model import lattice_model

    model = lattice_model(task["kind"], task["L"], task["J"])
    seed = [task["seed"], task["L"], task["run"]] + ([1] if task.get("stage") == "refine" else [])
    res = run_monte_carlo(model, task["temperatures"], n_sweeps=task["n_sweeps"], n_therm=task["n_therm"], seed=seed)
    return {"m2": res.m2, "m4": res.m4, "T": res.temperatures, "n": model.n_spins}


def lattice_sweep(
    kind: str,
    sizes,
    temperatures,
    *,
    J: float = 0.08617333262,
    n_runs: int = 3,
    n_sweeps: int = 1500,
    n_therm: int = 300,
    seed: int = 0,
    client="sync",
    progress: bool = False,
    cache: bool = True,
    refine: int = 0,
) -> pd.DataFrame:
    """Thermal moments of the nearest-neighbour cubic ferromagnet ``kind`` for Binder crossings.

    Independent runs (seeds) play the role of disorder realisations. ``J`` in meV (default k_B × 1 K:
    temperatures in K are then in units of J/k_B). Returns the frame :func:`curie_from_binder` takes.
    Runs are cached on disk like those of :func:`curie_sweep` (``cache=False`` recomputes).
    ``refine`` > 0 adds a second pass of that many temperatures around the Binder crossing of the
    first (:func:`jijtutorial.spins.refinement_temperatures`, Monte Carlo streams of their own),
    as :func:`curie_sweep` does; the frame then holds both passes.
    """
    temps = check_temperatures(temperatures)
    if int(refine) != refine or refine < 0:
        raise ValueError(f"refine must be a number of temperatures ≥ 0 (0: no second pass), not {refine!r}.")
    args = (kind, sizes, J, n_runs, n_sweeps, n_therm, seed, client, progress, cache)
    frame = _lattice_pass(temps, "first", *args)
    if refine:
        new = refinement_temperatures(curie_from_binder(frame, seed=seed), refine)
        if len(new):
            frame = pd.concat([frame, _lattice_pass(new, "refine", *args)], ignore_index=True)
            frame = frame.sort_values(["n_sites", "realisation", "T"], ignore_index=True)
    return frame


def _lattice_pass(temps, stage, kind, sizes, J, n_runs, n_sweeps, n_therm, seed, client, progress, cache) -> pd.DataFrame:
    tasks = [
        {
            "kind": kind,
            "L": int(L),
            "J": float(J),
            "temperatures": temps,
            "n_sweeps": int(n_sweeps),
            "n_therm": int(n_therm),
            "seed": int(seed),
            "run": r,
        }
        for L in sizes
        for r in range(n_runs)
    ]
    if stage == "refine":
        tasks = [{**t, "stage": "refine"} for t in tasks]
    code = _code_digest()
    keys = [
        hashlib.sha256(
            (
                json.dumps({**t, "temperatures": [round(float(x), 10) for x in temps]}, sort_keys=True)
                + "lattice"
                + code
                + str(_FORMAT)
            ).encode()
        ).hexdigest()[:24]
        for t in tasks
    ]
    results = [(_cache_load(k, "lattice", temps) if cache else None) for k in keys]
    todo = [k for k, r in enumerate(results) if r is None]

    def store(k, result):
        if cache:
            _cache_store(keys[todo[k]], result, tasks[todo[k]])

    fresh = run_tasks(
        _lattice_task, [tasks[k] for k in todo], client=client, progress=progress, desc=f"{kind} lattice", on_result=store
    )
    for k, r in zip(todo, fresh):
        results[k] = r
    rows = [
        {"size": f"L={t['L']}", "n_sites": res["n"], "realisation": t["run"], "T": T, "m2": m2, "m4": m4}
        for t, res in zip(tasks, results)
        for T, m2, m4 in zip(res["T"], res["m2"], res["m4"])
    ]
    return pd.DataFrame(rows)
