"""The two ways to reach ClickHouse: its engine inside this process (chDB, a directory of data) and a
ClickHouse server over HTTP (clickhouse-connect). Both speak Arrow both ways; the store above them is
one."""

from __future__ import annotations

import threading
from typing import Any, Protocol
from urllib.parse import urlencode

import pyarrow as pa

from video_insights.errors import StoreUnavailable

# Session settings every query runs with; each says what keeps DuckDB's meaning.
SETTINGS: dict[str, int] = {
    "final": 1,  # read summary tables (ReplacingMergeTree) as their latest versions, see ddl
    "join_use_nulls": 1,  # an outer join's missing side is NULL, not the type's default
    "insert_null_as_default": 0,  # a NULL into a NOT NULL column is an error, not '' or 0
    "aggregate_functions_null_for_empty": 1,  # sum() over no rows is NULL, as in SQL
    "prefer_column_name_to_alias": 1,  # `max(kind) AS kind` must not rename kind for its neighbours
}


class EngineError(RuntimeError):
    """ClickHouse refused a statement; the message is ClickHouse's."""


class Engine(Protocol):
    shared: bool  # other processes may write the same tables (a server), or not (chDB's directory)

    def query_arrow(self, sql: str) -> pa.Table: ...

    def command(self, sql: str) -> None: ...

    def insert_arrow(self, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


class ChdbEngine:
    """chDB: one engine per process, bound to one directory. Each thread gets its own connection
    (chDB runs queries of different connections in parallel; one connection runs one at a time)."""

    shared = False

    def __init__(self, path: str) -> None:
        import chdb

        self._chdb: Any = chdb  # its connect() is untyped
        self.path = path
        # Results in Arrow keep String as bytes: the store decodes text, and keeps binary columns.
        self._target = f"{path}?{urlencode({**SETTINGS, 'output_format_arrow_string_as_string': 0})}"
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._conn()  # open now: a second directory in this process fails here, not at first query

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._chdb.connect(self._target)
            except RuntimeError as e:
                # chDB hosts one directory per process, and a directory in one process at a time.
                raise StoreUnavailable(f"cannot open the chDB store {self.path} (is another process, such as a "
                                       f"running serve, using it? chDB opens a directory in one process): {e}"
                                       ) from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def query_arrow(self, sql: str) -> pa.Table:
        try:
            result: pa.Table = self._conn().query(sql, "ArrowTable")
        except self._chdb.ChdbError as e:
            raise EngineError(str(e)) from None
        return result

    def command(self, sql: str) -> None:
        try:
            self._conn().query(sql, "Null")
        except self._chdb.ChdbError as e:
            raise EngineError(str(e)) from None

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        cols = ", ".join(data.column_names)
        # chDB's Python() table function reads the Arrow table named `data` from the calling frame.
        try:
            self._conn().query(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM Python(data)", "Null")
        except self._chdb.ChdbError as e:
            raise EngineError(str(e)) from None

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


class ServerEngine:
    """A ClickHouse server over HTTP. Without a session the client may run queries from many threads
    at once (a session would serialise them); the settings travel with every request."""

    shared = True

    def __init__(self, *, host: str, port: int, username: str, password: str, database: str,
                 secure: bool) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import ClickHouseError

        self._errors = ClickHouseError
        self.where = f"{host}:{port}/{database}"
        try:
            self._client = clickhouse_connect.get_client(
                host=host, port=port, username=username, password=password, database=database, secure=secure,
                settings=SETTINGS, autogenerate_session_id=False)
        except ClickHouseError as e:
            raise StoreUnavailable(f"cannot reach ClickHouse at {self.where}: {e}") from None

    def query_arrow(self, sql: str) -> pa.Table:
        try:
            result: pa.Table = self._client.query_arrow(sql, use_strings=False)
        except self._errors as e:
            raise EngineError(str(e)) from None
        return result

    def command(self, sql: str) -> None:
        try:
            self._client.command(sql)
        except self._errors as e:
            raise EngineError(str(e)) from None

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        try:
            self._client.insert_arrow(table, data)
        except self._errors as e:
            raise EngineError(str(e)) from None

    def close(self) -> None:
        self._client.close()
