"""``verify``: recompute a whole ledger from its data and check every checkpoint.

What it reports, and how exactly (docs/ledger.md, "Auditing the database"):
- an entry whose data no longer hashes to its leaf hash — that entry;
- a gap in the indexes — the missing entries;
- an entry whose seal fails (row changed, moved or inserted without the seal key) — that entry;
  seals are checked for every entry after the last good checkpoint and inside any checkpoint
  range whose root no longer matches (``full=True`` checks them all);
- a stored subtree hash that differs from the recomputed one, or is missing — that node;
- a checkpoint that is malformed, badly signed, out of order, missing from the sequence, or
  whose root differs from the recomputed tree — that checkpoint;
- an event the ledger acknowledged but whose entry is gone — that event.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from longshu.security.crypto.hashing import equal
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import PublicKey
from longshu.security.ledger import merkle, service
from longshu.security.ledger.checkpoints import (
    CheckpointBody,
    MalformedCheckpoint,
    SignedCheckpoint,
)
from longshu.security.ledger.models import Ledger, LedgerCheckpoint
from longshu.security.ledger.settings import ledger_settings

log = logging.getLogger("longshu.ledger")
BATCH = 20_000
PARALLEL_MIN_ENTRIES = 1 << 18  # below this, a second process costs more than it saves


@dataclass(frozen=True)
class Finding:
    kind: str  # entry | node | checkpoint | event
    where: str  # "entry 12", "checkpoint 3", ...
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Report:
    ledger: str
    hash_alg: str
    entries: int = 0
    nodes: int = 0
    checkpoints: int = 0
    seals_checked: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, where: str, problem: str) -> None:
        self.findings.append(Finding(kind, where, problem))

    def as_json(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "hash_alg": self.hash_alg,
            "ok": self.ok,
            "entries": self.entries,
            "nodes": self.nodes,
            "checkpoints": self.checkpoints,
            "seals_checked": self.seals_checked,
            "seconds": round(self.seconds, 3),
            "findings": [f.__dict__ for f in self.findings],
        }


def _batches(conn: Any, sql: str, params: tuple[Any, ...]) -> Iterator[list[tuple[Any, ...]]]:
    """Stream rows, a batch at a time, through the driver's own cursor in the session's
    transaction: a million rows through SQLAlchemy's result layer would cost as much as
    hashing them. PostgreSQL gets a server-side cursor so memory stays flat."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"ledger_audit_{next(_cursor_ids)}")
        sql = sql.replace("?", "%s")
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()


