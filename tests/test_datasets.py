"""The JuKKR loader: known properties of the table and a clear error for each kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jijtutorial import datasets
from jijtutorial.datasets import element_pair_groups, load_jukkr, tidy_frame


def test_size_and_duplicates(jukkr):
    assert len(jukkr) == 1728
    prov = jukkr.attrs["provenance"]
    assert prov["rows_in_file"] == 1730 and prov["duplicates_removed"] == 2
    assert prov["sha256_matches_published"]


def test_known_values_of_the_table(jukkr):
    # Figures stated in the data README.
    assert (jukkr["J"].abs() < 1e-3).sum() == 646
    assert jukkr["J"].min() == pytest.approx(-22.9, abs=0.05)
    assert jukkr["J"].max() == pytest.approx(20.5, abs=0.05)
    assert jukkr["J"].std() == pytest.approx(2.70, abs=0.01)
    assert (jukkr["J"] - jukkr["J"].mean()).abs().mean() == pytest.approx(0.91, abs=0.01)
    distances = np.unique(jukkr["distance"].round(2))
    np.testing.assert_allclose(distances, [4.38, 6.10, 7.51, 7.83, 8.77, 10.47, 10.68, 11.76, 12.17, 13.15])


def test_units_and_tidy_columns(jukkr):
    assert list(jukkr.columns[: len(datasets.TIDY_COLUMNS)]) == list(datasets.TIDY_COLUMNS)
    # Vectors are in Å: nearest in-plane neighbour at a = 4.383 Å, D is the norm of (Dx, Dy, Dz).
    first = jukkr[jukkr["shell"].eq(1) & jukkr["sublattice_j"].eq("same")]
    np.testing.assert_allclose(first["distance"], 4.383, atol=1e-3)
    np.testing.assert_allclose(jukkr["D"], np.linalg.norm(jukkr[["Dx", "Dy", "Dz"]], axis=1))
    assert set(jukkr["element_i"]) == set(datasets.IMPURITY_ELEMENTS)
    assert "H = -sum" in jukkr.attrs["convention"] and "CC BY 4.0" in jukkr.attrs["licence"]
    text = datasets.describe(jukkr)
    assert "1728" in text and "10.24435/materialscloud:c9-9x" in text


def test_geometry_labels(jukkr):
    counts = jukkr.groupby("geometry").size()
    assert counts["same Bi layer, 4.38 Å"] == 400
    assert counts["across the vdW gap, 6.10 Å"] == 400
    assert counts["same Bi layer, 8.77 Å"] == 400
    assert counts["across the vdW gap, 7.51 Å"] == 399


def test_groups_keep_both_orders_together(jukkr):
    groups = element_pair_groups(jukkr)
    assert len(np.unique(groups)) == 210  # 20 * 21 / 2 unordered element pairs
    for g in np.unique(groups):
        rows = jukkr[groups == g]
        pairs = {frozenset((a, b)) for a, b in zip(rows["element_i"], rows["element_j"])}
        assert len(pairs) == 1
    swapped = jukkr.rename(columns={"Z_i": "Z_j", "Z_j": "Z_i"})
    np.testing.assert_array_equal(element_pair_groups(swapped), groups)


def test_swapped_pairs_have_nearly_equal_J(jukkr):
    key = ["element_i", "element_j", "geometry"]
    a = jukkr.set_index(key)["J"]
    b = jukkr.rename(columns={"element_i": "element_j", "element_j": "element_i"}).set_index(key)["J"]
    both = a.index.intersection(b.index)
    diff = (a[both] - b[both]).abs()
    assert diff.median() < 1e-3 and diff.max() < 3.0


def test_missing_file_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_VARIABLE, raising=False)
    with pytest.raises(FileNotFoundError, match="JIJTUTORIAL_DATA_DIR.*materialscloud"):
        load_jukkr()
    with pytest.raises(FileNotFoundError, match=str(tmp_path / datasets.JUKKR_FILENAME)):
        load_jukkr(tmp_path)
    assert not datasets.jukkr_available(tmp_path)


def test_environment_variable_is_used(jukkr_copy, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(jukkr_copy.parent))
    assert len(load_jukkr()) == 1728


def _rewrite(path, edit):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(df)
    df.to_csv(path, index=False)


def test_missing_column_is_named(jukkr_copy):
    def edit(df):
        df.columns = ["D_z" if c == "Dz" else c for c in df.columns]

    _rewrite(jukkr_copy, edit)
    with pytest.raises(ValueError, match=r"column\(s\) \['Dz'\] missing"):
        load_jukkr(jukkr_copy)


@pytest.mark.parametrize("value", ["nan", "", "abc", "inf"])
def test_bad_number_names_line_and_column(jukkr_copy, value):
    def edit(df):
        df.loc[41, "J"] = value

    _rewrite(jukkr_copy, edit)
    with pytest.raises(ValueError, match=r"line 43, column 'J'.*not a finite number"):
        load_jukkr(jukkr_copy)


def test_unknown_element_is_named(jukkr_copy):
    def edit(df):
        df.loc[9, ["Z_i", "imp0"]] = "26.5"
        df.loc[10, ["Z_j", "imp1"]] = "83"

    _rewrite(jukkr_copy, edit)
    with pytest.raises(ValueError, match=r"line 11, column 'Z_i': unknown element Z=26.5"):
        load_jukkr(jukkr_copy)


def test_vector_off_a_bi_site_is_named(jukkr_copy):
    def edit(df):
        df.loc[5, "rx"] = str(float(df.loc[5, "rx"]) + 0.05)

    _rewrite(jukkr_copy, edit)
    with pytest.raises(ValueError, match=r"row 5\).*does not land on a Bi site"):
        load_jukkr(jukkr_copy)


def test_header_only_and_garbage(tmp_path):
    f = tmp_path / datasets.JUKKR_FILENAME
    f.write_text(",".join(datasets.JUKKR_COLUMNS) + "\n")
    with pytest.raises(ValueError, match="no rows"):
        load_jukkr(f)


def _raw(**over):
    row = dict(element_i="Fe", element_j="Mn", rx=-4.383, ry=0.0, rz=0.0, J=1.0, Dx=0.1, Dy=0.0, Dz=0.0,
               moment_i=3.0, moment_j=4.0)
    row.update(over)
    return pd.DataFrame([row])


def test_tidy_frame_derives_columns():
    f = tidy_frame(_raw(), {"name": "t"})
    assert f.loc[0, "Z_i"] == 26 and f.loc[0, "shell"] == 1 and f.loc[0, "sublattice_j"] == "same"
    assert f.loc[0, "geometry"] == "same Bi layer, 4.38 Å"
    assert f.attrs["name"] == "t"


@pytest.mark.parametrize(
    "over, message",
    [
        (dict(element_j="Xx"), r"row 0, column 'element_j': unknown element 'Xx'"),
        (dict(element_i="Bi"), r"unknown element 'Bi'"),
        (dict(J=float("nan")), r"row 0, column 'J'"),
        (dict(rx=-4.0), r"does not land on a Bi site"),
        (dict(rx=0.0), r"zero length"),
    ],
)
def test_tidy_frame_rejects_bad_rows(over, message):
    with pytest.raises(ValueError, match=message):
        tidy_frame(_raw(**over), {}, source="mine.csv")


def test_load_dataset_names():
    with pytest.raises(ValueError, match="unknown data set 'foo'"):
        datasets.load_dataset("foo")


def test_model_data_falls_back_to_the_cache(tmp_path, monkeypatch):
    """Without the repository's data/ (a wheel, Colab) the model data come from the user cache."""
    import shutil

    shipped = datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(shipped, cache / datasets.MODEL_FILENAME)
    monkeypatch.setattr(datasets, "PACKAGE_DATA_DIR", tmp_path / "no-data")
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(cache))
    assert datasets.model_path() == cache / datasets.MODEL_FILENAME
    (cache / datasets.MODEL_FILENAME).unlink()
    with pytest.raises(FileNotFoundError, match="jijtutorial generate-model-data"):
        datasets.model_path(generate_if_missing=False)
    with pytest.raises(FileNotFoundError, match="model data set not found at"):
        datasets.load_model(tmp_path / "nowhere.csv")
