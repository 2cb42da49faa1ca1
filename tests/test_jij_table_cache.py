"""The filled table's models on disk: read back only for the same data, arguments and code; never wrong data."""

from __future__ import annotations

import pickle
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toydata import ladder_frame

from jijtutorial import cli, featurecache, jij_table
from jijtutorial.featurecache import CacheWarning, save_cached_object
from jijtutorial.jij_table import TableModel, fit_table_model, predict_jij_table
from jijtutorial.kernels import EquivariantDGP, PairGP

#: A small table (6 elements at three geometries and 3 at a far one: 117 pairs) and a one-point grid: a fit takes seconds.
ELEMENTS = ("V", "Cr", "Mn", "Fe", "Sc", "Cu")
ARGS = dict(selection="distance", alphas=(0.01,))
QUERY = dict(elements=["V", "Fe", "Cu", "Mo"], max_distance=9.0)  # Mo: an element the data never saw


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return ladder_frame(elements=ELEMENTS)


@pytest.fixture(scope="module")
def uncached(toy) -> pd.DataFrame:
    """The filled table of a fit that never touched a cache."""
    return predict_jij_table(**QUERY, model=fit_table_model(toy, cache=False, **ARGS))


@pytest.fixture
def fits(monkeypatch):
    """Counts the fits of PairGP and EquivariantDGP (they still run)."""
    count = {"J": 0, "D": 0}
    for name, cls in (("J", PairGP), ("D", EquivariantDGP)):
        original = cls.fit

        def counted(self, *a, _original=original, _name=name, **k):
            count[_name] += 1
            return _original(self, *a, **k)

        monkeypatch.setattr(cls, "fit", counted)
    return count


def _no_fit(monkeypatch):
    def refit(self, *a, **k):
        raise AssertionError(f"{type(self).__name__} was fitted again")

    monkeypatch.setattr(PairGP, "fit", refit)
    monkeypatch.setattr(EquivariantDGP, "fit", refit)


def _stored() -> list[Path]:
    return sorted(featurecache.cache_dir().glob("table-model-*.pkl"))


def test_a_second_call_reads_the_models_back_without_fitting(private_cache, toy, uncached, monkeypatch):
    first = fit_table_model(toy, **ARGS)
    assert len(_stored()) == 1
    with monkeypatch.context() as m:
        _no_fit(m)
        second = fit_table_model(toy, **ARGS)
        again = predict_jij_table(**QUERY, model=second)
    assert isinstance(second, TableModel) and second.j is not first.j and second.frame is not None
    # identical to the first call and to a fit that never saw the cache, to the last bit
    pd.testing.assert_frame_equal(again, predict_jij_table(**QUERY, model=first), check_exact=True)
    pd.testing.assert_frame_equal(again, uncached, check_exact=True)
    assert second.j.params_ == first.j.params_ and second.j.interval95_ == first.j.interval95_


def test_predict_jij_table_uses_the_store_and_cache_false_does_not(private_cache, toy, fits, monkeypatch):
    table = predict_jij_table(["Fe", "Cr"], 8.0, data=toy)
    assert fits == {"J": 1, "D": 1} and len(_stored()) == 1
    pd.testing.assert_frame_equal(predict_jij_table(["Fe", "Cr"], 8.0, data=toy), table, check_exact=True)
    assert fits == {"J": 1, "D": 1}  # read back
    pd.testing.assert_frame_equal(predict_jij_table(["Fe", "Cr"], 8.0, data=toy, cache=False), table, check_exact=True)
    assert fits == {"J": 2, "D": 2} and len(_stored()) == 1  # fitted, nothing stored


def test_the_frame_is_the_callers_own(private_cache, toy, monkeypatch):
    fit_table_model(toy, **ARGS)
    renamed = toy.copy()
    renamed.attrs = {**toy.attrs, "name": "jukkr"}  # attrs never enter a fit: the same models ...
    _no_fit(monkeypatch)
    model = fit_table_model(renamed, **ARGS)
    assert model.frame.attrs["name"] == "jukkr"  # ... and the caller's frame, not the one stored with them
    t = predict_jij_table(**QUERY, model=model)
    assert set(t["source"]) == {"JuKKR", "predicted"}


