"""Symmetry-adapted descriptors of an impurity pair's atomic environment, as scikit-learn transformers.

Both transformers take a *pair table* as ``X`` -- a ``DataFrame`` with the columns
``element_i, element_j, rx, ry, rz`` (Å), e.g. a tidy frame of :mod:`jijtutorial.datasets` --
build the atomic environment of each pair with :func:`jijtutorial.structures.pair_environment`
and return one row of features per pair. They are ordinary estimators (parameters in
``__init__``, ``fit`` returns ``self``), so they compose with a regressor in a ``Pipeline``
and a grid search can tune ``desc__r_cut`` like any other hyperparameter::

    Pipeline([("desc", CoulombMatrixDescriptor(r_cut=4.0)),
              ("scale", DistanceScaler("l1")),
              ("krr", KernelRidge(kernel="laplacian"))])

Symmetry
--------
The environment of a pair is a finite cluster: every host atom within ``r_cut`` of either
impurity, plus the two impurities (impurity i is atom 0, j atom 1).

* Coulomb matrix (CM): the CM of the cluster, ``M_ii = Z_i^2.4 / 2``, ``M_ij = Z_i Z_j / r_ij``,
  reduced to its **eigenvalue spectrum** (sorted by magnitude, zero-padded to a fixed length).
  It depends on interatomic distances only -- invariant under rotations, reflections and
  translations -- and the spectrum of a symmetric matrix does not change when atoms are
  relabelled, so swapping the roles of the two impurities leaves it unchanged. (dscribe's
  ``sorted_l2`` is available too, but rows of equal norm -- frequent in a symmetric crystal --
  are ordered arbitrarily, which breaks exact invariance.)
* SOAP: smooth-overlap power spectra (dscribe) are invariant under rotations, reflections and
  translations of the neighbourhood of a centre. We symmetrise over the two impurities by
  *averaging* the spectra of the two impurity centres, ``(p_i + p_j) / 2`` -- a symmetric
  function of the two -- and, by default (``centres='pair'``), append the spectrum centred on
  the *bond midpoint*, which is itself unchanged by swapping the impurities. Why the midpoint:
  with ``r_cut = 4 Å`` a centre on an impurity barely sees its partner (dscribe counts atoms
  up to ``r_cut`` plus a Gaussian-tail padding of 1.9 Å for sigma = 0.5 Å, so only the tail
  of a partner at 4.38 Å and nothing farther), so impurity-centred spectra alone hardly tell
  the pair distances apart; the midpoint sees both impurities up to ``r ~ 2 r_cut`` and its
  host neighbourhood differs from geometry to geometry. ``centres='all'`` averages the spectra
  of all atoms of the cluster of radius ``r_cut`` (what an off-the-shelf averaged SOAP of the
  cluster gives; its surface then enters the descriptor), ``centres='impurities'`` keeps the
  impurity average only. Clusters are built large enough (``r_cut`` + padding, + r/2 for the
  midpoint) that every centre's spectrum equals that in the infinite crystal.

In the data, (A at i, B at j) and (B at i, A at j) at the same pair vector are images of each
other under a mirror (pairs in one Bi layer) or an inversion (pairs across a gap) of the host,
so these descriptors map both to the *same* features -- see :mod:`jijtutorial.benchmark` for
why that makes random train/test splits leak.

Caching
-------
Features are cached per parameter set and per pair (:mod:`jijtutorial.featurecache`): in
memory and in ``$JIJTUTORIAL_CACHE_DIR`` (default ``~/.cache/jijtutorial``). Environments are
built from one template cluster per (pair vector, radius), with the two impurity species
substituted.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from .elements import HOST_ELEMENTS, IMPURITY_ELEMENTS, z_of
from .featurecache import cached_features, row_keys

PAIR_COLUMNS = ("element_i", "element_j", "rx", "ry", "rz")

#: How many pairs dscribe featurises per call (bounds the dense SOAP buffer to ~100 MB).
_CHUNK = 256


# --------------------------------------------------------------------------------------------
# pair tables and environments
# --------------------------------------------------------------------------------------------
def pair_columns(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element symbols (two arrays) and pair vectors (n, 3) in Å of a pair table ``X``."""
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"descriptors take a pair table: a pandas DataFrame with columns {list(PAIR_COLUMNS)} "
            f"(e.g. a frame of jijtutorial.datasets), not {type(X).__name__}."
        )
    missing = [c for c in PAIR_COLUMNS if c not in X.columns]
    if missing:
        raise ValueError(f"pair table lacks column(s) {missing}; it needs {list(PAIR_COLUMNS)}.")
    ei = X["element_i"].astype(str).to_numpy()
    ej = X["element_j"].astype(str).to_numpy()
    vec = X[["rx", "ry", "rz"]].to_numpy(dtype=float)
    return ei, ej, vec


