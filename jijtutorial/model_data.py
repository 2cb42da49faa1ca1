"""The package's own J_ij data set: every ordered element pair of the element table, on the lattice
vectors of the Bi2Te3 model up to ``max_distance``, computed from Green functions.

``jijtutorial generate-model-data [--out DIR] [--n-jobs N] [--kmesh N] [--impurity-model M] ...`` writes
``model_jij.csv`` (raw columns of :func:`jijtutorial.datasets.tidy_frame`: element_i, element_j,
rx, ry, rz (Å), J, Dx, Dy, Dz (meV), moment_i, moment_j (μB), plus the tensor Jxx ... Jzz (meV),
the impurity parameters — U_i, U_j, delta_i, delta_j (eV) for the static impurity model, the d
occupations n_up_i, n_down_i, n_up_j, n_down_j per spin for the resonant one — model_shell,
multiplicity) and ``model_jij.provenance.json``.

Impurity models (:data:`jijtutorial.greens.IMPURITY_MODELS`): 'resonant' (default), every element a
spin-split d virtual bound state V_σ(z) = W/(z − ε_dσ + iΓ) with ε_dσ from the Friedel sum rule
(:mod:`jijtutorial.greens.resonant`); 'static', a constant potential U and splitting Δ
(:mod:`jijtutorial.greens.element_table`).

Geometry: the model has one site per quintuple layer on the rhombohedral lattice of the upper-Bi
sites, so each model lattice vector *is* an upper-Bi → upper-Bi vector of
:mod:`jijtutorial.structures` ('same' sublattice). One representative per symmetry orbit (point
group D3d of the model) is kept; the JuKKR table's own vectors are used where they fall in an orbit.

Convention: E = −Σ_{i<j} [e_i·J^S·e_j + D·(e_i × e_j)], each pair once, J > 0 ferromagnetic, meV,
the convention of the JuKKR data (H = −Σ J_ij S_i·S_j). TB2J sums over i ≠ j (each pair twice):
J_TB2J = J/2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from .datasets import MODEL_FILENAME
from .elements import IMPURITY_ELEMENTS
from .geometry import ALAT, point_group
from .greens.workflow import CONTOUR_MARGIN, CONTOUR_POINTS

PROVENANCE_SUFFIX = ".provenance.json"

#: The five same-sublattice pair vectors of the JuKKR table (units of alat = 10.4727 Å), used as
#: the representatives of their orbits so that the two data sets share exact geometries.
JUKKR_SAME_SUBLATTICE_ALAT = (
    (-0.41851489357247, 0.0, 0.0),
    (-0.83703, 0.0, 0.0),
    (0.209257, 0.120815, 0.970369),
    (-0.627772, -0.120815, -0.970369),
    (-1.255545, 0.0, 0.0),
)

#: Couplings (meV) below this are written as 0: numerical zeros of symmetry-forbidden components.
ZERO_COUPLING = 1e-12

#: Defaults of the data set (documented in the provenance file).
DEFAULTS = {"kmesh": 32, "n_points": CONTOUR_POINTS, "max_distance": 16.0, "e_fermi": None, "margin": CONTOUR_MARGIN}

_COMMON = ["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j",
           "Jxx", "Jxy", "Jxz", "Jyx", "Jyy", "Jyz", "Jzx", "Jzy", "Jzz"]
#: Columns of the raw frame for each impurity model.
RAW_ORDERS = {
    "static": _COMMON + ["U_i", "U_j", "delta_i", "delta_j", "model_shell", "multiplicity"],
    "resonant": _COMMON + ["n_up_i", "n_down_i", "n_up_j", "n_down_j", "model_shell", "multiplicity"],
}


def _default_model() -> str:
    from .greens.workflow import DEFAULT_IMPURITY_MODEL

    return DEFAULT_IMPURITY_MODEL


def raw_order(impurity_model: str | None = None) -> list[str]:
    """Columns of the raw frame for ``impurity_model`` (default: the package's default model)."""
    return list(RAW_ORDERS[impurity_model or _default_model()])


def model_vectors(model, max_distance: float = DEFAULTS["max_distance"]) -> list[dict]:
    """Representative lattice vectors of the model, one per D3d orbit, with |R| ≤ max_distance (Å).

    Returns dicts {vector (3,) Å, distance, shell (1 = nearest orbit), multiplicity}, sorted by distance.
    """
    if not (np.isfinite(max_distance) and max_distance >= 4.0):
        raise ValueError(f"max_distance must be at least the nearest-neighbour distance (4.38 Å), not {max_distance!r}.")
    cell = model.cell
    n = int(np.ceil(max_distance / min(np.linalg.norm(cell, axis=1)) * 2)) + 2
    rng = np.arange(-n, n + 1)
    frac = np.stack(np.meshgrid(rng, rng, rng, indexing="ij"), -1).reshape(-1, 3)
    R = frac @ cell
    d = np.linalg.norm(R, axis=1)
    keep = (d > 1e-6) & (d <= max_distance + 1e-6)
    R, d = R[keep], d[keep]
    order = np.lexsort((np.round(R[:, 1], 6), np.round(R[:, 0], 6), -np.round(R[:, 2], 6), np.round(d, 6)))
    R, d = R[order], d[order]
    ops = point_group()  # D3d of the crystal, which the model's lattice shares
    preferred = np.array(JUKKR_SAME_SUBLATTICE_ALAT) * ALAT
    seen = np.zeros(len(R), bool)
    out = []
    for i in range(len(R)):
        if seen[i]:
            continue
        images = np.einsum("gab,b->ga", ops, R[i])
        members = [j for j in range(len(R)) if np.min(np.linalg.norm(images - R[j], axis=1)) < 1e-6]
        seen[members] = True
        rep = R[i]
        for p in preferred:
            hit = [j for j in members if np.linalg.norm(R[j] - p) < 0.01]
            if hit:
                rep = R[hit[0]]
        out.append({"vector": rep, "distance": float(d[i]), "multiplicity": len(members)})
    out.sort(key=lambda x: round(x["distance"], 6))
    for k, o in enumerate(out):
        o["shell"] = k + 1
    return out


def _setup(kmesh, n_points, e_fermi, max_distance, margin, host=None):
    from .greens import HostGreen, band_edges, make_contour, ti_model

    model = ti_model() if host is None else host.model
    vbm, cbm = band_edges(model)
    if host is None:
        ef = 0.5 * (vbm + cbm) if e_fermi is None else float(e_fermi)
        host = HostGreen(model, kmesh, make_contour(model, ef, n_points=n_points, margin=margin))
    else:
        ef = float(host.contour.params["e_fermi"])
    vecs = model_vectors(model, max_distance)
    R = np.array([v["vector"] for v in vecs])
    g00, gij, gji = host.pair_blocks(R)
    return model, host, vecs, (g00, gij, gji), {"vbm": vbm, "cbm": cbm, "e_fermi": ef}


def _compute_chunk(shared, pairs):
    """Exchange tensors in meV for a list of element pairs on all vectors: list of ExchangeResult (nR, 3, 3).

    ``shared`` = (host blocks (g00, gij, gji), contour, impurity parameters per element): sent to
    every worker once.
    """
    from .greens import ExchangeResult, exchange_tensor, upper_bi_projector

    (g00, gij, gji), contour, params = shared
    projector = upper_bi_projector()
    out = []
    for a, b in pairs:
        res = exchange_tensor(g00, gij, gji, contour, params[a], params[b], projector=projector)
        out.append(ExchangeResult(res.tensor * 1e3))
    return out


def generate_model_data(*, elements=None, kmesh=DEFAULTS["kmesh"], n_points=DEFAULTS["n_points"],
                        e_fermi=DEFAULTS["e_fermi"], max_distance=DEFAULTS["max_distance"],
                        margin=DEFAULTS["margin"], n_jobs: int = 1, progress: bool = True, chunk_size: int = 20,
                        impurity_model: str | None = None, gamma: float | None = None, weight: float | None = None,
                        rule: str | None = None, host=None, client=None):
    """Compute the model data set: J, D and the exchange tensor of element pairs on model lattice vectors.

    Parameters
    ----------
    elements : symbols (default: the 20 of the data set).
    kmesh : k-points per reciprocal axis; n_points : contour points; margin : eV below the bands
        where the contour starts; e_fermi : eV (default: middle of the bulk gap).
    max_distance : largest |R| in Å.
    n_jobs : local Dask worker processes, -1 for all cores; 1 (default) runs here without Dask.
        The result is identical whatever the number of workers: the same chunks are computed the
        same way and put back in order.
    client : a ``distributed.Client`` or scheduler address: run the chunks on that cluster instead
        (see :mod:`jijtutorial.parallel`).
    progress : show a progress bar; chunk_size : element pairs per task.
    impurity_model : 'resonant' or 'static' (default: the package default).
    gamma (eV), weight (eV²), rule : parameters of the resonant model (defaults of
        :mod:`jijtutorial.greens.resonant`).
    host : a computed :class:`jijtutorial.greens.HostGreen` of the Bi2Te3 model to reuse (its
        k-mesh, contour and Fermi level replace kmesh, n_points, margin and e_fermi).

    Returns
    -------
    DataFrame with the raw columns of :func:`raw_order` (meV, Å, μB);
    ``frame.attrs['provenance']`` holds everything needed to reproduce it.
    """
    import pandas as pd

    from . import __version__
    from .greens import impurity_parameters, resonant, trim_parities, z2_index
    from .greens.workflow import check_impurity_model, impurity_on_contour
    from .parallel import run_tasks

    impurity_model = check_impurity_model(impurity_model or _default_model())
    res_kw = {"gamma": resonant.GAMMA if gamma is None else float(gamma),
              "weight": resonant.WEIGHT if weight is None else float(weight),
              "rule": resonant.DEFAULT_RULE if rule is None else rule}
    elements = list(IMPURITY_ELEMENTS if elements is None else elements)
    table = {s: impurity_parameters(s) for s in elements}
    d_table = {s: resonant.resonant_parameters(s, **res_kw) for s in elements}
    if int(n_jobs) != n_jobs or int(n_jobs) == 0 or int(n_jobs) < -1:
        raise ValueError(f"n_jobs must be a positive number of workers or −1 for all cores, not {n_jobs!r}.")
    for name in ("gamma", "weight"):
        if not (np.isfinite(res_kw[name]) and res_kw[name] > 0):
            raise ValueError(f"{name} must be a positive number (eV{'²' if name == 'weight' else ''}), not {res_kw[name]!r}.")
    model, host, vecs, blocks, edges = _setup(kmesh, n_points, e_fermi, max_distance, margin, host)
    contour = host.contour
    params = {s: impurity_on_contour(s, contour, impurity_model, **res_kw) for s in elements}
    pairs = [(a, b) for a in elements for b in elements]
    chunks = [pairs[i:i + chunk_size] for i in range(0, len(pairs), chunk_size)]
    if client is None:
        client = "sync" if int(n_jobs) == 1 else None
    n_workers = None if int(n_jobs) < 0 else int(n_jobs)
    per_chunk = run_tasks(_compute_chunk, chunks, shared=(blocks, contour, params), client=client, n_workers=n_workers,
                          progress=progress, desc=f"element pairs ({chunk_size} per task)")
    results = [res for chunk in per_chunk for res in chunk]

    rows = []
    comps = ["xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz"]
    for (a, b), res in zip(pairs, results):
        pa, pb = table[a], table[b]
        for k, v in enumerate(vecs):
            t, D = res.tensor[k], res.D[k]
            row = {"element_i": a, "element_j": b, "rx": v["vector"][0], "ry": v["vector"][1],
                   "rz": v["vector"][2], "J": res.J[k], "Dx": D[0], "Dy": D[1], "Dz": D[2],
                   "moment_i": pa.moment, "moment_j": pb.moment}
            row.update({f"J{c}": t["xyz".index(c[0]), "xyz".index(c[1])] for c in comps})
            if impurity_model == "static":
                row.update({"U_i": pa.U, "U_j": pb.U, "delta_i": pa.delta, "delta_j": pb.delta})
            else:
                da, db = d_table[a], d_table[b]
                row.update({"n_up_i": da.n_up, "n_down_i": da.n_down, "n_up_j": db.n_up, "n_down_j": db.n_down})
            row.update({"model_shell": v["shell"], "multiplicity": v["multiplicity"]})
            rows.append(row)
    frame = pd.DataFrame(rows, columns=raw_order(impurity_model))
    for c in ("rx", "ry", "rz"):
        frame[c] = frame[c].round(6) + 0.0
    # Couplings below 1e-12 meV are round-off of components that symmetry makes zero (e.g. D at an
    # inversion centre); their digits differ between BLAS builds. Written as 0, the file is the same
    # on every machine.
    couplings = ["J", "Dx", "Dy", "Dz"] + [c for c in frame.columns if c.startswith("J") and len(c) == 3]
    frame[couplings] = frame[couplings].where(frame[couplings].abs() >= ZERO_COUPLING, 0.0)
    frame.attrs["provenance"] = {
        "generator": f"jijtutorial {__version__}, jijtutorial.model_data.generate_model_data",
        "convention": ("E = -sum_{i<j} [e_i.J^S_ij.e_j + D_ij.(e_i x e_j)], each pair once, J > 0 ferromagnetic, "
                       "J = Tr(J_ij)/3, meV; TB2J's J (sum over i != j) is J/2."),
        "model": {"name": model.name, **model_params_dict()},
        "impurity_model": impurity_model,
        **({"resonant_parameters": {"gamma_eV": res_kw["gamma"], "weight_eV2": res_kw["weight"], "d_count_rule": res_kw["rule"],
                                    "d_count_note": resonant.RULE_NOTES[res_kw["rule"]]}}
           if impurity_model == "resonant" else {}),
        "impurity_potential": (
            "V = [U - (Delta/2) e.sigma] (x) Pi on the impurity's model site, Pi = (tau_0 + tau_x)/2 "
            "the projector on the upper half of the quintuple layer (upper Bi layer)"
            + ("" if impurity_model == "static" else
               "; resonant d level: U(z) = (V_up + V_down)/2, Delta(z) = V_down - V_up, V_s(z) = W/(z - E_F - eps_s + i Gamma), "
               "eps_s = Gamma cot(pi n_s/5) (Friedel sum rule), n_s = (N_d +- m)/2 clipped to [0, 5]")),
        "lattice_vectors_A": model.cell.round(6).tolist(),
        "band_edges_eV": {"vbm": edges["vbm"], "cbm": edges["cbm"], "gap": edges["cbm"] - edges["vbm"]},
        "z2_index": z2_index(model), "trim_parities": trim_parities(model).tolist(),
        "e_fermi_eV": edges["e_fermi"],
        "kmesh": list(host.kmesh_size), "contour": contour.describe(),
        "max_distance_A": float(max_distance), "n_vectors": len(vecs),
        "vectors": [{"shell": v["shell"], "vector_A": np.round(v["vector"], 6).tolist(),
                     "distance_A": round(v["distance"], 6), "multiplicity": v["multiplicity"]} for v in vecs],
        "elements": ({s: {"moment_muB": p.moment, "U_eV": p.U, "delta_eV": p.delta, "sources": p.sources}
                      for s, p in table.items()} if impurity_model == "static" else
                     {s: d_table[s].as_dict() for s in elements}),
        "n_rows": len(frame),
    }
    return frame


def model_params_dict() -> dict:
    from .greens import BI2TE3

    return BI2TE3.as_dict()


def write_model_data(out_dir="data", **kwargs) -> tuple[Path, Path]:
    """Generate the data set and write ``model_jij.csv`` and ``model_jij.provenance.json`` to ``out_dir``.

    Both files are written whole to temporary files and then renamed into place
    (:class:`jijtutorial._files.AtomicFileSet`); the provenance records the CSV's SHA-256, so a pair
    left inconsistent by an interruption between the two renames is reported by ``load_model``.
    """
    from ._files import AtomicFileSet

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = generate_model_data(**kwargs)
    csv = out / MODEL_FILENAME
    pj = csv.with_suffix(PROVENANCE_SUFFIX)
    with AtomicFileSet(None) as fs:
        tmp = fs.path(csv)
        frame.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
        prov = dict(frame.attrs["provenance"])
        prov["csv_sha256"] = hashlib.sha256(tmp.read_bytes()).hexdigest()
        fs.path(pj).write_text(json.dumps(prov, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv, pj


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial generate-model-data``."""
    parser.add_argument("--out", default="data", help="output folder (default: data)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="local Dask worker processes over element pairs, -1 for all cores (default 1: no Dask)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (tcp://host:8786) to compute on instead")
    parser.add_argument("--kmesh", type=int, default=DEFAULTS["kmesh"], help="k-points per reciprocal axis")
    parser.add_argument("--n-points", type=int, default=DEFAULTS["n_points"], help="energy contour points")
    parser.add_argument("--e-fermi", type=float, default=None, help="Fermi level in eV (default: mid-gap)")
    parser.add_argument("--max-distance", type=float, default=DEFAULTS["max_distance"], help="largest |R| in Å")
    parser.add_argument("--impurity-model", choices=("resonant", "static"), default=None,
                        help="impurity model (default: the package default, resonant)")
    parser.add_argument("--gamma", type=float, default=None, help="resonant model: half-width of the d level (eV)")
    parser.add_argument("--weight", type=float, default=None, help="resonant model: hybridisation weight W (eV^2)")
    parser.add_argument("--rule", choices=("trivalent", "divalent", "neutral"), default=None,
                        help="resonant model: d-count rule (default divalent, N_d = group - 2)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """``jijtutorial generate-model-data``."""
    import math
    import time

    from ._files import output_folder
    from .parallel import check_scheduler

    # every argument before any computation
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise ValueError(f"--n-jobs must be a positive number of workers or -1 for all cores, not {args.n_jobs}.")
    if args.scheduler and args.n_jobs != 1:
        raise ValueError("--n-jobs starts local workers; with --scheduler the cluster's own workers compute. Give one "
                         "of the two.")
    for flag, value, low in (("--kmesh", args.kmesh, 1), ("--n-points", args.n_points, 2)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, not {value}.")
    for flag, value in (("--e-fermi", args.e_fermi), ("--max-distance", args.max_distance), ("--gamma", args.gamma),
                        ("--weight", args.weight)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{flag} must be a finite number, not {value}.")
    for flag, value in (("--gamma", args.gamma), ("--weight", args.weight)):
        if value is not None and value <= 0:
            raise ValueError(f"{flag} must be positive (eV{'²' if flag == '--weight' else ''}), not {value}.")
    if args.max_distance < 4.38:
        raise ValueError(f"--max-distance must be at least the nearest Bi–Bi distance (4.38 Å), not {args.max_distance}.")
    if args.scheduler:
        check_scheduler(args.scheduler)
    output_folder(args.out)
    t0 = time.perf_counter()
    csv, pj = write_model_data(args.out, kmesh=args.kmesh, n_points=args.n_points, e_fermi=args.e_fermi,
                               max_distance=args.max_distance, n_jobs=args.n_jobs, progress=not args.no_progress,
                               client=args.scheduler,
                               impurity_model=args.impurity_model, gamma=args.gamma, weight=args.weight, rule=args.rule)
    print(f"wrote {csv} ({csv.stat().st_size / 1e6:.2f} MB) and {pj} in {time.perf_counter() - t0:.1f} s")
    return 0


__all__ = ["DEFAULTS", "JUKKR_SAME_SUBLATTICE_ALAT", "generate_model_data", "model_vectors", "raw_order",
           "write_model_data"]
