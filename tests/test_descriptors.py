"""Descriptors: invariances to 1e-8, twins map to the same features, sklearn composition, the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.transform import Rotation
from toydata import ordered_pairs

from jijtutorial import featurecache
from jijtutorial.datasets import tidy_frame
from jijtutorial.descriptors import CoulombMatrixDescriptor, SOAPDescriptor, environment, pair_environments
from jijtutorial.geometry import bi_pair_vectors

#: pair vectors (Å): in-plane nearest neighbours, across the vdW gap, other Bi layer of the same QL
VECTORS = [bi_pair_vectors(4.5, "same")[0], np.array([0.0, 0.0, 6.0966]), bi_pair_vectors(4.9, "other")[0]]
ELEMENTS = ["V", "Cr", "Mn", "Fe", "Mo", "Sc"]


pytestmark = pytest.mark.usefixtures("private_cache")


def synthetic_frame(elements=ELEMENTS, vectors=VECTORS[:2]) -> pd.DataFrame:
    """All ordered element pairs at the given vectors, with a smooth symmetric toy J."""
    frame = tidy_frame(
        ordered_pairs(elements, vectors, moments={e: 1.0 for e in elements}), {"name": "synthetic"}, source="synthetic"
    )
    frame["J"] = np.cos(frame["Z_i"] - frame["Z_j"]) * (frame["Z_i"] + frame["Z_j"]) / 50 / frame["distance"]
    return frame


def _close(a, b, tol=1e-8):
    """Equal to ``tol`` relative to the largest feature (CM eigenvalues reach ~1e4)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert np.max(np.abs(a - b)) <= tol * max(1.0, np.max(np.abs(a))), np.max(np.abs(a - b))


def _swap_rotate_translate(atoms, seed=0, reflect=False):
    """(B at j, A at i): swap atoms 0 and 1, shuffle host atoms, rotate, translate (and reflect)."""
    rng = np.random.default_rng(seed)
    perm = np.arange(len(atoms))
    perm[0], perm[1] = 1, 0
    perm[2:] = 2 + rng.permutation(len(atoms) - 2)
    out = atoms[perm]
    R = Rotation.random(random_state=seed).as_matrix()
    if reflect:
        R = R @ np.diag([1.0, 1.0, -1.0])
    out.positions = out.positions @ R.T + rng.normal(scale=5.0, size=3)
    return out


DESCRIPTORS = [
    CoulombMatrixDescriptor(r_cut=4.0, cache=False),
    CoulombMatrixDescriptor(r_cut=7.6, cache=False),
    SOAPDescriptor(r_cut=4.0, centres="pair", cache=False),
    SOAPDescriptor(r_cut=4.0, centres="impurities", cache=False),
    SOAPDescriptor(r_cut=4.0, centres="all", cache=False),
]


@pytest.mark.parametrize("desc", DESCRIPTORS, ids=lambda d: f"{type(d).__name__[:4]}-{d.r_cut}-{getattr(d, 'centres', '')}")
@pytest.mark.parametrize("vector", VECTORS, ids=["inplane", "gap", "sameQL"])
def test_swap_rotation_translation_invariance(desc, vector):
    atoms = desc.environment("Fe", "Mo", vector)
    f0 = desc.featurize_atoms(atoms)
    for seed, reflect in ((0, False), (1, True)):
        _close(f0, desc.featurize_atoms(_swap_rotate_translate(atoms, seed, reflect)))
    # and it does see the elements: swapping Fe for Co changes the features
    assert np.max(np.abs(f0 - desc.featurize_atoms(desc.environment("Co", "Mo", vector)))) > 1e-3


@pytest.mark.parametrize("centres", ["pair", "impurities"])
def test_soap_cluster_holds_every_atom_dscribe_uses(centres):
    # the trimmed cluster gives the spectra of the infinite crystal: a much larger cluster agrees
    desc = SOAPDescriptor(r_cut=4.0, centres=centres)
    for v in VECTORS[:2]:
        big = environment("Cr", "Ni", v, 4.0 + desc.padding + np.linalg.norm(v) / 2 + 3.0)
        _close(desc.featurize_atoms(desc.environment("Cr", "Ni", v)), desc.featurize_atoms(big), 1e-12)


@pytest.mark.parametrize("desc", DESCRIPTORS[:1] + DESCRIPTORS[2:3], ids=["CM", "SOAP"])
def test_twins_in_the_data_get_identical_features(desc):
    # (A, B) and (B, A) at the same vector are mirror/inversion images of each other in the host
    frame = synthetic_frame(["Cr", "Fe", "Mo"], VECTORS)
    X = desc.transform(frame)
    X = X.toarray() if hasattr(X, "toarray") else X
    key = {(a, b, g): k for k, (a, b, g) in enumerate(zip(frame["element_i"], frame["element_j"], frame["geometry"]))}
    for (a, b, g), k in key.items():
        _close(X[k], X[key[(b, a, g)]])
    # distinct geometries and distinct unordered pairs stay distinct
    assert len(np.unique(np.round(X / max(1.0, np.abs(X).max()), 9), axis=0)) == 6 * len(VECTORS)


