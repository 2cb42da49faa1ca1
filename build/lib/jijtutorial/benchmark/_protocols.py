"""Protocols: how the pairs are split for cross-validation, inner selection and the held-out test.

``study``
    What the 2023 study did: the pairs are split at random. 5-fold x 3-repeat cross-validation over
    all N pairs (shuffled ``KFold``, seed ``seed + repeat``); in each training fold the grid is
    chosen by exact leave-one-out cross-validation inside that fold. Separately, a held-out test
    score: a random 80/20 split, tuned on the 80 % by the same inner CV, scored on the 20 %.
    Because a symmetry-adapted descriptor gives (A, B) and (B, A) at one pair vector the *same*
    features, and their J agree to 1e-3 meV, a random split puts the answer of most test pairs
    into the training set.
``grouped``
    Every unordered element pair {A, B} -- both orders, all distances -- is one group
    (:func:`jijtutorial.datasets.element_pair_groups`); the cross-validation is a shuffled
    ``GroupKFold``, the inner selection an exact leave-one-group-out and the held-out test set
    20 % of the groups, so no twin is ever on both sides of any split. This measures what the
    models are for: predicting J of an element pair never computed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets import element_pair_groups

PROTOCOLS = ("study", "grouped")


def check_protocol(protocol: str) -> str:
    """``protocol`` if it is one of :data:`PROTOCOLS`, else a ValueError saying what they mean."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use 'study' (random splits, as the 2023 study) or "
                         f"'grouped' (one unordered element pair per fold).")
    return protocol


def split_groups(frame: pd.DataFrame, protocol: str) -> np.ndarray | None:
    """Group label per row that every split of ``protocol`` keeps together (None: single rows)."""
    return None if check_protocol(protocol) == "study" else element_pair_groups(frame)


def holdout_split(frame: pd.DataFrame, protocol: str, test_size: float = 0.2, seed: int = 0):
    """Development and held-out test row positions; the grouped protocol holds out whole element pairs."""
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

    groups = split_groups(frame, protocol)
    n = len(frame)
    if not (np.isfinite(test_size) and 0 <= test_size < 1):
        raise ValueError(f"test_size must be a fraction in [0, 1) of the pairs (0: no held-out test set), "
                         f"not {test_size!r}.")
    if test_size == 0:
        return np.arange(n), np.array([], dtype=int)
    if groups is None:
        dev, test = next(ShuffleSplit(1, test_size=test_size, random_state=seed).split(np.zeros(n)))
    else:
        dev, test = next(GroupShuffleSplit(1, test_size=test_size, random_state=seed)
                         .split(np.zeros(n), groups=groups))
    return np.sort(dev), np.sort(test)


def cv_splits(frame: pd.DataFrame, protocol: str, n_splits: int = 5, n_repeats: int = 3, seed: int = 0):
    """Outer splits ``[(repeat, fold, train_positions, test_positions)]`` of ``frame``'s rows.

    ``study``: shuffled ``KFold``; ``grouped``: shuffled ``GroupKFold`` over unordered element
    pairs. Repeat ``r`` shuffles with seed ``seed + r``.
    """
    from sklearn.model_selection import GroupKFold, KFold

    if int(n_splits) < 2 or int(n_repeats) < 1:
        raise ValueError(f"cross-validation needs n_splits >= 2 folds and n_repeats >= 1, not {n_splits!r} and "
                         f"{n_repeats!r}.")
    groups = split_groups(frame, protocol)
    n = len(frame)
    out = []
    for r in range(n_repeats):
        if groups is None:
            it = KFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n))
        else:
            it = GroupKFold(n_splits, shuffle=True, random_state=seed + r).split(np.zeros(n), groups=groups)
        for f, (tr, te) in enumerate(it):
            out.append((r, f, np.sort(tr), np.sort(te)))
    return out


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
