"""The kernel ridge benchmark of the 2023 study, its leakage-free counterpart, and our model.

Models are named as in the study -- ``CM-KRR-lap-rcut-4.0`` is a Coulomb-matrix descriptor of
the pair's environment at r_cut = 4.0 Å with a Laplacian-kernel ridge regression -- plus
``SymPair-KRR`` (our pair-symmetric element kernel, :class:`jijtutorial.kernels.SymmetricPairKRR`)
and ``Mean-baseline`` (predict the mean J of the training rows).

Protocols
---------
``study``
    What the study did: the pairs are split at random. 5-fold x 3-repeat cross-validation
    over all N pairs (shuffled ``KFold``, seed ``seed + repeat``), as in the study's table
    (N = 1728); in each training fold the (gamma, alpha) grid is chosen by exact leave-one-out
    cross-validation inside that fold. Separately, a held-out test score: a random 80/20
    split, hyperparameters chosen on the 80 % by the same inner CV, scored on the 20 %.
    Because a symmetry-adapted descriptor gives (A, B) and (B, A) at one pair vector the
    *same* features, and their J agree to 1e-3 meV, a random split puts the answer of most
    test pairs into the training set.
``grouped``
    Every unordered element pair {A, B} -- both orders, all distances -- is one group
    (:func:`jijtutorial.datasets.element_pair_groups`); the cross-validation is a shuffled
    ``GroupKFold``, the inner selection an exact leave-one-group-out and the held-out test set
    20 % of the groups, so no twin is ever on both sides of any split. This measures
    what the models are for: predicting J of an element pair never computed.

Run it with :func:`run_benchmark` or ``jijtutorial benchmark``.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------------
# the study's figures (../shared/reference/README.md): CV averages and held-out test scores
# --------------------------------------------------------------------------------------------
STUDY_MODELS = (
    "CM-KRR-lin-rcut-4.0",
    "CM-KRR-lap-rcut-4.0",
    "CM-KRR-lap-rcut-7.6",
    "SOAP-KRR-lin-rcut-4.0",
    "SOAP-KRR-rbf-rcut-4.0",
)
#: name -> (mean t_train s, mean t_test s, MAE meV, R², test MAE meV, test R²); N = 1728.
STUDY_RESULTS = {
    "CM-KRR-lin-rcut-4.0": (1.44, 0.01, 1.56, -2.14, 1.15, -0.01),
    "CM-KRR-lap-rcut-4.0": (2.54, 0.04, 0.50, 0.54, 0.05, 0.99),
    "CM-KRR-lap-rcut-7.6": (54.1, 2.12, 0.53, 0.53, 0.05, 0.99),
    "SOAP-KRR-lin-rcut-4.0": (52.6, 0.83, 0.87, 0.01, 0.87, 0.01),
    "SOAP-KRR-rbf-rcut-4.0": (160.0, 0.90, 0.46, 0.73, 0.12, 0.96),
}
OUR_MODEL = "SymPair-KRR"
BASELINE = "Mean-baseline"
DEFAULT_MODELS = STUDY_MODELS + (OUR_MODEL, BASELINE)
PROTOCOLS = ("study", "grouped")

#: Hyperparameter grids (about 3 x 3, as in the study). Kernel widths gamma are in units of the
#: training rows' median pairwise distance (L1 for Laplacian, L2 for Gaussian kernels).
GAMMAS = {"laplacian": (2.0, 16.0, 128.0), "rbf": (2.0, 16.0, 128.0)}
ALPHAS = {"linear": (1e-3, 1e-1, 1e1, 1e3, 1e5), "laplacian": (1e-6, 1e-4, 1e-2), "rbf": (1e-6, 1e-4, 1e-2)}
#: Our model: the length (meV) of the learned element similarity and the ridge alpha.
OUR_GRID = {"profile_length": (4.0, 8.0, 16.0), "alpha": (1e-3, 1e-2, 1e-1)}

_KERNEL_ALIASES = {"lin": "linear", "lap": "laplacian", "rbf": "rbf", "gauss": "rbf"}
_NAME = re.compile(r"^(CM|SOAP)-K[RK]R-(lin|lap|rbf|gauss)-rcut-(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class ModelSpec:
    """A model of the benchmark: descriptor, kernel and hyperparameter grid."""

    name: str
    descriptor: str | None  # 'CM', 'SOAP' or None
    r_cut: float | None
    kernel: str  # 'linear', 'laplacian', 'rbf', 'pair' (ours), 'mean' (baseline)
    gammas: tuple = ()
    alphas: tuple = ()

    def make_descriptor(self, cache=True):
        from .descriptors import CoulombMatrixDescriptor, SOAPDescriptor

        if self.descriptor == "CM":
            return CoulombMatrixDescriptor(r_cut=self.r_cut, cache=cache)
        if self.descriptor == "SOAP":
            return SOAPDescriptor(r_cut=self.r_cut, cache=cache)
        return None

    def make_grid(self):
        from .kernels import GridKRR, GridSymmetricPairKRR

        if self.kernel == "pair":
            return GridSymmetricPairKRR({"profile_length": OUR_GRID["profile_length"]}, alphas=self.alphas)
        if self.kernel == "mean":
            return _MeanGrid()
        return GridKRR(self.kernel, self.gammas, self.alphas)

    def sklearn_search(self, cv, cache="memory"):
        """The same model as a plain scikit-learn ``GridSearchCV(Pipeline(descriptor, scaler, KRR))``."""
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline

        from .kernels import KERNEL_METRIC, DistanceScaler

        if self.descriptor is None:
            raise ValueError(f"{self.name} has no descriptor pipeline.")
        pipe = Pipeline([("desc", self.make_descriptor(cache)), ("scale", DistanceScaler(KERNEL_METRIC[self.kernel])),
                         ("krr", KernelRidge(kernel=self.kernel))])
        grid = {"krr__alpha": list(self.alphas)}
        if self.kernel != "linear":
            grid["krr__gamma"] = list(self.gammas)
        return GridSearchCV(pipe, grid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1)


def get_model(name: str) -> ModelSpec:
    """The model called ``name``: a study name like ``CM-KRR-lap-rcut-4.0``, ``SymPair-KRR`` or ``Mean-baseline``.

    Any ``CM|SOAP-KRR-lin|lap|rbf-rcut-<Å>`` is understood (``KKR`` as on the study's slide too).
    """
    if name == OUR_MODEL:
        return ModelSpec(name, None, None, "pair", (), OUR_GRID["alpha"])
    if name == BASELINE:
        return ModelSpec(name, None, None, "mean")
    m = _NAME.match(str(name))
    if not m:
        raise ValueError(
            f"unknown model {name!r}: use one of {', '.join(DEFAULT_MODELS)}, or a name of the form "
            f"CM|SOAP-KRR-lin|lap|rbf-rcut-<r_cut in Å> (e.g. SOAP-KRR-lap-rcut-5.0)."
        )
    desc, kern, rc = m.group(1), _KERNEL_ALIASES[m.group(2)], float(m.group(3))
    canonical = f"{desc}-KRR-{m.group(2) if m.group(2) != 'gauss' else 'rbf'}-rcut-{rc:.1f}"
    return ModelSpec(canonical, desc, rc, kern, GAMMAS.get(kern, ()), ALPHAS[kern])


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use 'study' (random splits, as the 2023 study) or "
                         f"'grouped' (one unordered element pair per fold).")
    return protocol


class _MeanGrid:
    """The baseline in the interface of :class:`jijtutorial.kernels.GridKRR`."""

    def prepare(self, X):
        return self

    def fit_fold(self, train_idx, y_train, groups_train=None):
        from .kernels import FoldFit

        m = float(np.mean(y_train))
        return FoldFit({}, float(np.mean(np.abs(y_train - m))), np.asarray(train_idx), np.array([m]), 1.0, np.zeros((1, 1)))

    def predict_fold(self, fit, test_idx):
        return np.full(len(test_idx), fit.coef[0])


# --------------------------------------------------------------------------------------------
# data and splits
# --------------------------------------------------------------------------------------------
def resolve_dataset(dataset="auto", path=None) -> pd.DataFrame:
    """A tidy frame: ``dataset`` itself if a DataFrame, else ``'jukkr'``, ``'model'`` or ``'auto'``.

    ``'auto'`` is the JuKKR table when it can be found, else the package's model data set; if
    neither exists the error says how to get one.
    """
    from . import datasets

    if isinstance(dataset, pd.DataFrame):
        return dataset.reset_index(drop=True)
    if dataset == "auto" and not datasets.jukkr_available(path):
        try:
            return datasets.load_model()
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f"no data set to benchmark: the JuKKR table is not available (download "
                f"{datasets.JUKKR_FILENAME} from Materials Cloud, doi:{datasets.JUKKR_DOI}, and set "
                f"{datasets.DATA_DIR_VARIABLE}) and the model data set could not be loaded ({err}); "
                f"generate it with `jijtutorial generate-model-data`"
            ) from None
    return datasets.load_dataset(dataset, path)


def holdout_split(frame: pd.DataFrame, protocol: str, test_size: float = 0.2, seed: int = 0):
    """Development and held-out test row positions; the grouped protocol holds out whole element pairs."""
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

    from .datasets import element_pair_groups

    check_protocol(protocol)
    n = len(frame)
    if test_size <= 0:
        return np.arange(n), np.array([], dtype=int)
    if protocol == "study":
        dev, test = next(ShuffleSplit(1, test_size=test_size, random_state=seed).split(np.zeros(n)))
    else:
        dev, test = next(GroupShuffleSplit(1, test_size=test_size, random_state=seed)
                         .split(np.zeros(n), groups=element_pair_groups(frame)))
    return np.sort(dev), np.sort(test)


def cv_splits(frame: pd.DataFrame, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0):
    """Outer splits ``[(repeat, fold, train_positions, test_positions)]`` of ``frame``'s rows.

    ``study``: shuffled ``KFold``; ``grouped``: shuffled ``GroupKFold`` over unordered element
    pairs. Repeat ``r`` shuffles with seed ``seed + r``.
    """
    from sklearn.model_selection import GroupKFold, KFold

    from .datasets import element_pair_groups

    check_protocol(protocol)
    n = len(frame)
    out = []
    for r in range(n_repeats):
        if protocol == "study":
            it = KFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n))
        else:
            it = GroupKFold(n_splits, shuffle=True, random_state=seed + r).split(
                np.zeros(n), groups=element_pair_groups(frame))
        for f, (tr, te) in enumerate(it):
            out.append((r, f, np.sort(tr), np.sort(te)))
    return out


# --------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------
def _r2(y, p) -> float:
    ss = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / ss if ss > 0 else float("nan")


@dataclass
class BenchmarkResult:
    """Everything one benchmark run produced (see :func:`run_benchmark`)."""

    protocol: str
    dataset: str
    table: pd.DataFrame  # one row per model, with the study's figures beside ours
    folds: pd.DataFrame  # one row per model, repeat and fold
    predictions: pd.DataFrame  # out-of-fold predictions: model, repeat, row, J, J_pred
    test_predictions: pd.DataFrame  # held-out test predictions: model, row, J, J_pred
    frame: pd.DataFrame = field(repr=False)
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def best_model(self) -> str:
        """The model with the lowest cross-validation MAE."""
        return str(self.table.loc[self.table["MAE"].idxmin(), "model"])

    def markdown(self, digits: int = 3) -> str:
        """The table as Markdown, and the best model's held-out score."""
        best = self.table.set_index("model").loc[self.best_model]
        return (f"{table_markdown(self.table, digits)}\n\nBest model by cross-validation: {self.best_model} "
                f"(CV MAE {best['MAE']:.3g} meV, R² {best['R2']:.3f}); on the held-out test set: "
                f"MAE {best['test_MAE']:.3g} meV, R² {best['test_R2']:.3f}.")

    def save(self, out, plots: bool = True) -> list[Path]:
        """Write table.csv/.md, folds.csv, predictions.csv and (``plots``) parity plots to ``out``."""
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

            from .benchmark_plots import parity_grid

            fig = parity_grid(self)
            files.append(out / f"parity-{stem}.png")
            fig.savefig(files[-1], dpi=120)
            plt.close(fig)
        return files


def describe_config(config: dict) -> str:
    c = config
    inner = "leave-one-out" if c.get("protocol") == "study" else "leave-one-group-out"
    return (f"{c.get('n_splits')}-fold x {c.get('n_repeats')}-repeat CV ({c.get('protocol')} protocol, seed "
            f"{c.get('seed')}) over all N = {c.get('n_rows')} pairs; hyperparameters chosen inside each training "
            f"fold by exact {inner} CV. Held-out test: a separate {c.get('protocol')} split, tuned on "
            f"{c.get('n_dev')} pairs, scored on the other {c.get('n_test')}. t_train, t_test: mean per fold; "
            f"t_prep: once per model (featurisation, distance matrix). MAE in meV, times in s.")


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
        number of CPUs, at most 4). Single-threaded BLAS per fold is much faster than threaded
        BLAS on a busy 2-core machine.

    Returns a :class:`BenchmarkResult`; ``result.table`` has per model the mean training and
    test time per fold (s), MAE (meV) and R² over the folds, the time spent once per model on
    featurisation and the distance matrix, the held-out test MAE and R², and the study's
    figures.
    """
    from .datasets import element_pair_groups

    t_start = time.perf_counter()
    check_protocol(protocol)
    specs = [get_model(m) for m in (models or DEFAULT_MODELS)]
    frame = resolve_dataset(dataset, data_path)
    name = frame.attrs.get("name", "custom") if not isinstance(dataset, str) else (
        frame.attrs.get("name", dataset))
    y_all = frame["J"].to_numpy(float)
    groups_all = element_pair_groups(frame)
    splits = cv_splits(frame, protocol, n_splits, n_repeats, seed)
    dev, test = holdout_split(frame, protocol, test_size, seed)
    config = dict(protocol=protocol, dataset=name, n_rows=len(frame), n_dev=len(dev), n_test=len(test),
                  n_splits=n_splits, n_repeats=n_repeats, seed=seed, test_size=test_size,
                  models=[s.name for s in specs], gammas=GAMMAS, alphas=ALPHAS, our_grid=OUR_GRID)
    bar = _progress(len(specs) * (len(splits) + 1), progress, f"{name}/{protocol}")
    rows, fold_rows, preds, test_preds = [], [], [], []
    shared: dict[str, dict] = {}
    n_jobs = _n_jobs(n_jobs)
    config["n_jobs"] = n_jobs
    with single_threaded_blas():
        for spec in specs:
            bar.set_postfix_str(spec.name)
            t0 = time.perf_counter()
            desc = spec.make_descriptor(cache)
            X = desc.fit_transform(frame) if desc is not None else frame
            grid = spec.make_grid()
            if desc is not None:  # models on one descriptor share its Gram/distance matrices
                grid.prepare(X, shared.setdefault(repr(desc), {}))
            else:
                grid.prepare(X)
            t_prep = time.perf_counter() - t0

            def one_task(task, grid=grid, spec=spec):
                r, f, tr, te = task
                inner = None if protocol == "study" else groups_all[tr]
                t1 = time.perf_counter()
                fit = grid.fit_fold(tr, y_all[tr], inner)
                t2 = time.perf_counter()
                p = grid.predict_fold(fit, te)
                t3 = time.perf_counter()
                yt = y_all[te]
                row = dict(model=spec.name, repeat=r, fold=f, n_train=len(tr), n_test=len(te),
                           MAE=float(np.mean(np.abs(p - yt))) if len(te) else np.nan,
                           R2=_r2(yt, p) if len(te) else np.nan, t_train=t2 - t1,
                           t_test=t3 - t2, inner_cv_MAE=fit.cv_mae, params=_fmt_params(fit.params))
                return te, p, row

            # the 15 CV folds, and the held-out task: tuned on the development set, scored on the test set
            tasks = list(splits) + ([("holdout", 0, dev, test)] if len(test) else [])
            oof: dict[int, np.ndarray] = {}
            model_rows = []
            test_mae = test_r2 = np.nan
            test_params = ""
            for te, p, row in _map(one_task, tasks, n_jobs, bar):
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
            study = STUDY_RESULTS.get(spec.name, (np.nan,) * 6)
            rows.append({
                "model": spec.name, "protocol": protocol,
                "t_train": fr["t_train"].mean(), "t_test": fr["t_test"].mean(), "t_prep": t_prep,
                "MAE": fr["MAE"].mean(), "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan,
                "R2": fr["R2"].mean(), "test_MAE": test_mae, "test_R2": test_r2, "test_params": test_params,
                "study_t_train": study[0], "study_t_test": study[1], "study_MAE": study[2], "study_R2": study[3],
                "study_test_MAE": study[4], "study_test_R2": study[5],
            })
    bar.close()
    table = pd.DataFrame(rows)
    result = BenchmarkResult(
        protocol=protocol, dataset=name, table=table, folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame, config=config, seconds=time.perf_counter() - t_start,
    )
    result.config["seconds"] = result.seconds
    if out is not None:
        result.save(out, plots=plots)
    return result


def _n_jobs(n_jobs: int | None) -> int:
    import os

    if n_jobs is None:
        n_jobs = min(4, os.cpu_count() or 1)
    return max(1, int(n_jobs))


def single_threaded_blas():
    """Context limiting BLAS/OpenMP to one thread (folds are parallel instead)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _map(fn, items, n_jobs: int, bar=None):
    """``map(fn, items)`` in ``n_jobs`` threads (numpy/LAPACK release the GIL), in order."""
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


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.items())


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, leave=False)


