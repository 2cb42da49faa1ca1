"""Curie-temperature sweeps through Dask: identical results on 1 and 2 workers, seeds per task, cache, bad input."""

from __future__ import annotations

import os
import re
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import load_model
from jijtutorial.spins._cli import compositions_from

SMALL = {
    "sizes": ((5, 5, 1), (6, 6, 1), (7, 7, 1)),
    "n_realisations": 2,
    "n_sweeps": 30,
    "n_therm": 10,
    "n_temperatures": 4,
    "refine": 2,
}


@pytest.fixture(scope="module")
def table():
    return spins.exchange_table(load_model(), ["Cr", "Mo"], 8.8, fill="zero")


def test_one_and_two_workers_give_identical_results(table, tmp_path, monkeypatch):
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    comps = [{"Cr": 0.2}, {"Cr": 0.1, "Mo": 0.1}]
    runs = [spins.curie_sweep(table, comps, n_workers=n, cache=False, progress=False, **SMALL) for n in (1, 2)]
    here = spins.curie_sweep(table, comps, client="sync", cache=False, progress=False, **SMALL)
    assert runs[0].moments.equals(runs[1].moments)
    assert runs[0].moments.equals(here.moments)
    assert len(here.moments) == 2 * 3 * 2 * 4


def test_task_seed_depends_on_the_task_not_on_the_order():
    a = spins.task_seed(0, {"Cr": 0.1, "Mo": 0.1}, (5, 5, 1), 3)
    b = spins.task_seed(0, {"Mo": 0.1, "Cr": 0.1}, (5, 5, 1), 3)
    c = spins.task_seed(0, {"Cr": 0.1, "Mo": 0.1}, (5, 5, 1), 4)
    assert np.array_equal(a.generate_state(4), b.generate_state(4))
    assert not np.array_equal(a.generate_state(4), c.generate_state(4))


def test_cache_returns_what_a_recomputation_gives(table, tmp_path, monkeypatch):
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    first = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    assert len(list((tmp_path / "spins").glob("task-*.npz"))) == 6
    second = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    assert first.moments.equals(second.moments)
    other = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **{**SMALL, "seed": 1})
    assert not first.moments.equals(other.moments)


def test_lattice_sweep_cache_returns_what_a_recomputation_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    args = ("sc", (4, 6), np.linspace(1.3, 1.6, 3))
    first = spins.lattice_sweep(*args, n_runs=2, n_sweeps=40, n_therm=20)
    files = sorted((tmp_path / "spins").glob("task-*.npz"))
    assert len(files) == 4  # one per size and run
    again = spins.lattice_sweep(*args, n_runs=2, n_sweeps=40, n_therm=20)
    fresh = spins.lattice_sweep(*args, n_runs=2, n_sweeps=40, n_therm=20, cache=False)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, fresh)
    other = spins.lattice_sweep(*args, n_runs=2, n_sweeps=40, n_therm=20, seed=1)  # another seed is another task
    assert not np.allclose(other["m2"], first["m2"])


def test_sweep_summary_has_mean_field_and_monte_carlo(table):
    res = spins.curie_sweep(table, [{"Cr": 0.3}], client="sync", cache=False, progress=False, **SMALL)
    row = res.summary.iloc[0]
    assert row["label"] == "Cr 30%" and row["T_MF"] > 0
    assert row["status"] in ("ordered", "below", "none", "above")
    assert set(res.moments["size"]) == {"5x5x1", "6x6x1", "7x7x1"}
    assert 0.0 <= row["fm_cluster"] <= 1.0 and 0.0 <= row["percolating"] <= 1.0
    assert row["T_min"] == res.moments["T"].min() and row["T_max"] == res.moments["T"].max()


