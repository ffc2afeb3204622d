"""The SQL policy of ``lake.access``: parse with sqlglot, refuse what a grant does not
allow, and rewrite the query so that the engine can only see what the grant permits.

Every reference to a granted table is replaced by a subquery over the table's version that
projects the permitted columns — masked where the grant says so — and keeps only the rows
the grant's filter admits (as Trino's row filters and column masks, or Apache Ranger, do).
The rest of the query is left as written, so WHERE, GROUP BY, JOIN and window clauses all
see masked values: a filter on a masked column cannot reveal what the mask hides.

Refused before anything runs: anything but one SELECT (or UNION/INTERSECT/EXCEPT of them);
tables the grant does not cover, schema-qualified names and table functions; columns the
grant does not permit; functions outside the allowed set (file readers, ``query``,
``query_table``, catalog functions and every DuckDB function not listed here); placeholders,
``SELECT … INTO``, statements nested in a query; the platform's reserved ``__ls`` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from longshu.lake.errors import (
    ColumnNotGranted,
    ConstructNotAllowed,
    FunctionNotAllowed,
    InvalidGrant,
    NotASelect,
    QueryInvalid,
    QueryTooLong,
    TableNotGranted,
)
from longshu.lake.policy import Grant, Mask, TableGrant

DIALECT = "duckdb"
RESERVED = "__ls"
MAX_NODES = 20_000

# Typed sqlglot functions refused although sqlglot knows them: they read files or produce
# tables (the query's tables are the granted ones and nothing else).
DENIED_FUNCTIONS = {
    "ReadCSV",
    "ReadParquet",
    "ToFile",
    "GenerateTable",
    "JSONTable",
    "XMLTable",
    "SplitToTable",
    "StrtokSplitToTable",
}
# DuckDB functions sqlglot does not know by type, allowed by name. Anything else that parses
# as an unknown function (query, query_table, read_*, glob, duckdb_*, pragma_*, getenv,
# current_setting, getvariable, …) is refused.
_ALLOWED_WORDS = """
    abs acos asin atan atan2 cbrt ceil ceiling cos cot degrees even exp factorial floor gamma
    gcd lcm ln log log10 log2 nextafter pi pow power radians round round_even sign signbit sin
    sqrt tan trunc bit_count xor isfinite isinf isnan
    ascii bit_length chr concat_ws contains ends_with starts_with prefix suffix format printf
    ilike_escape instr lcase ucase left right length len strlen length_grapheme lpad rpad ltrim
    rtrim trim repeat replace reverse split_part string_split strip_accents substr substring
    translate unicode nfc_normalize regexp_matches regexp_extract regexp_extract_all
    regexp_replace regexp_split_to_array levenshtein jaro_winkler_similarity jaccard
    hamming editdist3 damerau_levenshtein
    age century date_diff datediff date_part datepart date_sub date_trunc datetrunc dayname
    dayofmonth dayofweek dayofyear decade epoch epoch_ms era isodow isoyear julian last_day
    make_date make_time make_timestamp monthname millennium quarter strftime strptime
    time_bucket to_days to_months to_years weekday weekofyear yearweek
    list_value list_contains list_has list_sort list_distinct list_aggregate list_count
    array_length array_contains cardinality
    coalesce ifnull nullif greatest least if
    arg_max arg_min argmax argmin bool_and bool_or count_if countif entropy favg fsum
    histogram kurtosis mad mode product skewness string_agg group_concat list
    approx_count_distinct approx_quantile quantile_cont quantile_disc reservoir_quantile
    regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy
    corr covar_pop covar_samp
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
    try_cast typeof hash md5 sha256
    """
ALLOWED_NAMES = frozenset(_ALLOWED_WORDS.split())
FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.Into,
    exp.Placeholder,
    exp.Parameter,
    exp.SessionParameter,
    exp.Command,
    exp.DDL,
    exp.DML,
    exp.Pragma,
    exp.Set,
)

_SQL_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "large_string": "VARCHAR",
    "binary": "BLOB",
    "date32[day]": "DATE",
}


def sql_type(arrow_type: pa.DataType) -> str:
    """The SQL type of an Arrow column, for casts and for the validating schema."""
    name = str(arrow_type)
    if name in _SQL_TYPES:
        return _SQL_TYPES[name]
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision}, {arrow_type.scale})"
    return "VARCHAR"


# --- parsing and checking -----------------------------------------------------------------


def parse_query(sql: str, max_chars: int) -> exp.Query:
    """One SELECT-like statement, or a typed refusal."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryInvalid(detail="empty query")
    if len(sql) > max_chars:
        raise QueryTooLong(limit=max_chars)
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        raise QueryInvalid(detail=_first_line(exc)) from exc
    if len(statements) != 1:
        raise NotASelect(kind=f"{len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise NotASelect(kind=tree.key.upper())
    check_tree(tree)
    return tree


def check_condition(text: str) -> exp.Expression:
    """A grant's row filter: one condition over the table's columns, no subqueries."""
    try:
        condition = sqlglot.parse_one(text, dialect=DIALECT, into=exp.Condition)
    except (ParseError, TokenError) as exc:
        raise InvalidGrant(detail=f"row filter: {_first_line(exc)}") from exc
    if condition.find(exp.Query, exp.Table) is not None:
        raise InvalidGrant(detail="a row filter may not contain a query")
    check_tree(condition)
    return condition


def check_tree(tree: exp.Expression) -> None:
    """Refuse forbidden constructs, functions and reserved names anywhere in ``tree``."""
    for count, node in enumerate(tree.walk(), start=1):
        if count > MAX_NODES:
            raise ConstructNotAllowed(construct=f"A query of more than {MAX_NODES} parts")
        if isinstance(node, FORBIDDEN_NODES):
            raise ConstructNotAllowed(construct=_construct_name(node))
        if isinstance(node, exp.Func):
            _check_function(node)
        elif isinstance(node, exp.Identifier) and node.name.lower().startswith(RESERVED):
            raise ConstructNotAllowed(construct=f"The reserved name {node.name[:40]}")


def _check_function(node: exp.Func) -> None:
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name not in ALLOWED_NAMES:
            raise FunctionNotAllowed(name=node.name[:60])
    elif type(node).__name__ in DENIED_FUNCTIONS:
        raise FunctionNotAllowed(name=node.sql_name())


def _construct_name(node: exp.Expression) -> str:
    names = {
        exp.Into: "SELECT … INTO",
        exp.Placeholder: "A parameter placeholder",
        exp.Parameter: "A parameter",
        exp.SessionParameter: "A session parameter",
    }
    for cls, name in names.items():
        if isinstance(node, cls):
            return name
    return f"A {node.key.upper()} statement"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


# --- which tables -------------------------------------------------------------------------


@dataclass
class TableRef:
    node: exp.Table
    name: str


def table_refs(tree: exp.Query, grant: Grant) -> list[TableRef]:
    """Every reference to a lake table in ``tree`` (CTE references excluded), each checked
    against the grant. Any other table-shaped node is refused."""
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, SqlglotError) as exc:
        raise QueryInvalid(detail=_first_line(exc)) from exc
    refs: list[TableRef] = []
    seen: set[int] = set()
    for scope in scopes:
        for node in scope.tables:
            if id(node) in seen:
                continue
            seen.add(id(node))
            source = scope.sources.get(node.alias_or_name)
            if isinstance(source, Scope):
                continue  # a CTE or derived table: its own tables are checked in its scope
            refs.append(TableRef(node, _granted_name(node, grant)))
    for node in tree.find_all(exp.Table):
        if id(node) not in seen:
            raise ConstructNotAllowed(construct="A table reference in this position")
    return refs