def table_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """The benchmark table as Markdown: ours beside the study's figures."""
    cols = [("model", "model"), ("protocol", "protocol"), ("t_train", "t_train"), ("t_test", "t_test"),
            ("t_prep", "t_prep"), ("MAE", "MAE"), ("R2", "R²"), ("test_MAE", "test MAE"), ("test_R2", "test R²"),
            ("study_t_train", "study t_train"), ("study_MAE", "study MAE"), ("study_R2", "study R²"),
            ("study_test_MAE", "study test MAE"), ("study_test_R2", "study test R²")]
    cols = [(c, h) for c, h in cols if c in table.columns]

    def fmt(v, c):
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "–"
        if c.startswith("t_") or c.endswith("t_train") or c.endswith("t_test"):
            return f"{v:.3g}" if c.startswith("study") else f"{v:.3f}"
        if c.startswith("study"):
            return f"{v:.2f}"  # the study's figures, as printed
        if "MAE" in c and abs(v) < 0.1:
            return f"{v:.{digits}g}"  # small couplings (the model data set): significant digits
        return f"{v:.{digits}f}"

    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(fmt(row[c], c) for c, _ in cols) + " |")
    return "\n".join(lines)


def compare_protocols(*results: BenchmarkResult) -> pd.DataFrame:
    """One table of several runs (e.g. the study and the grouped protocol)."""
    return pd.concat([r.table for r in results], ignore_index=True)