def test_refinement_adds_temperatures_around_the_crossing_with_the_same_configurations(tmp_path, monkeypatch):
    """A strongly coupled composition orders; the second pass adds its temperatures inside the bracketing interval
    of the first, on the very configurations of the first pass (same spins), and the estimate uses both."""
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    from jijtutorial.structures import bi_pair_vectors

    vec = np.vstack([bi_pair_vectors(6.2, "same"), bi_pair_vectors(6.2, "other")])  # 4.38, 4.79, 6.10 Å: a 3D network
    rows = [
        {"element_i": "Cr", "element_j": "Cr", "rx": v[0], "ry": v[1], "rz": v[2], "J": 1.0, "Dx": 0, "Dy": 0, "Dz": 0}
        for v in vec
    ]
    strong = spins.exchange_table(pd.DataFrame(rows), ["Cr"], 6.2)
    kw = {
        **SMALL,
        "sizes": ((4, 4, 1), (6, 6, 1), (8, 8, 1)),
        "n_realisations": 4,
        "n_sweeps": 600,
        "n_therm": 200,
        "window": (0.2, 1.0),
        "n_temperatures": 5,
    }
    first = spins.curie_sweep(strong, [{"Cr": 0.8}], client="sync", progress=False, **{**kw, "refine": 0})
    both = spins.curie_sweep(strong, [{"Cr": 0.8}], client="sync", progress=False, **{**kw, "refine": 4})
    est0, est = first.estimates["Cr 80%"], both.estimates["Cr 80%"]
    assert est0.status == "ordered", est0.crossings
    new = np.setdiff1d(est.temperatures, est0.temperatures)
    assert len(new) == 4 and new.min() > est0.crossings["T_low"].min() and new.max() < est0.crossings["T_high"].max()
    assert both.summary.loc[0, "n_temperatures"] == 9 and first.summary.loc[0, "n_temperatures"] == 5
    spins_per_task = both.moments.groupby(["size", "realisation"])["n_spins"].nunique()
    assert (spins_per_task == 1).all()  # one configuration per (size, realisation) across both passes
    old = both.moments[both.moments["T"].isin(est0.temperatures)].reset_index(drop=True)
    pd.testing.assert_frame_equal(old[first.moments.columns], first.moments, check_dtype=False)
    assert both.summary.loc[0, "spacing"] < first.summary.loc[0, "spacing"]
    again = both.first_pass_estimate("Cr 80%")  # what the refinement changed: the first pass's estimate, recovered
    assert again.tc == est0.tc and again.error == est0.error


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"compositions": [{"Cr": 1.2}]}, r"in \(0, 1\]"),
        ({"compositions": [{"Cr": 0.0}]}, r"in \(0, 1\]"),
        ({"temperatures": (1.0, -1.0)}, "temperatures must be positive"),
        ({"sizes": ((4, 4, 1), (6, 6, 1))}, r"size=\(4, 4, 1\) is too small for the cut-off"),
        ({"sizes": ((6, 6, 1),)}, "at least two sizes"),
        ({"n_realisations": 0}, "n_realisations must be a positive integer"),
    ],
)
def test_bad_sweep_input_names_the_argument(table, kwargs, match):
    args = {"compositions": [{"Cr": 0.1}], **SMALL, **kwargs}
    comps = args.pop("compositions")
    with pytest.raises(ValueError, match=match):
        spins.curie_sweep(table, comps, client="sync", cache=False, progress=False, **args)


def test_dopant_without_data_is_refused(table):
    with pytest.raises(ValueError, match="table has no couplings for"):
        spins.spin_model(spins.random_configuration({"Fe": 0.1}, (5, 5, 1)), table)


def test_cli_compositions():
    assert compositions_from("Cr,Cr+V", [0.02, 0.06]) == [
        {"Cr": 0.02},
        {"Cr": 0.06},
        {"Cr": 0.01, "V": 0.01},
        {"Cr": 0.03, "V": 0.03},
    ]
    with pytest.raises(ValueError, match=r"--concentrations: 1.5 is outside \(0, 1\]"):
        compositions_from("Cr", [1.5])


def test_cli_runs_and_writes_its_tables(tmp_path, monkeypatch, capsys):
    from jijtutorial.cli import main

    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("JIJTUTORIAL_DATA_DIR", raising=False)
    out = tmp_path / "out"
    code = main(
        [
            "curie",
            "--dopants",
            "Cr,Cr+Mo",
            "--concentrations",
            "0.2",
            "--dataset",
            "model",
            "--cutoff",
            "8.8",
            "--sizes",
            "5x5x1,6x6x1,7x7x1",
            "--realisations",
            "2",
            "--sweeps",
            "20",
            "--therm",
            "5",
            "--scheduler",
            "sync",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    for name in ("curie.csv", "binder.csv", "moments.csv", "missing.csv", "settings.json"):
        assert (out / name).is_file()
    text = capsys.readouterr().out
    assert "Cr 20%" in text and "Cr 10% + Mo 10%" in text
    # the model data set covers every Bi–Bi shell within the cut-off: nothing is filled
    assert "set by zero" not in text and len(pd.read_csv(out / "missing.csv")) == 0
    summary = pd.read_csv(out / "curie.csv")
    for _, row in summary.iterrows():  # the table prints T_C in words: '12.3 ± 0.4 K', '< 1.2 K', 'no order: ...'
        assert spins.tc_text(row) in text
    assert {"percolating", "fm_cluster", "n_temperatures", "T_min"} <= set(summary.columns)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--concentrations", "0"], r"outside \(0, 1\]"),
        (["--dopants", "Xx"], "--dopants: unknown element 'Xx'"),
        (["--cutoff", "40"], "beyond the table"),
        (["--sizes", "4x4x1,5x5x1,6x6x1"], "too small for the cut-off"),
        (["--temperatures", "0,5"], "temperatures must be positive"),
        (["--refine", "-1"], "refine must be a number of temperatures"),
    ],
)
def test_cli_bad_input_exits_with_a_message(argv, match, tmp_path, capsys):
    from jijtutorial.cli import main

    base = {
        "--dopants": "Cr",
        "--concentrations": "0.1",
        "--dataset": "model",
        "--cutoff": "8.8",
        "--sizes": "5x5x1,6x6x1,7x7x1",
        "--scheduler": "sync",
        "--out": str(tmp_path),
        "--realisations": "2",
        "--sweeps": "5",
    }
    base.update(dict(zip(argv[::2], argv[1::2])))
    code = main(["curie", *[x for kv in base.items() for x in kv], "--no-progress", "--no-cache"])
    assert code == 2
    assert re.search(match, capsys.readouterr().err)


