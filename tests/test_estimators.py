"""scikit-learn's estimator checks for every transformer and estimator of the package.

``DistanceScaler`` and ``SparseKRR`` take numeric arrays and pass all of scikit-learn's checks.
The descriptors, ``SymmetricPairKRR`` and ``PairGP`` take a *pair table* (a DataFrame with element symbols and a
pair vector), which scikit-learn cannot generate: they declare ``input_tags.two_d_array = False``,
so ``parametrize_with_checks`` runs only the checks that do not feed numeric arrays, and the checks
listed in :data:`TABLE_INPUT_CHECKS` are done below on pair tables instead.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from toydata import pair_frame

from jijtutorial.descriptors import CoulombMatrixDescriptor, SOAPDescriptor
from jijtutorial.kernels import DistanceScaler, PairGP, SparseKRR, SymmetricPairKRR

pytestmark = pytest.mark.usefixtures("private_cache")

ESTIMATORS = [
    DistanceScaler("l1"),
    DistanceScaler("l2"),
    SparseKRR(),
    CoulombMatrixDescriptor(cache=False),
    SOAPDescriptor(cache=False),
    SymmetricPairKRR(),
    PairGP(),
]

#: scikit-learn checks that feed numeric arrays as X: they cannot apply to a pair-table estimator,
#: and are replaced by the pair-table tests of this module (name -> reason / where it is tested).
TABLE_INPUT_CHECKS = {
    "check_fit2d_1sample": "numeric X; one-pair fit: test_pair_model_table_checks",
    "check_estimators_fit_returns_self": "numeric X; test_table_estimators_fit_returns_self",
    "check_fit_idempotent": "numeric X; test_table_estimators_are_idempotent_and_picklable",
    "check_estimators_pickle": "numeric X; test_table_estimators_are_idempotent_and_picklable",
    "check_methods_sample_order_invariance": "numeric X; test_table_estimators_row_order_and_subsets",
    "check_methods_subset_invariance": "numeric X; test_table_estimators_row_order_and_subsets",
    "check_estimators_nan_inf": "numeric X; test_pair_model_table_checks (NaN/inf J)",
    "check_estimators_empty_data_messages": "numeric X; test_pair_model_table_checks (empty table)",
    "check_fit_check_is_fitted": "numeric X; test_pair_model_table_checks (predict before fit)",
    "check_pipeline_consistency": "numeric X; test_descriptor_in_a_pipeline_and_grid_search",
}


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [e for e in ESTIMATORS if isinstance(e, (SymmetricPairKRR, PairGP, CoulombMatrixDescriptor, SOAPDescriptor))],
    ids=lambda e: type(e).__name__,
)
def test_table_estimators_skip_only_the_array_checks(estimator):
    """The array checks are really not run for pair-table estimators (so the tests below must cover them)."""
    from sklearn.utils.estimator_checks import _yield_all_checks

    run = {getattr(c, "func", c).__name__ for c in _yield_all_checks(estimator, legacy=True)}
    assert not run & set(TABLE_INPUT_CHECKS), run & set(TABLE_INPUT_CHECKS)
    assert estimator.__sklearn_tags__().input_tags.two_d_array is False


def _fit(est, frame):
    return est.fit(frame, frame["J"].to_numpy())


def _out(est, frame):
    return est.predict(frame) if hasattr(est, "predict") else est.transform(frame)


def _dense(x):
    return x.toarray() if hasattr(x, "toarray") else np.asarray(x)


TABLE_ESTIMATORS = [
    CoulombMatrixDescriptor(cache=False),
    SOAPDescriptor(cache=False, sparse=False),
    SymmetricPairKRR(alpha=1e-3),
    PairGP(alphas=(0.01, 0.1)),
]


@pytest.mark.parametrize("est", TABLE_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_table_estimators_fit_returns_self(est):
    est = clone(est)
    assert _fit(est, pair_frame()) is est


@pytest.mark.parametrize("est", TABLE_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_table_estimators_are_idempotent_and_picklable(est):
    frame = pair_frame()
    a = _fit(clone(est), frame)
    first = _dense(_out(a, frame))
    _fit(a, frame)
    np.testing.assert_allclose(_dense(_out(a, frame)), first, rtol=1e-10, atol=1e-12)
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(_dense(_out(b, frame)), first)


@pytest.mark.parametrize("est", TABLE_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_table_estimators_row_order_and_subsets(est):
    frame = pair_frame()
    fitted = _fit(clone(est), frame)
    full = _dense(_out(fitted, frame))
    order = np.random.default_rng(0).permutation(len(frame))
    np.testing.assert_allclose(_dense(_out(fitted, frame.iloc[order])), full[order], rtol=1e-10, atol=1e-12)
    half = np.arange(0, len(frame), 2)
    np.testing.assert_allclose(_dense(_out(fitted, frame.iloc[half])), full[half], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Model", [SymmetricPairKRR, PairGP])
def test_pair_model_table_checks(Model):
    frame = pair_frame()
    y = frame["J"].to_numpy()
    with pytest.raises(NotFittedError):
        Model().predict(frame)
    with pytest.raises(ValueError, match="no rows"):
        Model().fit(frame.iloc[:0], y[:0])
    for bad in (np.nan, np.inf):
        y_bad = y.copy()
        y_bad[5] = bad
        with pytest.raises(ValueError, match=r"y\[5\].*not a finite J"):
            Model().fit(frame, y_bad)
    with pytest.raises(ValueError, match="128 rows but y has 127"):
        Model().fit(frame, y[:-1])
    with pytest.raises(ValueError, match="needs column 'moment_i'"):
        Model().fit(frame.drop(columns="moment_i"), y)
    model = Model().fit(frame, y)
    unknown = frame.iloc[:3].copy()
    unknown.loc[unknown.index[1], "element_j"] = "Xx"
    with pytest.raises(ValueError, match="row 1, column 'element_j': unknown impurity element 'Xx'"):
        model.predict(unknown)
    with pytest.raises(ValueError, match="unknown impurity element 'Bi'"):
        Model().fit(frame.assign(element_i="Bi"), y)
    one = Model().fit(frame.iloc[:1], y[:1])  # one pair is enough to fit
    assert np.isfinite(one.predict(frame)).all()


def test_descriptor_in_a_pipeline_and_grid_search():
    frame = pair_frame()
    y = frame["J"].to_numpy()
    pipe = Pipeline(
        [
            ("desc", CoulombMatrixDescriptor(cache="memory")),
            ("scale", DistanceScaler("l1")),
            ("krr", KernelRidge(kernel="laplacian")),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"desc__r_cut": [3.5, 4.0], "krr__alpha": [1e-3, 1e-1], "krr__gamma": [0.5, 2.0]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    search.fit(frame, y)
    p1 = search.predict(frame)
    p2 = clone(search.best_estimator_).fit(frame, y).predict(frame)  # a clone refits to the same model
    np.testing.assert_allclose(p1, p2, rtol=1e-10)
    with pytest.raises(TypeError, match="pair table"):
        CoulombMatrixDescriptor().transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['rz'\]"):
        SOAPDescriptor().transform(frame.drop(columns="rz"))
    empty = CoulombMatrixDescriptor(cache=False).transform(frame.iloc[:0])
    assert empty.shape == (0, CoulombMatrixDescriptor().n_features)


def test_distance_scaler_rejects_bad_input():
    X = np.random.default_rng(0).normal(size=(20, 4))
    scaler = DistanceScaler().fit(X)
    with pytest.raises(ValueError, match="4 features"):
        scaler.transform(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        DistanceScaler().fit(np.where(X > 1.5, np.nan, X))
    with pytest.raises(ValueError, match="metric must be 'l1' or 'l2'"):
        DistanceScaler("cosine").fit(X)
    with pytest.raises(NotFittedError):
        DistanceScaler().transform(X)
    assert pd.Series(scaler.transform(X).ravel()).notna().all()
