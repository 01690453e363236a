"""ClickHouse's HTTP interface in front of ClickHouse's engine (chDB), for tests: several processes
(`serve`s with `--store clickhouse://…`, the test itself) then share one ClickHouse database through
clickhouse-connect, as they would a ClickHouse server, which cannot be installed here (Debian's
package is 18.16). The engine, the SQL, the client and the wire are the real ones; only the HTTP
server is this file, and it implements what clickhouse-connect uses: a query in the URL or the body,
settings as URL parameters, `INSERT … FORMAT Arrow` with the data as the body (lz4 or gzip
compressed, as clickhouse-connect sends it), and errors as ClickHouse words them. One statement runs
at a time.

    python tests/clickhouse_http.py DIR PORT
"""

from __future__ import annotations

import gzip
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa

from support import running

# URL parameters that are the HTTP interface's own, not settings.
NOT_SETTINGS = {"query", "database", "default_format", "session_id", "session_timeout", "session_check",
                "query_id", "user", "password", "compress", "decompress", "quota_key", "buffer_size",
                "wait_end_of_query", "client_protocol_version"}
INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(?P<table>\S+)\s*(?:\((?P<cols>[^)]*)\))?\s*FORMAT\s+(?P<fmt>\w+)\s*$",
                    re.I | re.S)
FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)


class Engine:
    def __init__(self, path: str) -> None:
        import chdb

        self.conn = chdb.connect(path)
        self.lock = threading.Lock()

    def run(self, query: str, data: bytes | None, params: dict[str, str]) -> tuple[bytes, str]:
        settings = {k: v for k, v in params.items() if k not in NOT_SETTINGS}
        with self.lock:
            for name, value in settings.items():
                self.conn.query(f"SET {name} = {_literal(value)}", "Null")
            if params.get("database"):
                self.conn.query(f"USE {params['database']}", "Null")
            insert = INSERT.match(query)
            if insert and data is not None:
                return self._insert(insert, data), "TabSeparated"
            found = FORMAT.search(query)
            fmt = found.group(1) if found else params.get("default_format", "TabSeparated")
            body = FORMAT.sub("", query) if found else query
            result = self.conn.query(body, fmt)
            return bytes(result.bytes() if hasattr(result, "bytes") else result), fmt

    def _insert(self, insert: re.Match[str], data: bytes) -> bytes:
        fmt = insert.group("fmt").lower()
        if fmt not in ("arrow", "arrowstream"):
            raise ValueError(f"this test server takes inserts in Arrow, not {insert.group('fmt')}")
        reader = pa.ipc.open_stream(data) if fmt == "arrowstream" or not data.startswith(b"ARROW1") \
            else pa.ipc.open_file(data)
        table = reader.read_all()
        cols = insert.group("cols") or ", ".join(table.column_names)
        self.conn.query(f"INSERT INTO {insert.group('table')} ({cols}) SELECT {cols} FROM Python(table)", "Null")
        return b""


def _literal(value: str) -> str:
    return value if re.fullmatch(r"-?\d+(\.\d+)?", value) else "'" + value.replace("'", "\\'") + "'"


def _decompress(data: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "lz4":
        import lz4.frame

        return bytes(lz4.frame.decompress(data))
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class Handler(BaseHTTPRequestHandler):
    engine: Engine
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(parts)
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return _decompress(raw, self.headers.get("Content-Encoding", "").lower())

    def _handle(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") in ("/ping",):
            return self._send(200, b"Ok.\n", {})
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        body = self._body()
        query, data = (params["query"], body) if "query" in params else (body.decode(), None)
        try:
            out, fmt = self.engine.run(query, data, params)
        except Exception as e:
            message = str(e)
            code = re.search(r"Code: (\d+)", message)
            return self._send(500, f"Code: {code.group(1) if code else 1000}. DB::Exception: {message}\n".encode(),
                              {"X-ClickHouse-Exception-Code": code.group(1) if code else "1000"})
        self._send(200, out, {"X-ClickHouse-Format": fmt})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in {"Content-Length": str(len(body)), "X-ClickHouse-Summary": "{}",
                     "X-ClickHouse-Timezone": "UTC", "X-ClickHouse-Server-Display-Name": "chdb-http",
                     **headers}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def serve(path: str, port: int) -> None:
    Handler.engine = Engine(path)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


@contextmanager
def clickhouse_http(path: Path, port: int) -> Iterator[str]:
    """Run the server in its own process (chDB hosts one engine per process); yields its store URL."""
    with running([sys.executable, __file__, str(path), str(port)], f"http://127.0.0.1:{port}/ping",
                 "the ClickHouse HTTP test server"):
        yield f"clickhouse://default:@127.0.0.1:{port}/default"

if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
