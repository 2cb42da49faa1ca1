"""The questions a cross-validation asks: the protocols of the ladder, as records, and their inner blocks.

A *protocol* (a rung of the ladder) is one :class:`Protocol` record: its name, the question its test
folds ask, its outer splits, the inner blocks that select hyperparameters inside every training fold
(of the same kind as the question), its held-out split and the kind of its blocks. The benchmark's
runner, its reports and cache, and the models that select inside a fold (PairGP, EquivariantDGP) all
read the record; none re-derives a rung from its name. This module sits low in the package (it
needs the tidy frames' columns and the geometry labels) so that the models can use it.

The protocols form a ladder, each rung one step further from the training data:

=============  ==============================================  ==========================================
protocol       outer test fold (the question)                   inner selection (in every training fold)
=============  ==============================================  ==========================================
``study``      a random 1/5 of the pairs, 5 x 3 repeats:        exact leave-one-out over the rows
               "a pair like the ones computed"
``pairs``      1/5 of the unordered element pairs {A, B}        exact leave-one-pair-out (both orders,
               (both orders, all distances), 5 x 3:             all distances, always together)
               "an element pair never computed"
``element``    every pair holding element X, one fold per       exact leave-one-element-out over the 19
               element (20 folds): "a dopant never embedded"    training elements (blocks *overlap*: the
                                                                pair (A, B) is in A's block and in B's)
``distance``   every pair at one pair geometry, one fold per    exact leave-one-geometry-out over the
               geometry (10 in the JuKKR table): "a distance    other geometries
               never computed"
=============  ==============================================  ==========================================

``grouped`` (the name this protocol had first) is an alias of ``pairs``: a run asked for as
``grouped`` is the same run, and keeps that name in its tables and files. ``all`` (in
:func:`~jijtutorial.benchmark.run_benchmark` and the command line) runs the ladder.

``study``
    What the 2023 study did: the pairs are split at random (shuffled ``KFold``, seed ``seed +
    repeat``). Because a symmetry-adapted descriptor gives (A, B) and (B, A) at one pair vector the
    *same* features, and their J agree to 1e-3 meV, a random split puts the answer of most test
    pairs into the training set.
``pairs``
    Every unordered element pair {A, B} -- both orders, all distances -- is one group
    (:func:`jijtutorial.datasets.element_pair_groups`); shuffled ``GroupKFold``; the held-out test
    set is 20 % of the groups, so no twin is ever on both sides of any split.
``element``
    Deterministic, one fold per element in the data (in order of atomic number), so it runs once
    whatever ``n_repeats`` is. A pair of two different elements is tested twice, once in each
    element's fold; the figures of this rung are *pooled* over the folds' test pairs. There is no
    separate held-out set: every element is held out once.
``distance``
    Deterministic, one fold per pair geometry (tidy column ``geometry``: layer and distance), in
    order of distance. In the JuKKR table the four nearest geometries hold all 400 ordered element
    pairs, the six far ones only the pairs of V, Cr, Mn, Nb, Mo and Tc (21 each, the 6 x 6 ordered
    pairs minus missing twins): a far-shell fold asks for a distance that no training pair has, for
    elements whose far couplings the model has seen at other distances only. Pooled figures; no
    separate held-out set.

**Block kinds** (:data:`BLOCK_KINDS`): what one inner block holds out, and so how a model must describe
it when predicting it -- ``'rows'`` (single rows) and ``'pairs'`` (whole element pairs) with the fit's
own kernel; ``'element'`` with the element re-described as never seen; ``'distance'`` with the bond
class re-described as never computed. Any other kind is an error, never a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .datasets import element_pair_groups, element_pair_labels

#: What an inner block can hold out (see the module docstring); the kind of a protocol's blocks.
BLOCK_KINDS = ("rows", "pairs", "element", "distance")


class InnerBlocks(list):
    """Blocks of training rows that an inner cross-validation leaves out together; they may overlap.

    A list of integer arrays (row positions into the training fold) that also says what each block
    holds out: ``kind`` (one of :data:`BLOCK_KINDS`) and ``labels`` (one per block, e.g. the element
    symbol or the geometry). Each block is left out once and the residuals of all blocks are pooled,
    so a row in two blocks -- the pair (A, B) in A's block and in B's -- is scored twice, exactly as
    the outer ``element`` protocol scores it once in A's fold and once in B's. Models that only need
    the rows use it as a plain list.

    Parameters
    ----------
    blocks : sequence of array-like of int
        Row positions of each block.
    kind : str
        What a block holds out: one of :data:`BLOCK_KINDS`.
    labels : sequence, optional
        One label per block (default: 0, 1, ...).
    """

    def __init__(self, blocks, kind: str, labels=None):
        super().__init__(np.asarray(b, dtype=int).reshape(-1) for b in blocks)
        if kind not in BLOCK_KINDS:
            raise ValueError(f"InnerBlocks: unknown kind {kind!r}; a block holds out {', '.join(map(repr, BLOCK_KINDS))}.")
        self.kind = str(kind)
        self.labels = list(range(len(self))) if labels is None else list(labels)
        if len(self.labels) != len(self):
            raise ValueError(f"InnerBlocks: {len(self.labels)} labels for {len(self)} blocks.")

    def __reduce__(self):  # pickle with kind and labels
        return (InnerBlocks, (list(self), self.kind, self.labels))

    def take(self, keep) -> "InnerBlocks":
        """The blocks restricted to the rows ``keep`` (positions), renumbered into ``keep``."""
        keep = np.asarray(keep, dtype=int)
        where = np.full(max([keep.max(initial=-1)] + [b.max(initial=-1) for b in self]) + 1, -1)
        where[keep] = np.arange(len(keep))
        out, labels = [], []
        for b, lab in zip(self, self.labels):
            r = where[b]
            r = r[r >= 0]
            if len(r):
                out.append(r)
                labels.append(lab)
        return InnerBlocks(out, self.kind, labels)


def block_kind(groups) -> str:
    """The kind of an inner selection: ``'rows'`` (None), ``'pairs'`` (one group label per row) or the
    :class:`InnerBlocks`' own kind (checked)."""
    if groups is None:
        return "rows"
    if isinstance(groups, InnerBlocks):
        if groups.kind not in BLOCK_KINDS:
            raise ValueError(f"inner blocks of unknown kind {groups.kind!r}; use one of {', '.join(BLOCK_KINDS)}.")
        return groups.kind
    return "pairs"


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------
def element_membership(frame: pd.DataFrame) -> dict:
    """Element -> boolean mask (n,) of the rows that hold it in either slot, elements in order of atomic number."""
    from .elements import z_of

    a = frame["element_i"].astype(str).to_numpy()
    b = frame["element_j"].astype(str).to_numpy()
    return {e: (a == e) | (b == e) for e in sorted(set(a) | set(b), key=z_of)}


