"""The JuKKR loader: known properties of the table and a clear error for each kind of bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from jijtutorial import datasets
from jijtutorial.datasets import element_pair_groups, load_jukkr, tidy_frame
from jijtutorial.elements import IMPURITY_ELEMENTS


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
    assert set(jukkr["element_i"]) == set(IMPURITY_ELEMENTS)
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
        df.loc[5, "r"] = str(np.linalg.norm(df.loc[5, ["rx", "ry", "rz"]].astype(float)))  # consistent r

    _rewrite(jukkr_copy, edit)
    # frame row 5 is file line 7 (header, then rows from line 2)
    with pytest.raises(ValueError, match=r"line 7\).*does not land on a Bi site"):
        load_jukkr(jukkr_copy)


def test_header_only_and_garbage(tmp_path):
    f = tmp_path / datasets.JUKKR_FILENAME
    f.write_text(",".join(datasets.JUKKR_COLUMNS) + "\n")
    with pytest.raises(ValueError, match="no rows"):
        load_jukkr(f)


def _raw(**over):
    row = dict(
        element_i="Fe", element_j="Mn", rx=-4.383, ry=0.0, rz=0.0, J=1.0, Dx=0.1, Dy=0.0, Dz=0.0, moment_i=3.0, moment_j=4.0
    )
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


def test_model_data_ship_with_the_package_and_loading_never_runs_the_engine(tmp_path, monkeypatch):
    """The model data are package data; a missing file is an error saying what to do, never a computation."""
    import subprocess
    import sys

    assert datasets.PACKAGE_DATA_DIR.parent.name == "jijtutorial"  # inside the package, not the repository
    assert datasets.model_path() == datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME
    code = (
        "import sys, jijtutorial.datasets as d; d.load_model(); "
        "print(sorted(m for m in sys.modules if m.startswith(('jijtutorial.greens', 'jijtutorial.model_data'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    monkeypatch.setattr(datasets._model, "PACKAGE_DATA_DIR", tmp_path / "no-data")
    with pytest.raises(FileNotFoundError, match=r"model data set is missing.*Reinstall the package.*generate-model-data"):
        datasets.model_path()
    with pytest.raises(FileNotFoundError, match="model data set not found at"):
        datasets.load_model(tmp_path / "nowhere.csv")


# ------------------------------------------------------------------------------------------------
# Nothing lost, nothing silent: a small table in the JuKKR format (no download needed)
# ------------------------------------------------------------------------------------------------
NN = (-0.41851489357247, 0.0, 0.0)  # nearest in-plane neighbour, alat
GAP = (-0.41851489357247, 0.0, 0.5822211212787)  # across the van der Waals gap, 7.51 Å


def _jukkr_line(k, zi, zj, vec, J=0.5, mom=(3.0, 2.5), uuid=None):
    D = (0.01 * k, -0.02, 0.005)
    r = float(np.linalg.norm(vec))
    values = [
        2,
        uuid or f"00000000-0000-0000-0000-{k:012d}",
        zi,
        0,
        3,
        zj,
        1,
        3,
        0,
        1,
        zi,
        zj,
        J,
        float(np.linalg.norm(D)),
        *D,
        *vec,
        r,
        mom[0],
        mom[1],
        mom[0] + mom[1],
    ]
    return ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)


def _tiny_rows():
    """Ten distinct pairs: Fe/Mn/Cr combinations at two vectors."""
    rows = []
    for k, (zi, zj) in enumerate([(26, 25), (25, 26), (26, 26), (25, 25), (24, 26)]):
        rows.append(_jukkr_line(2 * k, zi, zj, NN, J=0.1 * k + 0.3))
        rows.append(_jukkr_line(2 * k + 1, zi, zj, GAP, J=-0.2 * k))
    return rows


def _write_table(tmp_path, lines):
    f = tmp_path / datasets.JUKKR_FILENAME
    f.write_text("\n".join([",".join(datasets.JUKKR_COLUMNS), *lines]) + "\n")
    return f


@pytest.fixture(autouse=True)
def _fresh_warnings():
    """Each test sees the once-per-file warnings afresh."""
    datasets._files._WARNED.clear()
    yield
    datasets._files._WARNED.clear()


def test_exact_duplicates_are_dropped_and_counted_with_their_lines(tmp_path):
    rows = _tiny_rows()
    again = rows[3].replace("-000000000003", "-000000000099")  # same numbers, another uuid
    f = _write_table(tmp_path, rows + [again, rows[0]])  # file lines 12 and 13
    with pytest.warns(
        datasets.DataFileWarning,
        match=r"2 exact duplicate row\(s\) were removed: "
        r"line 12 \(repeats line 5\), line 13 \(repeats line 2\)",
    ):
        frame = load_jukkr(f)
    assert len(frame) == 10 and frame.attrs["n_pairs"] == 10
    prov = frame.attrs["provenance"]
    assert prov["rows_in_file"] == 12 and prov["duplicates_removed"] == 2
    assert prov["duplicate_lines"] == [(12, 5), (13, 2)]
    assert load_jukkr(f, drop_duplicates=False).attrs["n_pairs"] == 12


@pytest.mark.parametrize(
    "change, what",
    [
        ({"J": 5.3}, r"J 0.3 vs 5.3"),  # J + 5 meV
        ({"mom": (3.0, 2.0)}, r"mom2 2.5 vs 2"),
    ],
    ids=["J", "moment"],
)
def test_conflicting_duplicates_raise_naming_both_lines(tmp_path, change, what):
    rows = _tiny_rows()
    conflicting = _jukkr_line(0, 26, 25, NN, **{"J": 0.3, **change})
    f = _write_table(tmp_path, rows + [conflicting])
    with pytest.raises(
        ValueError,
        match=rf"{f.name}: lines 2 and 12 hold the same pair \(Z_i=26, Z_j=25, .*\) "
        rf"with different values: {what}.*never dropped",
    ):
        load_jukkr(f)


def test_duplicated_header_column_raises(tmp_path):
    f = tmp_path / datasets.JUKKR_FILENAME
    lines = [",".join(datasets.JUKKR_COLUMNS) + ",J"] + [r + ",9.9" for r in _tiny_rows()]
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"header \(line 1\) names column 'J' twice \(fields 13 and 25\)"):
        load_jukkr(f)


def test_errors_name_the_files_own_line_after_duplicates_and_blank_lines(tmp_path):
    rows = _tiny_rows()
    bad_vector = _jukkr_line(50, 26, 24, (-0.40, 0.0, 0.0))  # no Bi site there
    # header, a blank line, 10 rows, an exact duplicate, two blank lines, the bad row
    f = _write_table(tmp_path, ["", *rows, rows[0], "", "", bad_vector])
    text = f.read_text().splitlines()
    assert text[15].startswith("2,00000000-0000-0000-0000-000000000050")  # file line 16
    with pytest.raises(ValueError, match=r"line 16\).*does not land on a Bi site"):
        load_jukkr(f)
    f.write_text(f.read_text().replace(bad_vector, bad_vector.replace(",0.5,", ",nan,", 1)))
    with pytest.raises(ValueError, match=r"line 16, column 'J'.*not a finite number"):
        load_jukkr(f)


def test_row_with_missing_or_extra_fields_names_its_line(tmp_path):
    rows = _tiny_rows()
    f = _write_table(tmp_path, rows[:4] + [rows[4].rsplit(",", 1)[0]] + rows[5:])
    with pytest.raises(ValueError, match=r"line 6 has 23 fields, the header \(line 1\) has 24"):
        load_jukkr(f)
    f = _write_table(tmp_path, rows[:2] + [rows[2] + ",1.0"] + rows[3:])
    with pytest.raises(ValueError, match=r"line 4 has 25 fields"):
        load_jukkr(f)


@pytest.mark.parametrize(
    "column, value, message",
    [
        (
            "r",
            "0.5",
            (
                r"line 3, column 'r': 0.5 alat, but \|\(rx, ry, rz\)\| = 0.71703288 alat "
                r"\(difference 0.217, tolerance 0.0001"
            ),
        ),
        ("D", "1.0", r"line 3, column 'D': 1 meV, but \|\(Dx, Dy, Dz\)\|"),
        ("tot_mom", "9.0", r"line 3, column 'tot_mom': 9 μB, but mom1 \+ mom2 = 5.5"),
    ],
    ids=["r", "D", "tot_mom"],
)
def test_stated_length_and_sums_are_checked(tmp_path, column, value, message):
    rows = _tiny_rows()
    fields = rows[1].split(",")
    fields[datasets.JUKKR_COLUMNS.index(column)] = value
    f = _write_table(tmp_path, [rows[0], ",".join(fields)] + rows[2:])
    with pytest.raises(ValueError, match=message):
        load_jukkr(f)


def test_r_within_tolerance_is_accepted(tmp_path):
    rows = _tiny_rows()
    fields = rows[1].split(",")
    k = datasets.JUKKR_COLUMNS.index("r")
    fields[k] = repr(float(fields[k]) + 0.5 * datasets.R_TOLERANCE)
    f = _write_table(tmp_path, [rows[0], ",".join(fields)] + rows[2:])
    with pytest.warns(datasets.DataFileWarning, match="not the published JuKKR table"):
        assert len(load_jukkr(f)) == 10


def test_another_file_than_the_published_one_warns_once_with_its_size(tmp_path):
    f = _write_table(tmp_path, _tiny_rows())
    with pytest.warns(
        datasets.DataFileWarning,
        match=rf"{f} is not the published JuKKR table: its sha256 is .*It has 10 data rows \(the "
        rf"published table 1730, 1728 unique pairs\); no rows were removed; 10 pairs remain",
    ):
        frame = load_jukkr(f)
    assert frame.attrs["n_pairs"] == 10 and not frame.attrs["provenance"]["sha256_matches_published"]
    assert "NOT the published table (sha256 differs): 10 rows in the file, 10 pairs, published 1730" in datasets.describe(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_jukkr(f)  # once per file


def test_empty_file_names_the_file(tmp_path):
    f = tmp_path / datasets.JUKKR_FILENAME
    f.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"{f}: the file is empty \(0 bytes\)"):
        load_jukkr(f)
    f.write_text("\n\n")
    with pytest.raises(ValueError, match=rf"{f}: the file holds only blank lines"):
        load_jukkr(f)
    f.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=rf"{f}: not a UTF-8 text file"):
        load_jukkr(f)


def _deny_reading(monkeypatch, target):
    """Reading ``target`` fails as it does for a file without read permission (tests may run as root)."""
    import pathlib

    original = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.resolve() == target.resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)


def test_unreadable_file_gives_a_clear_message(tmp_path, monkeypatch):
    f = _write_table(tmp_path, _tiny_rows())
    _deny_reading(monkeypatch, f)
    with pytest.raises(PermissionError, match=rf"{f}: permission denied, the file cannot be read. Make it readable"):
        load_jukkr(f)


@pytest.mark.parametrize("damage", ["unreadable", "empty", "unparsable"])
def test_auto_falls_back_to_the_model_data_saying_why(tmp_path, monkeypatch, damage):
    f = _write_table(tmp_path, _tiny_rows())
    if damage == "unreadable":
        _deny_reading(monkeypatch, f)
        why = "permission denied"
    elif damage == "empty":
        f.write_bytes(b"")
        why = r"the file is empty \(0 bytes\)"
    else:
        f.write_text(f.read_text().replace(",0.3,", ",zero point three,", 1))
        why = r"line 2, column 'J'"
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(tmp_path))
    if damage != "unparsable":
        with pytest.warns(datasets.DataFileWarning, match=rf"JuKKR table exists but cannot be used: .*{why}"):
            assert not datasets.jukkr_available()
    with pytest.warns(datasets.DataFileWarning, match=rf"JuKKR table cannot be loaded: .*{why}.*model data set instead"):
        frame = datasets.load_dataset("auto")
    assert frame.attrs["name"] == "model"


def test_auto_with_neither_data_set_says_both_reasons(tmp_path, monkeypatch):
    f = _write_table(tmp_path, _tiny_rows())
    f.write_bytes(b"")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / datasets.MODEL_FILENAME).write_bytes(b"")
    monkeypatch.setattr(datasets._model, "PACKAGE_DATA_DIR", tmp_path / "m")
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(tmp_path))
    with (
        pytest.warns(datasets.DataFileWarning),
        pytest.raises(
            FileNotFoundError,
            match=r"no data set can be loaded. JuKKR table: .*empty.* Model data set: .*model_jij.csv: "
            r"the file is empty.*generate-model-data",
        ),
    ):
        datasets.load_dataset("auto")


@pytest.mark.parametrize("damage", ["unparsable", "empty", "missing"])
def test_auto_with_an_explicit_path_never_switches_to_other_data(tmp_path, damage):
    """A file the user named is loaded or refused; the package's model data never stand in for it silently."""
    f = _write_table(tmp_path, _tiny_rows())
    if damage == "unparsable":
        f.write_text(f.read_text().replace(",0.3,", ",zero point three,", 1))
        error, why = ValueError, rf"{f}: line 2, column 'J'"
    elif damage == "empty":
        f.write_bytes(b"")
        error, why = ValueError, rf"{f}: the file is empty"
    else:
        f.unlink()
        error, why = FileNotFoundError, rf"{f}: no such file"
    with warnings.catch_warnings():
        warnings.simplefilter("error", datasets.DataFileWarning)  # no fallback, no warning about one
        with pytest.raises(error, match=why):
            datasets.load_dataset("auto", f)
        if damage != "missing":
            with pytest.raises(error, match=why):
                datasets.load_dataset("auto", tmp_path)  # the folder holding it


