"""Facet counts, filters and ordering over the whole match, in memory.

Counting facets in SQL costs a pass per facet over every matching row; a broad query (人口
over 100,000 entries) then takes hundreds of milliseconds. Instead each process keeps the
facet columns of the index as numpy arrays indexed by resource id — about 20 bytes an entry —
and a search only asks the database which ids match (the full-text index answers that fast):
filters are array masks, counts are ``bincount``\\ s, ordering is an ``argsort``.

The arrays follow the index through a generation mark (``catalog_search_state``) that
every change to the index renews in its own transaction: a search that sees a new generation
rebuilds the arrays first, so no process serves counts older than the data it can read.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from longshu.catalog.models import SearchState

SINGLE = (
    ("domain", "domain"),
    ("provider", "provider_org_id"),
    ("region", "region_code"),
    ("level", "level"),
    ("share_type", "share_type"),
    ("open_type", "open_type"),
    ("grade", "grade"),
    ("update_cycle", "update_cycle"),
    ("kind", "kind"),
)
MULTI = (("format", "formats"), ("database", "databases"))


def bump(session: Session) -> None:
    """Record that the index changed (call in the transaction that changed it). The mark is
    a fresh random token, so two databases (or a truncated one) never share a mark."""
    token = uuid.uuid4().hex
    result = session.execute(
        update(SearchState).where(SearchState.name == "index").values(token=token)
    )
    if result.rowcount == 0:
        session.add(SearchState(name="index", token=token))
        session.flush()


def generation(session: Session) -> str:
    return session.scalar(select(SearchState.token).where(SearchState.name == "index")) or ""


@dataclass
class Matrix:
    """The index's facet columns as arrays (position = resource id)."""

    generation: str
    present: np.ndarray  # bool: the id is in the index
    public: np.ndarray  # bool
    published: np.ndarray  # int64 seconds
    name_rank: np.ndarray  # int32: position in name order
    codes: dict[str, np.ndarray]  # facet → int32 index into values[facet] (-1: none)
    values: dict[str, list[str]]
    multi: dict[str, dict[str, np.ndarray]]  # facet → value → bool array
    tags: Tags

    @property
    def all_ids(self) -> np.ndarray:
        return np.flatnonzero(self.present)

    def mask(self, ids: np.ndarray, filters: dict[str, Any], public_only: bool) -> np.ndarray:
        """Which of ``ids`` pass the filters (facet → value, or a list of values)."""
        keep = self.present[ids]
        if public_only:
            keep &= self.public[ids]
        for facet, wanted in filters.items():
            if wanted is None:
                continue
            if facet == "tags":
                keep &= self.tags.having(str(wanted), len(self.present))[ids]
                continue
            if facet in self.multi:
                column = self.multi[facet].get(str(wanted))
                keep &= column[ids] if column is not None else False
                continue
            options = wanted if isinstance(wanted, list | tuple | set) else [wanted]
            index = {v: i for i, v in enumerate(self.values[facet])}
            chosen = [index[str(v)] for v in options if str(v) in index]
            keep &= np.isin(self.codes[facet][ids], np.array(chosen, dtype=np.int32))
        return keep

    def counts(self, ids: np.ndarray, tags: bool = False) -> dict[str, list[tuple[str, int]]]:
        """Facet counts over ``ids``; keyword (tag) counts only when asked."""
        out: dict[str, list[tuple[str, int]]] = {}
        if tags:
            out["tags"] = self.tags.counts(ids)
        for facet, codes in self.codes.items():
            picked = codes[ids]
            picked = picked[picked >= 0]
            tally = np.bincount(picked, minlength=len(self.values[facet]))
            pairs = [(self.values[facet][i], int(n)) for i, n in enumerate(tally) if n]
            out[facet] = sorted(pairs, key=lambda p: (-p[1], p[0]))
        for facet, columns in self.multi.items():
            pairs = [(value, int(np.count_nonzero(col[ids]))) for value, col in columns.items()]
            out[facet] = sorted([p for p in pairs if p[1]], key=lambda p: (-p[1], p[0]))
        return out


