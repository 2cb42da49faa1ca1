"""The package's own J_ij data set: every ordered element pair on every Bi–Bi geometry up to ``max_distance``,
computed by the crystal exchange engine (:mod:`jijtutorial.greens.engine`).

``jijtutorial generate-model-data [--out DIR] [--n-jobs N] [--kmesh N] [--max-distance Å] ...`` writes
``model_jij.csv`` (raw columns of :func:`jijtutorial.datasets.tidy_frame`: element_i, element_j,
rx, ry, rz (Å), J, Dx, Dy, Dz (meV), moment_i, moment_j (μB, each impurity's moment in the
pair), plus the tensor Jxx ... Jzz (meV), the exchange splittings delta_i, delta_j in the pair (eV),
model_shell (rank of the geometry by distance) and multiplicity (size of its symmetry orbit))
and ``model_jij.provenance.json`` with every parameter.

Physics (see :mod:`jijtutorial.greens.engine`): the sp³ Slater–Koster host of Bi2Te3 with all five
atoms of the cell (:mod:`jijtutorial.greens.crystal`); each impurity a d shell replacing a Bi
atom, hybridised with its six Te neighbours by Harrison's p–d law, its moment from its own
Stoner mean field (no DFT moment enters); J and D from the force theorem. Geometry: both Bi
sublattices, one representative per symmetry orbit of the upper-Bi site
(:func:`jijtutorial.greens.bi_pairs.pair_geometries`), the JuKKR table's ten vectors among them.

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

from .datasets import MODEL_FILENAME, PACKAGE_DATA_DIR
from .elements import IMPURITY_ELEMENTS
from .geometry import ALAT, point_group

PROVENANCE_SUFFIX = ".provenance.json"

#: Couplings (meV) below this are written as 0: numerical zeros of symmetry-forbidden components.
ZERO_COUPLING = 1e-9

#: Defaults of the data set (documented in the provenance file): those of the engine, up to 13.2 Å.
DEFAULTS = {"kmesh": 12, "n_poles": 40, "temperature": 800.0, "max_distance": 13.2}

_TENSOR = ["Jxx", "Jxy", "Jxz", "Jyx", "Jyy", "Jyz", "Jzx", "Jzy", "Jzz"]
#: Columns of the raw frame.
RAW_ORDER = (
    ["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]
    + _TENSOR
    + ["delta_i", "delta_j", "model_shell", "multiplicity"]
)


#: The five same-sublattice pair vectors of the JuKKR table (units of alat = 10.4727 Å): the representatives of
#: their orbits among the 4-band teaching model's lattice vectors (:func:`model_vectors`).
JUKKR_SAME_SUBLATTICE_ALAT = (
    (-0.41851489357247, 0.0, 0.0),
    (-0.83703, 0.0, 0.0),
    (0.209257, 0.120815, 0.970369),
    (-0.627772, -0.120815, -0.970369),
    (-1.255545, 0.0, 0.0),
)


def model_vectors(model, max_distance: float = 16.0) -> list[dict]:
    """Representative lattice vectors of the 4-band teaching model (:func:`jijtutorial.greens.ti_model`), one per D3d
    orbit of its one-site lattice, with |R| ≤ max_distance (Å).

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
    ops = point_group()  # D3d of the crystal, which the teaching model's lattice shares
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


def raw_order() -> list[str]:
    """Columns of the raw frame written to ``model_jij.csv``."""
    return list(RAW_ORDER)


def engine_settings(kmesh=DEFAULTS["kmesh"], n_poles=DEFAULTS["n_poles"], temperature=DEFAULTS["temperature"]):
    """The engine settings of the data set (the engine's defaults but for the given numbers)."""
    from .greens.engine import EngineSettings

    if int(kmesh) < 2:
        raise ValueError(f"kmesh must be an integer ≥ 2 (k-points per reciprocal axis), not {kmesh!r}.")
    return EngineSettings(kmesh=int(kmesh), n_poles=int(n_poles), temperature=float(temperature))