# --------------------------------------------------------------------------------------------
# reuse between notebooks, subsampling, and what random splits hide
# --------------------------------------------------------------------------------------------
def subsample_pairs(frame: pd.DataFrame, max_pairs: int | None, seed: int = 0) -> pd.DataFrame:
    """At most ``max_pairs`` rows: the nearest pair geometries, each with all its element pairs.

    Keeping whole geometries keeps every element pair's twin (A, B)/(B, A) and the 20 x 20
    structure of each shell, as in the JuKKR table. If even the nearest geometry is larger than
    ``max_pairs``, whole unordered element pairs of it are drawn at random (``seed``).
    """
    from .datasets import element_pair_groups

    if not max_pairs or len(frame) <= max_pairs:
        return frame
    geo = frame["geometry"].to_numpy() if "geometry" in frame.columns else np.round(frame["distance"], 2)
    order = pd.Series(frame["distance"].to_numpy()).groupby(geo).min().sort_values().index
    keep_geo, n = [], 0
    for g in order:
        size = int(np.sum(geo == g))
        if n + size > max_pairs:
            break
        keep_geo.append(g)
        n += size
    if keep_geo:
        mask = np.isin(geo, keep_geo)
        how = f"the {len(keep_geo)} nearest pair geometries"
    else:
        mask = geo == order[0]
        groups = element_pair_groups(frame)
        chosen, n = [], 0
        for g in np.random.default_rng(seed).permutation(np.unique(groups[mask])):
            size = int(np.sum(mask & (groups == g)))
            if n + size <= max_pairs:
                chosen.append(g)
                n += size
        mask &= np.isin(groups, chosen)
        how = f"random element pairs of the nearest geometry, seed {seed}"
    out = frame[mask].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    out.attrs["subsample"] = f"{len(out)} of {len(frame)} pairs: {how}"
    return out


