"""CKAN's DataStore over open tables: ``datastore_search`` and ``datastore_search_sql``.

The rows come from the lake, and only through its one door, ``lake.access``, under a grant
this module builds for **the public** from the catalog entry's own open-data conditions:

- the entry is published, not retired, and open **unconditionally** (无条件开放) — an entry
  open on conditions (有条件开放) needs an application and is refused (Authorization Error);
  anything else is "not found", as in the rest of the CKAN API;
- a grade above 一般 (重要, 核心) is never served, whatever the entry says;
- only the columns the published entry lists as fields (信息项) are granted, and of those none
  that governance labelled sensitive (any label but the public ones below): the public never
  sees an undeclared or sensitive column, masked or not;
- one query returns at most ``MAX_LIMIT`` rows and runs at most ``TIMEOUT_SECONDS``.

A CKAN resource id is ``<dataset id>-<format>`` (``resource_show``); the dataset's id or
package name are accepted too. The table read is the entry's first lake table of kind
``table``, at its newest ready version."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import sqlglot
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlglot import exp

from longshu import lake
from longshu.actor import ANONYMOUS
from longshu.catalog.models import Resource
from longshu.lake.errors import NoVersion, QueryFailed, QueryInvalid, QueryRefused, RowLimitExceeded
from longshu.lake.models import LakeTable, LakeVersion
from longshu.lake.policy import Grant, TableGrant
from longshu.opendata import packages as pk
from longshu.opendata.errors import (
    CKAN_MESSAGES,
    CkanAuthorization,
    CkanNotFound,
    CkanValidation,
)
from longshu.opendata.params import boolean, integer, string_list, text

DEFAULT_LIMIT = 100
MAX_LIMIT = 32_000
MAX_OFFSET = 10_000_000
TIMEOUT_SECONDS = 20.0
# Field sensitivity labels (filled by governance) that still allow publishing the column.
PUBLIC_LABELS = frozenset({"公开", "不敏感", "非敏感", "一般-1", "public", "none"})
OPEN_GRADES = ("一般",)  # entry grades that may be served (一般-1, 一般-2 …)
CKAN_TYPES = {
    "int8": "int2",
    "int16": "int2",
    "int32": "int4",
    "int64": "int8",
    "uint8": "int2",
    "uint16": "int4",
    "uint32": "int8",
    "uint64": "numeric",
    "float": "float4",
    "halffloat": "float4",
    "double": "float8",
    "bool": "bool",
    "date32[day]": "date",
    "date64[ms]": "date",
    "string": "text",
    "large_string": "text",
}
SORT_TERM = re.compile(r'^\s*(?:"([^"]+)"|([^\s",]+))(?:\s+(asc|desc))?\s*$', re.IGNORECASE)


@dataclass
class OpenTable:
    """An open entry's table as the public may read it."""

    resource: Resource
    table: LakeTable
    resource_id: str  # as the caller named it
    columns: list[str]  # granted, in table order
    types: dict[str, str]  # column → CKAN type
    info: dict[str, dict[str, str]]  # column → {label, notes} from the catalog's fields

    def grant(self) -> TableGrant:
        return TableGrant(table=self.table.name, columns=tuple(self.columns))

    def text_columns(self, among: list[str] | None = None) -> list[str]:
        return [c for c in (among or self.columns) if self.types.get(c) == "text"]


def public_grant(tables: list[OpenTable], max_rows: int) -> Grant:
    """The grant the public reads open tables under: no holder, the granted columns only."""
    return Grant(
        id="opendata:" + ",".join(str(t.resource.id) for t in tables)[:80],
        consumer="public",
        tables=tuple(t.grant() for t in tables),
        purpose="CKAN datastore (无条件开放)",
        max_rows=max_rows,
        timeout_seconds=TIMEOUT_SECONDS,
    )


# --- finding the table -----------------------------------------------------------------------


def _dataset_part(resource_id: str) -> tuple[str, str | None]:
    """``12-csv`` → (``12``, ``CSV``); a dataset id, package name or code stays as it is."""
    head, sep, tail = resource_id.partition("-")
    if sep and head.isdigit() and tail.isalnum() and len(tail) <= 10:
        return head, tail.upper()
    return resource_id, None


