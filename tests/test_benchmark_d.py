"""The benchmark of the target D: its models, the leakage guard derived from the target, the runs and the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toydata import d_frame

from jijtutorial import cli
from jijtutorial.benchmark import get_model, run_benchmark
from jijtutorial.benchmark._folds_d import ComponentFolds, EquivariantDFolds, MagnitudeFolds
from jijtutorial.kernels import EquivariantDGP, PairGP
from jijtutorial.targets import D


@pytest.fixture(scope="module")
def toy():
    f = d_frame(noise=0.3)
    f["moment_i"] = f["element_i"].map({"Sc": 0.0, "Cu": 0.0}).fillna(3.0)
    f["moment_j"] = f["element_j"].map({"Sc": 0.0, "Cu": 0.0}).fillna(3.0)
    return f


@pytest.mark.parametrize(
    "folds, estimator", [(EquivariantDFolds, EquivariantDGP), (ComponentFolds, PairGP), (MagnitudeFolds, PairGP)]
)
def test_d_models_never_see_the_test_rows_calculation(toy, folds, estimator, monkeypatch):
    """The columns the target D hides (Dx, Dy, Dz, D, J, the moments) never reach a model's predict."""
    seen = []
    original = estimator.predict

    def spy(self, X, *args, **kwargs):
        seen.append(set(X.columns))
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(estimator, "predict", spy)
    model = folds(alphas=(0.1,)).prepare(toy)
    tr, te = np.arange(0, len(toy), 2), np.arange(1, len(toy), 2)
    fit = model.fit_fold(tr, toy[["Dx", "Dy", "Dz"]].to_numpy()[tr])
    mean, sd = model.predict_fold(fit, te, return_std=True)
    assert mean.shape == sd.shape == (len(te), 3)
    assert seen and all(not (cols & set(D.hidden)) for cols in seen)


def test_d_run_scores_against_the_symmetrised_d(toy, tmp_path):
    res = run_benchmark(toy, "pairs", target="D", n_splits=2, n_repeats=1, test_size=0.0, progress=False, out=tmp_path, n_jobs=1)
    t = res.table.set_index("model")
    assert list(t.index) == ["EquivariantGP-D", "PairGP-xyz", "PairGP-|D|", "Mean-D"]
    assert {"MAE", "MAE_raw", "R2_Dx", "R2_Dy", "R2_Dz", "within_1sigma", "within_2sigma"} <= set(t.columns)
    # the toy D holds symmetry-forbidden noise: the equivariant model is scored closer to the symmetrised D
    assert t.loc["EquivariantGP-D", "MAE"] < t.loc["EquivariantGP-D", "MAE_raw"]
    assert t.loc["EquivariantGP-D", "MAE"] < t.loc["Mean-D", "MAE"]
    p = res.predictions
    assert {"Dx", "Dx_raw", "Dx_pred", "Dx_std"} <= set(p.columns)
    assert (tmp_path / "table-toy-D-pairs.csv").is_file() and (tmp_path / "predictions-toy-D-pairs.csv").is_file()
    # worker processes (as the ladder runs) give the same run
    proc = run_benchmark(
        toy, "pairs", target="D", n_splits=2, n_repeats=1, test_size=0.0, progress=False, n_jobs=2, processes=True
    )
    assert proc.config["processes"]
    pd.testing.assert_frame_equal(proc.predictions, res.predictions)
    scores = [c for c in res.table.columns if not c.startswith("t_")]
    pd.testing.assert_frame_equal(proc.table[scores], res.table[scores])


def test_models_of_j_and_d_are_not_mixed(toy):
    assert get_model("EquivariantGP-D").target == "D" and get_model("PairGP").target == "J"
    with pytest.raises(ValueError, match=r"models \['PairGP'\] predict J, not the target D"):
        run_benchmark(toy, "study", ["PairGP"], target="D", progress=False)
    with pytest.raises(ValueError, match="unknown target"):
        run_benchmark(toy, "study", target="K", progress=False)


def test_command_line_prints_the_d_table(toy, tmp_path, capsys):
    csv = tmp_path / "toy.csv"
    toy[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_csv(csv, index=False)
    rc = cli.main(
        [
            "benchmark",
            "--target",
            "D",
            "--dataset",
            "model",
            "--data-path",
            str(csv),
            "--protocol",
            "element",
            "--models",
            "EquivariantGP-D,Mean-D",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "| EquivariantGP-D | element |" in out and "±1σ" in out and "MAE vs raw D" in out
    assert (tmp_path / "out" / "table-model-D-element.csv").is_file()
