"""Curie-temperature sweeps through Dask: identical results on 1 and 2 workers, seeds per task, cache, bad input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from jijtutorial import spins
from jijtutorial.datasets import load_model
from jijtutorial.spins._cli import compositions_from

SMALL = {"sizes": ((5, 5, 1), (6, 6, 1), (7, 7, 1)), "n_realisations": 2, "n_sweeps": 30, "n_therm": 10,
         "n_temperatures": 4}


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
    assert row["status"] in ("ordered", "none", "above")
    assert set(res.moments["size"]) == {"5x5x1", "6x6x1", "7x7x1"}


@pytest.mark.parametrize("kwargs, match", [
    ({"compositions": [{"Cr": 1.2}]}, r"in \(0, 1\]"),
    ({"compositions": [{"Cr": 0.0}]}, r"in \(0, 1\]"),
    ({"temperatures": (1.0, -1.0)}, "temperatures must be positive"),
    ({"sizes": ((4, 4, 1), (6, 6, 1))}, r"size=\(4, 4, 1\) is too small for the cut-off"),
    ({"sizes": ((6, 6, 1),)}, "at least two sizes"),
    ({"n_realisations": 0}, "n_realisations must be a positive integer"),
])
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
        {"Cr": 0.02}, {"Cr": 0.06}, {"Cr": 0.01, "V": 0.01}, {"Cr": 0.03, "V": 0.03}]
    with pytest.raises(ValueError, match=r"--concentrations: 1.5 is outside \(0, 1\]"):
        compositions_from("Cr", [1.5])


def test_cli_runs_and_writes_its_tables(tmp_path, monkeypatch, capsys):
    from jijtutorial.cli import main

    monkeypatch.setenv("JIJTUTORIAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("JIJTUTORIAL_DATA_DIR", raising=False)
    out = tmp_path / "out"
    code = main(["curie", "--dopants", "Cr,Cr+Mo", "--concentrations", "0.2", "--dataset", "model", "--cutoff", "8.8",
                 "--sizes", "5x5x1,6x6x1,7x7x1", "--realisations", "2", "--sweeps", "20", "--therm", "5",
                 "--scheduler", "sync", "--out", str(out), "--no-progress"])
    assert code == 0
    for name in ("curie.csv", "binder.csv", "moments.csv", "missing.csv", "settings.json"):
        assert (out / name).is_file()
    text = capsys.readouterr().out
    assert "Cr 20%" in text and "Cr 10% + Mo 10%" in text and "set by zero" in text


@pytest.mark.parametrize("argv, match", [
    (["--concentrations", "0"], r"outside \(0, 1\]"),
    (["--dopants", "Xx"], "elements: no J data"),
    (["--cutoff", "40"], "beyond the table"),
    (["--sizes", "4x4x1,5x5x1,6x6x1"], "too small for the cut-off"),
    (["--temperatures", "0,5"], "temperatures must be positive"),
])
def test_cli_bad_input_exits_with_a_message(argv, match, tmp_path, capsys):
    from jijtutorial.cli import main

    base = {"--dopants": "Cr", "--concentrations": "0.1", "--dataset": "model", "--cutoff": "8.8",
            "--sizes": "5x5x1,6x6x1,7x7x1", "--scheduler": "sync", "--out": str(tmp_path), "--realisations": "1",
            "--sweeps": "5"}
    base.update(dict(zip(argv[::2], argv[1::2])))
    code = main(["curie", *[x for kv in base.items() for x in kv], "--no-progress", "--no-cache"])
    assert code == 2
    assert re.search(match, capsys.readouterr().err)


def test_tc_text_says_what_the_status_means():
    assert spins.tc_text({"status": "ordered", "T_C": 12.34, "error": 1.21}) == "12.3 ± 1.2 K"
    assert spins.tc_text({"status": "none", "upper_bound": 0.0412}) == "no order down to 0.041 K"
    assert spins.tc_text({"status": "above", "T_max": 41.3}).startswith("above 41.3 K")
    assert "J₀ ≤ 0" in spins.tc_text({"status": "no mean-field order"})