def open_table(session: Session, resource_id: str) -> OpenTable:
    """The open table behind a CKAN resource id, with the columns the public may read."""
    dataset, fmt = _dataset_part(resource_id)
    try:
        resource, snap = pk.visible(session, dataset)
    except CkanNotFound as exc:
        raise CkanNotFound("datastore_resource", resource_id=resource_id[:60]) from exc
    if fmt is not None and fmt not in (snap.get("formats") or []):
        raise CkanNotFound("datastore_resource", resource_id=resource_id[:60])
    if snap.get("open_type") != "unconditional":
        raise CkanAuthorization("datastore_conditional")
    if resource.grade and not resource.grade.startswith(OPEN_GRADES):
        raise CkanNotFound("datastore_resource", resource_id=resource_id[:60])
    found = session.execute(
        select(LakeTable, LakeVersion)
        .join(LakeVersion, LakeVersion.table_id == LakeTable.id)
        .where(
            LakeTable.resource_id == resource.id,
            LakeTable.kind == "table",
            LakeVersion.status == "ready",
        )
        .order_by(LakeTable.id, LakeVersion.number.desc())
        .limit(1)
    ).first()
    if found is None:
        raise CkanNotFound("datastore_resource", resource_id=resource_id[:60])
    table, version = found
    labels = {f.name: f.sensitivity for f in resource.fields}
    declared = {f["name"]: f for f in snap.get("fields") or []}
    columns, types, info = [], {}, {}
    for column in version.schema:
        name = column["name"]
        spec = declared.get(name)
        if spec is None or not _public_label(labels.get(name)):
            continue
        columns.append(name)
        types[name] = CKAN_TYPES.get(str(column["type"]), _ckan_type(str(column["type"])))
        info[name] = {"label": spec.get("label") or "", "notes": spec.get("description") or ""}
    if not columns:
        raise CkanNotFound("datastore_resource", resource_id=resource_id[:60])
    return OpenTable(resource, table, resource_id, columns, types, info)


def _public_label(label: str | None) -> bool:
    return not label or label.strip().lower() in PUBLIC_LABELS or label.strip() in PUBLIC_LABELS


def _ckan_type(arrow_type: str) -> str:
    if arrow_type.startswith("timestamp"):
        return "timestamp"
    if arrow_type.startswith("decimal"):
        return "numeric"
    if arrow_type.startswith("time"):
        return "time"
    if arrow_type.startswith(("list", "struct", "map", "large_list")):
        return "json"
    return "text"


# --- datastore_search ------------------------------------------------------------------------


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _names(table: OpenTable, given: list[str], param: str) -> list[str]:
    unknown = [n for n in given if n not in table.columns]
    if unknown:
        message = CKAN_MESSAGES["datastore_field"].format(field=unknown[0][:60])
        raise CkanValidation("datastore_field", {param: [message]}, field=unknown[0][:60])
    return given


def _fields(p: dict[str, Any], table: OpenTable) -> list[str]:
    value = p.get("fields")
    if isinstance(value, str) and not value.strip().startswith("["):
        given = [v.strip() for v in value.split(",") if v.strip()]
    else:
        given = string_list(p, "fields")
    return _names(table, list(dict.fromkeys(given)), "fields") or list(table.columns)


def _json_param(p: dict[str, Any], name: str) -> Any:
    value = p.get(name)
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise CkanValidation("datastore_json", {name: [CKAN_MESSAGES["json"]]}) from exc
    return value


