"""The Store protocol every engine implements, and the unit of writing: a batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from video_insights.query.sql import Bound
from video_insights.store.schema import TABLES_BY_NAME, Table

Row = tuple[Any, ...]


@dataclass
class WriteBatch:
    """Rows to write in one transaction.

    `inserts` append rows; `replaces` put rows in place of the rows with the same key (the table's
    `key`), which is how summaries and corrected samples are kept current; `deletes` are conditions.
    Rows are tuples in the table's column order (see `make_row`).
    """

    inserts: dict[str, list[Row]] = field(default_factory=dict)
    replaces: dict[str, list[Row]] = field(default_factory=dict)
    deletes: list[tuple[str, exp.Expr]] = field(default_factory=list)
    columns: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # bulk: table, name -> array

    def insert_columns(self, table: str, columns: dict[str, Any]) -> None:
        """Bulk rows as equal-length column arrays (numpy or lists); absent columns are NULL."""
        t = TABLES_BY_NAME[table]
        unknown = set(columns) - set(t.column_names)
        if unknown:
            raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
        self.columns.append((table, columns))

    def insert(self, table: str, row: Row) -> None:
        self.inserts.setdefault(table, []).append(row)

    def replace(self, table: str, row: Row) -> None:
        self.replaces.setdefault(table, []).append(row)

    def merge(self, other: WriteBatch) -> None:
        for t, rows in other.inserts.items():
            self.inserts.setdefault(t, []).extend(rows)
        for t, rows in other.replaces.items():
            self.replaces.setdefault(t, []).extend(rows)
        self.deletes.extend(other.deletes)
        self.columns.extend(other.columns)

    def row_count(self) -> int:
        bulk = sum(len(next(iter(cols.values()), ())) for _, cols in self.columns)
        return (sum(map(len, self.inserts.values())) + sum(map(len, self.replaces.values())) + len(self.deletes)
                + bulk)

    def __bool__(self) -> bool:
        return self.row_count() > 0


def make_row(table: Table | str, **values: Any) -> Row:
    """A row tuple for `table` from keyword values; unknown names are an error, absent ones NULL."""
    t = TABLES_BY_NAME[table] if isinstance(table, str) else table
    names = t.column_names
    if len(values) > len(names) or not values.keys() <= set(names):
        raise KeyError(f"{t.name} has no column(s) {sorted(set(values) - set(names))}")
    return tuple(values.get(c) for c in names)


class Store(Protocol):
    url: str
    dialect: str
    # Whether a batch commits as one transaction (else each table's insert is atomic by itself), and
    # whether other processes may write the store meanwhile (a server; DuckDB and chDB lock theirs).
    # The pipeline's ledger of stale rooms relies on both (processing/ledger.py).
    transactional: bool
    shared: bool

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; return the names of the migrations applied."""

    def fetch(self, query: exp.Expr | str | Bound) -> tuple[list[str], list[Row]]:
        """Run a read query from any thread: (column names, rows)."""

    def write(self, batch: WriteBatch) -> None:
        """Apply a batch atomically. Called by the single writer (or by one-off CLI commands)."""

    def table_rows(self, table: str) -> int: ...

    def close(self) -> None: ...


def dedupe_by_key(table: Table, rows: Sequence[Row]) -> list[Row]:
    """Keep the last row for each key, so one batch never writes two versions of a row."""
    idx = [table.column_names.index(k) for k in table.key]
    seen: dict[tuple[Any, ...], Row] = {}
    for r in rows:
        seen[tuple(r[i] for i in idx)] = r
    return list(seen.values())
