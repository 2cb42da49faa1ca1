"""The model data set: schema, geometry, physics of the rows, reproducibility, the committed file."""

from __future__ import annotations

import hashlib
import inspect
import json

import numpy as np
import pandas as pd
import pytest

from jijtutorial import datasets, model_data
from jijtutorial.geometry import ALAT
from jijtutorial.greens.bi_pairs import JUKKR_VECTORS_ALAT, pair_geometries

SMALL = dict(elements=["Cr", "Fe", "Zn"], kmesh=4, n_poles=24, max_distance=6.2, progress=False)


@pytest.fixture(scope="module")
def small():
    return model_data.generate_model_data(**SMALL)


def test_schema_and_tidy_frame(small):
    assert list(small.columns) == model_data.raw_order()
    tidy = datasets.tidy_frame(small, {}, source="model")
    n_geo = len(pair_geometries(6.2))
    assert n_geo == 3 and len(tidy) == 9 * n_geo  # 4.38, 4.79, 6.10 Å
    assert set(tidy.sublattice_j) == {"same", "other"}
    assert sorted(tidy.model_shell.unique()) == [1, 2, 3]


def test_rows_obey_the_physics(small):
    zn = (small.element_i == "Zn") | (small.element_j == "Zn")
    assert (small.loc[zn, ["J", "Dx", "Dy", "Dz"]] == 0).all().all()  # a full d shell has no moment
    t = small[["Jxx", "Jyy", "Jzz"]].sum(axis=1) / 3
    assert np.allclose(t, small.J, rtol=1e-9, atol=1e-12)
    assert np.abs(small.J[~zn]).min() > 1e-4  # magnetic pairs couple (meV)
    # moments are the engine's own: an element's splitting is its own mean field, its moment in a pair moves only a
    # little with the partner (the occupations of the pair's d shells)
    cr = small[(small.element_i == "Cr") & ~zn]
    assert cr.delta_i.nunique() == 1 and cr.moment_i.iloc[0] > 1.0
    assert np.allclose(cr.moment_i, cr.moment_i.iloc[0], atol=0.1)
    # identical impurities on an inversion-centred bond: D = 0 (4.79 and 6.10 Å)
    same = small[(small.element_i == small.element_j) & (small.model_shell > 1) & ~zn]
    assert (same[["Dx", "Dy", "Dz"]].abs().max(axis=1) < 1e-6 * same.J.abs()).all()


def test_parallel_is_identical_to_serial(small):
    par = model_data.generate_model_data(**SMALL, n_jobs=2, chunk_size=2)
    pd.testing.assert_frame_equal(par, small, check_exact=True)


def test_write_and_load(tmp_path):
    csv, pj = model_data.write_model_data(tmp_path, **SMALL)
    frame = datasets.load_model(csv)
    prov = frame.attrs["provenance"]
    assert prov["z2_index"] == 1 and prov["settings"]["kmesh"] == 4
    assert prov["csv_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert set(prov["elements"]) == {"Cr", "Fe", "Zn"} and prov["elements"]["Zn"]["moment_muB"] == 0.0
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
    n_geo = prov["n_vectors"]
    assert n_geo == len(pair_geometries(13.2)) and len(frame) == 400 * n_geo
    assert frame.groupby(["element_i", "element_j"]).size().eq(n_geo).all()
    for p in np.array(JUKKR_VECTORS_ALAT) * ALAT:  # the JuKKR table's vectors, exactly
        assert (np.linalg.norm(frame[["rx", "ry", "rz"]].to_numpy() - p, axis=1) < 1e-3).sum() == 400
    assert {"other Bi layer, same QL, 4.79 Å", "same Bi layer, 7.59 Å"} <= set(frame.geometry)
    nonmag = frame.moment_i.eq(0) | frame.moment_j.eq(0)
    assert frame.loc[nonmag, "J"].eq(0).all()
    # no element's moment is copied from DFT: they are the provenance's self-consistent ones
    for s, e in prov["elements"].items():
        own = frame.loc[frame.element_i == s, "delta_i"]
        if e["delta_eV"] > 0:  # magnetic alone: its own splitting in every pair
            assert np.allclose(own, e["delta_eV"], rtol=1e-8)
        else:  # non-magnetic alone: only the small splitting a neighbour induces
            assert own.abs().max() < 0.5
    path = datasets.model_path()
    # the file the package ships is the one the generator writes by default
    assert path == datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME
    assert inspect.signature(model_data.write_model_data).parameters["out_dir"].default == datasets.PACKAGE_DATA_DIR
    assert prov["csv_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.stat().st_size < 3e6
    assert json.loads(path.with_suffix(".provenance.json").read_text())["z2_index"] == 1
    assert list(frame.columns[-4:]) == model_data.raw_order()[-4:]


@pytest.mark.slow
def test_committed_file_is_what_the_generator_writes(tmp_path):
    """A change of the engine that moves any committed number (to the file's 9 digits) must come with the new file."""
    csv, _ = model_data.write_model_data(tmp_path, progress=False, n_jobs=2)
    new, old = pd.read_csv(csv), pd.read_csv(datasets.model_path())
    assert list(new.columns) == list(old.columns) and len(new) == len(old)
    num = new.select_dtypes("number").columns
    pd.testing.assert_frame_equal(new.drop(columns=num), old.drop(columns=num))
    # the last digits may differ with the BLAS kernels of another CPU, nothing more
    close = np.isclose(new[num].to_numpy(float), old[num].to_numpy(float), rtol=1e-6, atol=1e-8)
    assert close.all(), (
        f"jijtutorial/data/model_jij.csv is not what `jijtutorial generate-model-data` writes with this code "
        f"({int((~close).sum())} numbers differ, e.g. column {num[np.argwhere(~close)[0][1]]!r}): regenerate it and "
        "say why the numbers moved"
    )