def _granted_name(node: exp.Table, grant: Grant) -> str:
    if not isinstance(node.this, exp.Identifier):
        raise ConstructNotAllowed(construct="A table function")
    if node.args.get("db") or node.args.get("catalog"):
        raise TableNotGranted(table=node.sql(dialect=DIALECT)[:80])
    identifier = node.this
    name = identifier.name if identifier.quoted else identifier.name.lower()
    if grant.table(name) is None:
        raise TableNotGranted(table=identifier.name[:80])
    return name


# --- rewriting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Udf:
    """A masking function the engine registers for one query."""

    name: str
    kind: str  # "hash" | "pseudonym"
    table: str


@dataclass
class Relation:
    """A granted table as one query reads it: the engine registers ``internal``."""

    name: str
    internal: str
    schema: pa.Schema
    grant: TableGrant


@dataclass
class Plan:
    tree: exp.Query
    relations: list[Relation]
    udfs: list[Udf] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)  # table → columns read
    masked: dict[str, list[str]] = field(default_factory=dict)  # table → masked columns

    def sql(self, dialect: str = DIALECT) -> str:
        return self.tree.sql(dialect=dialect)


def rewrite(tree: exp.Query, refs: list[TableRef], relations: dict[str, Relation]) -> Plan:
    """Check columns, then replace every table reference by its policy subquery."""
    plan = Plan(tree=tree, relations=list(relations.values()))
    visible = {name: _visible_schema(rel) for name, rel in relations.items()}
    plan.columns = _columns_read(tree, visible)
    udfs: dict[tuple[str, str], Udf] = {}
    views = {name: _policy_view(rel, udfs) for name, rel in relations.items()}
    for ref in refs:
        alias = ref.node.args.get("alias")
        subquery = exp.Subquery(
            this=views[ref.name].copy(),
            alias=alias.copy()
            if alias
            else exp.TableAlias(this=exp.to_identifier(ref.node.name, quoted=True)),
        )
        if ref.node is tree:
            raise ConstructNotAllowed(construct="A bare table")
        ref.node.replace(subquery)
    plan.udfs = list(udfs.values())
    plan.masked = {
        name: sorted(c for c in rel.grant.masks if rel.grant.visible(c) and c in rel.schema.names)
        for name, rel in relations.items()
    }
    return plan


