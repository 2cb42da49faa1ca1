"""The feature cache under concurrency and damaged files, and the pickled-object cache."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jijtutorial import featurecache
from jijtutorial.datasets import load_model
from jijtutorial.descriptors import CoulombMatrixDescriptor


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """10400 pairs (20 x 20 elements x 26 geometries) of the model data set."""
    return load_model()[["element_i", "element_j", "rx", "ry", "rz"]]


@pytest.fixture(scope="module")
def serial(frame) -> np.ndarray:
    """The features of every pair, computed in one call without any cache."""
    return CoulombMatrixDescriptor(r_cut=4.0, cache=False).transform(frame)


def _slow_compute(monkeypatch, delay=0.005):
    """Make featurisation slow (and release the GIL), as dscribe does on real workloads."""
    original = CoulombMatrixDescriptor._compute

    def slow(self, *args):
        time.sleep(delay)
        return original(self, *args)

    monkeypatch.setattr(CoulombMatrixDescriptor, "_compute", slow)


def _no_compute(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(CoulombMatrixDescriptor, "_compute", boom)


def _cache_file() -> Path:
    (path,) = featurecache.cache_dir().glob("features-CoulombMatrixDescriptor-*.npz")
    return path


# ------------------------------------------------------------------------------------------------
# threads
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["memory", True])
def test_threads_sharing_one_cache_get_the_serial_features(frame, serial, private_cache, monkeypatch, mode):
    _slow_compute(monkeypatch)
    n = len(frame)
    rng = np.random.default_rng(7)
    subsets = [
        np.arange(n),  # everything
        np.arange(0, n, 2),  # every other row
        np.arange(1, n, 2),  # the complement
        np.arange(n // 3, 2 * n // 3),  # a block overlapping all of the above
        rng.permutation(n)[: n // 2],  # random halves, in random order
        rng.permutation(n)[: n // 2],
        np.repeat(np.arange(0, n, 7), 2),  # repeated rows
        rng.permutation(n),
    ]

    def work(k, rows, barrier, results, errors):
        try:
            desc = CoulombMatrixDescriptor(r_cut=4.0, cache=mode)
            barrier.wait()
            # several smaller calls per thread, so look-ups interleave with other threads' insertions
            parts = [desc.transform(frame.iloc[chunk]) for chunk in np.array_split(rows, 4)]
            results[k] = np.vstack(parts)
        except Exception as err:  # noqa: BLE001 - reported in the main thread
            errors.append(err)

    for trial in range(3):
        featurecache.clear_memory_cache()
        barrier = threading.Barrier(len(subsets))
        results: dict[int, np.ndarray] = {}
        errors: list[Exception] = []
        threads = [threading.Thread(target=work, args=(k, rows, barrier, results, errors)) for k, rows in enumerate(subsets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        for k, rows in enumerate(subsets):
            wrong = int((results[k] != serial[rows]).any(axis=1).sum())
            assert wrong == 0, f"trial {trial}, thread {k}: {wrong} of {len(rows)} rows differ from the serial features"
        # and the cache stays right afterwards
        table = next(iter(featurecache._store._MEMO.values()))
        assert len(table) == n and len(table.index) == n and table.matrix.shape == serial.shape
        np.testing.assert_array_equal(CoulombMatrixDescriptor(r_cut=4.0, cache=mode).transform(frame), serial)


def test_feature_table_add_is_one_atomic_swap():
    """A reader never sees keys whose rows are missing, nor a key count that disagrees with the matrix."""
    table = featurecache.FeatureTable()
    stop = threading.Event()
    seen: list[str] = []

    def reader():
        while not stop.is_set():
            keys, index, matrix = table._state
            if matrix is not None and not (len(keys) == len(index) == matrix.shape[0]):
                seen.append(f"{len(keys)} keys, {len(index)} index entries, {matrix.shape[0]} rows")

    t = threading.Thread(target=reader)
    t.start()
    try:
        for block in range(200):
            keys = [f"Fe|Fe|{block}.{k:06d}|0.000000|0.000000" for k in range(50)]
            table.add(keys, np.full((50, 3), float(block)))
    finally:
        stop.set()
        t.join()
    assert not seen, seen[:3]
    assert len(table) == 200 * 50
    np.testing.assert_array_equal(table.take(["Fe|Fe|7.000003|0.000000|0.000000"]), [[7.0, 7.0, 7.0]])
    with pytest.raises(ValueError, match="already present"):
        table.add(["Fe|Fe|7.000003|0.000000|0.000000"], np.zeros((1, 3)))
    with pytest.raises(ValueError, match="features"):
        table.add(["Co|Fe|7.000003|0.000000|0.000000"], np.zeros((1, 4)))


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------
def _process_worker(frame, chunks, barrier, out):
    """Run in a spawned process: featurise ``chunks`` of ``frame`` one after the other."""
    original = CoulombMatrixDescriptor._compute

    def slow(self, *args):
        time.sleep(0.2)  # keep the two processes' reads and writes interleaved
        return original(self, *args)

    CoulombMatrixDescriptor._compute = slow
    barrier.wait()
    desc = CoulombMatrixDescriptor(r_cut=4.0)
    parts = [desc.transform(frame.iloc[rows]) for rows in chunks]
    np.save(out, np.vstack(parts))


def test_two_processes_sharing_one_cache_folder(frame, serial, private_cache, monkeypatch, tmp_path):
    n = len(frame)
    rows_a = np.arange(0, 3 * n // 5)
    rows_b = np.arange(2 * n // 5, n)[::-1]  # overlaps a, in the other order
    chunks = {"a": np.array_split(rows_a, 6), "b": np.array_split(rows_b, 6)}
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = {k: ctx.Process(target=_process_worker, args=(frame, c, barrier, tmp_path / f"{k}.npy")) for k, c in chunks.items()}
    for p in procs.values():
        p.start()
    for p in procs.values():
        p.join(timeout=300)
    assert all(p.exitcode == 0 for p in procs.values()), {k: p.exitcode for k, p in procs.items()}
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), serial[np.concatenate(chunks["a"])])
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), serial[np.concatenate(chunks["b"])])
    # The file is valid and holds every row either process computed: nothing is recomputed.
    path = _cache_file()
    table = featurecache.FeatureTable.load(path)
    assert len(table) == n
    _no_compute(monkeypatch)
    featurecache.clear_memory_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(CoulombMatrixDescriptor(r_cut=4.0).transform(frame), serial)
    assert not list(path.parent.glob(".*.tmp*"))  # no temporary file of an atomic write left behind


def test_rows_written_by_another_process_are_merged_not_lost(frame, serial, private_cache):
    """Two writers that each hold part of the rows in memory: the file ends with the union."""
    half = len(frame) // 2
    desc = CoulombMatrixDescriptor(r_cut=4.0)
    desc.transform(frame.iloc[:half])  # writer 1
    path = _cache_file()
    written_by_1 = path.read_bytes()
    featurecache.clear_memory_cache()
    path.unlink()
    desc.transform(frame.iloc[half:])  # writer 2, which started before writer 1's file existed
    path.write_bytes(written_by_1)  # writer 1's file lands afterwards
    # writer 2 computes one more pair (far away, not in the model data) and writes again
    far = frame.iloc[[0]].assign(rx=frame["rx"].iloc[0] * 5, ry=frame["ry"].iloc[0] * 5, rz=frame["rz"].iloc[0] * 5)
    desc.transform(far)
    assert len(featurecache.FeatureTable.load(path)) == len(frame) + 1
    featurecache.clear_memory_cache()
    np.testing.assert_array_equal(desc.transform(frame), serial)


# ------------------------------------------------------------------------------------------------
# damaged files
# ------------------------------------------------------------------------------------------------
def _rewrite_npz(path: Path, edit) -> None:
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    edit(arrays)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def _truncate(path, sub):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path, sub):
    path.write_bytes(b"")


def _garbage(path, sub):
    path.write_bytes(np.random.default_rng(0).bytes(5000))


def _drop_a_column(path, sub):
    _rewrite_npz(path, lambda a: a.update(dense=a["dense"][:, :-1]))


def _permute_keys(path, sub):
    _rewrite_npz(path, lambda a: a.update(keys=np.roll(a["keys"], 1)))


def _duplicate_a_key(path, sub):
    def edit(a):
        keys = a["keys"].copy()
        keys[1] = keys[0]
        a["keys"] = keys

    _rewrite_npz(path, edit)


def _other_parameter_set(path, sub):
    """The file of another parameter set (r_cut = 4.5 Å) copied under this one's name."""
    featurecache.clear_memory_cache()
    before = set(path.parent.glob("*.npz"))
    CoulombMatrixDescriptor(r_cut=4.5).transform(sub)
    (other,) = set(path.parent.glob("*.npz")) - before
    other.replace(path)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_truncate, "cannot be read"),
        (_empty, "cannot be read"),
        (_garbage, "cannot be read"),
        (_drop_a_column, "checksum"),
        (_permute_keys, "checksum"),
        (_duplicate_a_key, "checksum"),
        (_other_parameter_set, "parameter key"),
    ],
    ids=["truncated", "empty", "garbage", "a-column-dropped", "keys-permuted", "a-key-duplicated", "another-parameter-set"],
)
def test_damaged_cache_file_is_reported_once_recomputed_and_replaced(frame, serial, private_cache, damage, reason):
    sub = frame.iloc[:400]
    CoulombMatrixDescriptor(r_cut=4.0).transform(sub)
    path = _cache_file()
    damage(path, sub)
    featurecache.clear_memory_cache()
    with pytest.warns(featurecache.CacheWarning, match=rf"{path.name}.*{reason}.*being recomputed") as record:
        X = CoulombMatrixDescriptor(r_cut=4.0).transform(sub)
    assert sum(issubclass(w.category, featurecache.CacheWarning) for w in record) == 1
    np.testing.assert_array_equal(X, serial[:400])
    # replaced atomically by a valid file holding the right rows; no warning any more
    table = featurecache.FeatureTable.load(path)
    np.testing.assert_array_equal(
        table.take(list(featurecache.row_keys(sub["element_i"], sub["element_j"], sub[["rx", "ry", "rz"]].to_numpy()))),
        serial[:400],
    )
    featurecache.clear_memory_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(CoulombMatrixDescriptor(r_cut=4.0).transform(sub), serial[:400])