def geometry_labels(frame: pd.DataFrame) -> np.ndarray:
    """The bond class of each row (tidy column ``geometry``, e.g. ``'same Bi layer, 4.38 Å'``; see
    :func:`jijtutorial.geometry.bond_class`), from that column, the pair vector or the layer and distance."""
    from .geometry import bond_class, geometry_label, layer_class, locate_bi_sites

    if "geometry" in frame.columns:
        return frame["geometry"].astype(str).to_numpy()
    if {"rx", "ry", "rz"} <= set(frame.columns):
        return np.array([bond_class(s.position).geometry for s in locate_bi_sites(frame[["rx", "ry", "rz"]].to_numpy(float))])
    if {"sublattice_j", "layer", "distance"} <= set(frame.columns):
        return np.array(
            [
                geometry_label(layer_class(lay, sub), d)
                for sub, lay, d in zip(frame["sublattice_j"].astype(str), frame["layer"].astype(str), frame["distance"].round(2))
            ]
        )
    raise ValueError(
        "a pair table needs its geometry: the column 'geometry', the pair vector 'rx', 'ry', 'rz' (Å), or "
        "'sublattice_j', 'layer' and 'distance'."
    )


def _distances(frame: pd.DataFrame) -> np.ndarray:
    if "distance" in frame.columns:
        return frame["distance"].to_numpy(float)
    return np.linalg.norm(frame[["rx", "ry", "rz"]].to_numpy(float), axis=1)


def _geometry_order(frame: pd.DataFrame) -> list:
    geo = geometry_labels(frame)
    first = pd.Series(_distances(frame)).groupby(geo).min()
    return list(first.sort_values(kind="stable").index)


