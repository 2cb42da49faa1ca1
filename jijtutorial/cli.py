"""Command line: ``jijtutorial <command> ...``.

Each command lives in its own module, which provides ``add_arguments(parser)`` and ``run(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command name -> (module, one-line help)
COMMANDS = {
    "generate-model-data": ("jijtutorial.model_data", "compute the package's own J_ij data set from Green functions"),
    "benchmark": ("jijtutorial.benchmark._cli", "run the kernel ridge benchmark and write its table and plots"),
    "jij-table": ("jijtutorial.jij_table", "write J and D with error bars for every element pair and Bi-Bi geometry (CSV)"),
    "info": ("jijtutorial.cli", "show where the data sets are and whether they load"),
    "curie": ("jijtutorial.spins._cli", "Monte Carlo and mean-field Curie temperatures of (co-)doped Bi2Te3"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``jijtutorial info`` (none)."""


def run(args: argparse.Namespace) -> int:
    """``jijtutorial info``: where each data set is, its number of pairs and whether it is the published file."""
    import warnings

    from . import __version__, datasets

    print(f"jijtutorial {__version__}")
    for name, loader in (("jukkr", datasets.load_jukkr), ("model", datasets.load_model)):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", datasets.DataFileWarning)
                df = loader()
        except (OSError, ValueError) as err:
            print(f"{name:6s} not available: {err}")
            continue
        prov = df.attrs.get("provenance", {})
        path = df.attrs.get("path") or prov.get("path", "?")
        n = df.attrs.get("n_pairs", len(df))
        if name == "jukkr":
            same = prov.get("sha256_matches_published")
            check = (
                "sha256 matches the published table"
                if same
                else f"sha256 DIFFERS from the published table ({prov.get('rows_in_file')} rows in the file, "
                f"published {datasets.JUKKR_ROWS})"
            )
            if prov.get("duplicates_removed"):
                check += f"; {prov['duplicates_removed']} exact duplicate row(s) removed"
        else:
            same = prov.get("sha256_matches_provenance")
            check = {
                True: "sha256 matches its provenance file",
                False: "sha256 DIFFERS from its provenance file",
                None: "no provenance file records its sha256",
            }[same]
        print(f"{name:6s} {n:5d} pairs  {path}")
        print(f"{'':6s} {check}")
        for w in caught:
            if not issubclass(w.category, datasets.DataFileWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return 0


#: Hint appended to the one-line message of each kind of file-system error.
_OS_ERROR_HINTS = (
    (PermissionError, "permission denied: check the permissions, or choose a location of your own"),
    (IsADirectoryError, "a folder is where a file is expected"),
    (NotADirectoryError, "a part of the path is a file, not a folder"),
    (FileExistsError, "it already exists; remove it or choose another path"),
    (FileNotFoundError, "not found"),
)


def _os_error_message(err: OSError) -> str:
    """One line for an ``OSError``: the path(s), what went wrong and what to do."""
    if err.filename is None:
        return str(err)  # our own messages name the file and say what to do
    where = str(err.filename) + (f" -> {err.filename2}" if err.filename2 else "")
    reason = err.strerror or type(err).__name__
    hint = next((h for t, h in _OS_ERROR_HINTS if isinstance(err, t)), None)
    return f"{where}: {hint} ({reason})." if hint else f"{where}: {reason}."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jijtutorial", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except OSError as err:  # PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError, ...
        print(f"jijtutorial {args.command}: error: {_os_error_message(err)}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"jijtutorial {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"jijtutorial {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