@pytest.mark.parametrize(
    "change",
    [
        "a value of J",
        "a value of D",
        "a moment",
        "the row order",
        "a column more",
        "selection",
        "a parameter of PairGP",
    ],
)
def test_other_data_or_arguments_miss(private_cache, toy, fits, change):
    fit_table_model(toy, **ARGS)
    assert fits["J"] == 1
    data, args = toy.copy(), dict(ARGS)
    if change == "a value of J":
        data.loc[5, "J"] += 1e-12  # one ulp-scale change: the key is exact, not rounded
    elif change == "a value of D":
        data.loc[7, "Dx"] = 0.5
    elif change == "a moment":
        data.loc[0, "moment_i"] *= 1.01
    elif change == "the row order":
        data = data.iloc[::-1].reset_index(drop=True)
    elif change == "a column more":
        data["sigma"] = 0.1
    elif change == "selection":
        args["selection"] = "element"
    else:
        args["alphas"] = (0.03,)
    fit_table_model(data, **args)
    assert fits["J"] == 2 and len(_stored()) == 2


def test_the_key_follows_prior_params_code_and_versions(toy, monkeypatch):
    from jijtutorial.jij_table import _table_model_key

    base = _table_model_key(toy, "distance", False, {})
    assert _table_model_key(toy.copy(), "distance", False, {}) == base  # the values, not the object
    assert _table_model_key(toy, "distance", True, {}) != base
    assert _table_model_key(toy, "distance", False, {"alphas": (0.01,)}) != base
    assert _table_model_key(toy, "distance", False, {"alphas": np.array([0.01])}) == _table_model_key(
        toy, "distance", False, {"alphas": [0.01]}
    )
    assert _table_model_key(toy, "distance", False, {"alphas": object()}) is None  # no exact key: not stored
    monkeypatch.setattr(featurecache, "code_digest", lambda *a, **k: "edited code")
    assert _table_model_key(toy, "distance", False, {}) != base
    monkeypatch.undo()
    import sklearn

    monkeypatch.setattr(sklearn, "__version__", "0.0")
    assert _table_model_key(toy, "distance", False, {}) != base


def test_the_code_digest_covers_the_fit_path():
    from jijtutorial.featurecache import code_files
    from jijtutorial.jij_table import NOT_FIT_CODE, TABLE_MODEL_CODE

    names = {str(p.relative_to(Path(jij_table.__file__).parent)) for p in code_files(*TABLE_MODEL_CODE, exclude=NOT_FIT_CODE)}
    for f in (
        "jij_table.py",
        "kernels/_pair_gp.py",
        "kernels/_equivariant_d.py",
        "kernels/_pair_kernel.py",
        "kernels/_sigma_calibration.py",
        "prior_model.py",
        "engine_prior.py",
        "greens/engine.py",
        "geometry/_bonds.py",
        "targets.py",
        "protocols.py",
    ):
        assert f in names, f
    assert not any(n.startswith("benchmark/") or n in ("plotting.py", "tables.py") for n in names)


def _truncate(path: Path, other: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path, other: Path) -> None:
    path.write_bytes(b"not a pickle at all\n" * 10)


def _foreign_pickle(path: Path, other: Path) -> None:
    path.write_bytes(pickle.dumps({"J": [1.0, 2.0]}))


def _wrong_type(path: Path, other: Path) -> None:
    key = pickle.loads(path.read_bytes())["key"]
    save_cached_object(path, pd.DataFrame({"J": [1.0]}), key=key)  # the right key, not a TableModel