@lru_cache(maxsize=256)
def _template(vector: tuple[float, float, float], radius: float):
    from .structures import pair_environment

    return pair_environment("Sc", "Sc", np.array(vector), radius)


def _vector_key(vector) -> tuple[float, float, float]:
    return tuple(float(x) for x in np.round(np.asarray(vector, dtype=float), 6) + 0.0)


def _with_impurities(template, element_i: str, element_j: str):
    """A copy of a template cluster with the two impurity species (atoms 0 and 1) substituted."""
    atoms = template.copy()
    numbers = atoms.numbers.copy()
    numbers[0] = z_of(element_i, where="element_i")
    numbers[1] = z_of(element_j, where="element_j")
    atoms.numbers = numbers
    return atoms


def environment(element_i: str, element_j: str, vector, radius: float):
    """:func:`jijtutorial.structures.pair_environment`, built from a cached template cluster."""
    return _with_impurities(_template(_vector_key(vector), float(radius)), element_i, element_j)


def pair_environments(X, r_cut: float) -> list:
    """Atomic environment (ase.Atoms cluster, impurities = atoms 0 and 1) of every pair of ``X``."""
    ei, ej, vec = pair_columns(X)
    return [environment(a, b, v, r_cut) for a, b, v in zip(ei, ej, vec)]


@lru_cache(maxsize=256)
def _trimmed_template(vector: tuple[float, float, float], r_cut: float, padding: float, centres: str):
    """Template cluster of a pair vector holding the atoms within ``r_cut + padding`` of a SOAP centre."""
    if centres == "all":
        return _template(vector, r_cut)
    reach = r_cut + padding + 1e-6
    distance = float(np.linalg.norm(vector))
    big = _template(vector, reach + (distance / 2.0 if centres == "pair" else 0.0))
    pos = big.positions
    near = np.minimum(np.linalg.norm(pos - pos[0], axis=1), np.linalg.norm(pos - pos[1], axis=1)) <= reach
    if centres == "pair":
        near |= np.linalg.norm(pos - (pos[0] + pos[1]) / 2.0, axis=1) <= reach
    near[:2] = True
    return big[np.flatnonzero(near)]


@lru_cache(maxsize=32)
def max_environment_size(r_cut: float) -> int:
    """Largest number of atoms of a pair environment at ``r_cut``: two disjoint spheres."""
    from .geometry import bi_pair_vectors

    far = bi_pair_vectors(2 * r_cut + 12.0, "same")
    far = far[np.linalg.norm(far, axis=1) > 2 * r_cut + 1.0][0]
    return len(environment("Sc", "Sc", far, r_cut))


class _PairDescriptor(TransformerMixin, BaseEstimator):
    """Shared machinery: pair-table validation, per-pair caching, ``fit`` = no-op."""

    _cache_exclude: tuple[str, ...] = ("cache",)
    #: bumped whenever the features of a parameter set change (part of the cache key)
    _cache_version = 1

    def fit(self, X, y=None):
        """Check the parameters and ``X``; there is nothing to learn. Returns ``self``."""
        self._check_params()
        pair_columns(X)
        self.n_features_out_ = self.n_features
        return self

    def transform(self, X):
        """Features of every pair of the table ``X``: array (n_pairs, n_features)."""
        self._check_params()
        ei, ej, vec = pair_columns(X)
        keys = row_keys(ei, ej, vec)
        params = {k: v for k, v in self.get_params().items() if k not in self._cache_exclude}
        params["_version"] = self._cache_version

        def compute(pos: np.ndarray):
            return self._compute(ei[pos], ej[pos], vec[pos])

        return self._format(
            cached_features(type(self).__name__, params, keys, compute, mode=self.cache, n_features=self.n_features)
        )

    def _format(self, features):
        return features

    def _environment_chunks(self, ei, ej, vec):
        """The clusters of the pairs, :data:`_CHUNK` at a time (bounds dscribe's buffers)."""
        for s in range(0, len(ei), _CHUNK):
            yield [self.environment(a, b, v) for a, b, v in zip(ei[s : s + _CHUNK], ej[s : s + _CHUNK], vec[s : s + _CHUNK])]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False  # X is a pair table (DataFrame), not a numeric array
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


