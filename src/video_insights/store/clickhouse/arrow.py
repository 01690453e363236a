"""Rows and columns ⇄ Arrow tables: how batches reach ClickHouse (chDB and the server both take Arrow
natively: typed columns with their NULLs, no SQL text per row) and how results come back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from video_insights.store.base import Row
from video_insights.store.schema import TABLES, T, Table

ARROW_TYPES = {T.STR: pa.string(), T.INT: pa.int64(), T.FLOAT: pa.float64(), T.BOOL: pa.bool_(),
               T.JSON: pa.string(), T.TAGS: pa.string(), T.BYTES: pa.binary()}
# ClickHouse has one String type for text and bytes; results come back as bytes and are decoded as
# UTF-8 text except in columns the schema declares binary (the name is what a result carries).
BINARY_COLUMNS = frozenset(c.name for t in TABLES for c in t.columns if c.type == T.BYTES)


class InvalidRows(ValueError):
    """A batch that the schema refuses (a NULL in a NOT NULL column, an unknown column)."""


def _array(values: Any, kind: T) -> pa.Array:
    arrow_type = ARROW_TYPES[kind]
    if isinstance(values, np.ma.MaskedArray):
        return pa.array(np.ma.getdata(values), type=arrow_type, mask=np.ma.getmaskarray(values))
    if isinstance(values, np.ndarray) and values.dtype != object:
        return pa.array(values, type=arrow_type)
    return pa.array(list(values), type=arrow_type)


def from_columns(table: Table, columns: dict[str, Any]) -> pa.Table:
    """An Arrow table of some of `table`'s columns; every NOT NULL column must be given, without NULLs."""
    kinds = {c.name: c for c in table.columns}
    unknown = set(columns) - set(kinds)
    if unknown:
        raise InvalidRows(f"{table.name} has no column(s) {sorted(unknown)}")
    missing = [c.name for c in table.columns if not c.nullable and c.name not in columns]
    if missing:
        raise InvalidRows(f"{table.name}.{missing[0]}: NOT NULL column not given")
    arrays = []
    for name, values in columns.items():
        try:
            arr = _array(values, kinds[name].type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
            raise InvalidRows(f"{table.name}.{name}: {e}") from None
        if arr.null_count and not kinds[name].nullable:
            raise InvalidRows(f"{table.name}.{name}: NULL in a NOT NULL column")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=list(columns))


def from_rows(table: Table, rows: Sequence[Row]) -> pa.Table:
    return from_columns(table, {name: [r[i] for r in rows] for i, name in enumerate(table.column_names)})


def to_rows(result: pa.Table) -> tuple[list[str], list[Row]]:
    names = list(result.column_names)
    columns = []
    for name, col in zip(names, result.columns, strict=True):
        binary = pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)
        columns.append((pc.cast(col, pa.string()) if binary and name not in BINARY_COLUMNS else col).to_pylist())
    if not columns:
        return names, []
    return names, list(zip(*columns, strict=True))
