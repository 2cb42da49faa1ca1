"""The filled table: one row per ordered pair and geometry, the data's own values where computed, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toydata import ladder_frame

from jijtutorial import cli
from jijtutorial.geometry import bi_pair_vectors
from jijtutorial.jij_table import COLUMNS, MAX_TABLE_DISTANCE, bi_geometries, fit_table_model, predict_jij_table


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return ladder_frame()


@pytest.fixture(scope="module")
def model(toy):
    return fit_table_model(toy, "distance", alphas=(0.01, 0.03))


def test_geometries_cover_every_bi_vector_once():
    g = bi_geometries(13.2)
    n_vectors = len(bi_pair_vectors(13.2, "same")) + len(bi_pair_vectors(13.2, "other"))
    assert g["multiplicity"].sum() == n_vectors
    assert not g.duplicated(["geometry"]).any() and g["distance"].is_monotonic_increasing
    # one row per bond class: across the gap at 9.74 Å two classes share the layer and the distance
    assert g.duplicated(["sublattice_j", "layer", "distance"]).sum() == 2
    assert set(g.loc[g["distance"] == 9.74, "geometry"]) == {"across the vdW gap, 9.74 Å (1)", "across the vdW gap, 9.74 Å (2)"}
    assert g["distance"].iloc[0] == 4.38 and (g["distance"] <= 13.2).all()
    # the vector between two upper Bi sites and its opposite are one geometry (QL +k and -k merged)
    assert not g["layer"].str.contains(r"QL [+-]\d").any() and g["layer"].str.contains("QL ±1").any()
    assert g.loc[g["geometry"] == "across the vdW gap, 6.10 Å", "multiplicity"].item() == 1
    reps = g[["rx", "ry", "rz"]].to_numpy()
    assert np.allclose(np.linalg.norm(reps, axis=1), g["distance"], atol=5e-3)


def test_one_row_per_ordered_pair_and_geometry_with_its_source(toy, model):
    els = ["V", "Cr", "Fe", "Sc"]
    t = predict_jij_table(els, max_distance=9.0, model=model)
    geos = bi_geometries(9.0)
    assert list(t.columns) == list(COLUMNS)
    assert len(t) == len(els) ** 2 * len(geos)
    assert not t.duplicated(["element_i", "element_j", "geometry"]).any()
    data = t[t["source"] == "toy"]
    pred = t[t["source"] == "predicted"]
    assert len(data) + len(pred) == len(t)
    # every pair of these elements at the three toy geometries within 9 Å is copied from the data
    sub = toy[toy.element_i.isin(els) & toy.element_j.isin(els) & (toy.distance < 9.0)]
    assert len(data) == len(sub) == len(els) ** 2 * 3
    merged = data.merge(sub, on=["element_i", "element_j", "rx", "ry", "rz"], suffixes=("", "_data"))
    assert len(merged) == len(data)  # the data's own vector represents the geometry
    np.testing.assert_array_equal(merged["J"], merged["J_data"])
    np.testing.assert_array_equal(merged["Dx"], merged["Dx_data"])
    assert (data["J_std"] == 0).all() and (data["J_95"] == 0).all()
    assert (pred["J_std"] > 0).all() and (pred["J_95"] >= 2 * pred["J_std"] - 1e-12).all()
    # D of predicted rows: the equivariant model's, at the row's vector, with σ per component
    np.testing.assert_allclose(pred[["Dx", "Dy", "Dz"]].to_numpy(), model.d.predict(pred), atol=1e-12)
    assert pred[["Dx_std", "Dy_std", "Dz_std"]].notna().all().all() and (data[["Dx_std", "Dy_std", "Dz_std"]] == 0).all().all()
    assert np.allclose(pred["J"], pred["J_model"])
    # symmetric in the two impurities
    a = t.set_index(["element_i", "element_j", "geometry"])["J_model"].sort_index()
    b = t.set_index(["element_j", "element_i", "geometry"])["J_model"]
    b.index.names = a.index.names
    np.testing.assert_allclose(a.to_numpy(), b.reindex(a.index).to_numpy(), rtol=1e-10, atol=1e-12)
    assert not t["beyond_data"].any()
    far = predict_jij_table(["V"], max_distance=16.0, model=model)
    assert far.loc[far["distance"] > 13.16, "beyond_data"].all() and (far["source"] != "predicted").sum() == 4


def test_explicit_vectors(model):
    v = bi_pair_vectors(4.5, "same")[:2]
    t = predict_jij_table(["Mn", "Fe"], vectors=v, model=model)
    assert len(t) == 4 * 2 and (t["multiplicity"] == 1).all()
    assert t.groupby(["element_i", "element_j"])["J_model"].nunique().eq(1).all()  # two vectors, one geometry


def test_bad_input_names_the_argument(model):
    with pytest.raises(ValueError, match="unknown impurity element 'Bi' \\(argument elements\\)"):
        predict_jij_table(["Fe", "Bi"], 8.0, model=model)
    with pytest.raises(ValueError, match="max_distance must be a positive length"):
        predict_jij_table(["Fe"], -1.0, model=model)
    with pytest.raises(
        ValueError, match=f"beyond the longest cut-off of a filled table, MAX_TABLE_DISTANCE = {MAX_TABLE_DISTANCE:g} Å"
    ):
        predict_jij_table(["Fe"], 45.0, model=model)
    with pytest.raises(ValueError, match="max_distance = 3 Å: no Bi site that close"):
        predict_jij_table(["Fe"], 3.0, model=model)
    with pytest.raises(ValueError, match=r"argument vectors\[1\].*does not land on a Bi site"):
        predict_jij_table(["Fe"], vectors=[[-4.383, 0, 0], [1.0, 2.0, 3.0]], model=model)
    with pytest.raises(ValueError, match=r"vectors must be pair vectors \(rx, ry, rz\) in Å, shape \(n, 3\)"):
        predict_jij_table(["Fe"], vectors=[[1.0, 2.0]], model=model)


def test_command_line_writes_the_table(toy, tmp_path, capsys):
    csv = tmp_path / "model_jij.csv"
    toy[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_csv(csv, index=False)
    out = tmp_path / "tables" / "jij.csv"
    code = cli.main(
        [
            "jij-table",
            "--dataset",
            "model",
            "--data-path",
            str(csv),
            "--elements",
            "Mn,Fe",
            "--max-distance",
            "8",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    t = pd.read_csv(out)
    assert len(t) == 4 * len(bi_geometries(8.0)) and set(t["source"]) == {"engine", "predicted"}
    assert "written to" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--elements", "Fe,Xx"], "unknown impurity element 'Xx' (--elements)"),
        (["--elements", "Fe,Cr,Fe"], "--elements: Fe is named twice"),
        (["--max-distance", "-2"], "--max-distance must be a positive length"),
        (["--max-distance", "3"], "--max-distance = 3 Å: no Bi site that close"),
        (["--max-distance", "500"], "MAX_TABLE_DISTANCE"),
        (["--out", ""], "--out is empty"),
    ],
)
def test_command_line_checks_its_arguments_first(monkeypatch, capsys, tmp_path, args, message):
    from jijtutorial import jij_table

    def computed(*a, **k):
        raise AssertionError("the model was fitted before the arguments were checked")

    monkeypatch.setattr(jij_table, "fit_table_model", computed)
    assert cli.main(["jij-table", "--out", str(tmp_path / "t.csv"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_command_line_checks_the_output_file_before_computing(monkeypatch, capsys, tmp_path):
    from jijtutorial import jij_table

    monkeypatch.setattr(jij_table, "fit_table_model", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fitted")))
    assert cli.main(["jij-table", "--out", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert cli.main(["jij-table", "--out", str(a_file / "t.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_symlog_ticks_leave_the_linear_part_to_zero():
    import matplotlib

    matplotlib.use("Agg")
    from jijtutorial.plotting import figure, symlog_ticks

    fig, ax = figure()
    ax.plot([4, 13], [-25.0, 3.0])
    ax.set_yscale("symlog", linthresh=0.05)
    ticks = symlog_ticks(ax, 0.05)
    assert ticks == [-10.0, -1.0, -0.1, 0.0, 0.1, 1.0]  # nothing between -0.1 and 0.1 but 0: no labels on top of it
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["−10", "−1", "−0.1", "0", "0.1", "1"]


def test_rows_with_an_element_of_an_unseen_row_are_flagged_beyond_the_data():
    three_d = ladder_frame(elements=("V", "Cr", "Mn", "Fe", "Co", "Sc", "Cu", "Zn"))
    model = fit_table_model(three_d, "element", alphas=(0.01, 0.03))
    t = predict_jij_table(["Fe", "Ru"], max_distance=9.0, model=model)
    ru = (t.element_i == "Ru") | (t.element_j == "Ru")
    assert t.loc[ru, "beyond_data"].all()  # at 4.38 Å too: the data reach that far, but not that element's row
    assert not t.loc[~ru, "beyond_data"].any()
    assert (t.loc[ru, "J_std"] > 0).all() and (t.loc[ru, "source"] == "predicted").all()


def _killed_write(monkeypatch, after_bytes=20000):
    """Make DataFrame.to_csv write ``after_bytes`` of its text and then die as an interrupted process would."""
    original = pd.DataFrame.to_csv

    def dying(self, path=None, *args, **kwargs):
        text = original(self, None, *args, **kwargs)
        with open(path, "w") as fh:
            fh.write(text[:after_bytes])
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", dying)


def test_a_run_killed_while_writing_leaves_the_previous_table_whole(toy, tmp_path, monkeypatch, capsys):
    csv = tmp_path / "model_jij.csv"
    toy[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_csv(csv, index=False)
    out = tmp_path / "jij.csv"
    argv = [
        "jij-table",
        "--dataset",
        "model",
        "--data-path",
        str(csv),
        "--elements",
        "Mn,Fe,Cr",
        "--max-distance",
        "9",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    before = out.read_bytes()
    with monkeypatch.context() as m:
        _killed_write(m, after_bytes=len(before) // 3)
        assert cli.main(argv[:-4] + ["--max-distance", "12", "--out", str(out)]) == 130
    assert out.read_bytes() == before  # was: a third of the new table, parsing as a valid CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jij.csv", "model_jij.csv"]  # no temporary file left


def test_an_unusable_output_file_is_found_before_the_fit(monkeypatch, capsys, tmp_path):
    import os

    from jijtutorial import jij_table

    if not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    monkeypatch.setattr(jij_table, "fit_table_model", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fitted")))
    assert cli.main(["jij-table", "--out", "/proc/jij-table.csv"]) == 2  # os.access says yes to root; a write says no
    assert "--out /proc/jij-table.csv: cannot write in the folder /proc" in capsys.readouterr().err


def test_a_damaged_table_given_by_path_is_an_error_not_a_switch_to_the_model_data(jukkr_copy, tmp_path, capsys):
    text = jukkr_copy.read_text()
    jukkr_copy.write_text(text[: len(text) // 2])  # cut in the middle of a row: an interrupted download
    code = cli.main(["jij-table", "--data-path", str(jukkr_copy), "--elements", "Mn", "--out", str(tmp_path / "t.csv")])
    assert code == 2  # was: a warning, then J from the model data set (Mn-Mn at 4.38 Å: 0.034 meV, not -2.44) and 0
    err = capsys.readouterr().err
    assert str(jukkr_copy) in err and "model data" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.csv").exists()
