"""Writing files: the one atomic writer, file sets with a manifest, and output paths checked before computing.

Interrupted (SIGKILL mid-write) and concurrent writers must leave a whole file -- the old one or a new
one -- never a truncated one that still parses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from jijtutorial._files import AtomicFileSet, atomic_path, atomic_write, check_file_set, output_file, output_folder


def test_atomic_write_replaces_whole_and_leaves_nothing_behind(tmp_path):
    f = tmp_path / "sub" / "table.csv"
    atomic_write(f, "a,b\n1,2\n")
    assert f.read_text() == "a,b\n1,2\n"
    with pytest.raises(RuntimeError):
        with atomic_path(f) as tmp:
            tmp.write_text("a,b\n3,")
            raise RuntimeError("the computation failed mid-write")
    assert f.read_text() == "a,b\n1,2\n"
    assert [p.name for p in f.parent.iterdir()] == ["table.csv"]


def test_the_temporary_file_keeps_the_suffix_so_writers_choose_the_format(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plt.figure()
    with atomic_path(tmp_path / "plot.png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    with atomic_path(tmp_path / "arrays.npz") as tmp:
        np.savez(tmp, x=np.arange(3))
    assert list(np.load(tmp_path / "arrays.npz")["x"]) == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "plot.png"]


_SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from jijtutorial._files import atomic_path

    with atomic_path(sys.argv[1]) as tmp:
        with open(tmp, "w") as fh:
            for k in range(100000):
                fh.write(f"{k},{k * k}\\n")
                if k == 1000:
                    fh.flush()
                    print("writing", flush=True)
                    time.sleep(30)
""")


def test_sigkill_mid_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("previous\n")
    script = tmp_path / "writer.py"
    script.write_text(_SLOW_WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert target.read_text() == "previous\n"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".table.csv.")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # a hidden temporary file, never the table
    atomic_write(target, "next\n")  # the next run writes over it as usual
    assert target.read_text() == "next\n"


_RACER = textwrap.dedent("""
    import sys
    from jijtutorial._files import atomic_write

    tag = sys.argv[2]
    for k in range(150):
        atomic_write(sys.argv[1], (tag * 50000 + "\\n"))
""")


def test_two_concurrent_writers_and_a_reader_never_see_a_partial_file(tmp_path):
    target = tmp_path / "shared.csv"
    atomic_write(target, "a" * 50000 + "\n")
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    procs = [subprocess.Popen([sys.executable, str(script), str(target), tag]) for tag in ("a", "b")]
    seen = set()
    deadline = time.time() + 120
    while any(p.poll() is None for p in procs) and time.time() < deadline:
        text = target.read_text()
        assert text in ("a" * 50000 + "\n", "b" * 50000 + "\n")  # whole, one writer's
        seen.add(text[0])
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert target.read_text() in ("a" * 50000 + "\n", "b" * 50000 + "\n")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_file_set_writes_its_manifest_last(tmp_path):
    with AtomicFileSet(tmp_path / "manifest.json") as fs:
        fs.path(tmp_path / "table.csv").write_text("t\n")
        fs.path(tmp_path / "predictions.csv").write_text("p\n")
        assert not (tmp_path / "table.csv").exists()  # nothing is in place before the set is complete
    info = json.loads((tmp_path / "manifest.json").read_text())
    assert info["complete"] and set(info["files"]) == {"table.csv", "predictions.csv"}
    assert check_file_set(tmp_path / "manifest.json") == []
    with pytest.raises(ValueError, match="already part of this file set"):
        with AtomicFileSet(tmp_path / "manifest.json") as fs:
            fs.path(tmp_path / "table.csv")
            fs.path(tmp_path / "table.csv")
    assert check_file_set(tmp_path / "manifest.json") == []  # the failed set changed nothing
    (tmp_path / "predictions.csv").write_text("edited\n")
    assert check_file_set(tmp_path / "manifest.json") == [
        f"{tmp_path / 'predictions.csv'} is not the file manifest.json records (size or sha256 differ)."
    ]


@pytest.mark.parametrize("check", [output_file, output_folder])
def test_output_paths_are_tried_with_a_real_write(check, tmp_path, monkeypatch):
    """os.access says yes to root on a read-only folder; the check writes a temporary file instead."""
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    where = tmp_path / ("out.csv" if check is output_file else "out")
    with pytest.raises(PermissionError, match="--out .*cannot write in the folder .*Permission denied"):
        check(where)
    monkeypatch.undo()
    assert check(where) == where
    assert [p.name for p in tmp_path.iterdir()] == (["out"] if check is output_folder else [])


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_proc_is_not_an_output_folder():
    with pytest.raises(PermissionError, match="--out /proc/x.csv: cannot write in the folder /proc"):
        output_file("/proc/x.csv")
    with pytest.raises(ValueError, match="--out is empty"):
        output_folder("")


_SET_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from jijtutorial._files import AtomicFileSet

    out, tag = Path(sys.argv[1]), sys.argv[2]
    for k in range(60):
        with AtomicFileSet(out / "manifest.json") as fs:
            fs.path(out / "table.csv").write_text(f"{tag} table {k}\\n" * 2000)
            fs.path(out / "predictions.csv").write_text(f"{tag} predictions {k}\\n" * 20000)
""")


def test_two_runs_writing_the_same_set_leave_one_runs_set(tmp_path):
    script = tmp_path / "sets.py"
    script.write_text(_SET_WRITER)
    out = tmp_path / "out"
    out.mkdir()
    procs = [subprocess.Popen([sys.executable, str(script), str(out), tag]) for tag in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert check_file_set(out / "manifest.json") == []
    first = [(out / name).read_text().split("\n", 1)[0].split() for name in ("table.csv", "predictions.csv")]
    assert first[0][0::2] == first[1][0::2]  # the table and the predictions of one run and one commit
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "predictions.csv", "table.csv"]


def test_written_files_are_readable_like_any_new_file(tmp_path):
    """mkstemp's temporary file is private (0600); the output it becomes follows the umask like open() would."""
    import stat

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.csv", "x\n")
        with AtomicFileSet(None) as fs:
            fs.path(tmp_path / "b.csv").write_text("y\n")
    finally:
        os.umask(old)
    for name in ("a.csv", "b.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