def test_auto_with_an_explicit_path_loads_that_file_whichever_data_set_it_is(tmp_path):
    jukkr = _write_table(tmp_path, _tiny_rows())
    assert datasets.load_dataset("auto", jukkr).attrs["path"] == str(jukkr)
    model = tmp_path / "m" / datasets.MODEL_FILENAME
    model.parent.mkdir()
    lines = (datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME).read_text().splitlines()
    model.write_text("\n".join(lines[:41]) + "\n")  # the user's own (smaller) model data set
    frame = datasets.load_dataset("auto", model)
    assert frame.attrs["name"] == "model" and frame.attrs["path"] == str(model) and len(frame) == 40


@pytest.mark.parametrize("copy", ["exact", "conflicting"])
def test_model_csv_with_a_repeated_pair_is_refused_naming_both_lines(tmp_path, copy):
    lines = (datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME).read_text().splitlines()
    extra = lines[5].split(",")
    if copy == "conflicting":
        extra[lines[0].split(",").index("J")] = "9.99"
    f = tmp_path / datasets.MODEL_FILENAME
    f.write_text("\n".join(lines + [",".join(extra)]) + "\n")
    what = "repeats it exactly" if copy == "exact" else "gives it other values in J"
    header = lines[0].split(",")
    pair = f"{extra[header.index('element_i')]}-{extra[header.index('element_j')]}"
    with pytest.raises(
        ValueError,
        match=rf"{f}: lines 6 and {len(lines) + 1} hold the same pair \({pair}, .*\): "
        rf"line {len(lines) + 1} {what}",
    ):
        datasets.load_model(f)


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_with_another_separator_is_named_as_such(tmp_path, sep, name):
    lines = (datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME).read_text().splitlines()[:5]
    f = tmp_path / datasets.MODEL_FILENAME
    f.write_text("\n".join(line.replace(",", sep) for line in lines) + "\n")
    with pytest.raises(ValueError, match=rf"{f}: line 1: the header is separated by {name}, not commas"):
        datasets.load_model(f)
    j = _write_table(tmp_path, _tiny_rows())
    j.write_text(j.read_text().replace(",", sep))
    with pytest.raises(ValueError, match=rf"{j}: line 1: the header is separated by {name}"):
        load_jukkr(j)
    with pytest.raises(ValueError, match=rf"separated by {name}"):
        datasets.load_dataset("auto", j)