def _conditions(p: dict[str, Any], table: OpenTable) -> list[exp.Expression]:
    """``filters`` (field → value or list of values, ANDed) and ``q`` (a string: every word
    in some text field; an object: field → word) as SQL conditions."""
    out: list[exp.Expression] = []
    filters = _json_param(p, "filters")
    if filters not in (None, ""):
        if not isinstance(filters, dict):
            raise CkanValidation("datastore_json", {"filters": [CKAN_MESSAGES["json"]]})
        _names(table, list(filters), "filters")
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if not values or any(isinstance(v, dict | list) for v in values):
                raise CkanValidation("datastore_json", {"filters": [CKAN_MESSAGES["json"]]})
            if table.types[name] in ("text", "json"):
                values = [str(v) for v in values if v is not None] + [
                    v for v in values if v is None
                ]
            present = [v for v in values if v is not None]
            parts: list[exp.Expression] = []
            if present:
                parts.append(exp.In(this=_column(name), expressions=[_literal(v) for v in present]))
            if len(present) < len(values):
                parts.append(exp.Is(this=_column(name), expression=exp.Null()))
            out.append(exp.paren(exp.or_(*parts)) if len(parts) > 1 else parts[0])
    q = _json_param(p, "q")
    if isinstance(q, dict):
        _names(table, list(q), "q")
        for name, word in q.items():
            out.append(_contains([name], str(word)))
    elif q not in (None, ""):
        if not isinstance(q, str):
            raise CkanValidation("datastore_json", {"q": [CKAN_MESSAGES["json"]]})
        columns = table.text_columns()
        for word in q.split()[:8]:
            out.append(_contains(columns, word) if columns else exp.false())
    return out


def _contains(columns: list[str], word: str) -> exp.Expression:
    """Some of ``columns`` contains ``word`` (case-insensitive, no wildcards)."""
    escaped = word[:100].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = exp.Literal.string(f"%{escaped}%")
    parts = [
        exp.Escape(
            this=exp.ILike(this=exp.cast(_column(c), "VARCHAR"), expression=pattern),
            expression=exp.Literal.string("\\"),
        )
        for c in columns
    ]
    return exp.paren(exp.or_(*parts)) if len(parts) > 1 else parts[0]


def _order(p: dict[str, Any], table: OpenTable) -> list[exp.Ordered]:
    value = p.get("sort")
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in items:
        match = SORT_TERM.match(str(item))
        if not match:
            raise CkanValidation("datastore_sort", {"sort": [str(item)[:60]]}, sort=str(item)[:60])
        name = match[1] or match[2]
        _names(table, [name], "sort")
        desc = (match[3] or "asc").lower() == "desc"
        out.append(exp.Ordered(this=_column(name), desc=desc, nulls_first=not desc))
    return out