# --------------------------------------------------------------------------------------------
# Coulomb matrix
# --------------------------------------------------------------------------------------------
class CoulombMatrixDescriptor(_PairDescriptor):
    """Coulomb matrix of a pair's environment (dscribe), made permutation invariant.

    Parameters
    ----------
    r_cut : radius (Å) of the spheres around the two impurities that make the cluster.
    permutation : ``'eigenspectrum'`` (default; exactly invariant) or ``'sorted_l2'``
        (dscribe's row sorting; flattened matrix, not exactly invariant when rows tie).
    n_atoms_max : length the output is padded to; default: the largest possible cluster at
        ``r_cut`` (two disjoint spheres), so every pair gets the same number of features.
    cache : ``True`` (memory and disk), ``'memory'`` or ``False``.
    """

    def __init__(
        self, r_cut: float = 4.0, permutation: str = "eigenspectrum", n_atoms_max: int | None = None, cache: bool | str = True
    ):
        self.r_cut = r_cut
        self.permutation = permutation
        self.n_atoms_max = n_atoms_max
        self.cache = cache

    def _check_params(self) -> None:
        if not (np.isfinite(self.r_cut) and self.r_cut > 0):
            raise ValueError(f"r_cut must be a positive length in Å, not {self.r_cut!r}.")
        if self.permutation not in ("eigenspectrum", "sorted_l2"):
            raise ValueError(f"permutation must be 'eigenspectrum' or 'sorted_l2', not {self.permutation!r}.")

    @property
    def atoms_max(self) -> int:
        return int(self.n_atoms_max) if self.n_atoms_max else max_environment_size(float(self.r_cut))

    @property
    def n_features(self) -> int:
        n = self.atoms_max
        return n if self.permutation == "eigenspectrum" else n * n

    def environment(self, element_i: str, element_j: str, vector):
        """The cluster this descriptor featurises (:func:`environment` at ``r_cut``)."""
        return environment(element_i, element_j, vector, self.r_cut)

    def _dscribe(self):
        from dscribe.descriptors import CoulombMatrix

        return CoulombMatrix(n_atoms_max=self.atoms_max, permutation=self.permutation)

    def featurize_atoms(self, atoms) -> np.ndarray:
        """Features of one cluster (or a list of clusters) given as ``ase.Atoms``."""
        self._check_params()
        many = isinstance(atoms, (list, tuple))
        systems = list(atoms) if many else [atoms]
        too_big = [len(a) for a in systems if len(a) > self.atoms_max]
        if too_big:
            raise ValueError(f"cluster of {max(too_big)} atoms exceeds n_atoms_max={self.atoms_max}.")
        out = np.asarray(self._dscribe().create(systems), dtype=float).reshape(len(systems), -1)
        return out if many else out[0]

    def _compute(self, ei, ej, vec) -> np.ndarray:
        cm = self._dscribe()
        blocks = [
            np.asarray(cm.create(envs), dtype=float).reshape(len(envs), -1) for envs in self._environment_chunks(ei, ej, vec)
        ]
        return np.vstack(blocks) if blocks else np.empty((0, self.n_features))


