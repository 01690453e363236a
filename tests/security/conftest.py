"""The security suite's server: uvicorn on 127.0.0.1 over a DuckDB file, one account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from security.hostile import Server, module_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with module_server(tmp_path_factory, "security") as s:
        yield s