def _other_key(path: Path, other: Path) -> None:
    path.write_bytes(other.read_bytes())  # the models of other data, renamed to this key


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_truncate, "it cannot be read (UnpicklingError"),
        (_garbage, "it cannot be read"),
        (_foreign_pickle, "it is not a jijtutorial cache file"),
        (_wrong_type, "it holds a DataFrame, not a TableModel"),
        (_other_key, "it holds key"),
    ],
    ids=["truncated", "garbage", "foreign pickle", "wrong type", "other key"],
)
def test_a_damaged_or_foreign_file_is_refitted_with_a_warning(private_cache, toy, uncached, fits, damage, reason):
    other = toy.copy()
    other["J"] *= 2.0
    fit_table_model(other, **ARGS)
    other_file = _stored()[0]
    fit_table_model(toy, **ARGS)
    (path,) = [p for p in _stored() if p != other_file]
    damage(path, other_file)
    assert fits["J"] == 2
    with pytest.warns(CacheWarning, match=re.escape(f"cache file {path} is unusable: {reason}")):
        model = fit_table_model(toy, **ARGS)
    assert fits["J"] == 3  # refitted ...
    pd.testing.assert_frame_equal(predict_jij_table(**QUERY, model=model), uncached, check_exact=True)
    back = fit_table_model(toy, **ARGS)  # ... and the file replaced: read back now
    assert fits["J"] == 3
    pd.testing.assert_frame_equal(predict_jij_table(**QUERY, model=back), uncached, check_exact=True)


def test_a_file_of_other_data_under_the_same_key_is_not_used(private_cache, toy, uncached, fits, monkeypatch):
    """Even a key that does not tell two frames apart (a digest collision, forced here) cannot return the other's models."""
    monkeypatch.setattr(jij_table, "_frame_digest", lambda frame: "the same for every frame")
    other = toy.copy()
    other["J"] *= 2.0
    fit_table_model(other, **ARGS)
    with pytest.warns(CacheWarning, match="its models were fitted on other data"):
        model = fit_table_model(toy, **ARGS)
    assert fits["J"] == 2
    pd.testing.assert_frame_equal(predict_jij_table(**QUERY, model=model), uncached, check_exact=True)


def test_an_unwritable_cache_folder_warns_and_the_fit_goes_on(tmp_path, monkeypatch, toy, uncached):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(featurecache.CACHE_VARIABLE, str(blocked / "cache"))
    with pytest.warns(CacheWarning, match="cannot write the cache file"):
        model = fit_table_model(toy, **ARGS)
    pd.testing.assert_frame_equal(predict_jij_table(**QUERY, model=model), uncached, check_exact=True)


def test_concurrent_callers_fit_once_and_read_the_same_models(private_cache, toy, uncached, fits):
    out, errors = [None, None], []

    def call(k):
        try:
            out[k] = predict_jij_table(**QUERY, model=fit_table_model(toy, **ARGS))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=call, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fits["J"] == 1  # the second waited for the first's file (a lock between processes and threads)
    for t in out:
        pd.testing.assert_frame_equal(t, uncached, check_exact=True)
    assert len(_stored()) == 1 and not list(featurecache.cache_dir().glob(".*tmp*"))


def test_command_line_no_cache(private_cache, toy, tmp_path, fits):
    csv = tmp_path / "model_jij.csv"
    toy[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_csv(csv, index=False)
    argv = ["jij-table", "--dataset", "model", "--data-path", str(csv), "--elements", "Mn,Fe", "--max-distance", "8"]
    assert cli.main([*argv, "--out", str(tmp_path / "a.csv"), "--no-cache"]) == 0
    assert fits["J"] == 1 and _stored() == []
    assert cli.main([*argv, "--out", str(tmp_path / "b.csv")]) == 0
    assert cli.main([*argv, "--out", str(tmp_path / "c.csv")]) == 0
    assert fits["J"] == 2 and len(_stored()) == 1
    a, b, c = (pd.read_csv(tmp_path / f"{n}.csv") for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(b, c)