def test_model_csv_edited_after_generation_warns(tmp_path):
    import shutil

    src = datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME
    dst = tmp_path / datasets.MODEL_FILENAME
    shutil.copy(src, dst)
    shutil.copy(src.with_suffix(".provenance.json"), dst.with_suffix(".provenance.json"))
    frame = datasets.load_model(dst)
    assert frame.attrs["path"] == str(dst) and frame.attrs["provenance"]["sha256_matches_provenance"]
    lines = dst.read_text().splitlines()
    dst.write_text("\n".join(lines[:101]) + "\n")
    with pytest.warns(
        datasets.DataFileWarning,
        match=r"is not the file its provenance .* describes.*it has 100 rows "
        r"\(recorded: 10400\)",
    ):
        frame = datasets.load_model(dst)
    assert frame.attrs["n_pairs"] == 100
    dst.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"{dst}: the file is empty"):
        datasets.load_model(dst)


# --- the same cases on the published table ------------------------------------------------------
def test_published_table_line_numbers_and_conflicts(jukkr_copy):
    lines = jukkr_copy.read_text().splitlines()
    fields = lines[50].split(",")  # file line 51
    fields[datasets.JUKKR_COLUMNS.index("rx")] = "-0.40"
    fields[datasets.JUKKR_COLUMNS.index("r")] = "0.40"
    jukkr_copy.write_text("\n".join(lines[:50] + [",".join(fields)] + lines[51:]) + "\n")
    with pytest.raises(ValueError, match=r"line 51\).*does not land on a Bi site"):
        load_jukkr(jukkr_copy)
    # a second row with J + 5 meV is not an exact duplicate
    extra = lines[10].split(",")
    extra[datasets.JUKKR_COLUMNS.index("J")] = repr(float(extra[datasets.JUKKR_COLUMNS.index("J")]) + 5.0)
    jukkr_copy.write_text("\n".join(lines + [",".join(extra)]) + "\n")
    with pytest.raises(ValueError, match=r"lines 11 and 1732 hold the same pair"):
        load_jukkr(jukkr_copy)


