"""Writing files safely: checks on output paths before any computation, and atomic writes.

Every file the package writes -- command outputs, caches, the model data set -- goes through
:func:`atomic_path` (or :func:`atomic_write`, or :class:`AtomicFileSet` for files that belong
together): the data go to a temporary file in the destination's folder, are flushed to disk
(``fsync``) and the temporary file is renamed over the destination (``os.replace``, atomic on
POSIX and Windows within one file system). A reader therefore sees the old file or the new one,
never a half-written one, and a run killed mid-write (SIGKILL, power loss) leaves the previous file
intact and at most a hidden ``.<name>.*.tmp*`` file, which the next write of that folder does not
read. Two runs writing the same file concurrently each replace it whole: the last one wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["AtomicFileSet", "atomic_path", "atomic_write", "check_file_set", "output_file", "output_folder"]


def _probe_write(folder: Path, option: str, what: Path) -> None:
    """Create and remove a temporary file in ``folder``: the only reliable test that it can be written.

    ``os.access`` says yes for root on a read-only mount, an immutable folder or ``/proc``; a real
    write says no.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".jijtutorial-write-test.", suffix=".tmp")
    except OSError as err:
        raise PermissionError(
            f"{option} {what}: cannot write in the folder {folder} ({err.strerror or err}); choose a folder you can write to."
        ) from None
    os.close(fd)
    os.remove(tmp)


def output_folder(path, option: str = "--out") -> Path:
    """``path`` as an existing (created if needed), writable folder; else a clear error naming ``option``.

    Raises ``NotADirectoryError`` if ``path`` (or a parent) is a file and ``PermissionError`` if the
    folder cannot be created or written to (checked by writing a temporary file there).
    """
    out = Path(path).expanduser()
    if str(path).strip() == "":
        raise ValueError(f"{option} is empty; give a folder for the results.")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{option} {out} is a file, not a folder; give a folder for the results.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(
            f"{option} {out}: a part of this path is a file, not a folder; give a folder for the results."
        ) from None
    except OSError as err:
        raise PermissionError(
            f"{option} {out}: cannot create this folder ({err.strerror or err}); choose a folder you can write to."
        ) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {out} is not writable; choose a folder you can write to.")
    _probe_write(out, option, out)
    return out