def pair_groups(frame: pd.DataFrame) -> np.ndarray:
    """One label per row, the same for (A, B) and (B, A): from ``Z_i``, ``Z_j`` (tidy frames) or the symbols."""
    if {"Z_i", "Z_j"} <= set(frame.columns):
        return element_pair_groups(frame)
    from .elements import z_of

    zi = np.array([z_of(e) for e in frame["element_i"].astype(str)])
    zj = np.array([z_of(e) for e in frame["element_j"].astype(str)])
    return np.minimum(zi, zj) * 100 + np.maximum(zi, zj)


def geometry_members(frame: pd.DataFrame) -> dict:
    """Bond class -> boolean mask (n,) of its rows, classes in order of distance."""
    geo = geometry_labels(frame)
    return {g: geo == g for g in _geometry_order(frame)}


# --------------------------------------------------------------------------------------------
# the records
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """What one test fold (and one inner block) of a rung holds out, and how to find it in a pair table.

    Attributes
    ----------
    name : str
        The unit in words (``'pair'``, ``'element pair'``, ``'element'``, ``'pair geometry'``).
    members : callable or None
        ``frame -> {label: row mask}`` in fold order; masks may overlap (a pair belongs to both its
        elements). None: single rows.
    labels : callable or None
        ``frame -> one label per row`` that no fold splits (the groups of a shuffled group k-fold,
        and what keeps twins together). None: single rows.
    readable : callable or None
        ``frame -> readable label per row`` for leakage checks (default: the member labels).
    """

    name: str
    members: Callable | None = None
    labels: Callable | None = None
    readable: Callable | None = None


#: The units of the ladder's rungs.
ROW = Unit("pair")
ELEMENT_PAIR = Unit("element pair", labels=pair_groups, readable=element_pair_labels)
ELEMENT = Unit("element", members=element_membership, labels=pair_groups)
GEOMETRY = Unit("pair geometry", members=geometry_members, labels=geometry_labels)


