"""Queries as data: canonical SQL templates parsed once by sqlglot, values bound as escaped literals,
printed for each engine's dialect by the store that runs them.

Templates are written in one canonical dialect (DuckDB's) with `:name` placeholders, and may use only
functions that sqlglot prints correctly for every engine we support (tests run them on each engine).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

CANONICAL = "duckdb"


@lru_cache(maxsize=1024)
def _parse(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read=CANONICAL)


def value(v: Any) -> exp.Expr:
    """A literal for `v`; sequences become a tuple (for IN), escaped by sqlglot."""
    if isinstance(v, exp.Expr):
        return v
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v) if isinstance(v, (set, frozenset)) else list(v)
        if not items:
            # An empty IN list is not valid SQL; a NULL never matches, which is what "in nothing" means.
            return exp.Tuple(expressions=[exp.null()])
        return exp.Tuple(expressions=[exp.convert(i) for i in items])
    return exp.convert(v)


def q(template: str, **params: Any) -> exp.Expr:
    """Parse (cached) a canonical template and bind its `:name` placeholders."""
    tree = _parse(template).copy()
    return exp.replace_placeholders(tree, **{k: value(v) for k, v in params.items()})


@dataclass(frozen=True)
class Bound:
    """A canonical template and its values, for queries run often: the template is printed once per
    dialect (sqlglot's printing of a large query costs milliseconds) and each value, escaped by sqlglot,
    is put in its placeholder's place."""

    template: str
    params: tuple[tuple[str, Any], ...]


def bound(template: str, **params: Any) -> Bound:
    return Bound(template, tuple(params.items()))


_SENTINEL = "__vi_param_{}__"


@lru_cache(maxsize=256)
def _printed(template: str, dialect: str) -> str:
    tree = _parse(template).copy()
    for node in list(tree.find_all(exp.Placeholder)):
        node.replace(exp.column(_SENTINEL.format(node.name)))
    return tree.sql(dialect=dialect)


def render(query: exp.Expr | str | Bound, dialect: str) -> str:
    if isinstance(query, Bound):
        sql = _printed(query.template, dialect)
        for name, v in query.params:
            sql = sql.replace(_SENTINEL.format(name), value(v).sql(dialect=dialect))
        return sql
    if isinstance(query, str):
        query = _parse(query)
    return query.sql(dialect=dialect)


def tags(values: Iterable[str]) -> str:
    """A set kept as a tag string: ",a,b," (see store.schema)."""
    items = sorted({v for v in values if v})
    return "," + ",".join(items) + "," if items else ""


def untag(text: str | None) -> list[str]:
    return [v for v in (text or "").split(",") if v]


def rows_as_dicts(columns: list[str], rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, r, strict=True)) for r in rows]
