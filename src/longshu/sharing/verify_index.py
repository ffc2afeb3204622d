"""The verification index (核验索引): keyed hashes of one table version, answering "does this
record match?" with ``match`` / ``no_match`` / ``not_found`` and nothing else.

Built once per table version through ``lake.access`` under a platform grant; served from a
file that holds no raw value, only two sorted arrays of 64-bit truncated HMAC-SM3 digests
under a per-index key from the keystore:

- ``keys[i]``  = first 8 bytes of HMAC-SM3(K, key)
- ``pairs[i]`` = first 8 bytes of HMAC-SM3(K, key ‖ 0x1F ‖ name)

(16 bytes a record on disk), sorted by (key digest, pair digest). With a region column, a
third array ``regions[i]`` holds the row's region code as a number (24 bytes a record): a
check within a region-limited grant sees only the records of its codes, as the lake's row
filter ``region IN (codes…)`` would (a code that is not all digits matches nothing: fail
closed). A check hashes the
normalised query the same way and reads its candidates through bucket offsets on the top 24
bits of the key digest (made at load, 64 MiB at most: ~2.7 bytes a record in memory at 25M),
vectorised over a batch.
K = HMAC-SM3(data key of ``verify.<index id>``, "longshu-verify" ‖ 0 ‖ index id): a leaked
index file cannot be tested against guesses without the keystore.

Duplicates: a key held by several rows with different names keeps every (key, name) digest;
a check matches if any of them matches. Identical rows are stored once. With 64-bit
truncation over n = 25 million keys the chance that two different keys share a digest is
about n² / 2⁶⁵ ≈ 1.7·10⁻⁵ per index; such a pair is treated as a duplicate key (both names
kept), so the only possible error is a ``no_match`` read as ``match`` for those two keys, and
a random wrong name matching a known key needs a 64-bit pair collision (≈ 5·10⁻²⁰ per check).

File ``<settings.var_dir>/verify/<index id>.lsv``: ``LSVIDX1\\n``, a 4-byte little-endian
header length, the header (UTF-8 JSON), zero padding to a multiple of 64, then ``keys``, ``pairs`` (and
``regions`` when the header names a ``region_column``) as little-endian uint64. The header names the table, version, kind, key id and
counts, holds ``body_sm3`` (SM3 of the two arrays) and ``mac`` (HMAC-SM3 under K of the
header without ``mac``). ``VerifyIndex.load`` refuses a file whose SM3 or tag differs, then
memory-maps the arrays."""

from __future__ import annotations

import json
import secrets
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import lake
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.errors import LongshuError
from longshu.lake import tables
from longshu.lake.policy import Grant, TableGrant
from longshu.security.crypto.hashing import SM3, equal
from longshu.security.crypto.keystore import KeyStore
from longshu.sharing.verify_errors import (
    BatchMismatch,
    IndexBuildFailed,
    IndexNotFound,
    IndexTampered,
    IndexWithoutRegions,
    MalformedAttribute,
    MalformedBatch,
)
from longshu.sharing.verify_hmac import IndexKey, index_key
from longshu.sharing.verify_keys import (
    MAX_NAME,
    check_kind,
    checked_name,
    clean_keys,
    key_problems,
    normalise_key,
    normalise_name,
    normalise_names,
)

Answer = Literal["match", "no_match", "not_found"]
MAGIC = b"LSVIDX1\n"
ALIGN = 64
FORMAT = 1
CONSUMER = "platform:sharing"
CHUNK_ROWS = 2_000_000
_BLOCK = 1 << 24
BUCKET_BITS = 24
NO_REGION = np.uint64(2**64 - 1)  # a missing or non-numeric code: in no grant's regions


def region_numbers(codes: Sequence[object]) -> np.ndarray:
    """Region codes as uint64 (digits only, up to 19 of them); anything else ``NO_REGION``."""
    out = np.full(len(codes), NO_REGION, dtype=np.uint64)
    for i, code in enumerate(codes):
        text = str(code).strip() if code is not None else ""
        if text.isascii() and text.isdigit() and len(text) <= 19:
            out[i] = np.uint64(int(text))
    return out


def index_dir() -> Path:
    return get_settings().var_dir / "verify"