def test_tc_text_says_what_the_status_means():
    assert spins.tc_text({"status": "ordered", "T_C": 12.34, "error": 1.21}) == "12.3 ± 1.2 K"
    assert spins.tc_text({"status": "below", "upper_bound": 0.0412}) == "< 0.041 K"
    assert spins.tc_text({"status": "below", "upper_bound": 1.234}) == "< 1.2 K"
    assert "do not percolate" in spins.tc_text({"status": "none", "upper_bound": 0.0412})
    assert spins.tc_text({"status": "above", "T_max": 41.3}).startswith("above 41.3 K")
    assert "J₀ ≤ 0" in spins.tc_text({"status": "no mean-field order"})


# --------------------------------------------------------------------------------------------
# nothing silent: duplicates, error bars, outputs, caches, the cluster
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dopants, concentrations, match",
    [
        ("Cr+Cr", [0.04], "'Cr\\+Cr' names Cr twice"),  # was Cr at 2 %: half the concentration asked for
        ("Cr,Cr", [0.04], "'Cr' is the same composition as 'Cr'"),
        ("Cr+V,V+Cr", [0.04], "'V\\+Cr' is the same composition as 'Cr\\+V'"),
        ("Cr", [0.04, 0.04], "holds a value twice"),
        ("Cr", [], "--concentrations: give at least one concentration"),
        ("cr", [0.04], "unknown element 'cr' in 'cr' \\(did you mean 'Cr'\\?\\)"),
        ("Cr,,V", [0.04], "an empty composition"),
    ],
)
def test_cli_compositions_refuse_duplicates_and_name_the_argument(dopants, concentrations, match):
    with pytest.raises(ValueError, match=match):
        compositions_from(dopants, concentrations)


def _no_curie_computation(monkeypatch):
    """Make loading the J table or running the sweep fail loudly: the arguments must be checked first."""
    from jijtutorial import datasets
    from jijtutorial.spins import _cli

    def computed(*args, **kwargs):
        raise AssertionError("the computation started before the arguments were checked")

    monkeypatch.setattr(datasets, "load_dataset", computed)
    monkeypatch.setattr(spins, "curie_sweep", computed)
    monkeypatch.setattr(spins, "exchange_table", computed)
    return _cli


