"""The command line: ``jijtutorial info`` and one clear line (exit code 2) for every file-system error."""

from __future__ import annotations

import os
import shutil
import sys
import types

import pytest

from jijtutorial import cli, datasets


@pytest.fixture(autouse=True)
def _fresh_warnings():
    datasets._files._WARNED.clear()
    yield
    datasets._files._WARNED.clear()


def test_info_prints_path_size_and_checksum_of_each_data_set(jukkr_copy, monkeypatch, capsys):
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(jukkr_copy.parent))
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    model = datasets.model_path()
    assert f"jukkr   1728 pairs  {jukkr_copy}" in out
    assert "sha256 matches the published table; 2 exact duplicate row(s) removed" in out
    assert f"model  10400 pairs  {model}" in out and "sha256 matches its provenance file" in out


def test_info_says_when_the_table_is_not_the_published_one(jukkr_copy, monkeypatch, capsys):
    lines = jukkr_copy.read_text().splitlines()
    jukkr_copy.write_text("\n".join(lines[:101]) + "\n")
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(jukkr_copy.parent))
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"jukkr     99 pairs  {jukkr_copy}" in out
    assert "sha256 DIFFERS from the published table (100 rows in the file, published 1730)" in out


def test_info_without_the_table_and_with_an_unreadable_model(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(datasets.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(datasets._model, "PACKAGE_DATA_DIR", tmp_path)
    (tmp_path / datasets.MODEL_FILENAME).write_bytes(b"")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "jukkr  not available: JuKKR table not found" in out
    assert f"model  not available: {tmp_path / datasets.MODEL_FILENAME}: the file is empty (0 bytes)" in out


def _command_raising(monkeypatch, error):
    """Register a command ``boom`` whose run raises ``error``."""
    module = types.ModuleType("jijtutorial_test_boom")
    module.add_arguments = lambda parser: None

    def run(args):
        raise error

    module.run = run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(cli.COMMANDS, "boom", (module.__name__, "raise an error"))


@pytest.mark.parametrize(
    "error, message",
    [
        (
            PermissionError(13, "Permission denied", "/data/out"),
            "/data/out: permission denied: check the permissions, or choose a location of your own (Permission denied).",
        ),
        (
            NotADirectoryError(20, "Not a directory", "/tmp/a-file/out"),
            "/tmp/a-file/out: a part of the path is a file, not a folder (Not a directory).",
        ),
        (
            IsADirectoryError(21, "Is a directory", "/tmp/folder"),
            "/tmp/folder: a folder is where a file is expected (Is a directory).",
        ),
        (
            FileExistsError(17, "File exists", "/tmp/out"),
            "/tmp/out: it already exists; remove it or choose another path (File exists).",
        ),
        (OSError(28, "No space left on device", "/tmp/out/table.csv"), "/tmp/out/table.csv: No space left on device."),
        (
            PermissionError("x.csv: permission denied, the file cannot be read."),
            "x.csv: permission denied, the file cannot be read.",
        ),
    ],
    ids=["permission", "not-a-directory", "is-a-directory", "exists", "disk-full", "own-message"],
)
def test_file_system_errors_are_one_line_and_exit_code_2(monkeypatch, capsys, error, message):
    _command_raising(monkeypatch, error)
    assert cli.main(["boom"]) == 2
    err = capsys.readouterr().err
    assert err == f"jijtutorial boom: error: {message}\n"


def test_unreadable_table_through_the_command_line(tmp_path, monkeypatch, capsys):
    """An unreadable JuKKR table: `info` says so in one line and goes on with the model data."""
    import pathlib

    dst = tmp_path / datasets.JUKKR_FILENAME
    shutil.copy(datasets.PACKAGE_DATA_DIR / datasets.MODEL_FILENAME, dst)  # any file will do
    original = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == datasets.JUKKR_FILENAME:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    monkeypatch.setenv(datasets.DATA_DIR_VARIABLE, str(tmp_path))
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"jukkr  not available: {dst}: permission denied, the file cannot be read." in out
    assert "model  10400 pairs" in out


def _no_computation(monkeypatch):
    """Make any benchmark run or data generation fail loudly: argument checks must come first."""
    from jijtutorial import model_data
    from jijtutorial.benchmark import _cli as bench_cli

    def computed(*args, **kwargs):
        raise AssertionError("the computation started before the arguments were checked")

    monkeypatch.setattr(bench_cli, "run_benchmark", computed)
    monkeypatch.setattr(model_data, "generate_model_data", computed)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--repeats", "0"], "--repeats at least 1"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--test-size", "-0.5"], "--test-size must be a fraction in [0, 1)"),
        (["--test-size", "1.5"], "--test-size must be a fraction in [0, 1)"),
        (["--models", "CM-SVR-rbf"], "unknown model 'CM-SVR-rbf'"),
    ],
)
def test_benchmark_arguments_are_checked_first(monkeypatch, capsys, tmp_path, args, message):
    _no_computation(monkeypatch)
    assert cli.main(["benchmark", "--out", str(tmp_path / "res"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["benchmark", "generate-model-data"])
def test_output_folder_is_checked_before_computing(monkeypatch, capsys, tmp_path, command):
    _no_computation(monkeypatch)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert cli.main([command, "--out", str(a_file)]) == 2
    assert f"--out {a_file} is a file, not a folder" in capsys.readouterr().err
    assert cli.main([command, "--out", str(a_file / "sub")]) == 2
    assert "a part of this path is a file" in capsys.readouterr().err
    ro = tmp_path / "read-only"
    ro.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root may write anywhere: let the folder look read-only
        from jijtutorial import _files

        monkeypatch.setattr(_files.os, "access", lambda path, mode: False)
    assert cli.main([command, "--out", str(ro)]) == 2
    assert "not writable" in capsys.readouterr().err


def test_generate_model_data_rejects_zero_jobs(monkeypatch, capsys, tmp_path):
    _no_computation(monkeypatch)
    assert cli.main(["generate-model-data", "--out", str(tmp_path), "--n-jobs", "0"]) == 2
    assert "--n-jobs must be a positive number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--kmesh", "1"], "--kmesh must be at least 2"),
        (["--n-poles", "0"], "--n-poles must be at least 4"),
        (["--temperature", "0"], "--temperature must be positive"),
        (["--temperature", "nan"], "--temperature must be a finite number"),
        (["--max-distance", "3"], "--max-distance must be at least the nearest Bi–Bi distance"),
    ],
)
def test_generate_model_data_arguments_are_checked_first(monkeypatch, capsys, tmp_path, args, message):
    _no_computation(monkeypatch)
    assert cli.main(["generate-model-data", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
