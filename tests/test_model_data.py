"""The model data set: schema, geometry, physics of the rows, reproducibility, the committed file."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from jijtutorial import datasets, model_data
from jijtutorial.geometry import ALAT, locate_bi_site
from jijtutorial.greens import ti_model

SMALL = dict(elements=["Cr", "Fe", "Cu"], kmesh=6, n_points=24, max_distance=9.0, progress=False)


@pytest.fixture(scope="module")
def small():
    return model_data.generate_model_data(**SMALL)


def test_schema_and_tidy_frame(small):
    assert list(small.columns) == model_data.raw_order()
    tidy = datasets.tidy_frame(small, {}, source="model")
    assert len(tidy) == 9 * 3  # 3 × 3 ordered pairs × 3 orbits up to 9 Å
    assert set(tidy.sublattice_j) == {"same"}
    assert sorted(tidy.shell.unique()) == [1, 2, 3]


def test_rows_obey_the_physics(small):
    cu = (small.element_i == "Cu") | (small.element_j == "Cu")
    assert (small.loc[cu, ["J", "Dx", "Dy", "Dz"]] == 0).all().all()
    t = small[["Jxx", "Jyy", "Jzz"]].sum(axis=1) / 3
    assert np.allclose(t, small.J, rtol=1e-12, atol=0)
    ab = small[(small.element_i == "Cr") & (small.element_j == "Fe")].reset_index()
    ba = small[(small.element_i == "Fe") & (small.element_j == "Cr")].reset_index()
    assert np.allclose(ab.J, ba.J, rtol=1e-8)  # the model is inversion symmetric: (A,B,R) ≅ (B,A,R) up to D
    assert np.abs(small.J[~cu]).min() > 1e-3  # magnetic pairs couple (meV)


def test_parallel_is_identical_to_serial(small):
    par = model_data.generate_model_data(**SMALL, n_jobs=2, chunk_size=2)
    ser = model_data.generate_model_data(**SMALL, chunk_size=2)
    pd.testing.assert_frame_equal(par, ser, check_exact=True)
    pd.testing.assert_frame_equal(ser, small, check_exact=True)


def test_static_impurity_model_is_still_available(small):
    static = model_data.generate_model_data(**SMALL, impurity_model="static")
    assert list(static.columns) == model_data.raw_order("static") and "U_i" in static.columns
    assert static.attrs["provenance"]["impurity_model"] == "static"
    prov = small.attrs["provenance"]
    assert prov["impurity_model"] == "resonant" and list(small.columns) == model_data.raw_order("resonant")
    assert prov["resonant_parameters"] == {"gamma_eV": 0.3, "weight_eV2": 0.3, "d_count_rule": "divalent",
                                           "d_count_note": "N_d = group - 2 (divalent ion, atomic d^n s^2 count)"}
    cu = (static.element_i == "Cu") | (static.element_j == "Cu")
    assert (static.loc[cu, "J"] == 0).all() and not np.allclose(static.J[~cu], small.J[~cu])
    fe = small[small.element_i == "Fe"].iloc[0]
    assert (fe.n_up_i, fe.n_down_i) == pytest.approx(((6 + 3.386) / 2, (6 - 3.386) / 2))
    with pytest.raises(ValueError, match="impurity_model"):
        model_data.generate_model_data(**SMALL, impurity_model="kondo")


def test_vectors_are_one_per_orbit_and_include_the_jukkr_ones():
    vecs = model_data.model_vectors(ti_model(), 16.0)
    assert len(vecs) >= 10
    assert sum(v["multiplicity"] for v in vecs) == len(
        [1 for _ in __import__("jijtutorial.geometry", fromlist=["x"]).bi_pair_vectors(16.0, "same")])
    reps = np.array([v["vector"] for v in vecs])
    for p in np.array(model_data.JUKKR_SAME_SUBLATTICE_ALAT) * ALAT:
        assert np.linalg.norm(reps - p, axis=1).min() < 1e-3
    for v in reps:
        assert locate_bi_site(v).sublattice == "same"


def test_write_and_load(tmp_path):
    csv, pj = model_data.write_model_data(tmp_path, **SMALL)
    frame = datasets.load_model(csv)
    prov = frame.attrs["provenance"]
    assert prov["z2_index"] == 1 and prov["kmesh"] == [6, 6, 6]
    assert prov["csv_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    csv2, _ = model_data.write_model_data(tmp_path / "again", **SMALL)
    assert csv2.read_bytes() == csv.read_bytes()  # reproducible to the last digit


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown impurity element 'Xx'"):
        model_data.generate_model_data(**{**SMALL, "elements": ["Xx"]})
    with pytest.raises(ValueError, match="max_distance"):
        model_data.generate_model_data(**{**SMALL, "max_distance": 1.0})
    with pytest.raises(ValueError, match="kmesh"):
        model_data.generate_model_data(**{**SMALL, "kmesh": 0})


def test_committed_data_set():
    frame = datasets.load_model()
    prov = frame.attrs["provenance"]
    n_orbits = prov["n_vectors"]
    assert n_orbits >= 10 and len(frame) == 400 * n_orbits
    assert frame.groupby(["element_i", "element_j"]).size().eq(n_orbits).all()
    for p in np.array(model_data.JUKKR_SAME_SUBLATTICE_ALAT) * ALAT:
        assert (np.linalg.norm(frame[["rx", "ry", "rz"]].to_numpy() - p, axis=1) < 1e-3).sum() == 400
    nonmag = frame.moment_i.eq(0) | frame.moment_j.eq(0)
    assert frame.loc[nonmag, "J"].eq(0).all() and frame.loc[~nonmag, "J"].ne(0).all()
    path = datasets.model_path()
    assert prov["csv_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.stat().st_size < 3e6
    assert json.loads(path.with_suffix(".provenance.json").read_text())["z2_index"] == 1
    assert prov["impurity_model"] == "resonant" and list(frame.columns[-6:]) == model_data.raw_order("resonant")[-6:]


@pytest.mark.slow
def test_committed_file_is_what_the_generator_writes(tmp_path):
    """A change of the engine that moves any committed number (to the file's 10 digits) must come with the new file."""
    import pandas as pd

    csv, _ = model_data.write_model_data(tmp_path, progress=False)
    new, old = pd.read_csv(csv), pd.read_csv(datasets.model_path())
    assert list(new.columns) == list(old.columns) and len(new) == len(old)
    num = new.select_dtypes("number").columns
    pd.testing.assert_frame_equal(new.drop(columns=num), old.drop(columns=num))
    # the last of the file's 10 digits may differ with the BLAS kernels of another CPU, nothing more
    close = np.isclose(new[num].to_numpy(float), old[num].to_numpy(float), rtol=1e-8, atol=1e-15)
    assert close.all(), (
        f"jijtutorial/data/model_jij.csv is not what `jijtutorial generate-model-data --out jijtutorial/data` writes "
        f"with this code "
        f"({int((~close).sum())} numbers differ, e.g. column {num[np.argwhere(~close)[0][1]]!r}): regenerate it and "
        "say why the numbers moved")