@dataclass
class Tags:
    """Keywords (CKAN tags) of each entry, sparse: a vocabulary too large for one bool array
    per value. ``codes[ptr[i]:ptr[i + 1]]`` are entry i's keywords; ``ids[k]`` the entries
    with keyword k."""

    values: list[str]
    ptr: np.ndarray  # int64, size + 1
    codes: np.ndarray  # int32
    ids: dict[str, np.ndarray]

    def having(self, value: str, size: int) -> np.ndarray:
        found = np.zeros(size, dtype=bool)
        if value in self.ids:
            found[self.ids[value]] = True
        return found

    def counts(self, ids: np.ndarray) -> list[tuple[str, int]]:
        ids = ids[ids < len(self.ptr) - 1]
        starts, lengths = self.ptr[ids], self.ptr[ids + 1] - self.ptr[ids]
        total = int(lengths.sum())
        if not total:
            return []
        # positions of every keyword of every entry in ``ids``, without a Python loop
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        tally = np.bincount(self.codes[offsets + np.arange(total)], minlength=len(self.values))
        pairs = [(self.values[i], int(tally[i])) for i in np.flatnonzero(tally)]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))


def _tags(size: int, keywords: list[tuple[int, list[str]]]) -> Tags:
    values: list[str] = []
    lookup: dict[str, int] = {}
    lengths = np.zeros(size, dtype=np.int64)
    per_entry: dict[int, list[int]] = {}
    for rid, words in keywords:
        codes = []
        for word in dict.fromkeys(words):
            code = lookup.get(word)
            if code is None:
                code = lookup[word] = len(values)
                values.append(word)
            codes.append(code)
        per_entry[rid] = codes
        lengths[rid] = len(codes)
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    flat = np.zeros(int(ptr[-1]), dtype=np.int32)
    owners: list[list[int]] = [[] for _ in values]
    for rid, codes in per_entry.items():
        flat[ptr[rid] : ptr[rid + 1]] = codes
        for code in codes:
            owners[code].append(rid)
    ids = {values[k]: np.array(o, dtype=np.int64) for k, o in enumerate(owners)}
    return Tags(values, ptr, flat, ids)


_cache: dict[int, Matrix] = {}
_lock = threading.Lock()


def current(session: Session) -> Matrix:
    """The arrays for the index as this session sees it (rebuilt when the generation moved)."""
    key = id(session.get_bind())
    seen = generation(session)
    cached = _cache.get(key)
    if cached is not None and cached.generation == seen:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None or cached.generation != seen:
            cached = build(session, seen)
            _cache[key] = cached
    return cached


def build(session: Session, gen: str) -> Matrix:
    columns = [c for _f, c in SINGLE] + [c for _f, c in MULTI]
    rows = session.execute(
        text(
            "SELECT resource_id, public, published_at, name, keywords, code, "
            f"{', '.join(columns)} FROM catalog_search_doc"
        )
    ).all()
    size = (max((r[0] for r in rows), default=0)) + 1
    present = np.zeros(size, dtype=bool)
    public = np.zeros(size, dtype=bool)
    published = np.zeros(size, dtype=np.int64)
    codes = {facet: np.full(size, -1, dtype=np.int32) for facet, _c in SINGLE}
    values: dict[str, list[str]] = {facet: [] for facet, _c in SINGLE}
    lookup: dict[str, dict[str, int]] = {facet: {} for facet, _c in SINGLE}
    multi: dict[str, dict[str, np.ndarray]] = {facet: {} for facet, _c in MULTI}
    names: list[tuple[str, int]] = []
    keywords: list[tuple[int, list[str]]] = []
    for row in rows:
        rid = row[0]
        present[rid] = True
        public[rid] = bool(row[1])
        published[rid] = _seconds(row[2])
        names.append((row[3], rid))
        # the index adds the entry's code to its keywords (searchable); it is no tag
        keywords.append((rid, [w for w in (row[4] or "").split() if w != row[5]]))
        row = row[:4] + row[6:]
        for offset, (facet, _column) in enumerate(SINGLE):
            value = row[4 + offset]
            if value is None:
                continue
            value = str(value)
            index = lookup[facet].get(value)
            if index is None:
                index = lookup[facet][value] = len(values[facet])
                values[facet].append(value)
            codes[facet][rid] = index
        for offset, (facet, _column) in enumerate(MULTI):
            for value in (row[4 + len(SINGLE) + offset] or "").split():
                column = multi[facet].get(value)
                if column is None:
                    column = multi[facet][value] = np.zeros(size, dtype=bool)
                column[rid] = True
    name_rank = np.zeros(size, dtype=np.int32)
    for rank, (_name, rid) in enumerate(sorted(names)):
        name_rank[rid] = rank
    tags = _tags(size, keywords)
    return Matrix(gen, present, public, published, name_rank, codes, values, multi, tags)


def _seconds(value: Any) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp())
    return 0


def forget() -> None:
    """Drop every cached matrix (tests that recreate databases)."""
    _cache.clear()