class VerifyIndex:
    """A loaded index: two memory-mapped digest arrays and the key to hash queries with."""

    def __init__(self, path: Path, header: dict[str, Any], key: IndexKey, arrays: Any) -> None:
        self.path = path
        self.header = header
        self.kind: str = header["kind"]
        self._key = key
        self._keys, self._pairs, self._regions = arrays
        self._shift, self._starts = _buckets(self._keys)

    @property
    def region_column(self) -> str | None:
        """The column whose codes the index keeps per record (None: no regions kept)."""
        return self.header.get("region_column")

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str, store: KeyStore | None = None) -> VerifyIndex:
        """The index in ``path``; ``IndexTampered`` if its SM3 digest or HMAC tag differs."""
        path = Path(path)
        if not path.is_file():
            raise IndexNotFound(name=path.name)
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
                raise IndexTampered(name=path.name, detail="not an index file")
            (size,) = struct.unpack("<I", head[len(MAGIC) :])
            try:
                header = json.loads(fh.read(size))
                index_id, key_id, mac = header["index_id"], header["key_id"], header["mac"]
                tag = bytes.fromhex(mac)
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexTampered(name=path.name, detail="unreadable header") from exc
        body_start = _aligned(len(MAGIC) + 4 + size)
        try:
            found = index_key(str(index_id), store, create=False)
        except LongshuError as exc:  # a name the keystore refuses
            raise IndexTampered(name=path.name, detail="unknown key") from exc
        if found is None or found[1] != key_id:
            raise IndexTampered(name=path.name, detail="its key is not in the keystore")
        key = found[2]
        if not equal(key.mac(_canonical(header)), tag):
            raise IndexTampered(name=path.name, detail="HMAC-SM3 tag mismatch")
        n = int(header["records"])
        arrays = 3 if header.get("region_column") else 2
        if path.stat().st_size != body_start + 8 * arrays * n:
            raise IndexTampered(name=path.name, detail="wrong size")
        body = (
            np.memmap(path, dtype="<u8", mode="r", offset=body_start, shape=(arrays * n,))
            if n
            else (np.zeros(0, "<u8"))
        )
        if _body_sm3(body) != header["body_sm3"]:
            raise IndexTampered(name=path.name, detail="SM3 mismatch")
        regions = body[2 * n :] if arrays == 3 else None
        return cls(path, header, key, (body[:n], body[n : 2 * n], regions))

    # --- checking --------------------------------------------------------------------------

    def check(self, key: str, attribute: str, regions: Sequence[str] | None = None) -> Answer:
        """核验 one record: ``match``, ``no_match`` (key known, name differs) or ``not_found``.
        ``MalformedKey`` / ``MalformedAttribute`` for input that cannot be a record.
        ``regions``: only records of these codes are seen (an index without regions refuses:
        ``IndexWithoutRegions``)."""
        normal = normalise_key(self.kind, key)
        name = checked_name(attribute)
        return self._answer(*self._key.digests([normal], [name]), self._allowed(regions))[0]

    def _allowed(self, regions: Sequence[str] | None) -> np.ndarray | None:
        if regions is None:
            return None
        if self._regions is None:
            raise IndexWithoutRegions(name=self.path.name)
        return np.unique(region_numbers(list(regions)))

    def check_many(
        self,
        keys: Sequence[str],
        attributes: Sequence[str],
        regions: Sequence[str] | None = None,
    ) -> list[str]:
        """``check`` for each pair, vectorised. If any item is malformed, ``MalformedBatch``
        lists every bad position and nothing is checked."""
        if len(keys) != len(attributes):
            raise BatchMismatch(keys=len(keys), attributes=len(attributes))
        cleaned = clean_keys(keys)
        names = normalise_names(attributes)
        problems = dict(key_problems(self.kind, cleaned))
        for position, name in enumerate(names):
            if (not name or len(name) > MAX_NAME) and position not in problems:
                problems[position] = "name"
        if problems:
            raise MalformedBatch(sorted(problems.items()))
        allowed = self._allowed(regions)
        if not cleaned:
            return []
        return self._answer(*self._key.digests(cleaned, names), allowed)

    def _answer(
        self, key_digests: np.ndarray, pair_digests: np.ndarray, allowed: np.ndarray | None = None
    ) -> list[str]:
        keys, pairs = self._keys, self._pairs
        n = len(keys)
        if n == 0:
            return ["not_found"] * len(key_digests)
        # the bucket of the top bits gives the run of candidates (1.5 on average): a few
        # memory reads a check instead of a binary search's ~25 (cache misses at 25M rows)
        bucket = (key_digests >> self._shift).astype(np.intp)
        lo = self._starts[bucket].astype(np.intp)
        size = self._starts[bucket + 1].astype(np.intp) - lo
        found = np.zeros(len(key_digests), dtype=bool)
        matched = np.zeros(len(key_digests), dtype=bool)
        for step in range(int(size.max())):
            live = np.flatnonzero(size > step)
            at = lo[live] + step
            same = keys[at] == key_digests[live]
            if allowed is not None:  # records outside the grant's regions are not there
                same &= np.isin(self._regions[at], allowed)
            hit = live[same]
            found[hit] = True
            # a key held with several names has several entries: any of them may match
            matched[hit] |= pairs[at[same]] == pair_digests[hit]
        answers = np.where(matched, "match", np.where(found, "no_match", "not_found"))
        return answers.tolist()

    # --- facts -----------------------------------------------------------------------------

    @property
    def facts(self) -> dict[str, Any]:
        """What the index is: table, version, kind, counts, size, build time, digests."""
        size = self.path.stat().st_size
        records = int(self.header["records"])
        fields = (
            "index_id", "table", "version", "kind", "key_column", "attribute_column",
            "region_column", "key_id",
            "rows_read", "records", "distinct_keys", "duplicate_keys", "skipped_malformed",
            "build_seconds", "built_at", "body_sm3", "hash",
        )  # fmt: skip
        facts = {name: self.header.get(name) for name in fields}
        facts.update(
            path=str(self.path),
            bytes=size,
            bytes_per_record=round(size / records, 2) if records else None,
            mac=self.header["mac"],
        )
        return facts