@pytest.mark.parametrize("kind", ["first-100-rows", "repeated-20-times"])
def test_published_table_subsets_and_repeats_warn_with_their_real_size(jukkr_copy, kind):
    lines = jukkr_copy.read_text().splitlines()
    body = lines[1:101] if kind == "first-100-rows" else lines[1:] * 20
    jukkr_copy.write_text("\n".join([lines[0], *body]) + "\n")
    n_rows = len(body)
    with pytest.warns(datasets.DataFileWarning, match=rf"not the published JuKKR table.*It has {n_rows} data rows"):
        frame = load_jukkr(jukkr_copy)
    expected = 99 if kind == "first-100-rows" else 1728  # the first 100 rows hold the duplicate of line 2
    assert len(frame) == frame.attrs["n_pairs"] == expected
    assert frame.attrs["provenance"]["duplicates_removed"] == n_rows - expected


@pytest.mark.parametrize("state", ["missing", "damaged"])
def test_a_fallback_the_user_did_not_ask_for_is_said_on_the_page(tmp_path, monkeypatch, state):
    """$JIJTUTORIAL_DATA_DIR set but its table missing or damaged: the model data stand in, and the
    chapter's data notice (not only a warning on stderr) says that the JuKKR table was asked for and why."""
    f = _write_table(tmp_path, _tiny_rows())
    if state == "missing":
        f.unlink()
    else:
        f.write_text(f.read_text().replace(",0.3,", ",zero point three,", 1))
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.warns(datasets.DataFileWarning, match="model data set instead"):
        frame = datasets.load_dataset("auto")
    notice = datasets.data_notice(frame)
    assert frame.attrs["name"] == "model"
    assert f"The JuKKR table was asked for ({datasets.DATA_DIR_VARIABLE} is set) but cannot be used" in notice
    assert ("does not exist" if state == "missing" else "line 2, column 'J'") in notice


def test_no_fallback_notice_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_VARIABLE, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", datasets.DataFileWarning)
        frame = datasets.load_dataset("auto")
    assert "fallback" not in frame.attrs
    assert datasets.data_notice(frame).startswith("The JuKKR table is not available on this machine")
