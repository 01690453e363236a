"""Rows as typed columns: the bulk form every store inserts (`WriteBatch.insert_columns`), built where
it is cheapest (the DuckDB writer for rows it is given, the gateway's report workers for theirs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from video_insights.store.base import Row
from video_insights.store.schema import T, Table

_NUMPY = {T.INT: np.int64, T.FLOAT: np.float64, T.BOOL: np.bool_}


def typed_array(values: list[Any], kind: T) -> Any:
    """A column with the schema's type, NULLs masked.

    Object arrays would make DuckDB guess the type from a sample of values (and fail on a later
    larger integer), so numbers and booleans go as typed, masked arrays.
    """
    dtype = _NUMPY.get(kind)
    if dtype is None:
        return np.array(values, dtype=object)
    if values.count(None) == 0:
        return np.array(values, dtype=dtype)
    objects = np.array(values, dtype=object)
    mask = objects == None  # noqa: E711  (elementwise, in C: a comprehension cost more than the insert)
    objects[mask] = 0
    return np.ma.masked_array(objects.astype(dtype), mask=mask)


def columns_of(table: Table, rows: list[Row], names: tuple[str, ...], *, skip_null: bool = False) -> dict[str, Any]:
    """Rows (tuples in the table's column order) → typed columns by name; with skip_null, columns that
    are NULL in every row are left out (an insert leaves them NULL), which spares converting and
    scanning them."""
    types = {c.name: c.type for c in table.columns}
    index = {n: i for i, n in enumerate(table.column_names)}
    columns = list(zip(*rows, strict=True))
    out = {}
    for n in names:
        values = list(columns[index[n]])
        if skip_null and values.count(None) == len(values):
            continue
        out[n] = typed_array(values, types[n])
    return out