CURIE = [
    "curie",
    "--dopants",
    "Cr",
    "--concentrations",
    "0.2",
    "--dataset",
    "model",
    "--cutoff",
    "8.8",
    "--sizes",
    "5x5x1,6x6x1",
    "--sweeps",
    "5",
    "--therm",
    "2",
    "--scheduler",
    "sync",
    "--no-progress",
]


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--dopants", "Cr+Cr"], "names Cr twice"),
        (["--concentrations", ""], "--concentrations is empty"),  # was blamed on --dopants
        (["--concentrations", "0.04,0.04"], "--concentrations: 0.04 is given twice"),
        (["--realisations", "1"], "--realisations must be at least 2"),  # printed T_C ± 0.00
        (["--workers", "0", "--scheduler", ""], "--workers must be a positive number"),  # was: all cores
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers sets the size of the local cluster"),
        (["--fill", "zeros"], "fill: unknown option"),
        (["--cutoff", "nan"], "--cutoff must be a distance"),
        (["--sizes", "5x5x1,5x5x1"], "--sizes: 5x5x1 is given twice"),
        (["--sweeps", "0"], "--sweeps must be a positive integer"),
        (["--temperatures", "5,5"], "--temperatures: 5 is given twice"),
        (["--seed", "-1"], "--seed must be a whole number"),
        (["--scheduler", "127.0.0.1:1"], "no Dask scheduler answers at 127.0.0.1:1"),  # was a 30 s wait
    ],
)
def test_cli_checks_every_argument_before_computing(argv, match, tmp_path, capsys, monkeypatch):
    from jijtutorial.cli import main

    _no_curie_computation(monkeypatch)
    args = dict(zip(CURIE[1::2], CURIE[2::2]))
    args.update(dict(zip(argv[::2], argv[1::2])))
    flat = ["curie"] + [x for kv in args.items() for x in kv if kv[1] != ""] + ["--out", str(tmp_path / "out")]
    if "--concentrations" in args and args["--concentrations"] == "":
        flat += ["--concentrations", ""]
    t0 = time.perf_counter()
    assert main(flat) == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and len(err.strip().splitlines()) == 1, err
    assert time.perf_counter() - t0 < 10
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["a file", "under a file", "/proc"])
def test_cli_checks_the_output_folder_before_the_monte_carlo(where, tmp_path, capsys, monkeypatch):
    from jijtutorial.cli import main

    _no_curie_computation(monkeypatch)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    out = {"a file": a_file, "under a file": a_file / "out", "/proc": "/proc/jijtutorial-out"}[where]
    if where == "/proc" and not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    assert main([*CURIE, "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err
    assert a_file.read_text() == "x"


def test_one_realisation_gives_no_error_bar_rather_than_zero(table):
    res = spins.curie_sweep(
        table, [{"Cr": 0.2}], client="sync", cache=False, progress=False, **{**SMALL, "n_realisations": 1, "n_temperatures": 6}
    )
    row = res.summary.iloc[0]
    assert row["status"] == "ordered" and row["T_C"] > 0  # a crossing, whose spread over disorder is unknown
    assert np.isnan(row["error"])
    assert "no error bar" in spins.tc_text(row) and "±" not in spins.tc_text(row)
    assert "no error bar" in str(next(iter(res.estimates.values())))
    assert (
        spins.tc_text({"status": "ordered", "T_C": 10.3, "error": float("nan")})
        == "10.3 K (no error bar: one disorder realisation per size)"
    )


def test_unwritable_cache_folder_warns_once_and_the_sweep_goes_on(table, tmp_path, monkeypatch):
    from jijtutorial.featurecache import CacheWarning

    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # the cache folder would be inside a file: no one, not even root, can create it
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(blocker))
    with pytest.warns(CacheWarning, match="cannot write the spin-model cache") as caught:
        res = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    assert len([w for w in caught if issubclass(w.category, CacheWarning)]) == 1  # once, not per task
    fresh = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, cache=False, **SMALL)
    assert res.moments.equals(fresh.moments)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "foreign npz", "other task", "NaN"])
def test_damaged_cache_file_is_recomputed_with_a_warning(damage, table, tmp_path, monkeypatch):
    from jijtutorial.featurecache import CacheWarning
    from jijtutorial.featurecache._files import _WARNED

    _WARNED.clear()
    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path))
    first = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    files = sorted((tmp_path / "spins").glob("task-*.npz"))
    victim = files[0]
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        victim.write_bytes(b"not a zip file at all" * 10)
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "foreign npz":
        np.savez(victim, something=np.arange(3))
    elif damage == "other task":
        victim.write_bytes(files[1].read_bytes())  # a valid result, of another task
    else:
        with np.load(victim) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["m2"] = np.full_like(arrays["m2"], np.nan)
        np.savez(victim, **arrays)
    with pytest.warns(CacheWarning, match=rf"{victim.name} is unusable .*recomputed and replaced"):
        again = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    assert again.moments.equals(first.moments)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # replaced: read back without a word
        third = spins.curie_sweep(table, [{"Cr": 0.2}], client="sync", progress=False, **SMALL)
    assert third.moments.equals(first.moments)


def test_cli_writes_one_consistent_set_with_a_manifest(tmp_path, monkeypatch, capsys):
    from jijtutorial._files import check_file_set
    from jijtutorial.cli import main

    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert main([*CURIE, "--realisations", "2", "--out", str(out)]) == 0
    assert check_file_set(out / "manifest-curie.json") == []
    assert not list(out.glob(".*tmp*"))  # no temporary file left behind
    (out / "moments.csv").write_text("edited")
    assert "moments.csv is not the file manifest-curie.json records" in check_file_set(out / "manifest-curie.json")[0]
