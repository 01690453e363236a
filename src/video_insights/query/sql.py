"""Queries as data: canonical SQL templates parsed once by sqlglot, values bound as escaped literals,
printed for each engine's dialect by the store that runs them.

Templates are written in one canonical dialect (DuckDB's) with `:name` placeholders, and may use only
functions that sqlglot prints correctly for every engine we support (tests run them on each engine).
Where sqlglot's printing alone would change a query's meaning on an engine, `portable` rewrites the
tree for it first (see `_for_clickhouse`, `_for_postgres`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


_PARAM = "__vi_param_"
_SENTINEL = _PARAM + "{}__"


#: (table, column) pairs: a condition on such columns alone may go to PREWHERE on ClickHouse. The store
#: that runs a query knows its tables and hands them over (store.schema.PREWHERE); this layer names none.
Prewhere = frozenset[tuple[str, str]]
NO_PREWHERE: Prewhere = frozenset()


@lru_cache(maxsize=256)
def _printed(template: str, dialect: str, prewhere: Prewhere) -> str:
    tree = _parse(template).copy()
    for node in list(tree.find_all(exp.Placeholder)):
        node.replace(exp.column(_SENTINEL.format(node.name)))
    return portable(tree, dialect, prewhere).sql(dialect=dialect)


def render(query: exp.Expr | str | Bound, dialect: str, prewhere: Prewhere = NO_PREWHERE) -> str:
    if isinstance(query, Bound):
        sql = _printed(query.template, dialect, prewhere)
        for name, v in query.params:
            sql = sql.replace(_SENTINEL.format(name), value(v).sql(dialect=dialect))
        return sql
    if isinstance(query, str):
        query = _parse(query)
    if dialect in _REWRITTEN:
        query = portable(query.copy(), dialect, prewhere)
    return query.sql(dialect=dialect)


def portable(tree: exp.Expr, dialect: str, prewhere: Prewhere = NO_PREWHERE) -> exp.Expr:
    """The canonical tree rewritten (in place) so that `dialect` computes what DuckDB computes."""
    if dialect == "clickhouse":
        return _for_clickhouse(tree, prewhere)
    if dialect == "postgres":
        return _for_postgres(tree)
    return tree


# The frame a lag runs over on ClickHouse: the whole partition, so that "the previous row" is always
# in it (ClickHouse's lagInFrame looks only inside the frame, whatever the ORDER BY).
_WHOLE_PARTITION = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED",
                                  end_side="FOLLOWING")
_IN_FRAME = {exp.Lag: "lagInFrame", exp.Lead: "leadInFrame"}


def _for_clickhouse(tree: exp.Expr, prewhere: Prewhere) -> exp.Expr:
    """DuckDB's meaning on ClickHouse where the printed SQL would differ.

    - lag/lead: ClickHouse's are frame functions (lagInFrame) that return the type's default (0, '')
      where there is no previous row; SQL returns NULL, and the deltas depend on it. So each becomes
      lagInFrame(toNullable(x)) over its window spelled out with the whole partition as its frame.
    - LIKE without ESCAPE: a backslash escapes the next character in ClickHouse patterns and is a plain
      character in DuckDB's; such literal patterns get theirs doubled. (With ESCAPE both agree.)
    - Conditions on a table's sorting-key columns (`prewhere`) go to PREWHERE (see `_prewhere_on_sort_key`).
    """
    named: dict[str, exp.Window] = {}
    for select in tree.find_all(exp.Select):
        for w in select.args.get("windows") or []:
            named[w.name] = w
    for window in list(tree.find_all(exp.Window)):
        fn = window.this
        name = _IN_FRAME.get(type(fn))
        if name is None:
            continue
        ref = window.args.get("alias")
        if ref is not None and ref.name in named:  # OVER w: spell the named window out, with a frame
            spec = named[ref.name]
            window.set("alias", None)
            window.set("partition_by", [e.copy() for e in spec.args.get("partition_by") or []])
            order = spec.args.get("order")
            window.set("order", order.copy() if order is not None else None)
        window.set("spec", _WHOLE_PARTITION.copy())
        args = [exp.func("toNullable", fn.this.copy())]
        if fn.args.get("offset") is not None:
            args.append(fn.args["offset"].copy())
        if fn.args.get("default") is not None:
            args.append(fn.args["default"].copy())
        window.set("this", exp.Anonymous(this=name, expressions=args))
    for select in tree.find_all(exp.Select):
        windows = select.args.get("windows")
        if windows:
            used = {w.args["alias"].name for w in select.find_all(exp.Window) if w.args.get("alias") is not None}
            select.set("windows", [w for w in windows if w.name in used] or None)
    for like in tree.find_all(exp.Like, exp.ILike):
        pattern = like.expression
        if isinstance(like.parent, exp.Escape):
            continue
        if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" in pattern.this:
            like.set("expression", exp.Literal.string(pattern.this.replace("\\", "\\\\")))
    if prewhere:
        _prewhere_on_sort_key(tree, prewhere)
    return tree


@lru_cache(maxsize=256)
def _prewhere_columns(prewhere: Prewhere, table: str) -> frozenset[str]:
    return frozenset(c for t, c in prewhere if t == table)


def _prewhere_on_sort_key(tree: exp.Expr, prewhere: Prewhere) -> None:
    """Summary tables are read with FINAL, and ClickHouse then moves no condition to PREWHERE by itself
    (a filter on another column, applied before the versions collapse, could let an older version
    through). A condition on sorting-key columns alone keeps or drops every version of a row together,
    so it is safe there: with it a room looked up by SID reads the other columns of one granule
    instead of every granule of the account (21.8 → 8.1 ms over 95k rooms on chDB)."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}  # a CTE named like a table is not the table
    for select in list(tree.find_all(exp.Select)):
        where, source = select.args.get("where"), select.args.get("from_")
        if where is None or source is None or select.args.get("joins") or select.args.get("prewhere"):
            continue
        if not isinstance(source.this, exp.Table) or source.this.name in ctes:
            continue
        keys = _prewhere_columns(prewhere, source.this.name)
        moved: list[exp.Expr] = []
        kept: list[exp.Expr] = []
        for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            names = {c.name for c in cond.find_all(exp.Column) if not c.name.startswith(_PARAM)}
            plain = not cond.find(exp.Select, exp.AggFunc, exp.Window)
            (moved if names and names <= keys and plain else kept).append(cond)
        if moved:
            select.set("prewhere", exp.PreWhere(this=exp.and_(*moved, copy=False)))
            select.set("where", exp.Where(this=exp.and_(*kept, copy=False)) if kept else None)