def _rows(conn: Any, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    for batch in _batches(conn, sql, params):
        yield from batch


_cursor_ids = itertools.count()


class _Levels:
    """Recomputed tree levels as packed byte strings (32 bytes a hash; 32 MB per 1M leaves)."""

    def __init__(self, hasher: merkle.MerkleHasher) -> None:
        self.hasher, self.size = hasher, hasher.size
        self.levels: list[bytes | bytearray] = [bytearray()]

    def get(self, level: int, index: int) -> bytes:
        s = self.size
        return bytes(self.levels[level][index * s : (index + 1) * s])

    def count(self, level: int) -> int:
        return len(self.levels[level]) // self.size

    def build_next(self) -> int:
        """Compute the next level up; returns its node count."""
        self.levels.append(self.hasher.parents(self.levels[-1]))
        return self.count(len(self.levels) - 1)

    def root(self, size: int) -> bytes:
        return self.hasher.fold([self.get(lv, i) for lv, i in merkle.frontier(size)])


def verify_ledger(
    session: Session,
    name: str = service.EVENTS_LEDGER,
    *,
    keys: dict[str, PublicKey] | None = None,
    full: bool = False,
    workers: int | None = None,
    parallel_min: int | None = None,
) -> Report:
    """Recompute ``name`` and check it; the report lists every problem found.

    The log is first checked the fast way: each batch of entries and each tree level compared
    as one byte string. A large log may be checked in two halves at once — this process and
    one spawned worker with its own database connection — when ``workers`` ≥ 2 (default
    ``LONGSHU_LEDGER_VERIFY_WORKERS``, 1). Any difference sends the whole check down the
    row-by-row path, which names every culprit."""
    started = time.perf_counter()
    _snapshot(session)
    ledger = service.get_ledger(session, name, create=False)
    hasher = service.hasher_for(ledger)
    report = Report(ledger.name, ledger.hash_alg)
    keys = keys if keys is not None else KeyStore().verification_keys()
    levels = _Levels(hasher)
    conn = session.connection()

    # 1–2. Entries (contiguous indexes, data ↔ leaf hash) and stored subtree hashes against
    #      the recomputed ones: one comparison per batch or level when all is well (in two
    #      halves at once if asked), row by row to name the culprits when it is not.
    size = conn.execute(
        text("SELECT count(*) FROM ledger_entry WHERE ledger_id = :l"), {"l": ledger.id}
    ).scalar_one()
    workers = workers if workers is not None else ledger_settings().verify_workers
    least = parallel_min if parallel_min is not None else PARALLEL_MIN_ENTRIES
    if workers >= 2 and size >= max(least, 4):
        found = _parallel_levels(conn, ledger, hasher, size)
    else:
        found = _fast_levels(conn, ledger.id, hasher, 0, size)
    if found is not None and _no_stray_nodes(conn, ledger.id, found, hasher.size):
        levels.levels = list(found)
        report.entries = size
        report.nodes = sum(len(level) for level in found[1:]) // hasher.size
    else:
        levels.levels = [bytearray()]
        _check_entries(conn, ledger, levels, report)
        _check_nodes(conn, ledger, levels, report)

    # 3. Checkpoints: format, signature, order, and the root of the recomputed tree.
    bad_ranges = _check_checkpoints(session, ledger, levels, keys, report)

    # 4. Seals, where they can name the row a database administrator touched.
    last_good = max((hi for lo, hi, ok in bad_ranges if ok), default=0)
    ranges = [(lo, hi) for lo, hi, ok in bad_ranges if not ok] + [(last_good, None)]
    if full:
        ranges = [(0, None)]
    _check_seals(conn, ledger, ranges, report)

    # 5. Events the ledger acknowledged must still have their entry.
    if ledger.name == service.EVENTS_LEDGER:
        lost = (
            conn.execute(
                text(
                    "SELECT d.event_id FROM event_delivery d WHERE d.subscriber = 'ledger' AND NOT EXISTS "
                    "(SELECT 1 FROM ledger_entry e WHERE e.ledger_id = :l AND e.event_id = d.event_id) "
                    "ORDER BY d.event_id LIMIT 100"
                ),
                {"l": ledger.id},
            )
            .scalars()
            .all()
        )
        for event_id in lost:
            report.add(
                "event", f"event {event_id}", "was recorded in the ledger but its entry is gone"
            )
    report.seconds = time.perf_counter() - started
    return report


def _snapshot(session: Session) -> None:
    """Read the whole check from one snapshot, so appends made meanwhile are not mistaken for
    tampering. SQLite in WAL mode already reads one snapshot per transaction; PostgreSQL
    needs REPEATABLE READ, which can only be chosen before the transaction's first query."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _fetch(conn: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of one bounded query through the driver's own cursor: a million rows through
    SQLAlchemy's result layer would cost as much as hashing them."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(binary=True)  # bytea as raw bytes, not hex text to decode
        sql = sql.replace("?", "%s")
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


_first, _second = itemgetter(0), itemgetter(1)  # C-level column pickers (``zip(*rows)`` is slow)


def _joined(hashes: Iterable[Any]) -> bytes | None:
    """Stored hashes as one byte string; None if a value is not bytes (edited to text)."""
    try:
        return b"".join(hashes)
    except TypeError:
        return None


class _Batches:
    """The rows of one query per parameter tuple, in turn. On PostgreSQL the next batch is
    fetched in a thread while the caller hashes this one: the wait is on the server and the
    driver frees the GIL meanwhile. Not on SQLite: it takes the GIL back at every row, so a
    reading thread would slow both sides down."""

    def __init__(self, conn: Any, sql: str, params: Iterable[tuple[Any, ...]]) -> None:
        self._conn, self._sql, self._params = conn, sql, iter(params)
        threaded = conn.dialect.name == "postgresql"
        self._pool = ThreadPoolExecutor(max_workers=1) if threaded else None
        self._ahead = self._start()

    def _start(self) -> Any:
        params = next(self._params, None)
        if params is None or self._pool is None:
            return params
        return self._pool.submit(_fetch, self._conn, self._sql, params)

    def __enter__(self) -> _Batches:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        while self._ahead is not None:
            current, self._ahead = self._ahead, self._start()
            yield current.result() if self._pool else _fetch(self._conn, self._sql, current)


def _fast_levels(
    conn: Any, ledger_id: int, hasher: merkle.MerkleHasher, start: int, end: int
) -> list[bytes] | None:
    """Leaves of entries [start, end) recomputed from their data, and every complete subtree
    inside that range built above them (``start`` is aligned to a power of two), each batch
    of leaves and each level compared with the stored rows as one byte string. None at the
    first difference: the caller then looks row by row."""
    leaves: list[bytes] = []
    ranges = [(first, min(end, first + BATCH)) for first in range(start, end, BATCH)]
    with _Batches(
        conn,
        "SELECT data, leaf_hash FROM ledger_entry "
        "WHERE ledger_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
        [(ledger_id, first, last) for first, last in ranges],
    ) as batches:
        for (first, last), rows in zip(ranges, batches, strict=True):
            # (ledger_id, idx) is the primary key: last - first rows in [first, last) are
            # exactly those indexes, none missing; count(*) rules out any outside [0, size)
            if len(rows) != last - first:
                return None
            computed = hasher.leaf_hashes(map(_first, rows))
            if computed != _joined(map(_second, rows)):
                return None
            leaves.append(computed)
    levels = [b"".join(leaves)]
    return levels if _climb(conn, ledger_id, hasher, levels, start) else None


def _climb(
    conn: Any, ledger_id: int, hasher: merkle.MerkleHasher, levels: list[bytes], start: int
) -> bool:
    """Add to ``levels`` every level above the last one whose nodes lie inside the range that
    begins at ``start``, each compared with its stored nodes. False at the first difference."""
    size = hasher.size
    level = len(levels)
    while len(levels[-1]) >= 2 * size and start % (1 << level) == 0:
        first, count = start >> level, len(levels[-1]) // (2 * size)
        parts = [(at, min(count, at + BATCH)) for at in range(0, count, BATCH)]
        with _Batches(
            conn,
            "SELECT hash FROM ledger_node "
            "WHERE ledger_id = ? AND level = ? AND idx >= ? AND idx < ? ORDER BY idx",
            [(ledger_id, level, first + a, first + b) for a, b in parts],
        ) as batches:
            above = hasher.parents(levels[-1])  # while the first batch is read, on PostgreSQL
            for (a, b), rows in zip(parts, batches, strict=True):
                if len(rows) != b - a or _joined(map(_first, rows)) != above[a * size : b * size]:
                    return False
        levels.append(above)
        level += 1
    return True


def _no_stray_nodes(conn: Any, ledger_id: int, levels: list[bytes], size: int) -> bool:
    """Every stored node was compared: none below level 1, beyond a level or above the top."""
    expected = sum(len(level) for level in levels[1:]) // size
    stored = conn.execute(
        text("SELECT count(*) FROM ledger_node WHERE ledger_id = :l"), {"l": ledger_id}
    ).scalar_one()
    return stored == expected


def _range_worker_main(argv: list[str]) -> int:
    """``python -m longshu.security.ledger.audit LEDGER_ID HASH_ALG START END``: run
    ``_fast_levels`` on a connection of its own (URL in ``LONGSHU_AUDIT_DATABASE_URL``, never
    on the command line) and write the levels to stdout, each as 8-byte length + bytes."""
    from longshu.db import Database

    ledger_id, hash_alg, start, end = int(argv[0]), argv[1], int(argv[2]), int(argv[3])
    database = Database(os.environ["LONGSHU_AUDIT_DATABASE_URL"])
    try:
        with database.engine.connect() as conn:
            found = _fast_levels(conn, ledger_id, merkle.MerkleHasher(hash_alg), start, end)
    finally:
        database.dispose()
    out = sys.stdout.buffer
    if found is None:
        out.write(b"NO")
        return 0
    out.write(b"OK")
    for values in found:
        out.write(len(values).to_bytes(8, "big") + values)
    out.flush()
    return 0


def _read_levels(data: bytes) -> list[bytes] | None:
    if data[:2] != b"OK":
        return None
    found, at = [], 2
    while at < len(data):
        length = int.from_bytes(data[at : at + 8], "big")
        found.append(data[at + 8 : at + 8 + length])
        at += 8 + length
    return found


def _parallel_levels(
    conn: Any, ledger: Ledger, hasher: merkle.MerkleHasher, size: int
) -> list[bytes] | None:
    """``_fast_levels`` over [0, size) in two halves at once: [0, split) here and
    [split, size) in a worker process, then the levels above the split. None when anything
    differs."""
    half = 1 << ((size // 2).bit_length() - 1)  # aligned split near the middle
    split = (
        2 * half if abs(2 * half - size / 2) < abs(half - size / 2) and 2 * half < size else half
    )
    # a fresh interpreter (not fork): it inherits no connection, lock or open transaction
    env = {
        **os.environ,
        "LONGSHU_AUDIT_DATABASE_URL": conn.engine.url.render_as_string(hide_password=False),
    }
    worker_args = [str(ledger.id), ledger.hash_alg, str(split), str(size)]
    worker = subprocess.Popen(
        [sys.executable, "-m", "longshu.security.ledger.audit", *worker_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        mine = _fast_levels(conn, ledger.id, hasher, 0, split)
        output, errors = worker.communicate(timeout=3600)
    finally:
        if worker.poll() is None:
            worker.kill()
    theirs = _read_levels(output) if worker.returncode == 0 else None
    if worker.returncode:
        log.warning(
            "parallel ledger check failed; checking sequentially",
            extra={"stderr": errors[-500:].decode(errors="replace")},
        )
    if mine is None or theirs is None:
        return None
    # below the split's level both halves hold every node of their side; above it, none yet
    levels = [
        low + (theirs[level] if level < len(theirs) else b"") for level, low in enumerate(mine)
    ]
    return levels if _climb(conn, ledger.id, hasher, levels, 0) else None


def _check_entries(conn: Any, ledger: Ledger, levels: _Levels, report: Report) -> None:
    """Hash every entry's data; a batch whose indexes run on and whose hashes all match is
    checked as one byte string, any other batch row by row to name what is wrong."""
    new_leaf = levels.hasher.algorithm.new(b"\x00").copy
    level0, expected = levels.levels[0], 0
    batches = _batches(
        conn,
        "SELECT idx, data, leaf_hash FROM ledger_entry WHERE ledger_id = ? ORDER BY idx",
        (ledger.id,),
    )
    for batch in batches:
        indexes, datas, stored = zip(*batch, strict=True)
        computed = []
        keep = computed.append
        for data in datas:
            state = new_leaf()
            state.update(data)
            keep(state.digest())
        joined = b"".join(computed)
        last = expected + len(batch) - 1
        if indexes[0] == expected and indexes[-1] == last and joined == b"".join(stored):
            level0 += joined
            expected = last + 1
            continue
        for idx, leaf_hash, mine in zip(indexes, stored, computed, strict=True):
            if idx != expected:
                report.add(
                    "entry",
                    f"entry {expected}" + (f"–{idx - 1}" if idx - 1 > expected else ""),
                    "missing (deleted from the database)",
                )
            expected = idx + 1
            if mine != bytes(leaf_hash):
                report.add(
                    "entry",
                    f"entry {idx}",
                    "data does not match its leaf hash (changed in the database)",
                )
            level0 += mine
    report.entries = levels.count(0)


def _check_nodes(conn: Any, ledger: Ledger, levels: _Levels, report: Report) -> None:
    rows = _rows(
        conn,
        "SELECT level, idx, hash FROM ledger_node WHERE ledger_id = ? ORDER BY level, idx",
        (ledger.id,),
    )

    def count(level: int) -> int:
        return len(levels.levels[level]) // levels.size

    def missing(level: int, first: int, last: int) -> None:
        if first <= last:
            span = f"–({level}, {last})" if last > first else ""
            report.add(
                "node", f"node ({level}, {first}){span}", "missing (deleted from the database)"
            )

    def build_up_to(level: int) -> None:
        while len(levels.levels) - 1 < level:
            levels.build_next()
            if len(levels.levels) - 1 < level:  # a level with no stored rows at all
                missing(len(levels.levels) - 1, 0, count(len(levels.levels) - 1) - 1)

    current, expected, stored_count = 0, 0, 0
    for level, idx, stored in rows:
        stored_count += 1
        if level < 1:
            report.add(
                "node", f"node ({level}, {idx})", "should not exist (inserted in the database)"
            )
            continue
        if level != current:
            if current:
                missing(current, expected, count(current) - 1)
            build_up_to(level)
            current, expected = level, 0
        if not 0 <= idx < count(level) or idx < expected:
            report.add(
                "node", f"node ({level}, {idx})", "should not exist (inserted in the database)"
            )
            continue
        missing(level, expected, idx - 1)
        expected = idx + 1
        if not equal(levels.get(level, idx), bytes(stored)):
            report.add(
                "node", f"node ({level}, {idx})", "stored hash differs from the recomputed subtree"
            )
    if current:
        missing(current, expected, count(current) - 1)
    while count(len(levels.levels) - 1) >= 2:
        levels.build_next()
        missing(len(levels.levels) - 1, 0, count(len(levels.levels) - 1) - 1)
    report.nodes = stored_count


def _check_checkpoints(
    session: Session, ledger: Ledger, levels: _Levels, keys: dict[str, PublicKey], report: Report
) -> list[tuple[int, int, bool]]:
    """Returns (previous size, size, root matches) for each well-formed checkpoint."""
    origin = service.origin_of(ledger)
    rows = session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.ledger_id == ledger.id)
        .order_by(LedgerCheckpoint.seq)
    ).all()
    ranges: list[tuple[int, int, bool]] = []
    prev_size, prev_time, expected_seq = 0, None, 0
    for row in rows:
        where = f"checkpoint {row.seq}"
        report.checkpoints += 1
        if row.seq != expected_seq:
            report.add(
                "checkpoint",
                f"checkpoint {expected_seq}"
                + (f"–{row.seq - 1}" if row.seq - 1 > expected_seq else ""),
                "missing (deleted from the database)",
            )
        expected_seq = row.seq + 1
        try:
            body = CheckpointBody.parse(row.body)
        except MalformedCheckpoint as exc:
            report.add("checkpoint", where, f"malformed signed body: {exc}")
            continue
        problem = SignedCheckpoint(
            ledger.name, body, row.body, row.key_id, row.sig_alg, bytes(row.signature)
        ).verify(keys)
        if problem:
            report.add("checkpoint", where, problem)
            continue
        columns = (row.tree_size, bytes(row.root_hash), row.hash_alg, row.issued_at)
        if columns != (body.tree_size, body.root_hash, body.hash_alg, body.issued_at):
            report.add("checkpoint", where, "columns differ from the signed body")
        if body.origin != origin or body.hash_alg != ledger.hash_alg:
            report.add(
                "checkpoint", where, f"signed for {body.origin} ({body.hash_alg}), not this ledger"
            )
            continue
        if body.tree_size < prev_size or (prev_time is not None and body.issued_at < prev_time):
            report.add("checkpoint", where, "out of order: smaller or older than the one before")
        if body.tree_size > report.entries:
            report.add(
                "checkpoint",
                where,
                f"covers {body.tree_size} entries, the ledger holds {report.entries}",
            )
            ranges.append((min(prev_size, body.tree_size), body.tree_size, False))
            continue
        matches = equal(levels.root(body.tree_size), body.root_hash)
        if not matches:
            report.add(
                "checkpoint",
                where,
                f"signed root differs from the recomputed tree of {body.tree_size} entries "
                f"(an entry before {body.tree_size} was changed, removed or inserted)",
            )
        ranges.append((min(prev_size, body.tree_size), body.tree_size, matches))
        prev_size, prev_time = max(prev_size, body.tree_size), body.issued_at
    return ranges


def _check_seals(
    conn: Any, ledger: Ledger, ranges: list[tuple[int, int | None]], report: Report
) -> None:
    seal = service.seal_key()
    checked: set[int] = set()
    for lo, hi in ranges:
        sql = "SELECT idx, leaf_hash, event_id, seal FROM ledger_entry WHERE ledger_id = ? AND idx >= ?"
        params: tuple[Any, ...] = (ledger.id, lo)
        if hi is not None:
            sql += " AND idx < ?"
            params += (hi,)
        rows = _rows(conn, sql + " ORDER BY idx", params)
        for idx, leaf_hash, event_id, stored in rows:
            if idx in checked:
                continue
            checked.add(idx)
            leaf_hash, stored = bytes(leaf_hash), bytes(stored)
            if seal.verify(service.seal_message(ledger.id, idx, event_id, leaf_hash), stored):
                continue
            moved = [
                j
                for j in (idx - 1, idx + 1)
                if j >= 0
                and seal.verify(service.seal_message(ledger.id, j, event_id, leaf_hash), stored)
            ]
            if moved:
                report.add(
                    "entry",
                    f"entry {idx}",
                    f"moved here from index {moved[0]} (reordered in the database)",
                )
            else:
                report.add(
                    "entry",
                    f"entry {idx}",
                    "seal does not match: row changed or inserted outside the ledger service",
                )
    report.seals_checked = len(checked)


if __name__ == "__main__":
    sys.exit(_range_worker_main(sys.argv[1:]))