def _buckets(keys: np.ndarray) -> tuple[np.uint64, np.ndarray]:
    """(shift, starts): entries whose top bits are b are keys[starts[b]:starts[b + 1]].
    About one bucket per key, at most 2²⁴ (64 MiB of offsets beside 400 MB of digests)."""
    bits = max(1, min(BUCKET_BITS, len(keys).bit_length()))
    shift = np.uint64(64 - bits)
    counts = np.bincount((keys >> shift).astype(np.intp), minlength=1 << bits)
    starts = np.zeros((1 << bits) + 1, dtype=np.uint32 if len(keys) < 2**32 else np.uint64)
    np.cumsum(counts, out=starts[1:])
    return shift, starts


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _canonical(header: dict[str, Any]) -> bytes:
    rest = {k: v for k, v in header.items() if k != "mac"}
    return json.dumps(rest, sort_keys=True, ensure_ascii=False).encode()


def _body_sm3(body: np.ndarray) -> str:
    state = SM3.new()
    flat = body.view(np.uint8)
    for start in range(0, flat.size, _BLOCK):
        state.update(flat[start : start + _BLOCK].tobytes())
    return state.digest().hex()


# --- building ------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_grant(table: str, version: int, columns: Sequence[str]) -> Grant:
    """The platform grant an index build reads under: one version, the two columns."""
    return Grant(
        id="sharing:verify-index",
        consumer=CONSUMER,
        purpose="核验索引构建 (verification index build)",
        tables=(TableGrant(table=table, versions=(version,), columns=tuple(columns)),),
        max_rows=100_000_000,
        timeout_seconds=3600.0,
    )


def _chunk_sql(
    table: str, key: str, attribute: str, chunks: int, part: int, region: str | None = None
) -> str:
    k = _quote(key)
    columns = f"{k}, {_quote(attribute)}" + (f", {_quote(region)}" if region else "")
    sql = f"SELECT {columns} FROM {table} WHERE {k} IS NOT NULL"
    if chunks > 1:
        # rows split by their key's last characters, so each read holds ~1/chunks of them
        spread = (
            f"unicode(right({k}, 1)) + 7 * unicode(right({k}, 2)) + 49 * unicode(right({k}, 3))"
        )
        sql += f" AND abs({spread}) % {chunks} = {part}"
    return sql