@dataclass(frozen=True)
class Protocol:
    """One rung of the ladder.

    Attributes
    ----------
    name : str
        ``'study'``, ``'pairs'``, ``'element'`` or ``'distance'``.
    question : str
        What a test fold asks, in one line.
    unit : Unit
        What one test fold and one inner block hold out, and how to find it in a pair table.
    blocks : str
        How a model must describe a held-out block (:data:`BLOCK_KINDS`): with its own kernel
        (``'rows'``, ``'pairs'``), the element as never seen (``'element'``), the bond classes as never
        computed (``'distance'``). The kind of the rung's :class:`InnerBlocks`.
    leave_one_out : bool
        One deterministic outer fold per member of the unit (pooled figures, no separate held-out
        test set), rather than repeated shuffled (group) k-fold.
    """

    name: str
    question: str
    unit: Unit
    blocks: str
    leave_one_out: bool

    def __post_init__(self):
        if self.blocks not in BLOCK_KINDS:
            raise ValueError(f"Protocol {self.name!r}: unknown block kind {self.blocks!r}; use one of {', '.join(BLOCK_KINDS)}.")
        if self.leave_one_out and self.unit.members is None:
            raise ValueError(f"Protocol {self.name!r}: a leave-one-out rung needs a unit with members.")

    @property
    def held(self) -> str:
        """What one fold holds out, in words."""
        return self.unit.name

    # -- groups and labels ---------------------------------------------------------------------
    def groups(self, frame: pd.DataFrame):
        """Group label per row that the outer splits keep together (None: single rows)."""
        return None if self.unit.labels is None else self.unit.labels(frame)

    def fold_labels(self, frame: pd.DataFrame) -> list:
        """What each outer fold of a leave-one-out rung holds out (e.g. elements, or geometries), in fold order."""
        if not self.leave_one_out:
            raise ValueError(f"the {self.name} protocol has no labelled folds; its folds are shuffled, not one per {self.held}.")
        return list(self.unit.members(frame))

    def held_out(self, frame: pd.DataFrame, rows) -> set:
        """What the rows ``rows`` hold, in this rung's unit (for leakage checks): row positions, element pairs,
        elements (either slot) or geometries."""
        rows = np.asarray(rows, dtype=int)
        sub = frame.iloc[rows]
        if self.unit.readable is not None:
            return set(self.unit.readable(sub))
        if self.unit.members is not None:
            return {lab for lab, m in self.unit.members(sub).items() if np.any(m)}
        return set(rows.tolist())

    # -- splits --------------------------------------------------------------------------------
    def outer_splits(self, frame: pd.DataFrame, n_splits: int = 5, n_repeats: int = 3, seed: int = 0) -> list:
        """Outer splits ``[(repeat, fold, train_positions, test_positions)]`` of ``frame``'s rows.

        Shuffled ``KFold`` (single rows) or ``GroupKFold`` (over :meth:`groups`); repeat ``r`` shuffles
        with seed ``seed + r``. A leave-one-out rung: one fold per member of its unit (:meth:`fold_labels`),
        repeat 0 only (``n_splits``, ``n_repeats`` and ``seed`` do not apply).
        """
        from sklearn.model_selection import GroupKFold, KFold

        if int(n_splits) < 2 or int(n_repeats) < 1:
            raise ValueError(
                f"cross-validation needs n_splits >= 2 folds and n_repeats >= 1, not {n_splits!r} and {n_repeats!r}."
            )
        n = len(frame)
        out = []
        if self.leave_one_out:
            masks = list(self.unit.members(frame).values())
            if len(masks) < 2:
                raise ValueError(
                    f"the {self.name} protocol needs at least two {self.held}s in the data; this table has {len(masks)}."
                )
            for f, mask in enumerate(masks):
                out.append((0, f, np.flatnonzero(~mask), np.flatnonzero(mask)))
            return out
        groups = self.groups(frame)
        units = n if groups is None else len(np.unique(groups))
        if units < int(n_splits):
            what = "pairs" if groups is None else "unordered element pairs (the pairs protocol keeps each one in one fold)"
            raise ValueError(
                f"the {self.name} protocol cannot split {units} {what} into n_splits = {n_splits} folds (--folds "
                f"on the command line); use at most {units} folds, or more data."
            )
        for r in range(n_repeats):
            if groups is None:
                it = KFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n))
            else:
                it = GroupKFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n), groups=groups)
            for f, (tr, te) in enumerate(it):
                out.append((r, f, np.sort(tr), np.sort(te)))
        return out

    def inner_blocks(self, frame: pd.DataFrame, train_idx=None):
        """How the training rows ``train_idx`` (default: all rows) are left out in the inner selection.

        Returns
        -------
        None (single rows: leave-one-out), one group label per training row (a shuffled group rung:
        leave-one-group-out), or, for a leave-one-out rung, :class:`InnerBlocks` of positions into
        ``train_idx``: the training rows of each member of the unit (element: the training rows
        holding each training element -- blocks overlap; distance: those of each training geometry),
        whose ``kind`` is :attr:`blocks`.
        """
        train_idx = np.arange(len(frame)) if train_idx is None else np.asarray(train_idx)
        sub = frame.iloc[train_idx]
        if self.leave_one_out:
            members = self.unit.members(sub)
            return InnerBlocks([np.flatnonzero(m) for m in members.values()], self.blocks, list(members))
        return self.groups(sub)

    def holdout(self, frame: pd.DataFrame, test_size: float = 0.2, seed: int = 0):
        """Development and held-out test row positions; a group rung holds out whole groups (element pairs).

        A leave-one-out rung has no separate held-out set (every member of its unit is held out once
        by the cross-validation itself): all rows are development rows.
        """
        from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

        n = len(frame)
        if not (np.isfinite(test_size) and 0 <= test_size < 1):
            raise ValueError(f"test_size must be a fraction in [0, 1) of the pairs (0: no held-out test set), not {test_size!r}.")
        if test_size == 0 or self.leave_one_out:
            return np.arange(n), np.array([], dtype=int)
        groups = self.groups(frame)
        if groups is None:
            dev, test = next(ShuffleSplit(1, test_size=test_size, random_state=seed).split(np.zeros(n)))
        else:
            dev, test = next(GroupShuffleSplit(1, test_size=test_size, random_state=seed).split(np.zeros(n), groups=groups))
        return np.sort(dev), np.sort(test)


STUDY = Protocol("study", "a pair like the computed ones (random splits, as the 2023 study)", ROW, "rows", False)
PAIRS = Protocol(
    "pairs", "an element pair never computed (both orders and all distances held out together)", ELEMENT_PAIR, "pairs", False
)
ELEMENT_OUT = Protocol("element", "an element never computed (every pair holding it held out)", ELEMENT, "element", True)
DISTANCE = Protocol("distance", "a pair geometry never computed (every pair at it held out)", GEOMETRY, "distance", True)
#: The rungs of the ladder, in order.
LADDER = (STUDY, PAIRS, ELEMENT_OUT, DISTANCE)
#: Their names.
PROTOCOLS = tuple(p.name for p in LADDER)
#: Other names of protocols.
ALIASES = {"grouped": "pairs"}
_BY_NAME = {p.name: p for p in LADDER}