def generate_model_data(
    *,
    elements=None,
    kmesh=DEFAULTS["kmesh"],
    n_poles=DEFAULTS["n_poles"],
    temperature=DEFAULTS["temperature"],
    max_distance=DEFAULTS["max_distance"],
    n_jobs: int = 1,
    progress: bool = True,
    chunk_size: int = 100,
    engine=None,
    client=None,
):
    """Compute the model data set: J, D, the exchange tensor and the moments of element pairs on Bi–Bi geometries.

    Parameters
    ----------
    elements : symbols (default: the 20 of the data set).
    kmesh : k-points per reciprocal axis; n_poles : Ozaki poles; temperature : electronic temperature (K).
    max_distance : largest pair distance in Å (at least the nearest Bi–Bi distance, 4.38 Å).
    n_jobs : local Dask worker processes, -1 for all cores; 1 (default) runs here without Dask.
        The result is identical whatever the number of workers.
    client : a ``distributed.Client`` or scheduler address (see :mod:`jijtutorial.parallel`).
    engine : a :class:`jijtutorial.greens.engine.CrystalEngine` to reuse (its settings replace kmesh,
        n_poles and temperature).

    Returns
    -------
    DataFrame with the columns of :func:`raw_order` (meV, Å, μB, eV); ``frame.attrs['provenance']``
    holds everything needed to reproduce it.
    """
    from . import __version__
    from .elements import z_of
    from .greens.bi_pairs import pair_geometries
    from .greens.crystal import crystal_trim_parities, crystal_z2_index
    from .greens.engine import CrystalEngine, exchange_table

    elements = list(IMPURITY_ELEMENTS if elements is None else elements)
    for k, e in enumerate(elements):
        z_of(e, where=f"elements[{k}]")
    if int(n_jobs) != n_jobs or int(n_jobs) == 0 or int(n_jobs) < -1:
        raise ValueError(f"n_jobs must be a positive number of workers or −1 for all cores, not {n_jobs!r}.")
    if not (np.isfinite(max_distance) and max_distance >= 4.38):
        raise ValueError(f"max_distance must be at least the nearest Bi–Bi distance (4.38 Å), not {max_distance!r}.")
    engine = engine or CrystalEngine(engine_settings(kmesh, n_poles, temperature))
    geos = pair_geometries(max_distance, engine.settings.host)
    table = exchange_table(
        engine, elements=elements, geometries=geos, n_jobs=n_jobs, client=client, progress=progress, chunk_size=chunk_size
    )
    states = {s: engine.impurity(s) for s in elements}
    shell = {g["geometry"] + str(np.round(g["vector"], 4)): k + 1 for k, g in enumerate(geos)}
    frame = table.copy()
    frame["model_shell"] = [
        shell[g + str(np.round([x, y, z], 4))] for g, x, y, z in zip(frame.geometry, frame.rx, frame.ry, frame.rz)
    ]
    frame = frame[raw_order()].reset_index(drop=True)
    for c in ("rx", "ry", "rz"):
        frame[c] = frame[c].round(6) + 0.0
    couplings = ["J", "Dx", "Dy", "Dz"] + _TENSOR
    # Couplings below 1e-9 meV are round-off of components that symmetry makes zero (e.g. D at an
    # inversion centre); their digits differ between BLAS builds. Written as 0, the file is the same
    # on every machine.
    frame[couplings] = frame[couplings].where(frame[couplings].abs() >= ZERO_COUPLING, 0.0)
    frame[["moment_i", "moment_j"]] = frame[["moment_i", "moment_j"]].where(frame[["moment_i", "moment_j"]].abs() >= 1e-9, 0.0)
    model = engine.model
    frame.attrs["provenance"] = {
        "generator": f"jijtutorial {__version__}, jijtutorial.model_data.generate_model_data",
        "engine": "jijtutorial.greens.engine.CrystalEngine (sp3 Slater-Koster Bi2Te3, d-shell impurities, Stoner moments)",
        "convention": (
            "E = -sum_{i<j} [e_i.J^S_ij.e_j + D_ij.(e_i x e_j)], each pair once, J > 0 ferromagnetic, "
            "J = Tr(J_ij)/3, meV; TB2J's J (sum over i != j) is J/2. Moments: each impurity's d-shell spin "
            "moment in the pair (muB); an impurity magnetic alone keeps its own moment, a non-magnetic one "
            "carries the moment its neighbour induces."
        ),
        "settings": engine.settings.as_dict(),
        "band_facts_eV": {k: (list(v) if isinstance(v, tuple) else float(v)) for k, v in engine.band_facts.items()},
        "z2_index": crystal_z2_index(model, engine.settings.host),
        "trim_parities": crystal_trim_parities(model, engine.settings.host).tolist(),
        "e_fermi_eV": engine.e_fermi,
        "contour": engine.contour.describe(),
        "lattice_vectors_A": model.cell.round(6).tolist(),
        "max_distance_A": float(max_distance),
        "n_vectors": len(geos),
        "vectors": [
            {
                "shell": k + 1,
                "vector_A": np.round(g["vector"], 6).tolist(),
                "distance_A": round(g["distance"], 6),
                "geometry": g["geometry"],
                "multiplicity": g["multiplicity"],
                "jukkr_vector": g["jukkr"],
            }
            for k, g in enumerate(geos)
        ],
        "elements": {s: states[s].as_dict() for s in elements},
        "n_rows": len(frame),
    }
    return frame