def build_index(
    session: Session,
    actor: Actor,
    table: str,
    *,
    version: int | None,
    kind: str,
    key_column: str,
    attribute_column: str,
    region_column: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    store: KeyStore | None = None,
) -> VerifyIndex:
    """Build, write and load the index of ``table`` at ``version`` (None: the newest ready).

    Reads the two columns (and ``region_column``, kept per record for region-limited
    grants) through ``lake.access`` under a platform grant, in parts of about ``chunk_rows``
    rows (each read is a ``lake.accessed`` event). Rows with a NULL or malformed key are
    skipped and counted; a NULL name is indexed as empty (it never matches)."""
    check_kind(kind)
    started = time.perf_counter()
    lake_table = tables.get_table(session, table)
    lake_version = tables.readable_version(session, lake_table, version)
    index_id = f"{lake_table.name}.{kind}.v{lake_version.number}"
    made = index_key(index_id, store)
    assert made is not None  # create=True always gives a key
    key_dataset, key_id, key = made
    read = (key_column, attribute_column) + ((region_column,) if region_column else ())
    grant = build_grant(lake_table.name, lake_version.number, read)
    chunks = max(1, -(-int(lake_version.rows or 0) // chunk_rows))
    key_parts, pair_parts, region_parts = [], [], []
    rows_read = skipped = 0
    for part in range(chunks):
        sql = _chunk_sql(lake_table.name, key_column, attribute_column, chunks, part, region_column)
        data = lake.access(session, actor, grant, sql, at={lake_table.name: lake_version.number})
        rows_read += data.rows
        raw_keys = data.data.column(0).cast(pa.string()).to_pylist()
        raw_names = data.data.column(1).cast(pa.string()).to_pylist()
        raw_regions = data.data.column(2).cast(pa.string()).to_pylist() if region_column else []
        del data
        cleaned = clean_keys(raw_keys)
        bad = {position for position, _ in key_problems(kind, cleaned)}
        if bad:
            skipped += len(bad)
            cleaned = [k for i, k in enumerate(cleaned) if i not in bad]
            raw_names = [v for i, v in enumerate(raw_names) if i not in bad]
            raw_regions = [v for i, v in enumerate(raw_regions) if i not in bad]
        names = normalise_names(raw_names)
        key_digests, pair_digests = key.digests(cleaned, names)
        key_parts.append(key_digests)
        pair_parts.append(pair_digests)
        if region_column:
            region_parts.append(region_numbers(raw_regions))
    keys = np.concatenate(key_parts) if key_parts else np.zeros(0, np.uint64)
    pairs = np.concatenate(pair_parts) if pair_parts else np.zeros(0, np.uint64)
    regions = (
        (np.concatenate(region_parts) if region_parts else np.zeros(0, np.uint64))
        if region_column
        else None
    )
    del key_parts, pair_parts, region_parts
    order = np.lexsort((pairs, keys) if regions is None else (regions, pairs, keys))
    keys, pairs = keys[order], pairs[order]
    regions = regions[order] if regions is not None else None
    del order
    if keys.size:  # identical rows once (a row's region is part of what makes it)
        keep = np.ones(keys.size, dtype=bool)
        keep[1:] = (keys[1:] != keys[:-1]) | (pairs[1:] != pairs[:-1])
        if regions is not None:
            keep[1:] |= regions[1:] != regions[:-1]
        keys, pairs = keys[keep], pairs[keep]
        regions = regions[keep] if regions is not None else None
    distinct = int(np.count_nonzero(keys[1:] != keys[:-1]) + 1) if keys.size else 0
    header = {
        "format": FORMAT,
        "index_id": index_id,
        "table": lake_table.name,
        "table_id": lake_table.id,
        "version": lake_version.number,
        "kind": kind,
        "key_column": key_column,
        "attribute_column": attribute_column,
        **({"region_column": region_column} if region_column else {}),
        "key_dataset": key_dataset,
        "key_id": key_id,
        "hash": "hmac-sm3, first 64 bits",
        "rows_read": rows_read,
        "records": int(keys.size),
        "distinct_keys": distinct,
        "duplicate_keys": int(keys.size) - distinct,
        "skipped_malformed": skipped,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    body = np.concatenate([keys, pairs] + ([regions] if regions is not None else [])).astype("<u8")
    header["body_sm3"] = _body_sm3(body)
    header["build_seconds"] = round(time.perf_counter() - started, 3)
    header["mac"] = key.mac(_canonical(header)).hex()
    path = index_dir() / f"{index_id}.lsv"
    _write(path, header, body)
    return VerifyIndex.load(path, store)


def _write(path: Path, header: dict[str, Any], body: np.ndarray) -> None:
    """Write beside ``path`` and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(header, sort_keys=True, ensure_ascii=False).encode()
    start = len(MAGIC) + 4 + len(raw)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<I", len(raw)) + raw)
            fh.write(b"\0" * (_aligned(start) - start))
            body.tofile(fh)
        tmp.replace(path)
    except OSError as exc:
        raise IndexBuildFailed(table=header["table"], detail=str(exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "Answer",
    "IndexKey",
    "MalformedAttribute",
    "VerifyIndex",
    "build_grant",
    "build_index",
    "index_key",
    "normalise_key",
    "normalise_name",
]