def _table_file(path, keys, matrix, **header):
    """A cache file with a self-consistent checksum (as a careful forger, or an old bug, would write)."""
    arrays = {"keys": np.array(keys, dtype=str), "dense": matrix}
    head = {
        "format": featurecache.FORMAT_VERSION,
        "name": "Toy",
        "parameter_key": "",
        "n_rows": len(keys),
        "n_features": matrix.shape[1],
        "sparse": False,
        "checksum": featurecache._table._checksum(list(keys), {"dense": matrix}),
    }
    head.update(header)
    arrays["header"] = np.array(__import__("json").dumps(head))
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def _toy_keys(n):
    return featurecache.row_keys(["Fe"] * n, ["Co"] * n, np.c_[np.arange(n) + 1.0, np.zeros(n), np.zeros(n)])


def _toy_features(keys):
    return np.array([[float(k.split("|")[2]), 2.0 * float(k.split("|")[2]), 7.0] for k in keys])


@pytest.mark.parametrize(
    "keys_of, matrix_of, header, n_features, reason",
    [
        (lambda k: list(k[:1]) * 2 + list(k[2:]), _toy_features, {}, None, "occur twice"),
        (lambda k: ["Fe Co 1"] + list(k[1:]), _toy_features, {}, None, "malformed"),
        (list, lambda k: _toy_features(k)[:, :2], {}, 3, "2 features per row, the descriptor gives 3"),
        (list, _toy_features, {"n_features": 2}, None, "header n_features 2"),
        (list, _toy_features, {"n_rows": 9}, None, "n_rows 9"),
        (list, _toy_features, {"name": "Other"}, None, "descriptor 'Other'"),
    ],
    ids=["duplicate-keys", "malformed-key", "wrong-width", "header-width", "header-rows", "other-class"],
)
def test_consistent_looking_but_wrong_files_are_rejected(private_cache, keys_of, matrix_of, header, n_features, reason):
    keys = _toy_keys(6)
    pkey = featurecache.parameter_key("Toy", {})
    path = featurecache.cache_dir() / f"features-Toy-{pkey}.npz"
    path.parent.mkdir(parents=True)
    bad_keys = keys_of(list(keys))
    _table_file(path, bad_keys, matrix_of(list(keys)), parameter_key=pkey, **header)
    calls = []

    def compute(pos):
        calls.append(len(pos))
        return _toy_features(keys[pos])

    with pytest.warns(featurecache.CacheWarning, match=rf"{path.name} is unusable: .*{reason}.*being recomputed"):
        out = featurecache.cached_features("Toy", {}, keys, compute, n_features=n_features)
    np.testing.assert_array_equal(out, _toy_features(keys))
    assert calls == [6]
    assert len(featurecache.FeatureTable.load(path, parameter_key=pkey, n_features=3)) == 6


