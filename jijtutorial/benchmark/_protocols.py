"""Protocols: what each cross-validation asks, its outer splits, its inner selection and the held-out test.

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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets import element_pair_groups
from ..kernels import InnerBlocks

#: The rungs of the ladder, in order.
PROTOCOLS = ("study", "pairs", "element", "distance")
#: Other names of protocols.
ALIASES = {"grouped": "pairs"}
#: What ``protocol='all'`` runs.
LADDER = PROTOCOLS
#: Protocols with one fold per held-out element or geometry (deterministic, pooled figures).
LEAVE_ONE_OUT = ("element", "distance")


def check_protocol(protocol: str) -> str:
    """The rung ``protocol`` runs (``'grouped'`` -> ``'pairs'``), or a ValueError saying what each means."""
    p = ALIASES.get(protocol, protocol) if isinstance(protocol, str) else protocol
    if p not in PROTOCOLS:
        raise ValueError(
            f"unknown protocol {protocol!r}: use 'study' (random splits, as the 2023 study), 'pairs' (alias 'grouped': "
            "one unordered element pair per group), 'element' (leave one element out), 'distance' (leave one pair "
            "geometry out), or 'all' for the whole ladder.")
    return p


def check_protocols(protocol) -> tuple[str, ...]:
    """The protocols a request names: ``'all'`` -> the ladder, a name, or a sequence of names (as given)."""
    if isinstance(protocol, str):
        if protocol == "all":
            return LADDER
        check_protocol(protocol)
        return (protocol,)
    names = tuple(protocol)
    if not names:
        raise ValueError("protocol: name at least one of 'study', 'pairs', 'element', 'distance' (or 'all').")
    for p in names:
        check_protocol(p)
    return names


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------
def element_membership(frame: pd.DataFrame) -> dict:
    """Element -> boolean mask (n,) of the rows that hold it in either slot, elements in order of atomic number."""
    from ..elements import z_of

    a = frame["element_i"].astype(str).to_numpy()
    b = frame["element_j"].astype(str).to_numpy()
    return {e: (a == e) | (b == e) for e in sorted(set(a) | set(b), key=z_of)}


def geometry_labels(frame: pd.DataFrame) -> np.ndarray:
    """The bond class of each row (tidy column ``geometry``, e.g. ``'same Bi layer, 4.38 Å'``; see
    :func:`jijtutorial.geometry.bond_class`)."""
    if "geometry" in frame.columns:
        return frame["geometry"].astype(str).to_numpy()
    from ..geometry import bond_class, locate_bi_sites

    return np.array([bond_class(s.position).geometry for s in locate_bi_sites(frame[["rx", "ry", "rz"]].to_numpy(float))])


def _geometry_order(frame: pd.DataFrame) -> list:
    geo = geometry_labels(frame)
    d = frame["distance"].to_numpy(float) if "distance" in frame.columns else \
        np.linalg.norm(frame[["rx", "ry", "rz"]].to_numpy(float), axis=1)
    first = pd.Series(d).groupby(geo).min()
    return list(first.sort_values(kind="stable").index)


def split_groups(frame: pd.DataFrame, protocol: str) -> np.ndarray | None:
    """Group label per row that the splits of ``protocol`` keep together (None: single rows).

    ``element`` has no such label (a row belongs to two elements): its labels are the pairs'
    element pairs, which no element fold splits.
    """
    p = check_protocol(protocol)
    if p == "study":
        return None
    if p == "distance":
        return geometry_labels(frame)
    return element_pair_groups(frame)


def fold_labels(frame: pd.DataFrame, protocol: str) -> list:
    """What each outer fold of a leave-one-out protocol holds out (elements, or geometries), in fold order."""
    p = check_protocol(protocol)
    if p == "element":
        return list(element_membership(frame))
    if p == "distance":
        return _geometry_order(frame)
    raise ValueError(f"fold_labels: protocol {protocol!r} has no labelled folds; use 'element' or 'distance'.")


# --------------------------------------------------------------------------------------------
# outer splits, inner selection, held-out set
# --------------------------------------------------------------------------------------------
def cv_splits(frame: pd.DataFrame, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0):
    """Outer splits ``[(repeat, fold, train_positions, test_positions)]`` of ``frame``'s rows.

    ``study``: shuffled ``KFold``; ``pairs`` (``grouped``): shuffled ``GroupKFold`` over unordered
    element pairs; repeat ``r`` shuffles with seed ``seed + r``. ``element`` and ``distance``: one
    fold per element or geometry (:func:`fold_labels`), repeat 0 only (``n_splits``, ``n_repeats``
    and ``seed`` do not apply).
    """
    from sklearn.model_selection import GroupKFold, KFold

    p = check_protocol(protocol)
    if int(n_splits) < 2 or int(n_repeats) < 1:
        raise ValueError(f"cross-validation needs n_splits >= 2 folds and n_repeats >= 1, not {n_splits!r} and "
                         f"{n_repeats!r}.")
    n = len(frame)
    out = []
    if p in LEAVE_ONE_OUT:
        if p == "element":
            masks = list(element_membership(frame).values())
        else:
            geo = geometry_labels(frame)
            masks = [geo == g for g in _geometry_order(frame)]
        if len(masks) < 2:
            raise ValueError(f"the {p} protocol needs at least two {'elements' if p == 'element' else 'geometries'} "
                             f"in the data; this table has {len(masks)}.")
        for f, mask in enumerate(masks):
            out.append((0, f, np.flatnonzero(~mask), np.flatnonzero(mask)))
        return out
    groups = split_groups(frame, p)
    for r in range(n_repeats):
        if groups is None:
            it = KFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n))
        else:
            it = GroupKFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n), groups=groups)
        for f, (tr, te) in enumerate(it):
            out.append((r, f, np.sort(tr), np.sort(te)))
    return out


def inner_selection(frame: pd.DataFrame, train_idx, protocol: str):
    """How the training rows ``train_idx`` are left out in the inner selection of ``protocol``.

    Returns
    -------
    None (``study``: leave-one-out), one group label per training row (``pairs``), or
    :class:`~jijtutorial.kernels.InnerBlocks` of positions into ``train_idx`` (``element``: the
    training rows holding each training element -- blocks overlap; ``distance``: the training rows
    of each training geometry), with ``kind`` and ``labels`` saying what each block holds out.
    """
    p = check_protocol(protocol)
    train_idx = np.asarray(train_idx)
    if p == "study":
        return None
    sub = frame.iloc[train_idx]
    if p == "pairs":
        return element_pair_groups(frame)[train_idx]
    if p == "element":
        members = element_membership(sub)
        return InnerBlocks([np.flatnonzero(m) for m in members.values()], "element", list(members))
    geo = geometry_labels(sub)
    order = _geometry_order(sub)
    return InnerBlocks([np.flatnonzero(geo == g) for g in order], "distance", order)


def held_out(frame: pd.DataFrame, rows, protocol: str) -> set:
    """What the rows ``rows`` hold, in the currency of ``protocol`` (for leakage checks).

    ``pairs``: unordered element pairs; ``element``: elements (either slot); ``distance``:
    geometries; ``study``: the row positions themselves.
    """
    p = check_protocol(protocol)
    sub = frame.iloc[np.asarray(rows, dtype=int)]
    if p == "pairs":
        from ..datasets import element_pair_labels

        return set(element_pair_labels(sub))
    if p == "element":
        return set(sub["element_i"].astype(str)) | set(sub["element_j"].astype(str))
    if p == "distance":
        return set(geometry_labels(sub))
    return set(np.asarray(rows, dtype=int).tolist())


def holdout_split(frame: pd.DataFrame, protocol: str, test_size: float = 0.2, seed: int = 0):
    """Development and held-out test row positions; the pairs protocol holds out whole element pairs.

    ``element`` and ``distance`` have no separate held-out set (every element or geometry is held
    out once by the cross-validation itself): all rows are development rows.
    """
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

    p = check_protocol(protocol)
    n = len(frame)
    if not (np.isfinite(test_size) and 0 <= test_size < 1):
        raise ValueError(f"test_size must be a fraction in [0, 1) of the pairs (0: no held-out test set), "
                         f"not {test_size!r}.")
    if test_size == 0 or p in LEAVE_ONE_OUT:
        return np.arange(n), np.array([], dtype=int)
    groups = split_groups(frame, p)
    if groups is None:
        dev, test = next(ShuffleSplit(1, test_size=test_size, random_state=seed).split(np.zeros(n)))
    else:
        dev, test = next(GroupShuffleSplit(1, test_size=test_size, random_state=seed)
                         .split(np.zeros(n), groups=groups))
    return np.sort(dev), np.sort(test)


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
