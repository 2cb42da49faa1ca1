"""``jijtutorial curie``: Monte Carlo and mean-field Curie temperatures of (co-)doped Bi2Te3.

Examples::

    jijtutorial curie --dopants Cr,V --concentrations 0.02,0.04,0.06 --out results/curie
    jijtutorial curie --dopants Cr+V,Cr+Mn --concentrations 0.06 --workers 2 --out results/codoping
    jijtutorial curie --dopants Cr --concentrations 0.04 --scheduler tcp://scheduler:8786 --out results/cr

``--dopants`` lists compositions separated by commas; a composition is one element or several
joined by '+', which share the concentration equally ('Cr+V' at 0.06 is 3 % Cr + 3 % V). Every
composition runs at every concentration. Writes ``curie.csv`` (one row per composition),
``binder.csv`` (Binder cumulants per size and temperature), ``moments.csv`` (every task's thermal
averages), ``missing.csv`` (pair vectors the J table did not cover and how they were filled),
``settings.json`` and, last, ``manifest-curie.json`` (sizes and checksums of the others: the files
are written to temporaries and renamed together, so a run killed while writing leaves no manifest).
Every argument, the scheduler and the output folder are checked before anything is computed.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import pandas as pd


def _floats(text: str, name: str) -> list[float]:
    parts = [x.strip() for x in str(text).split(",")]
    if not any(parts):
        raise ValueError(f"{name} is empty: give comma-separated numbers, e.g. {name} 0.02,0.04.")
    if not all(parts):
        raise ValueError(f"{name}: an empty entry in {text!r}; give comma-separated numbers, e.g. 0.02,0.04.")
    try:
        values = [float(x) for x in parts]
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, got {text!r}.") from None
    seen = {}
    for x, part in zip(values, parts):
        if x in seen:
            raise ValueError(f"{name}: {part} is given twice ({seen[x]} and {part}); give each value once.")
        seen[x] = part
    return values


def _sizes(text: str) -> tuple:
    out = []
    for part in text.split(","):
        try:
            n = tuple(int(x) for x in part.lower().split("x"))
        except ValueError:
            raise ValueError(f"--sizes: expected sizes like 16x16x2,24x24x3, got {part!r}.") from None
        if len(n) != 3 or min(n) < 1:
            raise ValueError(f"--sizes: each size is n1xn2xn3, three positive repeats of the hexagonal cell, got {part!r}.")
        if n in out:
            raise ValueError(f"--sizes: {part} is given twice; give each size once.")
        out.append(n)
    return tuple(out)


def compositions_from(dopants: str, concentrations: list[float]) -> list[dict]:
    """[{element: concentration}] for every composition of ``dopants`` ('Cr,V,Cr+V') at every concentration.

    Every element must be one of the 20 impurities. An element named twice in one composition
    ('Cr+Cr'), a composition named twice ('Cr,Cr' or 'Cr+V,V+Cr') and a concentration given twice
    are errors: each would silently change what is simulated (Cr+Cr at 4 % would be Cr at 2 %) or
    duplicate rows of the results.
    """
    from ..elements import IMPURITY_ELEMENTS

    parts = [g.strip() for g in str(dopants).split(",")]
    if not any(parts):
        raise ValueError("--dopants: name at least one element, e.g. --dopants Cr or --dopants Cr,V,Cr+V.")
    if not all(parts):
        raise ValueError(f"--dopants: an empty composition in {dopants!r}; separate compositions by single commas.")
    groups, seen = [], {}
    for g in parts:
        els = [e.strip() for e in g.split("+")]
        for e in els:
            if e not in IMPURITY_ELEMENTS:
                hint = next((x for x in IMPURITY_ELEMENTS if x.lower() == e.lower()), None)
                raise ValueError(
                    f"--dopants: unknown element {e!r} in {g!r}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; use the symbols {', '.join(IMPURITY_ELEMENTS)}."
                )
        if len(set(els)) != len(els):
            twice = next(e for e in els if els.count(e) > 1)
            raise ValueError(
                f"--dopants: {g!r} names {twice} twice; a composition lists each element once "
                f"('+' shares the concentration between different elements)."
            )
        key = frozenset(els)
        if key in seen:
            raise ValueError(f"--dopants: {g!r} is the same composition as {seen[key]!r}; give each composition once.")
        seen[key] = g
        groups.append(els)
    if not concentrations:
        raise ValueError("--concentrations: give at least one concentration, e.g. --concentrations 0.04.")
    if len(set(concentrations)) != len(concentrations):
        raise ValueError(f"--concentrations: {concentrations} holds a value twice; give each concentration once.")
    for c in concentrations:
        if not 0 < c <= 1:
            raise ValueError(f"--concentrations: {c} is outside (0, 1]; give fractions of the Bi sites (4 % = 0.04).")
    return [{e: c / len(g) for e in g} for g in groups for c in concentrations]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial curie``."""
    parser.add_argument("--dopants", required=True, help="compositions, e.g. 'Cr,V' or 'Cr+V,Cr+Mn' ('+': co-doping)")
    parser.add_argument(
        "--concentrations", required=True, help="total concentrations as fractions of the Bi sites, e.g. 0.02,0.04,0.06"
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--dataset",
        default="auto",
        choices=("auto", "jukkr", "model"),
        help="J table: JuKKR (needs JIJTUTORIAL_DATA_DIR), the model data set, or auto",
    )
    parser.add_argument(
        "--cutoff",
        type=float,
        default=None,
        help="largest pair distance in Å (default: the farthest vector of the table for these dopants)",
    )
    parser.add_argument(
        "--fill",
        default="zero",
        help="fill vectors the table lacks: 'zero', 'predicted' (the machine-learned filled table, J ± σ), "
        "'engine', 'engine-ml' (the learned model with the engine as its prior, J ± σ), 'engine,zero' or 'none' (raise)",
    )
    parser.add_argument("--sizes", default=None, help="supercells, e.g. 16x16x2,24x24x3,32x32x4 (the default)")
    parser.add_argument("--realisations", type=int, default=10, help="disorder realisations per size (default 10)")
    parser.add_argument("--sweeps", type=int, default=2000, help="measured Monte Carlo sweeps (default 2000)")
    parser.add_argument("--therm", type=int, default=1000, help="discarded sweeps (default 1000)")
    parser.add_argument(
        "--temperatures",
        default=None,
        help="temperatures in K (comma-separated) of the first pass; default: 12 from 0.04 to 1 x the mean-field T_C",
    )
    parser.add_argument(
        "--refine", type=int, default=8, help="temperatures a second pass adds where the Binder curves cross (default 8; 0: none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole sweep (default 0)")
    parser.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler (e.g. tcp://host:8786); default: a local cluster"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes of the local cluster, at least 1 (default: one per core)"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not reuse or store per-task results")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _default_cutoff(data: pd.DataFrame, elements) -> float:
    import numpy as np

    sub = data[data["element_i"].isin(elements) & data["element_j"].isin(elements)]
    if sub.empty:
        raise ValueError(f"--dopants: the J table has no pairs among {', '.join(elements)}.")
    return float(np.linalg.norm(sub[["rx", "ry", "rz"]].to_numpy(float), axis=1).max()) + 1e-3


def _check_arguments(args) -> tuple:
    """Every argument checked before anything is computed: (compositions, fill, settings, output folder)."""
    from .._files import output_folder
    from ..parallel import _check_workers, check_scheduler
    from . import SweepSettings
    from ._exchange_table import _check_fill

    comps = compositions_from(args.dopants, _floats(args.concentrations, "--concentrations"))
    fill = () if args.fill == "none" else _check_fill(args.fill)
    if args.cutoff is not None and not (math.isfinite(args.cutoff) and args.cutoff >= 4.38):
        raise ValueError(f"--cutoff must be a distance in Å of at least the nearest Bi–Bi distance (4.38 Å), not {args.cutoff}.")
    if args.realisations < 2:
        raise ValueError(
            f"--realisations must be at least 2, not {args.realisations}: the error bar of T_C is the "
            f"spread over disorder realisations (a bootstrap), which one realisation cannot give."
        )
    if args.seed < 0:
        raise ValueError(f"--seed must be a whole number ≥ 0, not {args.seed}.")
    kw = {
        "n_realisations": args.realisations,
        "n_sweeps": args.sweeps,
        "n_therm": args.therm,
        "seed": args.seed,
        "refine": args.refine,
    }
    if args.sizes:
        kw["sizes"] = _sizes(args.sizes)
    if args.temperatures:
        kw["temperatures"] = tuple(_floats(args.temperatures, "--temperatures"))
    try:
        settings = SweepSettings(**kw)
    except ValueError as err:
        names = {
            "n_realisations": "--realisations",
            "n_sweeps": "--sweeps",
            "n_therm": "--therm",
            "sizes": "--sizes",
            "temperatures": "--temperatures",
            "refine": "--refine",
        }
        text = str(err)
        for py, flag in names.items():
            if text.startswith(py):
                text = flag + text[len(py) :]
                break
        raise ValueError(text) from None
    if args.workers is not None:
        if args.scheduler:
            raise ValueError(
                "--workers sets the size of the local cluster; with --scheduler the cluster's own workers "
                "run the tasks. Give one of the two."
            )
        try:
            _check_workers(args.workers)
        except ValueError:
            raise ValueError(
                f"--workers must be a positive number of worker processes, not {args.workers} (leave it out for one per core)."
            ) from None
    if args.scheduler and args.scheduler != "sync":
        check_scheduler(args.scheduler)
    out = output_folder(args.out)
    return comps, fill, settings, out


def run(args: argparse.Namespace) -> int:
    """``jijtutorial curie``."""
    from .._files import AtomicFileSet
    from ..datasets import load_dataset
    from . import curie_sweep, exchange_table, tc_text

    t0 = time.perf_counter()
    comps, fill, settings, out = _check_arguments(args)  # before any computation
    elements = list(dict.fromkeys(e for c in comps for e in c))
    data = load_dataset(args.dataset)
    cutoff = args.cutoff if args.cutoff is not None else _default_cutoff(data, elements)
    table = exchange_table(data, elements, cutoff, fill=fill, progress=not args.no_progress)
    missing = table.attrs["missing"]
    if len(missing):
        how = ", ".join(f"{n} set by {w}" for w, n in missing.groupby("filled_with")["vectors"].sum().items())
        print(
            f"the {data.attrs.get('name', '')} table lacks {int(missing['vectors'].sum())} pair vectors within "
            f"{cutoff:.2f} Å ({how}); see missing.csv"
        )
    res = curie_sweep(
        table,
        comps,
        settings=settings,
        client=args.scheduler,
        n_workers=args.workers,
        cache=not args.no_cache,
        progress=not args.no_progress,
    )
    binder = [est.binder.assign(label=label) for label, est in res.estimates.items()]
    # one set: every file written whole, renamed together, manifest-curie.json (checksums) last
    with AtomicFileSet(out / "manifest-curie.json") as fs:
        res.summary.to_csv(fs.path(out / "curie.csv"), index=False)
        res.moments.to_csv(fs.path(out / "moments.csv"), index=False)
        (pd.concat(binder, ignore_index=True) if binder else pd.DataFrame()).to_csv(fs.path(out / "binder.csv"), index=False)
        table.attrs["missing"].to_csv(fs.path(out / "missing.csv"), index=False)
        fs.path(out / "settings.json").write_text(
            json.dumps(
                {
                    "dataset": data.attrs.get("name"),
                    "cutoff_A": cutoff,
                    "fill": list(table.attrs["fill"]),
                    "compositions": comps,
                    "settings": settings.as_dict(),
                    "scheduler": args.scheduler or "local cluster",
                    "convention": table.attrs["convention"],
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    view = res.summary[["label", "T_MF", "status"]].assign(T_C=res.summary.apply(tc_text, axis=1))
    print(view[["label", "T_MF", "T_C", "status"]].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(
        f"wrote {out}/curie.csv, binder.csv, moments.csv, missing.csv, settings.json, manifest-curie.json in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return 0