def output_file(path, option: str = "--out") -> Path:
    """``path`` as a file that can be written (its folder created if needed); else a clear error naming ``option``.

    Raises ``IsADirectoryError`` if ``path`` is a folder, ``NotADirectoryError`` if a part of its folder
    is a file and ``PermissionError`` if the folder cannot be created or the file not written (checked
    by writing a temporary file in its folder). An existing file is replaced, atomically, when the
    command finishes.
    """
    if str(path).strip() == "":
        raise ValueError(f"{option} is empty; give a file name, e.g. jij-table.csv.")
    out = Path(path).expanduser()
    if out.is_dir():
        raise IsADirectoryError(f"{option} {out} is a folder; give a file name for the table, e.g. {out / 'jij-table.csv'}.")
    folder = out.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{option} {out}: {folder} is a file, not a folder; give a file in a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(
            f"{option} {out}: a part of this path is a file, not a folder; give a file in a folder."
        ) from None
    except OSError as err:
        raise PermissionError(
            f"{option} {out}: cannot create the folder {folder} ({err.strerror or err}); choose a folder you can write to."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PermissionError(f"{option} {out} is not writable; choose a file you can write to.")
    _probe_write(folder, option, out)
    return out


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------
def _temporary(path: Path) -> Path:
    """A new empty file next to ``path``, hidden, keeping its suffix (savefig and np.savez read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    # mkstemp makes the file private (0600); the file it becomes is an ordinary output, readable as
    # any file this process creates (0666 less the umask), like open(path, "w") would make it.
    try:
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError:
        pass
    return Path(tmp)


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux), since setting it
    to read it back races with other threads creating files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextmanager
def atomic_path(path):
    """Context: a temporary path to write to; on success it replaces ``path`` atomically.

    Example::

        with atomic_path("out/table.csv") as tmp:
            frame.to_csv(tmp, index=False)

    The temporary file is in the same folder (so the rename is atomic) and has the same suffix (so
    ``savefig`` and ``np.savez`` keep the format). It is flushed to disk before the rename. If the
    block raises, or the process is interrupted, ``path`` is untouched and the temporary file is
    removed (a SIGKILL may leave a hidden ``.<name>.*.tmp*`` file behind, never a partial ``path``).
    Creates the folder if needed; raises ``OSError`` if it cannot write.
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(path.parent)


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically (see :func:`atomic_path`); returns ``path``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def _folder_lock(folder: Path):
    """Exclusive lock on ``folder`` itself (``flock`` on its descriptor: no lock file left behind); a no-op where
    folders cannot be locked."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):  # pragma: no cover - Windows
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class AtomicFileSet:
    """Files that belong together (a table and its predictions), written so that they stay consistent.

    Use as a context manager; :meth:`path` gives the temporary path to write each file to::

        with AtomicFileSet(out / "manifest-jukkr-study.json") as files:
            table.to_csv(files.path(out / "table.csv"), index=False)
            predictions.to_csv(files.path(out / "predictions.csv"), index=False)

    Protocol (a *completion marker*): every file is first written completely to a temporary file
    and flushed to disk; only when all are written is the old manifest removed, each file renamed
    into place, and the manifest -- the list of the files with their sizes and SHA-256 -- written
    last, atomically. So:

    * an interruption before the renames leaves the previous set untouched (with its manifest);
    * an interruption during the renames leaves no manifest: the set is visibly incomplete;
    * a manifest present means every file it lists is the one written with it
      (:func:`check_file_set` verifies the checksums);
    * two runs committing sets to the same folder at once take turns (a lock on the folder), so the
      files and the manifest left are those of one run.

    If the block raises, nothing is renamed and the temporary files are removed. ``manifest=None``
    writes no manifest, for sets that carry their own check (the model data set's provenance file
    records the SHA-256 of its CSV): the files are renamed in the order they were added.
    """

    def __init__(self, manifest):
        self.manifest = None if manifest is None else Path(manifest)
        self._files: dict[Path, Path] = {}

    def path(self, final) -> Path:
        """The temporary path to write ``final`` to (renamed into place when the set is complete)."""
        final = Path(final)
        if final in self._files:
            raise ValueError(f"{final} is already part of this file set.")
        self._files[final] = _temporary(final)
        return self._files[final]

    @property
    def files(self) -> list[Path]:
        """The final paths of the set, in the order they were added."""
        return list(self._files)

    def __enter__(self) -> "AtomicFileSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._discard()
            return False
        try:
            entries = {}
            for final, tmp in self._files.items():
                _fsync_file(tmp)
                entries[final.name] = {"bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}
            # one commit at a time per folder: two runs writing the same set cannot interleave their renames
            with _folder_lock(self.manifest.parent if self.manifest is not None else next(iter(self._files)).parent):
                if self.manifest is not None:
                    _remove(self.manifest)
                for final, tmp in self._files.items():
                    os.replace(tmp, final)
                for folder in {f.parent for f in self._files}:
                    _fsync_folder(folder)
                if self.manifest is not None:
                    text = json.dumps({"complete": True, "files": entries}, indent=1, sort_keys=True) + "\n"
                    atomic_write(self.manifest, text)
        except BaseException:
            self._discard()
            raise
        return False

    def _discard(self) -> None:
        for tmp in self._files.values():
            _remove(tmp)


def check_file_set(manifest) -> list[str]:
    """Problems of a file set written by :class:`AtomicFileSet` (empty list: complete and consistent).

    Lists a missing manifest, a listed file that is missing, and a file whose size or SHA-256 is not
    the one recorded (rewritten by another run, or edited since).
    """
    manifest = Path(manifest)
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        files = info["files"]
    except FileNotFoundError:
        return [f"{manifest} is missing: the set was not written completely (interrupted?)."]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"{manifest} is unreadable ({type(err).__name__}: {err})."]
    problems = []
    for name, entry in files.items():
        p = manifest.parent / name
        if not p.is_file():
            problems.append(f"{p} is missing.")
        elif p.stat().st_size != entry.get("bytes") or _sha256(p) != entry.get("sha256"):
            problems.append(f"{p} is not the file {manifest.name} records (size or sha256 differ).")
    return problems