def test_a_stored_width_that_disagrees_with_new_rows_restarts_the_table(private_cache):
    """A self-consistent file whose rows are narrower than what the descriptor computes now."""
    keys = _toy_keys(6)
    pkey = featurecache.parameter_key("Toy", {})
    path = featurecache.cache_dir() / f"features-Toy-{pkey}.npz"
    path.parent.mkdir(parents=True)
    _table_file(path, list(keys[:3]), _toy_features(keys[:3])[:, :2], parameter_key=pkey)
    with pytest.warns(featurecache.CacheWarning, match=r"holds 2 features per row, the descriptor gives 3"):
        out = featurecache.cached_features("Toy", {}, keys, lambda pos: _toy_features(keys[pos]))
    np.testing.assert_array_equal(out, _toy_features(keys))
    assert featurecache.FeatureTable.load(path).n_features == 3


def test_unwritable_cache_folder_says_so_and_still_works(frame, serial, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(featurecache.CACHE_VARIABLE, str(blocker / "cache"))
    featurecache.clear_memory_cache()
    with pytest.warns(featurecache.CacheWarning, match=r"cannot write the feature cache in .*a-file/cache") as record:
        X = CoulombMatrixDescriptor(r_cut=4.0).transform(frame.iloc[:50])
    assert len(record) == 1
    np.testing.assert_array_equal(X, serial[:50])
    featurecache.clear_memory_cache()


# ------------------------------------------------------------------------------------------------
# pickled objects
# ------------------------------------------------------------------------------------------------
class Result:
    def __init__(self, value):
        self.value = value


def test_cached_object_round_trip_and_miss(tmp_path):
    path = tmp_path / "sub" / "run.pkl"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert featurecache.load_cached_object(path, key="k1", expected_type=Result) is None  # a plain miss
        assert featurecache.save_cached_object(path, Result(3), key="k1")
        assert featurecache.load_cached_object(path, key="k1", expected_type=Result).value == 3
    assert [p.name for p in path.parent.iterdir()] == ["run.pkl"]  # no temporary file left


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "cannot be read"),
        (b"\x80\x04garbage", "cannot be read"),
        ("truncated", "cannot be read"),
        (pickle.dumps([1, 2, 3]), "is not a jijtutorial cache file"),
        ({"key": "other"}, "holds key 'other', not 'k1'"),
        ({"object": [1, 2]}, "holds a list, not a Result"),
    ],
    ids=["empty", "garbage", "truncated", "another-object", "another-key", "another-type"],
)
def test_damaged_cached_object_warns_once_and_is_recomputed(tmp_path, content, reason):
    path = tmp_path / "run.pkl"
    featurecache.save_cached_object(path, Result(3), key="k1")
    if content == "truncated":
        path.write_bytes(path.read_bytes()[:-10])
    elif isinstance(content, dict):
        blob = {"format": featurecache.PICKLE_FORMAT, "key": "k1", "type": "Result", "object": Result(3)}
        blob.update(content)
        path.write_bytes(pickle.dumps(blob))
    else:
        path.write_bytes(content)
    with pytest.warns(featurecache.CacheWarning, match=rf"cache file .*run.pkl is unusable: (it )?{reason}.*being recomputed"):
        assert featurecache.load_cached_object(path, key="k1", expected_type=Result) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per file
        assert featurecache.load_cached_object(path, key="k1", expected_type=Result) is None
        assert featurecache.save_cached_object(path, Result(4), key="k1")
        assert featurecache.load_cached_object(path, key="k1", expected_type=Result).value == 4