def search(session: Session, params: dict[str, Any], base: str) -> dict[str, Any]:
    """``datastore_search``: rows of an open table (see the module's docstring)."""
    p = params
    resource_id = text(p, "resource_id", required=True) or ""
    table = open_table(session, resource_id)
    limit = integer(p, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
    offset = integer(p, "offset", 0, 0, MAX_OFFSET)
    include_total = boolean(p, "include_total", True)
    distinct = boolean(p, "distinct")
    records_format = text(p, "records_format") or "objects"
    if records_format not in ("objects", "lists"):
        raise CkanValidation("datastore_format", {"records_format": [records_format[:20]]})
    fields = _fields(p, table)
    conditions = _conditions(p, table)
    order = _order(p, table)

    name = table.table.name
    query = exp.select(*[_column(f) for f in fields]).from_(exp.to_table(name))
    if distinct:
        query = query.distinct()
    if conditions:
        query = query.where(exp.and_(*conditions))
    if order:
        query = query.order_by(*order)
    query = query.limit(limit).offset(offset) if offset else query.limit(limit)
    grant = public_grant([table], max(limit, 1))
    result = _access(session, grant, query.sql(dialect="duckdb"))
    total = None
    if include_total:
        inner = exp.select(*[_column(f) for f in fields]).from_(exp.to_table(name))
        if distinct:
            inner = inner.distinct()
        if conditions:
            inner = inner.where(exp.and_(*conditions))
        counted = exp.select(exp.alias_(exp.Count(this=exp.Star()), "n")).from_(
            inner.subquery("matched")
        )
        counting = public_grant([table], 1)
        total = int(
            _access(session, counting, counted.sql(dialect="duckdb")).data.column(0)[0].as_py()
        )
    records = _records(result.data, fields, records_format)
    out: dict[str, Any] = {
        "resource_id": resource_id,
        "fields": [{"id": f, "type": table.types[f], "info": table.info[f]} for f in fields],
        "records_format": records_format,
        "records": records,
        "limit": limit,
        "offset": offset,
        "include_total": include_total,
        "_links": _links(p, resource_id, limit, offset),
    }
    if total is not None:
        out["total"] = total
        out["total_was_estimated"] = False
    return out


def _links(p: dict[str, Any], resource_id: str, limit: int, offset: int) -> dict[str, str]:
    kept = {
        k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
        for k, v in p.items()
        if k not in ("offset", "resource_id") and isinstance(v, str | int | float | dict | list)
    }
    path = "/api/3/action/datastore_search"
    start = {"resource_id": resource_id, **kept}
    return {
        "start": f"{path}?{urlencode(start)}",
        "next": f"{path}?{urlencode({**start, 'offset': offset + limit})}",
    }


def _access(session: Session, grant: Grant, sql: str) -> lake.door.Result:
    """Through the lake's one door, as the public; its refusals in CKAN's terms."""
    try:
        return lake.access(session, ANONYMOUS, grant, sql)
    except RowLimitExceeded as exc:
        raise CkanValidation("datastore_rows", {"sql": [exc.render()]}, n=grant.max_rows) from exc
    except NoVersion as exc:
        raise CkanNotFound("datastore_resource", resource_id="") from exc
    except (QueryRefused, QueryInvalid, QueryFailed) as exc:
        raise CkanValidation(
            "datastore_query", {"sql": [exc.render()]}, detail=exc.render()
        ) from exc


def _records(data: pa.Table, fields: list[str], records_format: str) -> list[Any]:
    rows = data.to_pylist()
    if records_format == "lists":
        return [[_json_value(row.get(f)) for f in fields] for row in rows]
    return [{f: _json_value(row.get(f)) for f in fields} for row in rows]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


# --- datastore_search_sql --------------------------------------------------------------------


def search_sql(session: Session, params: dict[str, Any], base: str) -> dict[str, Any]:
    """``datastore_search_sql``: one SELECT over open tables named by their resource ids in
    double quotes (``SELECT * FROM "12-csv" WHERE …``). The lake's door checks it (SELECT only,
    allowed functions, granted columns); at most ``MAX_LIMIT`` rows are returned
    (``records_truncated`` says when more matched)."""
    sql = params.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise CkanValidation("missing", {"sql": [CKAN_MESSAGES["missing"]]})
    try:
        statements = [s for s in sqlglot.parse(sql, dialect="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise CkanValidation("datastore_query", {"sql": ["syntax"]}, detail="syntax") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise CkanValidation("datastore_select", {"sql": [CKAN_MESSAGES["datastore_select"]]})
    tree = statements[0]
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    opened: dict[str, OpenTable] = {}  # lake table name → the open table
    named: dict[str, str] = {}  # resource id as written → lake table name
    for node in list(tree.find_all(exp.Table)):
        name = node.name
        if not name or (name in ctes and not node.args.get("db")):
            continue
        if node.args.get("db") or node.args.get("catalog"):
            raise CkanNotFound("datastore_resource", resource_id=node.sql()[:60])
        if name not in named:
            found = open_table(session, name)
            named[name] = found.table.name
            opened.setdefault(found.table.name, found)
        lake_name = named[name]
        alias = node.alias or name
        node.set("this", exp.to_identifier(lake_name, quoted=True))
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    if not opened:
        raise CkanValidation("datastore_select", {"sql": [CKAN_MESSAGES["datastore_select"]]})
    wrapped = exp.select("*").from_(tree.subquery("q")).limit(MAX_LIMIT + 1)
    grant = public_grant(list(opened.values()), MAX_LIMIT + 1)
    result = _access(session, grant, wrapped.sql(dialect="duckdb"))
    data = result.data
    truncated = data.num_rows > MAX_LIMIT
    data = data.slice(0, MAX_LIMIT)
    names = data.schema.names
    types = {f.name: CKAN_TYPES.get(str(f.type), _ckan_type(str(f.type))) for f in data.schema}
    out = {
        "sql": sql,
        "fields": [{"id": n, "type": types[n]} for n in names],
        "records": _records(data, names, "objects"),
        "records_truncated": truncated,
    }
    return out
