"""The 20 impurity elements of the JuKKR data set and the host species."""

from __future__ import annotations

from ase.data import atomic_numbers, chemical_symbols

#: Atomic numbers of the impurity elements: the 3d row Sc-Zn and the 4d row Y-Cd.
IMPURITY_Z: tuple[int, ...] = tuple(range(21, 31)) + tuple(range(39, 49))

#: Chemical symbols of the impurity elements, in order of atomic number.
IMPURITY_ELEMENTS: tuple[str, ...] = tuple(chemical_symbols[z] for z in IMPURITY_Z)

#: Host species of Bi2Te3.
HOST_ELEMENTS: tuple[str, ...] = ("Bi", "Te")


def symbol_of(z: int, *, where: str = "") -> str:
    """Chemical symbol of impurity atomic number ``z``; a clear error if it is not one of the 20."""
    if int(z) not in IMPURITY_Z:
        loc = f" ({where})" if where else ""
        raise ValueError(
            f"unknown impurity element Z={z}{loc}: the data set covers only "
            f"Z = 21-30 (Sc-Zn) and 39-48 (Y-Cd). Check the file for a corrupted row."
        )
    return chemical_symbols[int(z)]


def z_of(symbol: str, *, where: str = "") -> int:
    """Atomic number of impurity ``symbol`` ('Fe', 'Mo', ...); a clear error if unknown."""
    z = atomic_numbers.get(str(symbol))
    if z is None or z not in IMPURITY_Z:
        loc = f" ({where})" if where else ""
        raise ValueError(f"unknown impurity element {symbol!r}{loc}: use one of {', '.join(IMPURITY_ELEMENTS)}.")
    return z


def group(symbol: str) -> int:
    """Group of the periodic table (valence electrons outside the noble-gas core): Sc, Y = 3 ... Zn, Cd = 12."""
    z = z_of(symbol)
    return (z - 18) if z <= 30 else (z - 36)


def row(symbol: str) -> int:
    """Transition-metal row: 3 for Sc-Zn, 4 for Y-Cd."""
    return 3 if z_of(symbol) <= 30 else 4


__all__ = ["HOST_ELEMENTS", "IMPURITY_ELEMENTS", "IMPURITY_Z", "group", "row", "symbol_of", "z_of"]
