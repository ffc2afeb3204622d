"""Content-addressed objects: documents, images, audio and video (多模态).

An object is stored once under the SM3 digest of its bytes (``objects/sm3/ab/cd/<digest>``),
optionally encrypted at rest with SM4 (the envelope key ``lake.objects``). What a resource
says about its objects — file name, title, media type, extracted metadata such as page
count, image size or duration — is a row in a *collection* table (``kind="collection"``), a
versioned lake table like any other, with the digest in column ``object_sm3``. So a
multimodal resource is queried, granted, masked and filtered through ``lake.access`` like a
table, and an object's bytes are handed out only to a grant whose rows include it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.lake import door
from longshu.lake.config import lake_settings
from longshu.lake.errors import ObjectNotFound, ObjectTooLarge
from longshu.lake.models import LakeObject
from longshu.lake.policy import Grant
from longshu.lake.storage import CHUNK, DIGEST, Storage, check_table_name, storage
from longshu.security import access
from longshu.security.crypto import decrypt_stream, encrypt_stream, hashing

DATASET = "lake.objects"
DIGEST_COLUMN = "object_sm3"

OBJECT_STORED = events.define("lake.object_stored", "文件已入湖", "Lake object stored")
OBJECT_READ = events.define(
    "lake.object_read", "文件已按授权读取", "Lake object read under a grant"
)


def put_object(
    session: Session,
    actor: Actor,
    source: BinaryIO | Path | bytes,
    *,
    media_type: str = "application/octet-stream",
    encrypt: bool = False,
) -> LakeObject:
    """Store bytes once by their SM3 digest; returns the (new or existing) object."""
    access.require(actor, "lake.load")
    store = storage()
    limit = lake_settings().max_object_bytes
    tmp = f"{store.tmp_dir()}/{secrets.token_hex(8)}.part"
    try:
        digest, size = _receive(store, source, tmp, limit)
        existing = session.get(LakeObject, digest)
        final = store.object_path(digest)
        if existing is None or not store.exists(final):
            store.make_dirs(final.rsplit("/", 1)[0])
            encrypted = existing.encrypted if existing is not None else encrypt
            _place(store, tmp, final, encrypted)
        if existing is not None:
            return existing
        stored = LakeObject(
            digest=digest,
            size=size,
            media_type=media_type[:100],
            encrypted=encrypt,
            created_by=actor.id,
        )
        session.add(stored)
        session.flush()
        events.emit(
            session,
            OBJECT_STORED,
            actor,
            subject=("lake_object", digest),
            digest=digest,
            size=size,
            media_type=stored.media_type,
            encrypted=encrypt,
        )
        return stored
    finally:
        if store.exists(tmp):
            store.fs.delete_file(tmp)


def _receive(
    store: Storage, source: BinaryIO | Path | bytes, tmp: str, limit: int
) -> tuple[str, int]:
    state = hashing.SM3.new()
    size = 0
    with store.fs.open_output_stream(tmp) as out:
        for chunk in _chunks(source):
            size += len(chunk)
            if size > limit:
                raise ObjectTooLarge(limit=limit)
            state.update(chunk)
            out.write(chunk)
    return state.digest().hex(), size


def _chunks(source: BinaryIO | Path | bytes) -> Iterable[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), CHUNK):
            yield source[start : start + CHUNK]
        return
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            yield from iter(lambda: handle.read(CHUNK), b"")
        return
    yield from iter(lambda: source.read(CHUNK), b"")


def _place(store: Storage, tmp: str, final: str, encrypt: bool) -> None:
    """Move (or encrypt) the received file into place; it appears only when complete."""
    if not encrypt:
        store.fs.move(tmp, final)
        return
    staged = f"{tmp}.sm4"
    with store.fs.open_input_stream(tmp) as src, store.fs.open_output_stream(staged) as dst:
        encrypt_stream(DATASET, src, dst)  # type: ignore[arg-type]
    store.fs.move(staged, final)


def collection_rows(items: Iterable[tuple[LakeObject, dict[str, Any]]]) -> pa.Table:
    """Rows of a collection version: ``object_sm3``, ``media_type``, ``size`` and each
    item's metadata (name, title, pages, width, duration …; missing values are empty)."""
    items = list(items)
    keys: list[str] = []
    for _, meta in items:
        keys += [
            k for k in meta if k not in keys and k not in (DIGEST_COLUMN, "media_type", "size")
        ]
    columns: dict[str, list[Any]] = {
        DIGEST_COLUMN: [obj.digest for obj, _ in items],
        "media_type": [obj.media_type for obj, _ in items],
        "size": [obj.size for obj, _ in items],
    }
    for key in keys:
        columns[key] = [meta.get(key) for _, meta in items]
    return pa.table(columns)


def read_object(
    session: Session,
    actor: Actor,
    grant: Grant,
    table: str,
    digest: str,
    dst: BinaryIO,
    *,
    at: dict[str, int] | None = None,
) -> LakeObject:
    """Copy an object's bytes to ``dst`` if a row of ``table`` the grant lets the actor see
    names it (the look-up goes through ``lake.access``: row filters apply). An object the
    grant does not reach is ``ObjectNotFound``, as if it did not exist."""
    check_table_name(table)
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise ObjectNotFound(digest=str(digest)[:64])
    sql = f"SELECT count(*) AS n FROM {table} WHERE {DIGEST_COLUMN} = '{digest}'"
    found = door.access(session, actor, grant, sql, at=at).to_pylist()[0]["n"]
    stored = session.get(LakeObject, digest)
    if not found or stored is None:
        raise ObjectNotFound(digest=digest)
    store = storage()
    with store.fs.open_input_stream(store.object_path(digest)) as src:
        if stored.encrypted:
            decrypt_stream(src, dst, dataset=DATASET)  # type: ignore[arg-type]
        else:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                dst.write(chunk)
    events.emit(
        session,
        OBJECT_READ,
        actor,
        subject=("lake_object", digest),
        grant_id=grant.id,
        consumer=grant.consumer,
        table=table,
        digest=digest,
        size=stored.size,
    )
    return stored