def write_model_data(out_dir=PACKAGE_DATA_DIR, **kwargs) -> tuple[Path, Path]:
    """Generate the data set and write ``model_jij.csv`` and ``model_jij.provenance.json`` to ``out_dir``
    (default: the package's data folder ``jijtutorial/data/``, the file ``load_model`` reads and the
    package ships).

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
        frame.to_csv(tmp, index=False, float_format="%.9g", lineterminator="\n")
        prov = dict(frame.attrs["provenance"])
        prov["csv_sha256"] = hashlib.sha256(tmp.read_bytes()).hexdigest()
        fs.path(pj).write_text(json.dumps(prov, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv, pj


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial generate-model-data``."""
    parser.add_argument(
        "--out",
        default=str(PACKAGE_DATA_DIR),
        help="output folder (default: the package's data folder jijtutorial/data, which it ships)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="local Dask worker processes, -1 for all cores (default 1: no Dask)"
    )
    parser.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler (tcp://host:8786) to compute on instead"
    )
    parser.add_argument("--kmesh", type=int, default=DEFAULTS["kmesh"], help="k-points per reciprocal axis")
    parser.add_argument("--n-poles", type=int, default=DEFAULTS["n_poles"], help="Ozaki poles of the contour")
    parser.add_argument(
        "--temperature", type=float, default=DEFAULTS["temperature"], help="electronic temperature in K (default 800)"
    )
    parser.add_argument("--max-distance", type=float, default=DEFAULTS["max_distance"], help="largest |R| in Å")
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
        raise ValueError(
            "--n-jobs starts local workers; with --scheduler the cluster's own workers compute. Give one of the two."
        )
    for flag, value, low in (("--kmesh", args.kmesh, 2), ("--n-poles", args.n_poles, 4)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, not {value}.")
    for flag, value in (("--temperature", args.temperature), ("--max-distance", args.max_distance)):
        if not math.isfinite(value):
            raise ValueError(f"{flag} must be a finite number, not {value}.")
    if args.temperature <= 0:
        raise ValueError(f"--temperature must be positive (K; the contour's Ozaki poles need T > 0), not {args.temperature}.")
    if args.max_distance < 4.38:
        raise ValueError(f"--max-distance must be at least the nearest Bi–Bi distance (4.38 Å), not {args.max_distance}.")
    if args.scheduler:
        check_scheduler(args.scheduler)
    output_folder(args.out)
    t0 = time.perf_counter()
    csv, pj = write_model_data(
        args.out,
        kmesh=args.kmesh,
        n_poles=args.n_poles,
        temperature=args.temperature,
        max_distance=args.max_distance,
        n_jobs=args.n_jobs,
        progress=not args.no_progress,
        client=args.scheduler,
    )
    print(f"wrote {csv} ({csv.stat().st_size / 1e6:.2f} MB) and {pj} in {time.perf_counter() - t0:.1f} s")
    return 0


__all__ = [
    "DEFAULTS",
    "JUKKR_SAME_SUBLATTICE_ALAT",
    "engine_settings",
    "generate_model_data",
    "model_vectors",
    "raw_order",
    "write_model_data",
]
