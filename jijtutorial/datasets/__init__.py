"""Data set loaders: one ``load_*()`` per data set, each returning a tidy ``pandas.DataFrame``.

Every frame has one row per impurity pair and the columns of :data:`TIDY_COLUMNS` (plus
source-specific extras). ``frame.attrs`` carries the description, units, sign convention,
licence and provenance of the data, its real number of pairs (``n_pairs``) and its file (``path``).

=============  ===================================================================================
module         concept
=============  ===================================================================================
``_schema``    the tidy table: columns, units, convention, :func:`tidy_frame`, element-pair groups
``_files``     reading files: bytes, CSV rows with the file's own line numbers, warnings once
``_jukkr``     the JuKKR table: where it is, reading and checking it (duplicates, derived columns)
``_model``     the package's model data set (``jijtutorial/data/model_jij.csv``, shipped with the package)
``_select``    :func:`load_dataset` by name, :func:`describe`, :func:`data_notice`
=============  ===================================================================================
"""

from ._files import DataFileWarning
from ._jukkr import (
    DATA_DIR_VARIABLE,
    JUKKR_COLUMNS,
    JUKKR_DOI,
    JUKKR_FILENAME,
    JUKKR_ROWS,
    JUKKR_URL,
    R_TOLERANCE,
    jukkr_available,
    jukkr_path,
    load_jukkr,
)
from ._model import MODEL_FILENAME, PACKAGE_DATA_DIR, load_model, model_path
from ._schema import CONVENTION, TIDY_COLUMNS, element_pair_groups, element_pair_labels, tidy_frame
from ._select import data_notice, describe, load_dataset

__all__ = [
    "CONVENTION",
    "DATA_DIR_VARIABLE",
    "DataFileWarning",
    "JUKKR_COLUMNS",
    "JUKKR_DOI",
    "JUKKR_FILENAME",
    "JUKKR_ROWS",
    "JUKKR_URL",
    "MODEL_FILENAME",
    "PACKAGE_DATA_DIR",
    "R_TOLERANCE",
    "TIDY_COLUMNS",
    "data_notice",
    "describe",
    "element_pair_groups",
    "element_pair_labels",
    "jukkr_available",
    "jukkr_path",
    "load_dataset",
    "load_jukkr",
    "load_model",
    "model_path",
    "tidy_frame",
]
