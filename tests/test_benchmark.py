"""The benchmark: model names, protocols, grouped splits that never leak, a small run end to end."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from toydata import ordered_pairs

from jijtutorial import cli, datasets
from jijtutorial.benchmark import (
    BASELINE,
    ERROR_COLUMNS,
    OUR_MODEL,
    STUDY_MODELS,
    TIME_COLUMNS,
    TWIN_LOOKUP,
    chosen_parameters,
    get_model,
    get_protocol,
    leakage_breakdown,
    learning_curve,
    present_results,
    present_side_by_side,
    run_benchmark,
    subsample_pairs,
    twin_rows,
)
from jijtutorial.datasets import element_pair_groups, tidy_frame
from jijtutorial.elements import group
from jijtutorial.tables import format_number

ELEMENTS = ("V", "Cr", "Mn", "Fe", "Co", "Mo", "Sc", "Cu")


pytestmark = pytest.mark.usefixtures("private_cache")


def raw_pairs(seed=0) -> pd.DataFrame:
    """Raw rows (the model-data CSV schema) of all ordered pairs at two geometries, toy J."""
    raw = ordered_pairs(ELEMENTS)
    r = np.linalg.norm(raw[["rx", "ry", "rz"]].to_numpy(), axis=1)
    g = np.array([[group(a), group(b)] for a, b in zip(raw["element_i"], raw["element_j"])])
    m = raw[["moment_i", "moment_j"]].to_numpy()
    raw["J"] = m[:, 0] * m[:, 1] * np.cos(0.6 * (g[:, 0] - g[:, 1])) / r + np.random.default_rng(seed).normal(
        scale=0.01, size=len(raw)
    )
    return raw


@pytest.fixture
def toy() -> pd.DataFrame:
    return tidy_frame(raw_pairs(), {"name": "toy"}, source="toy")


def test_model_names_and_clear_errors():
    for name in STUDY_MODELS:
        spec = get_model(name)
        assert spec.name == name
    assert get_model("CM-KKR-lin-rcut-4.0").kernel == "linear"  # the slide's typo is understood
    assert get_model("SOAP-KRR-lap-rcut-5").r_cut == 5.0
    assert get_model(OUR_MODEL).kernel == "pair" and get_model(BASELINE).kernel == "mean"
    with pytest.raises(ValueError, match="unknown model 'CM-SVR-rbf'.*CM-KRR-lin-rcut-4.0"):
        get_model("CM-SVR-rbf")
    with pytest.raises(ValueError, match="unknown protocol 'random'"):
        run_benchmark(pd.DataFrame(), "random")
    with pytest.raises(ValueError, match="unknown protocol"):
        get_protocol("leave-one-out")


def _assert_no_pair_on_both_sides(frame, train, test):
    g = element_pair_groups(frame)
    assert not set(g[train]) & set(g[test])


def test_grouped_splits_never_share_an_element_pair(toy):
    splits = get_protocol("grouped").outer_splits(toy, n_splits=4, n_repeats=2, seed=3)
    assert len(splits) == 8
    for r in range(2):
        tests = np.concatenate([te for rr, f, tr, te in splits if rr == r])
        assert np.array_equal(np.sort(tests), np.arange(len(toy)))  # each row tested once per repeat
    for _, _, tr, te in splits:
        _assert_no_pair_on_both_sides(toy, tr, te)
    dev, test = get_protocol("grouped").holdout(toy, 0.25, seed=0)
    _assert_no_pair_on_both_sides(toy, dev, test)
    # repeats reshuffle; the study protocol does put twins on both sides
    assert not np.array_equal(splits[0][3], splits[4][3])
    study = get_protocol("study").outer_splits(toy, 4, 1, 0)
    g = element_pair_groups(toy)
    assert any(set(g[tr]) & set(g[te]) for _, _, tr, te in study)


def test_grouped_splits_on_jukkr(jukkr):
    for _, _, tr, te in get_protocol("grouped").outer_splits(jukkr, 5, 3, 0):
        _assert_no_pair_on_both_sides(jukkr, tr, te)


def test_small_benchmark_end_to_end(toy, tmp_path):
    models = ["CM-KRR-lin-rcut-4.0", "CM-KRR-lap-rcut-4.0", "SOAP-KRR-rbf-rcut-4.0", OUR_MODEL, BASELINE]
    res = run_benchmark(
        toy, "grouped", models, n_splits=3, n_repeats=1, test_size=0.25, progress=False, out=tmp_path / "out", n_jobs=2
    )
    study_run = run_benchmark(
        toy, "study", ["CM-KRR-lap-rcut-4.0"], n_splits=3, n_repeats=1, test_size=0.25, progress=False, n_jobs=2
    )
    t = res.table.set_index("model")
    assert list(t.index) == models
    assert t.loc["CM-KRR-lap-rcut-4.0", "study_MAE"] == 0.50 and np.isnan(t.loc[OUR_MODEL, "study_MAE"])
    assert (t["MAE"] > 0).all() and t[["t_train", "t_test", "R2", "test_MAE"]].notna().all().all()
    assert t.loc[OUR_MODEL, "MAE"] < t.loc[BASELINE, "MAE"]
    assert len(res.folds) == 3 * len(models)
    assert res.predictions.groupby("model")["J_pred"].apply(lambda s: s.notna().all()).all()
    chosen = chosen_parameters(res)  # every fold's choice is counted once per parameter, from the grid
    for model in ("CM-KRR-lap-rcut-4.0", "SOAP-KRR-rbf-rcut-4.0"):
        gammas = chosen[(chosen["model"] == model) & (chosen["parameter"] == "gamma")]
        assert gammas["folds"].sum() == 3 and set(gammas["value"]) <= set(get_model(model).gammas)
        assert np.isclose(gammas["share"].sum(), 1.0)
    assert BASELINE not in set(chosen["model"]) and list(dict.fromkeys(chosen["model"])) == models[:-1]
    page = present_results(res)  # the table as a page shows it: errors first, units, the study's figures as printed
    assert page.columns[:4] == ["model", "protocol", "MAE (meV)", "R²"]
    row = page.formatted.set_index("model").loc["CM-KRR-lap-rcut-4.0"]
    assert row["study MAE (meV)"] == "0.50" and row["study R²"] == "0.54" and row["t_train (s)"] != ""
    assert page.formatted.set_index("model").loc[OUR_MODEL, "study MAE (meV)"] == "–"
    errors, times = present_results(res, ERROR_COLUMNS), present_results(res, TIME_COLUMNS)  # two narrow tables
    assert errors.columns[:3] == ["model", "MAE (meV)", "R²"] and not any("(s)" in c for c in errors.columns)
    assert times.columns == ["model", "t_train (s)", "t_test (s)", "t_prep (s)", "study t_train (s)"]
    assert len(errors.columns) + len(times.columns) - 1 == len(page.columns) - 1  # all but the protocol, once
    side = present_side_by_side(res, study_run).formatted.set_index(("model", ""))
    ours = side.loc["CM-KRR-lap-rcut-4.0"]  # our "study" protocol keeps its digits; the published column has 2 decimals
    assert ours[("MAE (meV)", "study (1728 pairs, 2023)")] == "0.50"
    assert ours[("MAE (meV)", "study")] == format_number(study_run.table.set_index("model").loc["CM-KRR-lap-rcut-4.0", "MAE"])
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"table-toy-grouped.csv", "table-toy-grouped.md", "parity-toy-grouped.png"} <= written
    md = (tmp_path / "out" / "table-toy-grouped.md").read_text()
    assert "study MAE" in md and "CM-KRR-lap-rcut-4.0" in md and "leave-one-group-out" in md
    lc = learning_curve(toy, [OUR_MODEL], "study", fractions=(0.5, 1.0), n_splits=3, progress=False)
    assert set(lc["fraction"]) == {0.5, 1.0} and (lc["MAE"] > 0).all()


def test_command_line_on_a_model_data_file(tmp_path, capsys):
    csv = tmp_path / "model_jij.csv"
    raw_pairs().to_csv(csv, index=False)
    out = tmp_path / "res"
    code = cli.main(
        [
            "benchmark",
            "--dataset",
            "model",
            "--data-path",
            str(csv),
            "--protocol",
            "study",
            "--folds",
            "3",
            "--repeats",
            "1",
            "--models",
            f"CM-KRR-lap-rcut-4.0,{OUR_MODEL},{BASELINE}",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "model data, study protocol" in printed and "SymPair-KRR" in printed
    assert (out / "table-model-study.csv").is_file() and (out / "parity-model-study.png").is_file()
    assert cli.main(["benchmark", "--models", "CM-KRR-poly-rcut-4.0", "--out", str(out)]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_falls_back_to_model_data_and_says_how_to_get_data(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(datasets._model, "PACKAGE_DATA_DIR", tmp_path)
    raw_pairs().to_csv(tmp_path / datasets.MODEL_FILENAME, index=False)
    assert datasets.load_dataset("auto").attrs["name"] == "model"

    def missing(path=None):
        raise FileNotFoundError("model data set not found; generate it with `jijtutorial generate-model-data`")

    monkeypatch.setattr(datasets._select, "load_model", missing)
    with pytest.raises(FileNotFoundError, match="materialscloud.*generate-model-data"):
        run_benchmark("auto", "study", [BASELINE], progress=False)


def test_subsampling_keeps_geometries_and_twins(toy):
    near = subsample_pairs(toy, 100)
    assert len(near) == 64 and near["distance"].nunique() == 1 and near["distance"].iloc[0] < 4.5
    few = subsample_pairs(toy, 30, seed=1)
    assert len(few) <= 30 and few["distance"].nunique() == 1
    assert ((twin_rows(few) >= 0) == (few["element_i"] != few["element_j"])).all()  # every twin kept
    assert subsample_pairs(toy, None) is toy


def test_leakage_breakdown_counts_twins(toy):
    res = run_benchmark(toy, "study", [OUR_MODEL], n_splits=4, n_repeats=1, test_size=0, progress=False)
    leak = leakage_breakdown(res)
    shares = leak["share"].loc[OUR_MODEL]
    assert shares.sum() == pytest.approx(1.0)
    assert shares["no twin"] == pytest.approx(16 / 128)  # the A = A pairs
    assert 0.5 < shares["twin in training"] < 0.95
    # the twin look-up row: its error is the mean |J(A,B) - J(B,A)|, the same whichever fold held the twin
    with_ref = leakage_breakdown(res, twin_lookup=True)
    assert list(with_ref.index) == [OUR_MODEL, TWIN_LOOKUP]
    twin = twin_rows(toy)
    has = twin >= 0
    diff = np.abs(toy["J"].to_numpy()[has] - toy["J"].to_numpy()[twin[has]]).mean()
    ref = with_ref.loc[TWIN_LOOKUP]
    assert ref[("MAE", "twin in training")] == pytest.approx(diff, rel=0.5) and np.isnan(ref[("MAE", "no twin")])
    assert (ref["share"] == with_ref.loc[OUR_MODEL, "share"]).all()
    assert (
        (
            ref[("MAE", "twin in training")] * ref[("share", "twin in training")]
            + ref[("MAE", "twin also in test")] * ref[("share", "twin also in test")]
        )
        / (1 - ref[("share", "no twin")])
    ) == pytest.approx(diff)


def test_run_says_when_the_studys_figures_are_not_comparable(toy, jukkr):
    from jijtutorial.benchmark import describe_config

    res = run_benchmark(toy, "study", [BASELINE], n_splits=3, n_repeats=1, test_size=0, progress=False)
    text = describe_config(res.config)
    assert f"N = {len(toy)} pairs" in text and "not comparable" in text
    sub = subsample_pairs(jukkr, 400)
    res = run_benchmark(sub, "study", [BASELINE], n_splits=3, n_repeats=1, test_size=0, progress=False)
    assert f"N = {len(sub)}" in describe_config(res.config) and "not comparable" in describe_config(res.config)
    full = run_benchmark(jukkr, "study", [BASELINE], n_splits=3, n_repeats=1, test_size=0, progress=False)
    assert "same published table (N = 1728)" in describe_config(full.config)


def _outputs(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_outputs_stay_one_consistent_set_when_a_save_is_interrupted(toy, tmp_path, monkeypatch):
    """A table beside truncated predictions that looks complete: never. The manifest is the completion marker."""
    import os

    from jijtutorial._files import check_file_set

    out = tmp_path / "out"
    first = run_benchmark(toy, "study", [BASELINE], n_splits=3, n_repeats=1, progress=False, out=out, plots=False)
    manifest = out / "manifest-toy-study.json"
    assert check_file_set(manifest) == []
    saved = _outputs(out)
    second = run_benchmark(toy, "study", [BASELINE], n_splits=3, n_repeats=1, seed=1, progress=False, plots=False)
    # killed while the last file (the table) is written: every file and the manifest are the previous ones
    original = pd.DataFrame.to_csv

    def dies_on_the_table(self, path=None, *args, **kwargs):
        if path is not None and "table-" in str(path):
            raise KeyboardInterrupt
        return original(self, path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pd.DataFrame, "to_csv", dies_on_the_table)
        with pytest.raises(KeyboardInterrupt):
            second.save(out, plots=False)
    assert _outputs(out) == saved and check_file_set(manifest) == []
    # killed between two renames: the set is visibly incomplete (no manifest), not silently mixed
    replace = os.replace
    calls = []

    def dies_after_one_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return replace(src, dst)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", dies_after_one_rename)
        with pytest.raises(KeyboardInterrupt):
            second.save(out, plots=False)
    assert "is missing: the set was not written completely" in check_file_set(manifest)[0]
    second.save(out, plots=False)  # a complete save restores a consistent set
    assert check_file_set(manifest) == []
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    assert first.predictions.shape == pd.read_csv(out / "predictions-toy-study.csv").shape


def test_benchmark_refuses_a_damaged_table_given_by_path(jukkr_copy, tmp_path, capsys):
    text = jukkr_copy.read_text()
    jukkr_copy.write_text(text[: len(text) // 3])
    code = cli.main(
        [
            "benchmark",
            "--data-path",
            str(jukkr_copy),
            "--protocol",
            "study",
            "--models",
            BASELINE,
            "--out",
            str(tmp_path / "res"),
            "--no-progress",
            "--no-plots",
        ]
    )
    assert code == 2  # was: a warning, the model data set, and exit 0
    err = capsys.readouterr().err
    assert str(jukkr_copy) in err and len(err.strip().splitlines()) == 1
    assert not list((tmp_path / "res").glob("table-*"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", f"{BASELINE},{BASELINE}"], f"--models: {BASELINE} is named twice"),
        (["--models", ""], "--models: an empty name"),
        (["--seed", "-1"], "--seed must be a whole number"),
        (["--protocol", "pairs", "--folds", "40", "--test-size", "0"], r"n_splits = 40 folds \(--folds"),
    ],
)
def test_benchmark_arguments_name_the_option(argv, message, tmp_path, capsys):
    csv = tmp_path / "model_jij.csv"
    raw_pairs().to_csv(csv, index=False)
    code = cli.main(
        [
            "benchmark",
            "--dataset",
            "model",
            "--data-path",
            str(csv),
            "--out",
            str(tmp_path / "res"),
            "--no-progress",
            "--no-plots",
            "--models",
            BASELINE,
            *argv,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err


def test_an_interrupted_run_does_not_run_the_folds_still_queued():
    """Ctrl-C (or an error) in one fold used to wait for every queued fold of the run before stopping."""
    import threading
    import time

    from jijtutorial.benchmark._runner import map_threads

    ran = []
    lock = threading.Lock()

    def fold(k):
        if k == 3:
            raise KeyboardInterrupt
        time.sleep(0.1)
        with lock:
            ran.append(k)
        return k

    with pytest.raises(KeyboardInterrupt):
        list(map_threads(fold, list(range(60)), 2))
    time.sleep(0.3)  # let the two running folds end
    assert len(ran) < 10  # the other ~50 folds were cancelled


def test_shared_fits_make_each_fit_once_whatever_the_threads():
    import pickle
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from jijtutorial.benchmark._folds import SharedFits, fit_key

    calls = []
    lock = threading.Lock()

    def make():
        with lock:
            calls.append(1)
        time.sleep(0.05)  # long enough for every thread to ask while the first still fits
        return object()

    shared = SharedFits()
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: shared.get("k", make), range(8)))
    assert len(calls) == 1 and all(o is outs[0] for o in outs) and (shared.made, shared.reused) == (1, 7)

    def fails():
        raise RuntimeError("no fit")

    with pytest.raises(RuntimeError, match="no fit"):
        shared.get("x", fails)
    assert shared.get("x", lambda: 5) == 5  # a failed fit is not kept
    copy = pickle.loads(pickle.dumps(shared))  # another process starts empty
    assert isinstance(copy, SharedFits) and len(copy) == 0 and len(shared) == 2
    shared.clear()
    assert len(shared) == 0
    # the key changes with each of what a fit depends on
    tr, y, g = np.arange(5), np.ones(5), np.array([0, 0, 1, 1, 2])
    base = fit_key("PairGP", {"a": 1}, tr, y, g)
    assert base == fit_key("PairGP", {"a": 1}, tr.copy(), y.copy(), g.copy())
    others = [
        fit_key("PairGP", {"a": 2}, tr, y, g),
        fit_key("PairGP", {"a": 1}, tr + 1, y, g),
        fit_key("PairGP", {"a": 1}, tr, y * 1.000001, g),
        fit_key("PairGP", {"a": 1}, tr, y, g[::-1]),
        fit_key("PairGP", {"a": 1}, tr, y, None),
        fit_key("Other", {"a": 1}, tr, y, g),
    ]
    assert all(k != base for k in others)
