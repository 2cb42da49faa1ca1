"""What a benchmark run gives: :class:`BenchmarkResult` (one protocol) and :class:`LadderResult` (several).

Both write their tables, predictions and figures as one atomic set of files with a manifest
(:meth:`BenchmarkResult.save`); both describe themselves as Markdown through :mod:`._report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocols import PROTOCOLS, Protocol, get_protocol
from ..targets import get_target


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

        if get_target(self.target).is_vector:
            return d_table_markdown([self], digits)
        best = self.table.set_index("model").loc[self.best_model]
        text = (
            f"{table_markdown(self.table, digits)}\n\nBest model by cross-validation: {self.best_model} "
            f"(CV MAE {best['MAE']:.3g} meV, R² {best['R2']:.3f})"
        )
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
        files = [out / f"table-{stem}.csv", out / f"table-{stem}.md", out / f"folds-{stem}.csv", out / f"predictions-{stem}.csv"]
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
            fs.path(files[1]).write_text(
                f"# Benchmark: {self.dataset} data, {self.protocol} protocol\n\n"
                f"{describe_config(self.config)}\n\n{self.markdown()}\n"
            )
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

        if get_target(self.target).is_vector:
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
