"""The command line: ``jijtutorial info`` and one clear line (exit code 2) for every file-system error."""

from __future__ import annotations

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
    assert f"model   5200 pairs  {model}" in out and "sha256 matches its provenance file" in out


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
        (PermissionError(13, "Permission denied", "/data/out"),
         "/data/out: permission denied: check the permissions, or choose a location of your own (Permission denied)."),
        (NotADirectoryError(20, "Not a directory", "/tmp/a-file/out"),
         "/tmp/a-file/out: a part of the path is a file, not a folder (Not a directory)."),
        (IsADirectoryError(21, "Is a directory", "/tmp/folder"),
         "/tmp/folder: a folder is where a file is expected (Is a directory)."),
        (FileExistsError(17, "File exists", "/tmp/out"),
         "/tmp/out: it already exists; remove it or choose another path (File exists)."),
        (OSError(28, "No space left on device", "/tmp/out/table.csv"),
         "/tmp/out/table.csv: No space left on device."),
        (PermissionError("x.csv: permission denied, the file cannot be read."),
         "x.csv: permission denied, the file cannot be read."),
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
    assert "model   5200 pairs" in out