def test_cached_object_in_an_unwritable_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(featurecache.CacheWarning, match="cannot write the cache file .*not kept"):
        assert not featurecache.save_cached_object(blocker / "run.pkl", Result(1), key="k")


# --------------------------------------------------------------------------------------------
# cache keys from the code each cache depends on
# --------------------------------------------------------------------------------------------
@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package's source in which a test may edit files; the key functions read it."""
    import shutil

    from jijtutorial.featurecache import _keys

    src = Path(_keys.__file__).resolve().parents[1]
    dst = tmp_path / "jijtutorial"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_keys, "_PACKAGE", dst)
    return dst


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit\n")


def test_editing_the_code_a_cache_depends_on_invalidates_it(package_copy):
    from jijtutorial.benchmark._cache import PRESENTATION, RUN_CODE
    from jijtutorial.spins._sweep import _NOT_TASK_CODE, _TASK_MODULES

    caches = {
        "features": (featurecache.FEATURE_CODE, ()),
        "runs": (RUN_CODE, PRESENTATION),
        "sweeps": (_TASK_MODULES, _NOT_TASK_CODE),
    }

    def keys():
        return {k: featurecache.code_digest(*r, exclude=e) for k, (r, e) in caches.items()}

    def changed(edited):
        before = keys()
        _edit(package_copy / edited)
        after = keys()
        return {k for k in before if before[k] != after[k]}

    pkey = featurecache.parameter_key("Toy", {})
    assert changed("geometry/_crystal.py") == {"features", "runs", "sweeps"}  # the host crystal: everything
    assert featurecache.parameter_key("Toy", {}) != pkey  # the feature files of the old code are never read
    assert changed("kernels/_pair_gp.py") == {"runs"}
    assert changed("greens/resonant.py") == {"runs"}  # imported inside a function (the Anderson moment)
    assert changed("spins/_kernels.py") == {"sweeps"}
    assert changed("benchmark/_plots.py") == set()  # a figure changes no stored number
    assert changed("plotting.py") == set()
    assert changed("viewer.py") == set()


def test_code_files_refuses_what_is_not_a_module():
    with pytest.raises(ValueError, match="'jijtutorial.nothing' is not a module of the jijtutorial package"):
        featurecache.code_files("jijtutorial.nothing")