def _visible_schema(rel: Relation) -> dict[str, str]:
    """Column → SQL type as the query sees the table (masked text columns become text)."""
    columns = {}
    for field_ in rel.schema:
        if not rel.grant.visible(field_.name):
            continue
        mask = rel.grant.masks.get(field_.name)
        textual = mask is not None and mask.kind in ("hash", "pseudonym", "keep_last")
        columns[field_.name] = "VARCHAR" if textual else sql_type(field_.type)
    return columns


def _columns_read(tree: exp.Query, visible: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Validate column references against the permitted columns; return what is read."""
    copy = tree.copy()
    try:
        qualified = qualify(copy, schema=visible, dialect=DIALECT, validate_qualify_columns=True)
    except OptimizeError as exc:
        text = str(exc)
        if "could not be resolved" in text or "Unknown column" in text:
            raise ColumnNotGranted(column=_column_in(text)) from exc
        return {}  # let the engine judge what sqlglot's optimizer cannot follow
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(qualified):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                read.setdefault(source.name, set()).add(column.name)
    return {name: sorted(cols) for name, cols in read.items()}


def _column_in(text: str) -> str:
    for quote in ("'", '"'):
        if quote in text:
            parts = text.split(quote)
            if len(parts) >= 3:
                return parts[1].strip('"')[:80]
    return text.removeprefix("Unknown column: ").split(".")[0][:80]


def _policy_view(rel: Relation, udfs: dict[tuple[str, str], Udf]) -> exp.Select:
    """SELECT <permitted columns, masked> FROM <internal> WHERE <row filter>."""
    projections = []
    for field_ in rel.schema:
        if not rel.grant.visible(field_.name):
            continue
        mask = rel.grant.masks.get(field_.name)
        column = exp.column(field_.name, quoted=True)
        value = column if mask is None else _mask(mask, column, field_.type, rel, udfs)
        projections.append(exp.alias_(value, field_.name, quoted=True))
    if not projections:
        raise InvalidGrant(detail=f"no permitted column of table {rel.name} exists")
    view = exp.select(*projections).from_(exp.to_table(rel.internal))
    if rel.grant.row_filter:
        view = view.where(check_condition(rel.grant.row_filter))
    return view


def _mask(
    mask: Mask,
    column: exp.Column,
    arrow_type: pa.DataType,
    rel: Relation,
    udfs: dict[tuple[str, str], Udf],
) -> exp.Expression:
    c = column.sql(dialect=DIALECT)
    if mask.kind == "null":
        return _expr(f"CAST(NULL AS {sql_type(arrow_type)})")
    if mask.kind == "keep_last":
        text = f"CAST({c} AS VARCHAR)"
        return _expr(
            f"CASE WHEN {c} IS NULL THEN NULL ELSE CONCAT(REPEAT('*', "
            f"GREATEST(LENGTH({text}) - {mask.keep}, 0)), RIGHT({text}, {mask.keep})) END"
        )
    if mask.kind == "year_only":
        if pa.types.is_date(arrow_type):
            return _expr(f"CAST(DATE_TRUNC('YEAR', {c}) AS DATE)")
        if pa.types.is_timestamp(arrow_type):
            return _expr(f"DATE_TRUNC('YEAR', {c})")
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return _expr(f"SUBSTRING({c}, 1, 4)")
        raise InvalidGrant(
            detail=f"year_only cannot mask column {column.name} of type {arrow_type}"
        )
    key = (mask.kind, rel.name)
    if key not in udfs:
        udfs[key] = Udf(
            f"{RESERVED}_{mask.kind}_{rel.internal.removeprefix(RESERVED + '_')}",
            mask.kind,
            rel.name,
        )
    return _expr(f"{udfs[key].name}(CAST({c} AS VARCHAR))")


def _expr(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, dialect=DIALECT)


def internal_names(names: Iterable[str]) -> dict[str, str]:
    """The engine-side name of each table for one query (never a name users can write)."""
    return {name: f"{RESERVED}_r{i}" for i, name in enumerate(sorted(names))}
