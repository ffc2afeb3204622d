"""SM3 content checksums of lake versions.

A version is the set of Parquet files its Delta snapshot reads. Its manifest lists each file
(path relative to the table, size, row count, SM3 of the bytes), sorted by path; the version's
checksum is SM3 over the manifest's canonical text. Files never change once written, so a new
version hashes only the files it added and reuses the digests of the files it kept. Anyone
holding the files can recompute it; ``verify`` names the file that differs."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from longshu.lake.storage import Storage
from longshu.security.crypto import hashing

ALGORITHM = "sm3"


def file_digest(store: Storage, uri: str) -> str:
    state = hashing.SM3.new()
    for chunk in store.read_chunks(uri):
        state.update(chunk)
    return state.digest().hex()


def manifest(
    store: Storage, table_uri: str, delta: DeltaTable, known: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The manifest of ``delta``'s current snapshot; ``known`` maps paths already hashed."""
    actions = pa.table(delta.get_add_actions(flatten=True))
    paths = actions.column("path").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    records = actions.column("num_records").to_pylist()
    entries = []
    for path, size, rows in zip(paths, sizes, records, strict=True):
        entry = known.get(path)
        if entry is None or entry["size"] != size:
            entry = {
                "path": path,
                "size": int(size),
                "rows": None if rows is None else int(rows),
                "sm3": file_digest(store, f"{table_uri}/{path}"),
            }
        entries.append(entry)
    entries.sort(key=lambda e: e["path"])
    return entries


def manifest_checksum(entries: list[dict[str, Any]]) -> str:
    """SM3 over ``path \\t size \\t sm3 \\n`` for every file, in path order."""
    text = "".join(f"{e['path']}\t{e['size']}\t{e['sm3']}\n" for e in entries)
    return hashing.SM3.hexdigest(text.encode())


def differences(store: Storage, table_uri: str, entries: list[dict[str, Any]]) -> list[str]:
    """Files of a manifest that are missing or whose bytes no longer match."""
    bad = []
    for entry in entries:
        uri = f"{table_uri}/{entry['path']}"
        try:
            if store.size(uri) != entry["size"] or file_digest(store, uri) != entry["sm3"]:
                bad.append(entry["path"])
        except (FileNotFoundError, OSError):
            bad.append(entry["path"])
    return bad