def _frame_digest(frame: pd.DataFrame) -> str:
    import hashlib

    cols = [c for c in ("element_i", "element_j", "rx", "ry", "rz", "J", "moment_i", "moment_j") if c in frame.columns]
    h = hashlib.sha256(pd.util.hash_pandas_object(frame[cols].round(10), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def cached_benchmark(frame: pd.DataFrame, protocol: str = "study", models=None, **kwargs) -> BenchmarkResult:
    """:func:`run_benchmark`, reusing an earlier identical run from the cache folder.

    The key is the data (elements, vectors, J, moments), the protocol, models, CV settings and
    the package version; the result is pickled to ``$JIJTUTORIAL_CACHE_DIR/benchmark-<key>.pkl``
    (the notebooks "Kernel ridge benchmark" and "Results" share runs this way).
    """
    import hashlib
    import json
    import pickle

    from . import __version__
    from .featurecache import cache_dir, source_digest

    settings = {k: v for k, v in kwargs.items() if k not in ("progress", "out", "plots", "cache", "n_jobs")}
    key = hashlib.sha256(json.dumps({"data": _frame_digest(frame), "protocol": protocol,
                                     "models": list(models or DEFAULT_MODELS), "settings": settings,
                                     "grids": [GAMMAS, ALPHAS, OUR_GRID], "version": __version__,
                                     "source": source_digest()},
                                    sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = cache_dir() / f"benchmark-{key}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # unreadable: recompute
            pass
    result = run_benchmark(frame, protocol, models, **kwargs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh)
        tmp.replace(path)
    except OSError:
        pass
    return result


def twin_rows(frame: pd.DataFrame) -> np.ndarray:
    """Row of the twin of each row -- (B, A) at the same pair vector as (A, B) -- or -1 if none."""
    vec = frame[["rx", "ry", "rz"]].to_numpy(float).round(4) + 0.0
    key = {(a, b, tuple(v)): k for k, (a, b, v) in enumerate(zip(frame["element_i"], frame["element_j"], vec))}
    out = np.full(len(frame), -1)
    for k, (a, b, v) in enumerate(zip(frame["element_i"], frame["element_j"], vec)):
        if a != b:
            out[k] = key.get((b, a, tuple(v)), -1)
    return out


def leakage_breakdown(result: BenchmarkResult) -> pd.DataFrame:
    """Out-of-fold MAE per model, split by whether the test row's twin was in the training fold.

    Rebuilds the outer splits of ``result`` (same seed) and labels each test row: ``twin in
    training`` (its (B, A) partner was trained on), ``twin also in test`` or ``no twin``
    (A = B, or the partner is missing).
    """
    c = result.config
    frame = result.frame
    twin = twin_rows(frame)
    label = np.empty((c["n_repeats"], len(frame)), dtype=object)
    for r, f, tr, te in cv_splits(frame, result.protocol, c["n_splits"], c["n_repeats"], c["seed"]):
        in_train = np.zeros(len(frame), bool)
        in_train[tr] = True
        t = twin[te]
        label[r, te] = np.where(t < 0, "no twin", np.where(in_train[np.maximum(t, 0)], "twin in training",
                                                           "twin also in test"))
    p = result.predictions.copy()
    p["case"] = label[p["repeat"].to_numpy(), p["row"].to_numpy()]
    p["abs_error"] = (p["J_pred"] - p["J"]).abs()
    out = p.groupby(["model", "case"]).agg(MAE=("abs_error", "mean"), share=("abs_error", "size")).reset_index()
    out["share"] = out["share"] / out.groupby("model")["share"].transform("sum")
    return out.pivot(index="model", columns="case", values=["MAE", "share"]).reindex(
        [m for m in dict.fromkeys(result.table["model"])])


# --------------------------------------------------------------------------------------------
# learning curves
# --------------------------------------------------------------------------------------------
#: Learning curves: the study's best model, the best study model in our reproduction, and ours.
CURVE_MODELS = ("SOAP-KRR-rbf-rcut-4.0", "CM-KRR-lap-rcut-4.0", OUR_MODEL)


def learning_curve(dataset="auto", models=CURVE_MODELS, protocol: str = "grouped", *,
                   fractions=(0.1, 0.2, 0.35, 0.5, 0.75, 1.0), n_splits: int = 5, n_repeats: int = 1,
                   seed: int = 0, data_path=None, progress: bool = True, cache=True,
                   n_jobs: int | None = None) -> pd.DataFrame:
    """MAE on the test folds against the number of training pairs.

    Each training fold of the outer CV is subsampled (random rows for ``study``, whole element
    pairs for ``grouped``) to each fraction; hyperparameters are chosen inside the subsample.
    Returns one row per model, fraction, repeat and fold: ``model, fraction, n_train, MAE``.
    """
    from .datasets import element_pair_groups

    check_protocol(protocol)
    frame = resolve_dataset(dataset, data_path)
    y = frame["J"].to_numpy(float)
    groups = element_pair_groups(frame)
    splits = cv_splits(frame, protocol, n_splits, n_repeats, seed)
    rows = []
    bar = _progress(len(models) * len(splits) * len(fractions), progress, f"learning curve/{protocol}")
    with single_threaded_blas():
        for name in models:
            spec = get_model(name)
            desc = spec.make_descriptor(cache)
            grid = spec.make_grid().prepare(desc.fit_transform(frame) if desc is not None else frame)
            tasks = []
            for r, f, tr, te in splits:
                rng = np.random.default_rng(seed + 1000 * r + f)
                if protocol == "study":
                    order = rng.permutation(tr)
                else:
                    ug = rng.permutation(np.unique(groups[tr]))
                    rank = {g: i for i, g in enumerate(ug)}
                    order = tr[np.argsort([rank[g] for g in groups[tr]], kind="stable")]
                for frac in fractions:
                    tasks.append((r, f, frac, np.sort(order[: max(10, int(round(frac * len(tr))))]), te))

            def one(task, grid=grid, spec=spec):
                r, f, frac, sub, te = task
                fit = grid.fit_fold(sub, y[sub], None if protocol == "study" else groups[sub])
                p = grid.predict_fold(fit, te)
                return dict(model=spec.name, protocol=protocol, fraction=frac, n_train=len(sub), repeat=r,
                            fold=f, MAE=float(np.mean(np.abs(p - y[te]))), R2=_r2(y[te], p))

            rows.extend(_map(one, tasks, _n_jobs(n_jobs), bar))
    bar.close()
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the plain scikit-learn reference (for the speed comparison)
# --------------------------------------------------------------------------------------------
def sklearn_reference(dataset="auto", protocol: str = "study", models=STUDY_MODELS, *, n_splits: int = 5,
                      n_repeats: int = 3, seed: int = 0, data_path=None, progress: bool = True,
                      cache="memory", n_jobs: int | None = None) -> pd.DataFrame:
    """The study's CV table with plain ``GridSearchCV(Pipeline(descriptor, DistanceScaler, KernelRidge))``.

    Same outer splits and grids as :func:`run_benchmark`; inside each training fold
    GridSearchCV refits every grid cell on an inner 5-fold split (``KFold`` or ``GroupKFold``)
    and refits the best. Grid cells run in ``n_jobs`` threads with single-threaded BLAS, like
    :func:`run_benchmark`; the descriptor keeps its in-process cache, so featurisation is paid
    once, as there.
    """
    from joblib import parallel_backend
    from sklearn.model_selection import GroupKFold, KFold

    from .datasets import element_pair_groups

    check_protocol(protocol)
    frame = resolve_dataset(dataset, data_path)
    y_all = frame["J"].to_numpy(float)
    groups_all = element_pair_groups(frame)
    splits = cv_splits(frame, protocol, n_splits, n_repeats, seed)
    n_jobs = _n_jobs(n_jobs)
    rows = []
    bar = _progress(len(models) * len(splits), progress, f"sklearn/{protocol}")
    with single_threaded_blas(), parallel_backend("threading", n_jobs=n_jobs):
        for name in models:
            spec = get_model(name)
            res = []
            for r, f, tr, te in splits:
                if protocol == "study":
                    search = spec.sklearn_search(KFold(5, shuffle=True, random_state=seed), cache)
                    fit_kw = {}
                else:
                    search = spec.sklearn_search(GroupKFold(5), cache)
                    fit_kw = {"groups": groups_all[tr]}
                search.n_jobs = n_jobs
                t1 = time.perf_counter()
                search.fit(frame.iloc[tr], y_all[tr], **fit_kw)
                t2 = time.perf_counter()
                p = search.predict(frame.iloc[te])
                t3 = time.perf_counter()
                res.append((t2 - t1, t3 - t2, float(np.mean(np.abs(p - y_all[te]))), _r2(y_all[te], p)))
                bar.update()
            a = np.array(res)
            rows.append(dict(model=spec.name, protocol=protocol, t_train=a[:, 0].mean(), t_test=a[:, 1].mean(),
                             MAE=a[:, 2].mean(), R2=a[:, 3].mean()))
    bar.close()
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial benchmark``."""
    parser.add_argument("--dataset", default="auto", choices=("auto", "jukkr", "model"),
                        help="data set: the JuKKR table, the package's model data, or auto (JuKKR if found)")
    parser.add_argument("--data-path", default=None, help="file or folder of the data set (default: its usual place)")
    parser.add_argument("--protocol", default="both", choices=PROTOCOLS + ("both",),
                        help="study: random splits as in 2023; grouped: element pairs kept together; both")
    parser.add_argument("--out", default="benchmark-results", help="folder for the tables and plots")
    parser.add_argument("--models", default=None,
                        help=f"comma-separated model names (default: {','.join(DEFAULT_MODELS)})")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--learning-curve", action="store_true", help="also compute learning curves")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    """``jijtutorial benchmark``: write the table (CSV, Markdown) and parity plots to ``--out``."""
    models = [m.strip() for m in args.models.split(",")] if args.models else None
    for m in models or ():
        get_model(m)  # fail early with the list of names
    protocols = PROTOCOLS if args.protocol == "both" else (check_protocol(args.protocol),)
    results = []
    for protocol in protocols:
        res = run_benchmark(args.dataset, protocol, models, n_splits=args.folds, n_repeats=args.repeats,
                            seed=args.seed, test_size=args.test_size, data_path=args.data_path,
                            progress=not args.no_progress, out=args.out, plots=not args.no_plots)
        results.append(res)
        print(f"\n{res.dataset} data, {protocol} protocol ({res.seconds:.1f} s)")
        print(describe_config(res.config))
        print(res.markdown())
    out = Path(args.out)
    if len(results) > 1:
        both = compare_protocols(*results)
        stem = f"{results[0].dataset}-both"
        both.to_csv(out / f"table-{stem}.csv", index=False)
        (out / f"table-{stem}.md").write_text(table_markdown(both) + "\n")
    if args.learning_curve:
        from .benchmark_plots import learning_curve_plot

        for protocol in protocols:
            lc = learning_curve(args.dataset, protocol=protocol, data_path=args.data_path,
                                progress=not args.no_progress, seed=args.seed)
            lc.to_csv(out / f"learning-curve-{results[0].dataset}-{protocol}.csv", index=False)
            if not args.no_plots:
                import matplotlib.pyplot as plt

                fig = learning_curve_plot(lc)
                fig.savefig(out / f"learning-curve-{results[0].dataset}-{protocol}.png", dpi=120)
                plt.close(fig)
    print(f"\nwritten to {out.resolve()}")
    return 0
