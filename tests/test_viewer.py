"""Structure views: the static picture (matplotlib) and the nglview widget's drawing commands."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.data.colors import jmol_colors  # noqa: E402
from PIL import Image  # noqa: E402

from jijtutorial import viewer  # noqa: E402
from jijtutorial.structures import bi2te3_host, embed_pair  # noqa: E402

PAIR_VECTOR = (-4.383, 0.0, 0.0)


@pytest.fixture(scope="module")
def pair() -> Atoms:
    return embed_pair("Fe", "Mn", PAIR_VECTOR)


def _rgb(symbol: str) -> np.ndarray:
    from ase.data import atomic_numbers

    return np.round(jmol_colors[atomic_numbers[symbol]] * 255).astype(int)


def _has_colour(img: np.ndarray, rgb: np.ndarray, tol: int = 3) -> int:
    return int(np.sum(np.all(np.abs(img[..., :3].astype(int) - rgb) <= tol, axis=-1)))


# --- static picture -------------------------------------------------------------------------


def test_image_is_a_nonempty_png_with_opaque_white_background(pair, tmp_path):
    path = tmp_path / "sub" / "pair.png"
    fig = viewer.structure_image(pair, path=path)
    plt.close(fig)
    assert path.stat().st_size > 10_000
    img = np.asarray(Image.open(path).convert("RGBA"))
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert np.all(img[..., 3] == 255), "the PNG must be opaque"
    for corner in (img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]):
        assert tuple(corner[:3]) == (255, 255, 255)
    # Something is drawn: far from all white.
    assert np.mean(np.all(img[..., :3] == 255, axis=-1)) < 0.9


def test_image_shows_the_impurities_in_their_element_colours(pair, tmp_path):
    """Fe is drawn at full Jmol colour (host atoms far from the viewer are faded)."""
    path = tmp_path / "pair.png"
    plt.close(viewer.structure_image(pair, path=path, legend=False))
    img = np.asarray(Image.open(path).convert("RGB"))
    assert _has_colour(img, _rgb("Fe")) > 200
    # A host without impurities has no Fe-coloured disc.
    path_host = tmp_path / "host.png"
    plt.close(viewer.structure_image(bi2te3_host().repeat((2, 2, 1)), path=path_host, legend=False))
    img_host = np.asarray(Image.open(path_host).convert("RGB"))
    assert _has_colour(img_host, _rgb("Fe")) == 0


def test_image_draws_one_disc_per_atom_and_labels_the_pair(pair):
    fig = viewer.structure_image(pair, axis="z")
    ax = fig.axes[0]
    from matplotlib.collections import PatchCollection

    discs = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert sum(len(c.get_paths()) for c in discs) == len(pair)
    texts = {t.get_text() for t in ax.texts}
    assert texts == {"i: Fe", "j: Mn"}
    plt.close(fig)


def test_image_projection_follows_the_axis(pair):
    """Looking from -y the pair vector (along x) is horizontal; looking from x it collapses."""
    i, j = pair.info["impurities"]

    def label_positions(axis):
        fig = viewer.structure_image(pair, axis=axis)
        pos = {t.get_text(): np.array(t.xy) for t in fig.axes[0].texts}
        plt.close(fig)
        return pos["i: Fe"], pos["j: Mn"]

    pi, pj = label_positions("-y")
    assert pi[0] - pj[0] == pytest.approx(-PAIR_VECTOR[0], abs=1e-6)  # i right of j: x_i - x_j = 4.383
    # Same height (labels sit on top of the discs, whose radii differ by a few hundredths of an Å).
    assert pi[1] == pytest.approx(pj[1], abs=0.1)
    pi, pj = label_positions("x")
    assert pi[0] == pytest.approx(pj[0], abs=1e-6)


def test_image_into_given_axes_and_custom_highlight(pair):
    fig, axes = plt.subplots(1, 2)
    out = viewer.structure_image(pair, ax=axes[1], highlight=[0, 1, 2], legend=False)
    assert out is fig
    assert {t.get_text() for t in axes[1].texts} == {"0: Bi", "1: Bi", "2: Bi"}
    assert not axes[0].collections
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"highlight": [0, 10_000]}, IndexError),
        ({"highlight": [3, 3]}, ValueError),
        ({"highlight": 5}, TypeError),
        ({"axis": "w"}, ValueError),
        ({"axis": (0, 0, 0)}, ValueError),
        ({"radius_scale": 0}, ValueError),
    ],
)
def test_image_rejects_bad_arguments(pair, kwargs, error):
    with pytest.raises(error):
        viewer.structure_image(pair, **kwargs)
    plt.close("all")


def test_image_rejects_non_atoms():
    with pytest.raises(TypeError, match="ase.Atoms"):
        viewer.structure_image([1, 2, 3])
    with pytest.raises(ValueError, match="no atoms"):
        viewer.structure_image(Atoms())


# --- nglview widget -------------------------------------------------------------------------


def _messages(view, method):
    return [m for m in view._ngl_msg_archive if m.get("methodName") == method]


def _reprs(view):
    return {m["args"][0]: m["kwargs"] for m in _messages(view, "addRepresentation")}


def _indices(selection: str) -> list[int]:
    assert selection.startswith("@"), selection
    return [int(x) for x in selection[1:].split(",")]


def test_widget_loads_every_atom_once(pair):
    view = viewer.view_structure(pair)
    loads = _messages(view, "loadFile")
    assert len(loads) == 1
    pdb = loads[0]["args"][0]["data"]
    atoms_lines = [line for line in pdb.splitlines() if line.startswith(("ATOM", "HETATM"))]
    assert len(atoms_lines) == len(pair)
    assert "CRYST1" in pdb  # the cell travels with the structure, for the unit-cell outline
    elements = [line[76:78].strip() for line in atoms_lines]
    assert elements.count("FE") == 1 and elements.count("MN") == 1


def test_widget_highlights_exactly_the_impurities(pair):
    view = viewer.view_structure(pair)
    reps = _reprs(view)
    i, j = pair.info["impurities"]
    assert sorted(_indices(reps["spacefill"]["sele"])) == sorted([i, j])
    host = _indices(reps["ball+stick"]["sele"])
    assert len(host) == len(pair) - 2 and i not in host and j not in host
    labels = [m["kwargs"] for m in _messages(view, "addRepresentation") if m["args"][0] == "label"]
    assert [(lab["sele"], lab["labelText"]) for lab in labels] == [(f"@{i}", {i: "Fe"}), (f"@{j}", {j: "Mn"})]
    assert reps["distance"]["atomPair"] == [[f"@{i}", f"@{j}"]]
    assert "unitcell" in reps


def test_labels_keep_off_the_line_between_the_pair():
    """Side by side: labels above, distance below; one above the other: labels outside, distance right."""
    flat = embed_pair("Fe", "Mn", PAIR_VECTOR)
    i, j = flat.info["impurities"]
    place = viewer._label_placement(flat, (i, j), "-y")
    assert place[i][:2] == place[j][:2] == (0.0, 1.0) and place["distance"][:2] == (0.0, -1.0)
    tall = embed_pair("Cr", "Fe", (0.0, 0.0, 6.097))  # across the van der Waals gap: j above i
    i, j = tall.info["impurities"]
    assert tall.positions[j, 2] > tall.positions[i, 2]
    place = viewer._label_placement(tall, (i, j), "-y")
    assert place[j][:2] == (0.0, 1.0) and place[i][:2] == (0.0, -1.0) and place["distance"][:2] == (1.0, 0.0)
    # Seen from above (axis z) the same pair is one point: the default placement holds.
    assert viewer._label_placement(tall, (i, j), "z")["distance"][:2] == (0.0, -1.0)
    # The widget uses the placement: the lower atom's label hangs below it.
    msgs = [
        m["kwargs"]
        for m in viewer.view_structure(tall)._ngl_msg_archive
        if m.get("methodName") == "addRepresentation" and m["args"][0] == "label"
    ]
    by_atom = {m["sele"]: m for m in msgs}
    assert by_atom[f"@{i}"]["yOffset"] < 0 < by_atom[f"@{j}"]["yOffset"]


def test_widget_without_highlight_draws_all_atoms_as_host():
    host = bi2te3_host()
    view = viewer.view_structure(host)
    reps = _reprs(view)
    assert set(reps) == {"ball+stick", "unitcell"}
    assert sorted(_indices(reps["ball+stick"]["sele"])) == list(range(len(host)))


def test_widget_skips_distance_through_a_periodic_image(pair):
    """Two atoms that are neighbours only across the cell boundary get no straight distance line."""
    host = bi2te3_host()
    # Te atoms at z = 0 and z just below c are neighbours only through the periodic boundary.
    z = host.positions[:, 2]
    a, b = int(np.argmin(z)), int(np.argmax(z))
    assert not viewer._pair_is_direct(host, a, b)
    reps = _reprs(viewer.view_structure(host, highlight=[a, b]))
    assert "distance" not in reps and "spacefill" in reps


def test_widget_camera_looks_from_the_requested_side(pair):
    """The orientation sent to NGL maps the viewing axis onto NGL's camera (-z side, x mirrored)."""
    view = viewer.view_structure(pair, axis="-y")
    orient = [m for m in view._ngl_msg_archive if m.get("methodName") == "orient"]
    assert len(orient) == 1
    m = np.array(orient[0]["args"][0]).reshape(4, 4).T  # column-major -> matrix
    rot = m[:3, :3] / np.linalg.norm(m[:3, 0])
    assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-9) and np.linalg.det(rot) == pytest.approx(1.0)
    # World x (the pair vector) goes to screen right = NGL camera -x; world z to screen up (+y).
    assert np.allclose(rot @ [1, 0, 0], [-1, 0, 0], atol=1e-9)
    assert np.allclose(rot @ [0, 0, 1], [0, 1, 0], atol=1e-9)
    # The translation centres the structure (with its cell).
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) @ pair.cell.array
    pts = np.vstack([pair.positions, corners])
    assert np.allclose(-m[:3, 3], (pts.min(0) + pts.max(0)) / 2)
    # The camera distance frames the 30.5 Å tall structure (NGL fov 40°): not too close.
    assert np.linalg.norm(m[:3, 0]) * np.tan(np.radians(20)) > pair.cell.array[2, 2] / 2