def _for_postgres(tree: exp.Expr) -> exp.Expr:
    """DuckDB's meaning on PostgreSQL where the printed SQL would differ.

    - A subquery in FROM needs an alias before PostgreSQL 16; DuckDB's are optional. Unnamed ones get
      one (sqlglot already prints DuckDB's float `/`, `//`, and NULL ordering in PostgreSQL's terms).
    - LIKE without ESCAPE: a backslash escapes the next character in PostgreSQL patterns and is a plain
      character in DuckDB's; `ESCAPE ''` turns PostgreSQL's escaping off.
    """
    for n, sub in enumerate(list(tree.find_all(exp.Subquery))):
        if not sub.alias and isinstance(sub.parent, (exp.From, exp.Join)):
            sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_sub{n}")))
    for like in list(tree.find_all(exp.Like, exp.ILike)):
        if not isinstance(like.parent, exp.Escape):
            like.replace(exp.Escape(this=like.copy(), expression=exp.Literal.string("")))
    return tree


_REWRITTEN = frozenset({"clickhouse", "postgres"})


def tags(values: Iterable[str]) -> str:
    """A set kept as a tag string: ",a,b," (see store.schema)."""
    items = sorted({v for v in values if v})
    return "," + ",".join(items) + "," if items else ""


def untag(text: str | None) -> list[str]:
    return [v for v in (text or "").split(",") if v]


def rows_as_dicts(columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, r, strict=True)) for r in rows]


def probe() -> exp.Expr:
    """The cheapest query a store can answer: whether it answers at all (/healthz)."""
    return q("SELECT 1")
