"""Chinese full-text search over the published catalog, with facets.

Chinese has no spaces, and SQLite's ``trigram`` tokenizer cannot find two-character words
(人口, 气象). So text is indexed as **CJK bigrams**: every run of Chinese characters becomes its
overlapping two-character pieces plus its last character (人口普查 → 人口 口普 普查 查); other
words stay words, lower-cased. A query is tokenised the same way and each query word becomes a
*phrase* of its bigrams, which matches exactly where the word occurs as a substring; a single
character becomes a prefix query. SQLite keeps the terms in an FTS5 table ranked by BM25;
PostgreSQL keeps them in a ``tsvector`` under a GIN index, ranked by ``ts_rank``. Both weight
name > keywords > summary > fields.

Only published entries are indexed (the published snapshot, not the working copy); visitors
without ``catalog.shared`` see entries open to the public only.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog import facets, permissions  # noqa: F401 — permissions: catalog.browse
from longshu.catalog.errors import InvalidSearch
from longshu.catalog.models import FTS_DDL, FTS_TABLE, Resource, SearchDoc
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FORMATS,
    KINDS,
    LEVELS,
    OPEN_TYPES,
    SHARE_TYPES,
    THEME_DATABASES,
    UPDATE_CYCLES,
)
from longshu.security import access

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
TOKEN = re.compile(rf"([{CJK}]+)|([^\W_{CJK}]+)")
WEIGHTS = (10.0, 5.0, 2.0, 1.0)  # name, keywords, summary, fields
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8
MAX_PAGE = 100
SORTS = ("relevance", "newest", "name")
# Why a search is refused (translated in catalog.po).
SEARCH_MESSAGES = {
    "long": "the query has more than {n} characters.",
    "words": "at most {n} words.",
    "value": "{name} {value} is not known.",
    "sort": "sort must be one of {allowed}.",
    "page": "page size 1 to {n}, offset 0 to 100000.",
}
FACETS = (
    "domain",
    "provider",
    "region",
    "level",
    "share_type",
    "open_type",
    "format",
    "grade",
    "update_cycle",
    "kind",
    "database",
)


# --- terms ------------------------------------------------------------------------------------


def terms(value: str, trailing: bool = True) -> list[str]:
    """Index terms of a text: CJK bigrams (and each run's last character), other words."""
    out: list[str] = []
    for cjk, word in TOKEN.findall(value or ""):
        if word:
            out.append(word.lower())
            continue
        if len(cjk) == 1:
            out.append(cjk)
            continue
        out.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
        if trailing:
            out.append(cjk[-1])
    return out


def term_text(value: str) -> str:
    return " ".join(terms(value))


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: a phrase of terms, or a prefix (a single CJK character)."""

    terms: tuple[str, ...]
    prefix: bool = False


def parse_query(q: str | None) -> list[QueryWord]:
    """The words of a query string (empty: browse everything)."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidSearch(detail=SEARCH_MESSAGES["long"], n=MAX_QUERY_CHARS)
    words: list[QueryWord] = []
    for raw in q.split():
        pieces = terms(raw, trailing=False)
        if not pieces:
            continue
        single_cjk = len(pieces) == 1 and len(pieces[0]) == 1 and TOKEN.match(pieces[0])[1]  # type: ignore[index]
        words.append(QueryWord(tuple(pieces), prefix=bool(single_cjk)))
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidSearch(detail=SEARCH_MESSAGES["words"], n=MAX_QUERY_WORDS)
    return words


def fts5_query(words: list[QueryWord]) -> str:
    parts = []
    for word in words:
        phrase = " ".join(word.terms)
        parts.append(f'"{phrase}"*' if word.prefix else f'"{phrase}"')
    return " AND ".join(parts)


def tsquery(words: list[QueryWord], weight: str = "") -> str:
    """The words as a PostgreSQL tsquery; ``weight`` (A-D) restricts it to one column."""
    suffix = f":{weight}" if weight else ""
    parts = []
    for word in words:
        quoted = [f"'{t}'{suffix}" for t in word.terms]
        parts.append(
            f"'{word.terms[0]}':*{weight}" if word.prefix else "(" + " <-> ".join(quoted) + ")"
        )
    return " & ".join(parts)


# --- the index --------------------------------------------------------------------------------

_fts_ready: set[int] = set()


def ensure_index(session: Session) -> None:
    """Create the SQLite FTS5 table if this database lacks it (a database migrated by
    Alembic, which does not know virtual tables)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or id(bind) in _fts_ready:
        return
    session.execute(text(FTS_DDL))
    _fts_ready.add(id(bind))


def _document(resource: Resource, snap: dict[str, Any]) -> dict[str, Any]:
    fields = " ".join(
        f"{f['label']} {f['name']} {f.get('description') or ''}" for f in snap.get("fields", [])
    )
    databases = [f"base:{d}" for d in snap["base_databases"]] + [
        f"theme:{d}" for d in snap["theme_databases"]
    ]
    return {
        "resource_id": resource.id,
        "code": snap["code"],
        "name": snap["name"],
        "keywords": " ".join([*snap["keywords"], snap["code"]]),
        "summary": snap["summary"],
        "fields_text": fields,
        "provider_org_id": snap["provider_org_id"],
        "region_code": snap["region_code"],
        "level": snap["level"],
        "domain": snap["domain"],
        "share_type": snap["share_type"],
        "open_type": snap["open_type"],
        "update_cycle": snap["update_cycle"],
        "kind": snap["kind"],
        "grade": resource.grade,
        "formats": " " + " ".join(snap["formats"]) + " ",
        "databases": " " + " ".join(databases) + " ",
        "public": snap["open_type"] != "none",
        "published_at": resource.published_at,
    }


def index(session: Session, resource: Resource, snap: dict[str, Any]) -> None:
    """Put (or replace) the published snapshot of ``resource`` in the index."""
    ensure_index(session)
    doc = _document(resource, snap)
    remove(session, resource.id)
    session.add(SearchDoc(**doc))
    session.flush()
    _write_terms(session, [doc])
    facets.bump(session)


def index_many(session: Session, docs: Iterable[dict[str, Any]]) -> int:
    """Bulk-insert documents made by ``_document`` (reindex, benchmark loads)."""
    ensure_index(session)
    batch = list(docs)
    if not batch:
        return 0
    session.execute(SearchDoc.__table__.insert(), batch)
    _write_terms(session, batch)
    facets.bump(session)
    return len(batch)


def _write_terms(session: Session, docs: list[dict[str, Any]]) -> None:
    rows = [
        {
            "id": d["resource_id"],
            "name": term_text(d["name"]),
            "keywords": term_text(d["keywords"]),
            "summary": term_text(d["summary"]),
            "fields": term_text(d["fields_text"]),
        }
        for d in docs
    ]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                f"INSERT INTO {FTS_TABLE}(rowid, name, keywords, summary, fields) "
                "VALUES (:id, :name, :keywords, :summary, :fields)"
            ),
            rows,
        )
    else:
        session.execute(
            text(
                "UPDATE catalog_search_doc SET search_vector = "
                "setweight(to_tsvector('simple', :name), 'A') || "
                "setweight(to_tsvector('simple', :keywords), 'B') || "
                "setweight(to_tsvector('simple', :summary), 'C') || "
                "setweight(to_tsvector('simple', :fields), 'D') WHERE resource_id = :id"
            ),
            rows,
        )


def remove(session: Session, resource_id: int) -> None:
    ensure_index(session)
    session.execute(delete(SearchDoc).where(SearchDoc.resource_id == resource_id))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": resource_id})
    facets.bump(session)


def set_grade(session: Session, resource_id: int, grade: str | None) -> None:
    """Keep the grade facet current when governance confirms a grade."""
    doc = session.get(SearchDoc, resource_id)
    if doc is not None:
        doc.grade = grade
        facets.bump(session)


def reindex(session: Session) -> int:
    """Rebuild the whole index from the published revisions. Returns entries indexed."""
    from longshu.catalog.models import Revision

    ensure_index(session)
    session.execute(delete(SearchDoc))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {FTS_TABLE}"))
    count = 0
    published = session.execute(
        select(Resource, Revision)
        .join(
            Revision,
            (Revision.resource_id == Resource.id)
            & (Revision.number == Resource.published_revision),
        )
        .where(Resource.retired_at.is_(None))
    )
    batch = []
    for resource, rev in published:
        batch.append(_document(resource, rev.snapshot))
        if len(batch) >= 1000:
            count += index_many(session, batch)
            batch = []
    count += index_many(session, batch)
    return count


# --- searching --------------------------------------------------------------------------------


@dataclass
class SearchQuery:
    """What a visitor asks: text, facet filters, order and page."""

    q: str | None = None
    domain: str | None = None
    provider_org_id: int | None = None
    region_codes: list[str] | None = None  # a region and the regions below it
    level: str | None = None
    share_type: str | None = None
    open_type: str | None = None
    format: str | None = None
    grade: str | None = None
    update_cycle: str | None = None
    kind: str | None = None
    database: str | None = None  # "base:population", "theme:health"
    tag: str | None = None  # exactly this keyword
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = True
    tag_facet: bool = False  # also count keywords (CKAN's tags facet)


@dataclass
class Hit:
    resource_id: int
    code: str
    name: str
    summary: str
    provider_org_id: int
    region_code: str
    level: str
    domain: str
    share_type: str
    open_type: str
    formats: list[str]
    published_at: Any
    score: float | None = None


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


VOCABULARIES = {
    "domain": DOMAINS,
    "level": LEVELS,
    "share_type": SHARE_TYPES,
    "open_type": OPEN_TYPES,
    "format": FORMATS,
    "update_cycle": UPDATE_CYCLES,
    "kind": KINDS,
}
DATABASES = {f"base:{k}" for k in BASE_DATABASES} | {f"theme:{k}" for k in THEME_DATABASES}


def _check(query: SearchQuery) -> None:
    for name, vocabulary in VOCABULARIES.items():
        value = getattr(query, name)
        if value is not None and value not in vocabulary:
            raise InvalidSearch(detail=SEARCH_MESSAGES["value"], name=name, value=str(value)[:40])
    if query.database is not None and query.database not in DATABASES:
        raise InvalidSearch(
            detail=SEARCH_MESSAGES["value"], name="database", value=query.database[:40]
        )
    if query.sort not in SORTS:
        raise InvalidSearch(detail=SEARCH_MESSAGES["sort"], allowed=", ".join(SORTS))
    if not 1 <= query.limit <= MAX_PAGE or query.offset < 0 or query.offset > 100_000:
        raise InvalidSearch(detail=SEARCH_MESSAGES["page"], n=MAX_PAGE)


HIT_COLUMNS = (
    "d.resource_id, d.code, d.name, d.summary, d.provider_org_id, d.region_code, d.level, "
    "d.domain, d.share_type, d.open_type, d.formats, d.published_at"
)


def _filters(query: SearchQuery) -> dict[str, Any]:
    return {
        "domain": query.domain,
        "provider": str(query.provider_org_id) if query.provider_org_id is not None else None,
        "region": query.region_codes,
        "level": query.level,
        "share_type": query.share_type,
        "open_type": query.open_type,
        "grade": query.grade,
        "update_cycle": query.update_cycle,
        "kind": query.kind,
        "format": query.format,
        "database": query.database,
        "tags": query.tag,
    }


COLUMNS = ("name", "keywords", "summary", "fields")
PG_WEIGHT = dict(zip(COLUMNS, "ABCD", strict=True))


def _ids(session: Session, statement: str, params: dict[str, Any]) -> np.ndarray:
    """The ids a statement aggregates into one space-separated string (one row back instead
    of thousands of tuples: broad matches stay cheap in Python)."""
    joined = session.execute(text(statement), params).scalar()
    if not joined:
        return np.zeros(0, dtype=np.int64)
    return np.array(joined.split(), dtype=np.int64)


def _matches(
    session: Session, words: list[QueryWord], scored: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the entries matching every word, and their relevance: the weights of the
    columns (name 10 > keywords 5 > summary 2 > fields 1) where a query word occurs."""
    if session.get_bind().dialect.name != "sqlite":
        return _pg_matches(session, words, scored)

    def matching(query: str) -> np.ndarray:
        return _ids(
            session,
            f"SELECT group_concat(rowid, ' ') FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q",
            {"q": query},
        )

    per_column: list[tuple[float, np.ndarray]] = []
    if scored or len(words) == 1:
        for column, weight in zip(COLUMNS, WEIGHTS, strict=True):
            query = f"{{{column}}} : (" + fts5_query(words).replace(" AND ", " OR ") + ")"
            per_column.append((weight, matching(query)))
    if len(words) == 1 and per_column:
        ids = np.unique(np.concatenate([found for _w, found in per_column]))
    else:
        ids = np.unique(matching(fts5_query(words)))
    if not scored or ids.size == 0:
        return ids, np.zeros(len(ids))
    score = np.zeros(int(ids.max()) + 1)
    for weight, found in per_column:
        found = found[found < len(score)]
        score[found] += weight
    return ids, score[ids]


def _pg_matches(
    session: Session, words: list[QueryWord], scored: bool
) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL: one scan of the GIN matches; each row's column weights are computed on the
    row already fetched for the index recheck (weight-restricted tsqueries, A-D)."""
    params: dict[str, Any] = {"q": tsquery(words)}
    score = "0"
    if scored:
        parts = []
        for column, weight in zip(COLUMNS, WEIGHTS, strict=True):
            params[column] = tsquery(words, PG_WEIGHT[column]).replace(" & ", " | ")
            parts.append(f"(search_vector @@ to_tsquery('simple', :{column}))::int * {int(weight)}")
        score = " + ".join(parts)
    joined = session.execute(
        text(
            f"SELECT string_agg(resource_id::text || ':' || ({score})::text, ' ') "
            "FROM catalog_search_doc WHERE search_vector @@ to_tsquery('simple', :q)"
        ),
        params,
    ).scalar()
    if not joined:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    pairs = np.array(joined.replace(":", " ").split(), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1].astype(float)


# Broad matches (a word found in thousands of entries) cost the database a pass over most of
# the index — on PostgreSQL every matching row's tsvector. Their ids and scores are kept per
# process for the index generation they were read at (any change to the index makes a new
# generation, so a kept match is never staler than the facet arrays), least recently used
# first out, within a memory budget. Narrow matches are cheap from the index: not kept.
MATCH_CACHE_BYTES = 48 * 1024 * 1024
MATCH_CACHE_MIN_IDS = 2000
_match_cache: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_match_lock = threading.Lock()


def _cached_matches(
    session: Session, generation: str, words: list[QueryWord], scored: bool
) -> tuple[np.ndarray, np.ndarray]:
    key = (id(session.get_bind()), generation, tuple(words), scored)
    with _match_lock:
        found = _match_cache.get(key)
        if found is not None:
            _match_cache.move_to_end(key)
            return found[0].astype(np.int64), found[1].astype(float)
    ids, scores = _matches(session, words, scored)
    if ids.size >= MATCH_CACHE_MIN_IDS and MATCH_CACHE_BYTES > 0:
        kept = (ids.astype(np.int32), scores.astype(np.float32))
        with _match_lock:
            _match_cache[key] = kept
            for old in [k for k in _match_cache if k[1] != generation and k[0] == key[0]]:
                del _match_cache[old]  # earlier generations of this database
            while sum(i.nbytes + s.nbytes for i, s in _match_cache.values()) > MATCH_CACHE_BYTES:
                _match_cache.popitem(last=False)
    return ids, scores


def forget_matches() -> None:
    """Drop every kept match (benchmarks measuring the uncached path, tests)."""
    with _match_lock:
        _match_cache.clear()


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    """Published entries matching ``query`` that ``actor`` may see, ranked, with facet counts
    over the whole match (not only the page)."""
    access.require(actor, "catalog.browse")
    _check(query)
    words = parse_query(query.q)
    ensure_index(session)
    public_only = not access.decide(actor, "catalog.shared")
    matrix = facets.current(session)
    sort = query.sort if words or query.sort != "relevance" else "newest"
    if words:
        ids, scores = _cached_matches(session, matrix.generation, words, scored=sort == "relevance")
        inside = ids < len(matrix.present)  # ids indexed after the arrays were built
        ids, scores = ids[inside], scores[inside]
    else:
        ids = matrix.all_ids
        scores = np.zeros(len(ids))
    keep = matrix.mask(ids, _filters(query), public_only)
    ids, scores = ids[keep], scores[keep]
    if sort == "relevance":
        order = np.lexsort((ids, -matrix.published[ids], -scores))
    elif sort == "newest":
        order = np.lexsort((-ids, -matrix.published[ids]))
    else:
        order = np.argsort(matrix.name_rank[ids], kind="stable")
    page = order[query.offset : query.offset + query.limit]
    page_ids = [int(i) for i in ids[page]]
    page_scores = {int(i): float(sc) for i, sc in zip(ids[page], scores[page], strict=True)}
    hits = _hits(session, page_ids, page_scores if words else {})
    counts = matrix.counts(ids, tags=query.tag_facet) if query.facets else {}
    return SearchResult(hits, len(ids), counts)


def _hits(session: Session, ids: list[int], scores: dict[int, float]) -> list[Hit]:
    if not ids:
        return []
    rows = session.execute(
        text(
            f"SELECT {HIT_COLUMNS} FROM catalog_search_doc d WHERE d.resource_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": ids},
    ).all()
    by_id = {
        r[0]: Hit(
            resource_id=r[0],
            code=r[1],
            name=r[2],
            summary=r[3],
            provider_org_id=r[4],
            region_code=r[5],
            level=r[6],
            domain=r[7],
            share_type=r[8],
            open_type=r[9],
            formats=r[10].split(),
            published_at=_aware(r[11]),
            score=scores.get(r[0]),
        )
        for r in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def like_search(session: Session, q: str, limit: int = 20) -> tuple[list[int], int]:
    """The baseline the benchmark compares against: a plain ``LIKE '%q%'`` scan of the same
    documents (no index can help it), newest first, with the total."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    clause = (
        "WHERE d.public = :public AND (d.name LIKE :p ESCAPE '\\' OR d.keywords LIKE :p ESCAPE '\\' "
        "OR d.summary LIKE :p ESCAPE '\\' OR d.fields_text LIKE :p ESCAPE '\\')"
    )
    params = {"p": pattern, "public": True}
    ids = list(
        session.scalars(
            text(
                f"SELECT d.resource_id FROM catalog_search_doc d {clause} "
                "ORDER BY d.published_at DESC LIMIT :limit"
            ),
            {**params, "limit": limit},
        )
    )
    total = session.scalar(text(f"SELECT count(*) FROM catalog_search_doc d {clause}"), params)
    return ids, int(total or 0)


def _aware(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