def test_widget_is_sized_before_the_camera_is_oriented(pair):
    """NGL fixes the orthographic zoom from the canvas height at orient(): size must come first."""
    names = [m.get("methodName") for m in viewer.view_structure(pair)._ngl_msg_archive]
    last_size = max(k for k, n in enumerate(names) if n == "setSize")
    assert names.index("orient") > last_size
    assert names.index("orient") > names.index("setParameters")  # after the camera type


def test_widget_settings(pair):
    view = viewer.view_structure(pair, height="300px", camera="perspective")
    assert view.layout.height == "300px" and view.layout.width == "100%"
    assert view.camera == "perspective"
    assert view.background == "white"
    with pytest.raises(ValueError, match="orthographic"):
        viewer.view_structure(pair, camera="fisheye")
    with pytest.raises(IndexError):
        viewer.view_structure(pair, highlight=[len(pair)])


def test_nglview_import_is_lazy():
    """Importing the package module does not import nglview (it is slow and displays a widget)."""
    import subprocess
    import sys

    code = "import sys, jijtutorial.viewer; print('nglview' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ngl_selection_format():
    assert viewer._ngl_selection([150, 90]) == "@150,90"
    assert re.fullmatch(r"@\d+(,\d+)*", viewer._ngl_selection(range(5)))
