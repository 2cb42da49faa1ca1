"""Structure views shared by the chapters: an interactive 3D widget and a static picture.

:func:`view_structure` returns an nglview widget (ball-and-stick host, unit cell, the two
impurities drawn as large labelled spheres). In the built book the widget is interactive when
its JavaScript loads; :func:`structure_image` draws the same structure with matplotlib (a
projection along a chosen axis, Jmol element colours, the same highlighted atoms) so that a
page always carries a picture that needs no JavaScript. :func:`show_structure` displays both.

nglview is imported only when a widget is made, so the rest of the package (and the static
picture) works where nglview is not installed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

#: Factor on the sum of covalent radii below which two atoms are drawn bonded (Bi-Te bonds of
#: Bi2Te3, 3.07-3.26 Å, are bonds; Te-Te across the van der Waals gap, 3.65 Å, is not).
BOND_TOLERANCE = 1.2

#: Named viewing directions of :func:`structure_image`: the viewer sits on the +axis side.
_AXES = {
    "x": (1.0, 0.0, 0.0),
    "-x": (-1.0, 0.0, 0.0),
    "y": (0.0, 1.0, 0.0),
    "-y": (0.0, -1.0, 0.0),
    "z": (0.0, 0.0, 1.0),
    "-z": (0.0, 0.0, -1.0),
}


def _highlight_indices(atoms: Atoms, highlight) -> tuple[int, ...]:
    """Indices to highlight: ``highlight`` if given, else ``atoms.info['impurities']``, else none."""
    if highlight is None:
        highlight = atoms.info.get("impurities", ())
    try:
        idx = tuple(int(i) for i in highlight)
    except TypeError as err:
        raise TypeError(f"highlight must be a sequence of atom indices, not {highlight!r}.") from err
    n = len(atoms)
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise IndexError(f"highlight indices {bad} are out of range for a structure of {n} atoms.")
    if len(set(idx)) != len(idx):
        raise ValueError(f"highlight indices {list(idx)} repeat an atom.")
    return idx


def _check_atoms(atoms) -> Atoms:
    if not isinstance(atoms, Atoms):
        raise TypeError(f"expected an ase.Atoms structure, got {type(atoms).__name__}.")
    if len(atoms) == 0:
        raise ValueError("the structure has no atoms to show.")
    return atoms


def _import_nglview():
    """Import nglview without the empty output its import displays in a notebook.

    ``import nglview`` displays an invisible colour-scheme registry widget (needed only for
    custom colour schemes, which these views do not use). In the book that empty output would
    sit in the cell beside the structure views, so it is captured here.
    """
    import sys

    if "nglview" in sys.modules:
        return sys.modules["nglview"]
    try:
        from IPython.utils.capture import capture_output
    except ImportError:  # pragma: no cover - IPython comes with ipykernel/nglview
        capture_output = None
    try:
        if capture_output is None:
            import nglview
        else:
            with capture_output(stdout=False, stderr=False, display=True):
                import nglview
    except ImportError as err:  # pragma: no cover - nglview is a dependency of the package
        raise ImportError(
            "view_structure needs nglview (pip install nglview); structure_image draws a static picture without it."
        ) from err
    return nglview


def _ngl_selection(indices: Iterable[int]) -> str:
    """NGL selection string for atoms by (0-based) index, e.g. ``'@150,90'``."""
    return "@" + ",".join(str(int(i)) for i in indices)


def view_structure(
    atoms: Atoms,
    *,
    highlight: Sequence[int] | None = None,
    axis="-y",
    unit_cell: bool = True,
    labels: bool = True,
    show_distance: bool = True,
    host_radius: float = 0.3,
    host_opacity: float = 0.5,
    impurity_radius: float = 1.1,
    label_size: float = 3.5,
    camera: str = "orthographic",
    width: str = "100%",
    height: str = "420px",
):
    """Interactive 3D view (an ``nglview.NGLWidget``) of ``atoms``.

    The host is drawn ball-and-stick in Jmol element colours; the atoms in ``highlight``
    (default: ``atoms.info['impurities']``, the pair placed by
    :func:`jijtutorial.structures.embed_pair`) are drawn as large spheres of radius
    ``impurity_radius`` (Å) labelled with their element (``label_size`` is NGL's text size);
    the host is drawn with
    ``host_opacity`` so that the impurities show through the atoms in front of them, and the
    labels are lifted towards the viewer so nothing hides them. ``unit_cell`` outlines the
    periodic cell (for structures with one). If exactly two atoms are highlighted and
    ``show_distance`` is true, their distance is drawn too, unless one of them only lies at
    that distance through a periodic image (then the straight line would be misleading); its
    length is written below the pair.
    The view starts looking from ``axis`` (as in :func:`structure_image`: ``'-y'`` shows the
    quintuple layers stacked upwards, ``'z'`` looks down on a layer) with the whole structure
    in frame; drag to rotate, scroll to zoom.

    The returned widget stores every drawing command in its state, so a notebook saved with
    widget state shows it in the static HTML book without a kernel.
    """
    nglview = _import_nglview()
    atoms = _check_atoms(atoms)
    hl = _highlight_indices(atoms, highlight)
    if camera not in ("orthographic", "perspective"):
        raise ValueError(f"camera must be 'orthographic' or 'perspective', not {camera!r}.")
    orientation = _ngl_orientation(atoms, axis)
    towards = _view_basis(axis)[2]
    # Lift labels in front of every atom: the depth of the structure along the view direction.
    lift = float(np.ptp(atoms.positions @ towards)) + 2.0

    view = nglview.NGLWidget(nglview.ASEStructure(atoms), default_representation=False)
    host = [k for k in range(len(atoms)) if k not in set(hl)]
    if host:
        view.add_representation(
            "ball+stick",
            selection=_ngl_selection(host),
            colorScheme="element",
            radiusType="size",
            radiusSize=host_radius,
            aspectRatio=1.6,
            opacity=host_opacity,
        )
    if hl:
        sel = _ngl_selection(hl)
        view.add_representation(
            "spacefill",
            selection=sel,
            colorScheme="element",
            radiusType="size",
            radiusSize=impurity_radius,
        )
        gap = impurity_radius + 0.2
        place = _label_placement(atoms, hl, axis)
        if labels:
            # One label per atom, each on the side away from its partner (see _label_placement).
            for k in hl:
                x, y, attach = place[k]
                view.add_representation(
                    "label",
                    selection=f"@{k}",
                    labelType="text",
                    labelText={int(k): str(atoms.symbols[k])},
                    color="black",
                    zOffset=lift,
                    xOffset=x * gap,
                    yOffset=y * gap,
                    attachment=attach,
                    radiusType="size",
                    radiusSize=label_size,
                )
        if show_distance and len(hl) == 2 and _pair_is_direct(atoms, *hl):
            x, y, attach = place["distance"]
            view.add_representation(
                "distance",
                atomPair=[[f"@{hl[0]}", f"@{hl[1]}"]],
                color="black",
                labelColor="black",
                labelUnit="angstrom",
                labelSize=0.8 * label_size,
                labelZOffset=lift,
                labelAttachment=attach,
                labelXOffset=x * gap,
                labelYOffset=y * gap,
            )
    if unit_cell and atoms.cell.rank == 3:
        view.add_unitcell()
    view.camera = camera
    view.background = "white"
    # Size first: NGL fixes the orthographic zoom from the canvas height when orient() runs.
    view.layout.width = width
    view.layout.height = height
    view.control.orient(orientation)
    return view


#: NGL's default camera field of view (degrees); the orthographic camera is sized from it too.
_NGL_FOV = 40.0


def _ngl_orientation(atoms: Atoms, axis, margin: float = 1.15, min_aspect: float = 0.8) -> list[float]:
    """NGL camera orientation (4×4, column-major) looking from ``axis`` at the whole structure.

    NGL's ``viewerControls.orient`` takes translation (minus the centre), rotation (rows: screen
    right, screen up, towards the viewer) and the camera distance as a uniform scale. The
    distance frames the atoms (and the cell) on a canvas down to ``min_aspect`` width/height.
    """
    right, up, d, _ = _view_basis(axis)
    points = atoms.positions
    if atoms.cell.rank == 3:
        corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
        points = np.vstack([points, corners @ atoms.cell.array])
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    w = np.ptp(points @ right) + 4.0
    h = np.ptp(points @ up) + 4.0
    half_height = margin * max(h, w / min_aspect) / 2
    distance = half_height / np.tan(np.radians(_NGL_FOV) / 2)
    rot = np.vstack([-right, up, -d])  # world -> NGL camera frame
    m = np.eye(4)
    m[:3, :3] = rot * distance
    m[:3, 3] = -centre  # NGL translates the scene before rotating it
    return [float(x) for x in m.T.reshape(-1)]  # column-major, as three.js Matrix4.fromArray


def _label_placement(atoms: Atoms, hl: Sequence[int], axis) -> dict:
    """Where the 3D view puts labels: {atom: (x, y, attachment)} and the same for 'distance'.

    (x, y) is a unit offset on screen. For a pair seen more side by side than one above the
    other, both element labels go above their atoms and the distance below the line; for a
    pair seen more one above the other, the upper atom's label goes above it, the lower one's
    below it, and the distance to the right of the line, so no label sits on the line.
    """
    above, below = (0.0, 1.0, "bottom-center"), (0.0, -1.0, "top-center")
    place = {k: above for k in hl}
    place["distance"] = below
    if len(hl) == 2:
        right, up, _, _ = _view_basis(axis)
        d = atoms.positions[hl[1]] - atoms.positions[hl[0]]
        dx, dy = float(d @ right), float(d @ up)
        if abs(dy) > abs(dx):
            upper, lower = (hl[1], hl[0]) if dy > 0 else (hl[0], hl[1])
            place[upper], place[lower] = above, below
            place["distance"] = (1.0, 0.0, "middle-left")
    return place


def _pair_is_direct(atoms: Atoms, i: int, j: int) -> bool:
    """True if atoms i and j are nearest to each other directly, not via a periodic image."""
    direct = float(np.linalg.norm(atoms.positions[j] - atoms.positions[i]))
    if not atoms.pbc.any() or atoms.cell.rank == 0:
        return True
    mic = float(atoms.get_distance(i, j, mic=True))
    return abs(direct - mic) < 1e-6


def _view_basis(axis) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, str]]:
    """Screen (right, up) and the viewing direction for ``axis``; names of right and up."""
    if isinstance(axis, str):
        key = axis.strip().lower()
        if key not in _AXES:
            raise ValueError(f"axis must be one of {', '.join(_AXES)} or a 3-vector, not {axis!r}.")
        d = np.array(_AXES[key])
    else:
        d = np.asarray(axis, dtype=float).reshape(-1)
        if d.shape != (3,) or not np.all(np.isfinite(d)) or np.linalg.norm(d) < 1e-9:
            raise ValueError(f"axis must be one of {', '.join(_AXES)} or a non-zero 3-vector, not {axis!r}.")
        d = d / np.linalg.norm(d)
    up0 = np.array([0.0, 1.0, 0.0]) if abs(d[2]) > 0.9 else np.array([0.0, 0.0, 1.0])
    right = np.cross(up0, d)
    right /= np.linalg.norm(right)
    up = np.cross(d, right)

    def name(v):
        for k, ax in _AXES.items():
            if np.allclose(v, ax, atol=1e-9):
                return k.replace("-", "−")
        return ""

    return right, up, d, (name(right), name(up))


def structure_image(
    atoms: Atoms,
    *,
    highlight: Sequence[int] | None = None,
    axis="-y",
    ax=None,
    path: str | Path | None = None,
    radius_scale: float = 0.45,
    impurity_scale: float = 1.5,
    bonds: bool = True,
    unit_cell: bool = True,
    legend: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 5.0),
    dpi: int = 150,
):
    """Static picture of ``atoms`` projected along ``axis``; returns the matplotlib Figure.

    ``axis`` is the side the viewer looks from: ``'x'``, ``'-y'``, ``'z'``, ... or a 3-vector
    (``'-y'``, the default, shows the quintuple layers stacked upwards; ``'z'`` looks down on a
    Bi layer). Atoms are discs of ``radius_scale`` × covalent radius in Jmol colours (the
    colours of the 3D view), drawn back to front; bonds join atoms closer than
    ``BOND_TOLERANCE`` × the sum of covalent radii (without periodic images). Highlighted atoms
    (default ``atoms.info['impurities']``) are ``impurity_scale`` times larger, outlined and
    labelled ``i``/``j`` (or by their index). The unit cell is outlined if ``unit_cell``.

    Draws into ``ax`` if given (else a new figure of ``figsize``), and writes a PNG with an
    opaque white background to ``path`` if given.
    """
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    from .plotting import figure

    atoms = _check_atoms(atoms)
    hl = _highlight_indices(atoms, highlight)
    if not (np.isfinite(radius_scale) and radius_scale > 0):
        raise ValueError(f"radius_scale must be positive, not {radius_scale!r}.")
    right, up, d, (rname, uname) = _view_basis(axis)

    pos = atoms.positions
    xy = np.column_stack([pos @ right, pos @ up])
    depth = pos @ d
    numbers = atoms.numbers
    radii = covalent_radii[numbers] * radius_scale
    is_hl = np.zeros(len(atoms), bool)
    is_hl[list(hl)] = True
    radii = np.where(is_hl, radii * impurity_scale, radii)

    if ax is None:
        fig, ax = figure(figsize=figsize, dpi=dpi)  # no rc_context: it would stop later inline figures
    else:
        fig = ax.figure
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)
    ax.set_facecolor("white")

    if unit_cell and atoms.cell.rank == 3:
        c = atoms.cell.array
        corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) @ c
        edges = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
        cxy = np.column_stack([corners @ right, corners @ up])
        ax.add_collection(
            LineCollection([cxy[[a, b]] for a, b in edges], colors="0.55", linewidths=0.8, linestyles="--", zorder=1)
        )

    if bonds:
        from scipy.spatial import cKDTree

        cutoff = BOND_TOLERANCE * 2 * covalent_radii[np.unique(numbers)].max()
        pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
        if len(pairs):
            dist = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
            limit = BOND_TOLERANCE * (covalent_radii[numbers[pairs[:, 0]]] + covalent_radii[numbers[pairs[:, 1]]])
            pairs = pairs[dist < limit]
            ax.add_collection(LineCollection(xy[pairs], colors="0.35", linewidths=0.9, zorder=2))

    order = np.argsort(depth, kind="stable")  # far atoms first
    # Shade by depth so front atoms read as front: far atoms are mixed towards white.
    span = np.ptp(depth) or 1.0
    fade = 0.45 * (depth.max() - depth) / span
    colors = jmol_colors[numbers]
    colors = colors + (1.0 - colors) * fade[:, None]
    colors[is_hl] = jmol_colors[numbers[is_hl]]
    host = [k for k in order if not is_hl[k]]
    ax.add_collection(
        PatchCollection(
            [Circle(xy[k], radii[k]) for k in host],
            facecolors=colors[host],
            edgecolors="0.25",
            linewidths=0.4,
            zorder=3,
            match_original=False,
        )
    )
    if hl:
        ax.add_collection(
            PatchCollection(
                [Circle(xy[k], radii[k]) for k in hl],
                facecolors=colors[list(hl)],
                edgecolors="black",
                linewidths=2.0,
                zorder=4,
                match_original=False,
            )
        )
        names = ("i", "j") if len(hl) == 2 else tuple(str(k) for k in hl)
        for name, k in zip(names, hl):
            ax.annotate(
                f"{name}: {atoms.symbols[k]}",
                (xy[k, 0], xy[k, 1] + radii[k]),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
                zorder=5,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="black", lw=0.6),
            )

    pad = radii.max() + 0.5
    lo = xy.min(axis=0) - pad
    hi = xy.max(axis=0) + pad
    if unit_cell and atoms.cell.rank == 3:
        lo = np.minimum(lo, cxy.min(axis=0) - 0.5)
        hi = np.maximum(hi, cxy.max(axis=0) + 0.5)
    hi[1] += 1.5 if hl else 0.0  # room for the labels
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel(f"{rname} (Å)" if rname else "Å")
    ax.set_ylabel(f"{uname} (Å)" if uname else "Å")
    if title:
        ax.set_title(title)

    if legend:
        symbols = sorted(set(atoms.get_chemical_symbols()), key=lambda s: -np.sum(atoms.symbols == s))
        handles = [
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=8,
                mfc=jmol_colors[atoms.numbers[atoms.symbols == s][0]],
                mec="black" if any(atoms.symbols[k] == s for k in hl) else "0.25",
                label=s,
            )
            for s in symbols
        ]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            framealpha=1.0,
            facecolor="white",
            title="element",
        )

    if path is not None:
        from ._files import atomic_path

        with atomic_path(path) as tmp:
            fig.savefig(tmp, facecolor="white", transparent=False, bbox_inches="tight", dpi=dpi)
    return fig


def show_structure(atoms: Atoms, *, highlight: Sequence[int] | None = None, axis="-y", **view_kwargs) -> None:
    """Display the static picture and, after it, the interactive 3D view of ``atoms``.

    For a side-by-side layout in the book, give the cell the tag ``structure-views``. The
    picture is displayed as a PNG (it needs no JavaScript); the widget follows. Returns
    nothing, so a trailing call does not display the widget a second time.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    fig = structure_image(atoms, highlight=highlight, axis=axis)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white", transparent=False, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))
    view = view_structure(atoms, highlight=highlight, **view_kwargs)
    display(view)


__all__ = [
    "show_structure",
    "structure_image",
    "view_structure",
]
