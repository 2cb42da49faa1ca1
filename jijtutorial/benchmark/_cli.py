"""``jijtutorial benchmark``: write the benchmark tables (CSV, Markdown), parity plots and learning curves."""

from __future__ import annotations

import argparse

from .._files import AtomicFileSet, atomic_path, output_folder
from ..protocols import ALIASES, PROTOCOLS, describe_protocols
from ..targets import TARGETS
from ._curves import learning_curve
from ._registry import D_MODEL, D_MODELS, DEFAULT_MODELS, LADDER_MODELS, get_model
from ._report import compare_protocols, d_table_markdown, describe_config, fold_breakdown, ladder_markdown, table_markdown
from ._runner import run_benchmark, run_ladder

#: ``--protocol`` choices: each rung, its alias, 'both' (study and grouped, as ever) and 'all' (the ladder).
CHOICES = PROTOCOLS + tuple(ALIASES) + ("both", "all")
#: The rungs ``--target D --protocol all`` runs: a bond class never computed has no D to learn from (the
#: model says 0 with its prior σ), so the distance rung asks nothing of a model of D.
D_LADDER = ("study", "pairs", "element")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial benchmark``."""
    parser.add_argument(
        "--dataset",
        default="auto",
        choices=("auto", "jukkr", "model"),
        help="data set: the JuKKR table, the package's model data, or auto (JuKKR if found)",
    )
    parser.add_argument("--data-path", default=None, help="file or folder of the data set (default: its usual place)")
    parser.add_argument(
        "--protocol",
        default="both",
        choices=CHOICES,
        help=f"the rung of the ladder -- {describe_protocols()}; both: study and grouped; all: the ladder "
        f"({', '.join(PROTOCOLS)})",
    )
    parser.add_argument(
        "--target",
        default="J",
        choices=tuple(TARGETS),
        help="what the models predict: J (the isotropic exchange) or D (the DM vector; models "
        f"{', '.join(D_MODELS)}; 'all' runs {', '.join(D_LADDER)})",
    )
    parser.add_argument("--out", default="benchmark-results", help="folder for the tables and plots")
    parser.add_argument(
        "--models",
        default=None,
        help=f"comma-separated model names (default: {','.join(DEFAULT_MODELS)} for study, pairs, "
        f"grouped and both; {','.join(LADDER_MODELS)} for element, distance and all)",
    )
    parser.add_argument("--folds", type=int, default=5, help="outer cross-validation folds of study and pairs (at least 2)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats of the outer cross-validation of study and pairs (at least 1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        help="fraction held out as a test set, in [0, 1) (0: none; element and distance have none)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="folds run side by side: threads, or worker processes for the ladder (default: CPUs, at most 4)",
    )
    parser.add_argument("--learning-curve", action="store_true", help="also compute learning curves")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-progress", action="store_true")


def _print_rung(res) -> None:
    print(f"\n{res.dataset} data, {res.protocol} protocol ({res.seconds:.1f} s)")
    print(describe_config(res.config))
    print(res.markdown())
    if res.rung.leave_one_out:
        b = fold_breakdown(res)
        print(f"\nMAE (meV) per held-out {res.rung.held}:")
        print(b.round(3).to_string(index=False))
    if len(res.calibration):
        print("\nError bars (fraction of test pairs within ±1σ, ±2σ, ±J_95):")
        print(res.calibration.round(3).to_string(index=False))


def d_model_symmetry(frame):
    """:func:`jijtutorial.targets.d_symmetry_checks` of the equivariant model of D fitted on all of ``frame``.

    Every bond class of the frame's vectors and every ordered pair of its elements; a table with the
    largest deviation of each rule (meV).
    """
    import numpy as np

    from ..kernels import EquivariantDGP
    from ..targets import D, d_symmetry_checks

    model = EquivariantDGP().fit(frame, D.values(frame))
    vectors = np.unique(frame[["rx", "ry", "rz"]].to_numpy(float).round(4), axis=0)
    elements = sorted(set(frame["element_i"]) | set(frame["element_j"]))
    return d_symmetry_checks(model.predict, vectors, elements)


def _run_d(args, models, kw, out) -> int:
    """``--target D``: the models of D on the chosen rungs, their table and the symmetry they keep."""
    protocols = D_LADDER if args.protocol == "all" else ("study", "grouped") if args.protocol == "both" else (args.protocol,)
    if len(protocols) > 1:
        rungs = list(run_ladder(args.dataset, list(protocols), models, target="D", **kw).rungs.values())
    else:
        rungs = [run_benchmark(args.dataset, protocols[0], models, target="D", **kw)]
    print(
        f"\n{rungs[0].dataset} data: models of the DM vector D ({', '.join(r.protocol for r in rungs)}; "
        f"{sum(r.seconds for r in rungs):.1f} s)\n"
    )
    print(d_table_markdown(rungs))
    cal = [r.calibration for r in rungs if len(r.calibration)]
    if cal:
        import pandas as pd

        print("\nError bars per component (fraction within ±1σ, ±2σ; components fixed by symmetry left out):")
        print(pd.concat(cal, ignore_index=True).round(3).to_string(index=False))
    checks = d_model_symmetry(rungs[0].frame)
    print(
        f"\nSymmetry of {D_MODEL} fitted on all {len(rungs[0].frame)} pairs (every bond of every class of the data, "
        "every ordered element pair; largest deviation in meV):"
    )
    print(checks.to_string(index=False, float_format=lambda x: f"{x:.2e}"))
    with atomic_path(out / f"symmetry-{rungs[0].dataset}-D.csv") as tmp:
        checks.to_csv(tmp, index=False)
    print(f"\nwritten to {out.resolve()}")
    return 0


def run(args: argparse.Namespace) -> int:
    """``jijtutorial benchmark``: write the table(s) (CSV, Markdown) and parity plots to ``--out``."""
    models = [m.strip() for m in args.models.split(",")] if args.models is not None else None
    if models is not None and not all(models):
        raise ValueError(f"--models: an empty name in {args.models!r}; give comma-separated model names.")
    for m in models or ():
        get_model(m)  # fail early with the list of names
    if models is not None and len(set(models)) != len(models):
        twice = next(m for m in models if models.count(m) > 1)
        raise ValueError(f"--models: {twice} is named twice; give each model once.")
    if args.folds < 2 or args.repeats < 1:
        raise ValueError(f"--folds must be at least 2 and --repeats at least 1 (got {args.folds} and {args.repeats}).")
    if not 0 <= args.test_size < 1:
        raise ValueError(f"--test-size must be a fraction in [0, 1) (0: no held-out set), not {args.test_size}.")
    if not 0 <= args.seed < 2**32 - 100:  # seed + repeat seeds scikit-learn's splitters
        raise ValueError(f"--seed must be a whole number from 0 to {2**32 - 101}, not {args.seed}.")
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be a positive number of parallel folds, not {args.jobs}.")
    out = output_folder(args.out)  # before any computation
    kw = dict(
        n_splits=args.folds,
        n_repeats=args.repeats,
        seed=args.seed,
        test_size=args.test_size,
        data_path=args.data_path,
        progress=not args.no_progress,
        out=out,
        plots=not args.no_plots,
        n_jobs=args.jobs,
    )
    if args.learning_curve and args.target != "J":
        raise ValueError(f"--learning-curve is for the target J; drop it with --target {args.target}.")
    if TARGETS[args.target].is_vector:
        return _run_d(args, models, kw, out)
    kw["target"] = args.target
    if args.protocol == "all":
        ladder = run_ladder(args.dataset, "all", models, **kw)
        for res in ladder.rungs.values():
            _print_rung(res)
        print(f"\n{ladder.dataset} data: the ladder\n")
        print(ladder_markdown(ladder))
        results = list(ladder.rungs.values())
        protocols = PROTOCOLS
    else:
        protocols = ("study", "grouped") if args.protocol == "both" else (args.protocol,)
        results = []
        for protocol in protocols:
            res = run_benchmark(args.dataset, protocol, models, **kw)
            results.append(res)
            _print_rung(res)
        if len(results) > 1:
            both = compare_protocols(*results)
            stem = f"{results[0].dataset}-both"
            with AtomicFileSet(out / f"manifest-{stem}.json") as fs:
                both.to_csv(fs.path(out / f"table-{stem}.csv"), index=False)
                fs.path(out / f"table-{stem}.md").write_text(table_markdown(both) + "\n")
    if args.learning_curve:
        from ._plots import learning_curve_plot

        for protocol in protocols:
            lc = learning_curve(
                args.dataset, protocol=protocol, data_path=args.data_path, progress=not args.no_progress, seed=args.seed
            )
            with atomic_path(out / f"learning-curve-{results[0].dataset}-{protocol}.csv") as tmp:
                lc.to_csv(tmp, index=False)
            if not args.no_plots:
                import matplotlib.pyplot as plt

                fig = learning_curve_plot(lc)
                with atomic_path(out / f"learning-curve-{results[0].dataset}-{protocol}.png") as tmp:
                    fig.savefig(tmp, dpi=120)
                plt.close(fig)
    print(f"\nwritten to {out.resolve()}")
    return 0