def get_protocol(protocol) -> Protocol:
    """The record of ``protocol`` (a name, an alias such as ``'grouped'``, or a record); a ValueError says what each means."""
    if isinstance(protocol, Protocol):
        return protocol
    name = ALIASES.get(protocol, protocol) if isinstance(protocol, str) else protocol
    if name not in _BY_NAME:
        raise ValueError(f"unknown protocol {protocol!r}: use {describe_protocols()}, or 'all' for the whole ladder.")
    return _BY_NAME[name]


def describe_protocols() -> str:
    """The rungs in one line, each with its aliases and what it holds out (for help texts and errors)."""
    parts = []
    for p in LADDER:
        aliases = [a for a, n in ALIASES.items() if n == p.name]
        also = f" (alias {', '.join(map(repr, aliases))})" if aliases else ""
        parts.append(f"{p.name!r}{also}: {p.question}")
    return "; ".join(parts)


def protocol_of_blocks(kind: str) -> Protocol:
    """The rung whose inner blocks are of ``kind`` (:data:`BLOCK_KINDS`): what a model's ``selection`` names."""
    for p in LADDER:
        if p.blocks == kind:
            return p
    raise ValueError(f"unknown inner selection {kind!r}: use one of {', '.join(map(repr, BLOCK_KINDS))}.")


def check_protocol(protocol) -> str:
    """The name of the rung ``protocol`` runs (``'grouped'`` -> ``'pairs'``), or a ValueError."""
    return get_protocol(protocol).name


def check_protocols(protocol) -> tuple[str, ...]:
    """The protocols a request names: ``'all'`` -> the ladder, a name, or a sequence of names (as given)."""
    if isinstance(protocol, str):
        if protocol == "all":
            return PROTOCOLS
        get_protocol(protocol)
        return (protocol,)
    names = tuple(protocol)
    if not names:
        raise ValueError(f"protocol: name at least one of {', '.join(map(repr, PROTOCOLS))} (or 'all').")
    for p in names:
        get_protocol(p)
    return names


def subsample_pairs(frame: pd.DataFrame, max_pairs: int | None, seed: int = 0) -> pd.DataFrame:
    """At most ``max_pairs`` rows: the nearest pair geometries, each with all its element pairs.

    Keeping whole geometries keeps every element pair's twin (A, B)/(B, A) and the 20 x 20
    structure of each shell, as in the JuKKR table. If even the nearest geometry is larger than
    ``max_pairs``, whole unordered element pairs of it are drawn at random (``seed``).
    ``frame.attrs['subsample']`` says what was kept.
    """
    if not max_pairs or len(frame) <= max_pairs:
        return frame
    geo = frame["geometry"].to_numpy() if "geometry" in frame.columns else np.round(frame["distance"], 2)
    order = pd.Series(frame["distance"].to_numpy()).groupby(geo).min().sort_values().index
    keep_geo, n = [], 0
    for g in order:
        size = int(np.sum(geo == g))
        if n + size > max_pairs:
            break
        keep_geo.append(g)
        n += size
    if keep_geo:
        mask = np.isin(geo, keep_geo)
        how = f"the {len(keep_geo)} nearest pair geometries"
    else:
        mask = geo == order[0]
        groups = element_pair_groups(frame)
        chosen, n = [], 0
        for g in np.random.default_rng(seed).permutation(np.unique(groups[mask])):
            size = int(np.sum(mask & (groups == g)))
            if n + size <= max_pairs:
                chosen.append(g)
                n += size
        mask &= np.isin(groups, chosen)
        how = f"random element pairs of the nearest geometry, seed {seed}"
    out = frame[mask].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    out.attrs["subsample"] = f"{len(out)} of {len(frame)} pairs: {how}"
    return out


__all__ = [
    "ALIASES",
    "BLOCK_KINDS",
    "InnerBlocks",
    "LADDER",
    "PROTOCOLS",
    "Protocol",
    "block_kind",
    "check_protocol",
    "check_protocols",
    "describe_protocols",
    "geometry_labels",
    "get_protocol",
    "protocol_of_blocks",
    "subsample_pairs",
]
