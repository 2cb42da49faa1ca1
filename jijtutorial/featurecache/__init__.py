"""Cache of descriptor features, per descriptor parameter set and per pair, and of pickled results.

Design
------
A descriptor's features of one pair depend only on the descriptor's parameters and on the
pair itself (element_i, element_j, pair vector). The cache is therefore keyed in two levels:

1. a *parameter key*: SHA-256 of the descriptor class, its parameters (``get_params()``
   without the ``cache`` switch), the jijtutorial and dscribe versions and a format number;
2. a *row key* per pair: ``"Fe|Co|4.383000|0.000000|0.000000"`` (symbols and the vector in Å
   rounded to 1e-6).

Any subset of the pairs (a cross-validation fold, one notebook cell's pair) is a look-up in the
table of that parameter set; only pairs never seen before are computed. Two stores hold the
tables:

* an in-process memo (a dict; survives across ``fit``/``transform`` calls, ``Pipeline`` clones
  and grid-search candidates);
* a folder on disk, ``$JIJTUTORIAL_CACHE_DIR`` or ``~/.cache/jijtutorial``, one compressed
  ``features-<class>-<key>.npz`` per parameter set (keys, the matrix dense or as CSR parts, and
  a JSON header with the parameter key, the number of rows and features and a SHA-256 checksum
  of keys and matrix), so notebooks, the benchmark command and tests reuse each other's work.

Featurisation is deterministic, so a cache hit returns exactly what a recomputation would.

Concurrency
-----------
* Threads: one lock per parameter set is held around look-up, computation of the missing rows
  and insertion, so threads sharing a parameter set never compute a row twice and never see a
  half-filled table; :class:`FeatureTable` swaps its keys, index and matrix as one immutable
  snapshot, so even a reader without the lock sees either the old or the new table.
* Processes: a write takes an exclusive ``fcntl.flock`` on ``<file>.lock`` (where available),
  re-reads the file, merges the rows another process added since (rows present in both are
  identical: featurisation is deterministic; the in-memory one is kept), writes the union to a
  temporary file in the same folder and renames it over the old one. Readers therefore see
  either the old or the new complete file, and no process loses another's rows. Without
  ``fcntl`` (Windows) the rename is still atomic; concurrent writers may then drop each other's
  rows, which only costs a recomputation later.

Damaged files
-------------
A file that cannot be read (truncated, empty, not a zip archive), lacks the header, belongs to
another parameter set, has duplicate or malformed row keys, a matrix whose shape disagrees with
the header, or a checksum that does not match (e.g. permuted keys) is reported once per file
with a :class:`CacheWarning` naming it, recomputed, and replaced atomically.

:func:`load_cached_object` and :func:`save_cached_object` give the same guarantees to pickled
results (e.g. a benchmark run): an embedded key and an expected type are checked on reading.

=============  ==================================================================================
module         concept
=============  ==================================================================================
``_keys``      the cache folder, parameter keys, row keys, the digest of the package source
``_files``     warnings once per file, atomic writes, the inter-process lock file
``_table``     :class:`FeatureTable`: rows by key and its checked ``.npz`` file
``_store``     :func:`cached_features`: the in-process memo and the disk, under locks
``_objects``   :func:`load_cached_object` / :func:`save_cached_object` for pickled results
=============  ==================================================================================
"""

from ._files import CacheWarning
from ._keys import CACHE_VARIABLE, FEATURE_CODE, FORMAT_VERSION, cache_dir, code_digest, code_files, parameter_key, row_keys
from ._objects import PICKLE_FORMAT, load_cached_object, save_cached_object
from ._store import cached_features, clear_memory_cache
from ._table import FeatureTable

__all__ = [
    "CACHE_VARIABLE",
    "CacheWarning",
    "FORMAT_VERSION",
    "FeatureTable",
    "PICKLE_FORMAT",
    "cache_dir",
    "cached_features",
    "clear_memory_cache",
    "load_cached_object",
    "parameter_key",
    "row_keys",
    "save_cached_object",
    "code_digest",
    "code_files",
    "FEATURE_CODE",
]