# --------------------------------------------------------------------------------------------
# SOAP
# --------------------------------------------------------------------------------------------
class SOAPDescriptor(_PairDescriptor):
    """SOAP power spectra (dscribe) of a pair's environment, symmetrised over the two impurities.

    Parameters
    ----------
    r_cut : SOAP cut-off radius (Å) around each centre.
    n_max, l_max, sigma : radial basis size, angular degree, Gaussian width (Å).
    centres : ``'pair'`` (default): ``[(p_i + p_j)/2, p_mid]`` -- average of the two impurity
        centres and the spectrum at the bond midpoint; ``'impurities'``: ``(p_i + p_j)/2``;
        ``'all'``: average of the spectra of all atoms of the cluster of radius ``r_cut``.
    species : chemical species of the density channels; default the 20 impurities, Bi and Te.
    sparse : return a ``scipy.sparse`` CSR matrix (default; a spectrum has ~15 000 channels of
        which a cluster with four species fills ~3 %) or a dense array.
    cache : ``True`` (memory and disk), ``'memory'`` or ``False``.
    """

    _cache_exclude = ("cache", "sparse")
    _cache_version = 2

    def __init__(
        self,
        r_cut: float = 4.0,
        n_max: int = 4,
        l_max: int = 3,
        sigma: float = 0.5,
        centres: str = "pair",
        species: tuple[str, ...] | None = None,
        sparse: bool = True,
        cache: bool | str = True,
    ):
        self.r_cut = r_cut
        self.n_max = n_max
        self.l_max = l_max
        self.sigma = sigma
        self.centres = centres
        self.species = species
        self.sparse = sparse
        self.cache = cache

    def _check_params(self) -> None:
        if not (np.isfinite(self.r_cut) and self.r_cut > 1.0):
            raise ValueError(f"r_cut must be a length in Å above 1 Å (GTO basis), not {self.r_cut!r}.")
        if self.centres not in ("pair", "impurities", "all"):
            raise ValueError(f"centres must be 'pair', 'impurities' or 'all', not {self.centres!r}.")

    @property
    def species_list(self) -> list[str]:
        return list(self.species) if self.species is not None else list(IMPURITY_ELEMENTS) + list(HOST_ELEMENTS)

    def _dscribe(self):
        from dscribe.descriptors import SOAP

        return SOAP(
            species=self.species_list,
            r_cut=float(self.r_cut),
            n_max=int(self.n_max),
            l_max=int(self.l_max),
            sigma=float(self.sigma),
            periodic=False,
            average="outer" if self.centres == "all" else "off",
        )

    @property
    def n_features(self) -> int:
        n = self._dscribe().get_number_of_features()
        return 2 * n if self.centres == "pair" else n

    @property
    def padding(self) -> float:
        """How far beyond ``r_cut`` dscribe still counts atoms (Gaussian tails; sigma sqrt(2 ln 1000) Å)."""
        return float(self.sigma) * float(np.sqrt(-2.0 * np.log(1e-3)))

    def environment(self, element_i: str, element_j: str, vector):
        """The cluster this descriptor featurises: every atom dscribe uses for any centre, no more.

        Built from a cached template per pair vector (atoms within ``r_cut + padding`` of a
        centre) with the two impurity species substituted.
        """
        template = _trimmed_template(_vector_key(vector), float(self.r_cut), self.padding, self.centres)
        return _with_impurities(template, element_i, element_j)

    def _spectra(self, soap, systems) -> np.ndarray:
        if self.centres == "all":
            return np.asarray(soap.create(systems), dtype=float).reshape(len(systems), -1)
        centres = []
        for a in systems:
            p0, p1 = a.positions[0], a.positions[1]
            centres.append([p0, p1, (p0 + p1) / 2] if self.centres == "pair" else [p0, p1])
        p = np.asarray(soap.create(systems, centers=centres), dtype=float).reshape(len(systems), len(centres[0]), -1)
        sym = 0.5 * (p[:, 0] + p[:, 1])
        return np.hstack([sym, p[:, 2]]) if self.centres == "pair" else sym

    def featurize_atoms(self, atoms) -> np.ndarray:
        """Dense features of one cluster (or a list) given as ``ase.Atoms``; impurities = atoms 0, 1.

        The cluster must contain every atom within ``r_cut`` + :attr:`padding` of the centres for
        the result to match :meth:`transform` (which uses :meth:`environment`).
        """
        self._check_params()
        many = isinstance(atoms, (list, tuple))
        systems = list(atoms) if many else [atoms]
        out = self._spectra(self._dscribe(), systems)
        return out if many else out[0]

    def _compute(self, ei, ej, vec):
        soap = self._dscribe()
        blocks = [sp.csr_matrix(self._spectra(soap, envs)) for envs in self._environment_chunks(ei, ej, vec)]
        return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, self.n_features))

    def _format(self, features):
        if self.sparse:
            return sp.csr_matrix(features)
        return features.toarray() if sp.issparse(features) else np.asarray(features)


#: The descriptors by the key that names them in a benchmark model (``CM-KRR-lap-rcut-4.0``); each takes
#: ``r_cut`` (Å) and ``cache``. The benchmark's registry reads this table: a new descriptor is one entry here.
DESCRIPTORS = {"CM": CoulombMatrixDescriptor, "SOAP": SOAPDescriptor}


__all__ = [
    "DESCRIPTORS",
    "CoulombMatrixDescriptor",
    "SOAPDescriptor",
    "environment",
    "pair_environments",
]