def test_transformers_are_sklearn_estimators_and_tune_r_cut_in_a_grid_search():
    from sklearn.base import clone
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import Pipeline

    from jijtutorial.kernels import DistanceScaler

    frame = synthetic_frame()
    desc = CoulombMatrixDescriptor(r_cut=4.0)
    assert clone(desc).get_params() == desc.get_params()
    assert desc.fit(frame) is desc and desc.n_features_out_ == desc.transform(frame).shape[1]
    pipe = Pipeline(
        [("desc", CoulombMatrixDescriptor()), ("scale", DistanceScaler("l1")), ("krr", KernelRidge(kernel="laplacian"))]
    )
    search = GridSearchCV(
        pipe,
        {"desc__r_cut": [3.5, 4.0], "krr__gamma": [1.0, 4.0], "krr__alpha": [1e-3]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    search.fit(frame, frame["J"])
    assert search.best_params_["desc__r_cut"] in (3.5, 4.0)
    assert search.predict(frame).shape == (len(frame),)
    soap = SOAPDescriptor(n_max=2, l_max=1)
    X = soap.fit_transform(frame)
    assert X.shape == (len(frame), soap.n_features) and hasattr(X, "tocsr")
    assert isinstance(soap.set_params(sparse=False).transform(frame), np.ndarray)


def test_cache_memory_disk_and_subsets(monkeypatch, tmp_path):
    frame = synthetic_frame()
    desc = CoulombMatrixDescriptor(r_cut=4.0)
    X = desc.transform(frame)
    files = list((tmp_path / "cache").glob("features-CoulombMatrixDescriptor-*.npz"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(CoulombMatrixDescriptor, "_compute", boom)
    np.testing.assert_array_equal(desc.transform(frame.iloc[::-3]), X[::-3])  # memo, any subset
    featurecache.clear_memory_cache()
    np.testing.assert_array_equal(desc.transform(frame), X)  # from disk
    # another parameter set is another key
    with pytest.raises(AssertionError, match="recomputed"):
        CoulombMatrixDescriptor(r_cut=4.5).transform(frame)


def test_environments_and_clear_errors():
    frame = synthetic_frame(["Fe"], VECTORS[:1])
    (atoms,) = pair_environments(frame, 4.0)
    assert atoms.get_chemical_symbols()[:2] == ["Fe", "Fe"] and len(atoms) == 12
    with pytest.raises(TypeError, match="DataFrame"):
        CoulombMatrixDescriptor().transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="lacks column"):
        CoulombMatrixDescriptor().transform(frame.drop(columns="rx"))
    with pytest.raises(ValueError, match="r_cut"):
        CoulombMatrixDescriptor(r_cut=-1).transform(frame)
    with pytest.raises(ValueError, match="centres"):
        SOAPDescriptor(centres="middle").transform(frame)
    bad = frame.assign(element_i="Xx")
    with pytest.raises(ValueError, match="unknown impurity element"):
        CoulombMatrixDescriptor(cache=False).transform(bad)


def test_jukkr_twins_and_featurisation_of_all_pairs(jukkr):
    X = CoulombMatrixDescriptor(r_cut=4.0).transform(jukkr)
    assert X.shape == (1728, 14)
    key = {(a, b, g): k for k, (a, b, g) in enumerate(zip(jukkr["element_i"], jukkr["element_j"], jukkr["geometry"]))}
    twins = [(k, key[(b, a, g)]) for (a, b, g), k in key.items() if a != b and (b, a, g) in key]
    assert len(twins) == 2 * 762
    i, j = np.array(twins).T
    _close(X[i], X[j])


def test_cache_keys_change_with_the_source(monkeypatch):
    """A change of the descriptors' code (not only of the version) gives new cache keys (see also
    tests/test_featurecache.py, which edits the code itself)."""
    key = featurecache.parameter_key("CoulombMatrixDescriptor", {"r_cut": 4.0})
    assert key == featurecache.parameter_key("CoulombMatrixDescriptor", {"r_cut": 4.0})
    monkeypatch.setattr(featurecache._keys, "code_digest", lambda *roots, exclude=(): "0" * 16)
    assert featurecache.parameter_key("CoulombMatrixDescriptor", {"r_cut": 4.0}) != key
