"""Attachment files: which types are accepted, safe names, content-addressed storage by SM3.

A file is stored once under ``<attachments_root>/<h[0:2]>/<h[2:4]>/<h>``, where ``h`` is the
hex SM3 digest of its bytes (GB/T 32905), so the same scan attached twice takes space once and
any later change to a stored file is detectable. Types are checked against the file's bytes,
not only its name, so a renamed executable is refused.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes

from .errors import AttachmentContentMismatch, AttachmentTooLarge, AttachmentTypeRefused

CHUNK = 64 * 1024
MAX_FILENAME_CHARS = 120

_ZIP = b"PK\x03\x04"
_TEXT = b""  # marker: must be UTF-8 text without NUL bytes


@dataclass(frozen=True)
class MediaType:
    name: str
    extensions: tuple[str, ...]
    magic: bytes  # leading bytes the content must start with; b"" means UTF-8 text


KNOWN_TYPES: dict[str, MediaType] = {
    m.name: m
    for m in (
        MediaType("application/pdf", (".pdf",), b"%PDF-"),
        MediaType("application/ofd", (".ofd",), _ZIP),  # GB/T 33190 版式文档
        MediaType("image/png", (".png",), b"\x89PNG\r\n\x1a\n"),
        MediaType("image/jpeg", (".jpg", ".jpeg"), b"\xff\xd8\xff"),
        MediaType(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
            _ZIP,
        ),
        MediaType(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",), _ZIP
        ),
        MediaType("text/plain", (".txt",), _TEXT),
        MediaType("text/csv", (".csv",), _TEXT),
    )
}


@dataclass(frozen=True)
class AttachmentPolicy:
    """What a workflow accepts: a size limit and media types (from ``KNOWN_TYPES``)."""

    max_bytes: int = 10 * 1024 * 1024
    media_types: frozenset[str] = frozenset(KNOWN_TYPES)

    def __post_init__(self) -> None:
        unknown = set(self.media_types) - set(KNOWN_TYPES)
        if unknown:
            raise ValueError(f"attachment policy names unknown media types {sorted(unknown)}")
        if self.max_bytes < 1:
            raise ValueError("attachment size limit must be positive")


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")


def sanitize_filename(name: str) -> str:
    """A name safe to show and to put in Content-Disposition: no directories, control or
    reserved characters, no leading dots, at most ``MAX_FILENAME_CHARS`` characters (the
    extension kept). Chinese and other letters stay as they are."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(" .")
    return name or "attachment"


def resolve_media_type(filename: str, declared: str | None, policy: AttachmentPolicy) -> MediaType:
    """The media type to record, from the declared one and the file name, which must agree."""
    ext = os.path.splitext(filename)[1].lower()
    by_ext = next((m for m in KNOWN_TYPES.values() if ext in m.extensions), None)
    declared = (declared or "").split(";", 1)[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        if by_ext is None:
            raise AttachmentTypeRefused(media_type=ext or "unknown")
        chosen = by_ext
    else:
        chosen = KNOWN_TYPES.get(declared)  # type: ignore[assignment]
        if chosen is None:
            raise AttachmentTypeRefused(media_type=declared)
        if by_ext is not chosen:
            raise AttachmentContentMismatch(filename=filename, media_type=declared)
    if chosen.name not in policy.media_types:
        raise AttachmentTypeRefused(media_type=chosen.name)
    return chosen


@dataclass(frozen=True)
class StoredFile:
    sm3: str
    size: int
    path: Path


def _chunks(content: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(content, bytes | bytearray | memoryview):
        data = bytes(content)
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]
        return
    while chunk := content.read(CHUNK):
        yield chunk


def blob_path(root: Path, sm3: str) -> Path:
    return root / sm3[:2] / sm3[2:4] / sm3


def store(
    root: Path, content: bytes | BinaryIO, media: MediaType, filename: str, max_bytes: int
) -> StoredFile:
    """Stream ``content`` to the store, checking size and type as it goes; atomic and
    idempotent (an identical file already stored is kept, not rewritten)."""
    root.mkdir(parents=True, exist_ok=True)
    incoming = root / "incoming"
    incoming.mkdir(exist_ok=True)
    digest = hashes.Hash(hashes.SM3())
    text = codecs.getincrementaldecoder("utf-8")() if media.magic == _TEXT else None
    head = b""
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=incoming)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(content):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge(limit=max_bytes)
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                if text is not None:
                    _check_text(text, chunk, filename, media)
                digest.update(chunk)
                out.write(chunk)
        if text is not None:
            _check_text(text, b"", filename, media, final=True)
        if size == 0 or not head.startswith(media.magic):
            raise AttachmentContentMismatch(filename=filename, media_type=media.name)
        sm3 = digest.finalize().hex()
        final = blob_path(root, sm3)
        if final.exists():
            tmp.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return StoredFile(sm3, size, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_text(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    filename: str,
    media: MediaType,
    final: bool = False,
) -> None:
    try:
        decoded = decoder.decode(chunk, final=final)
    except UnicodeDecodeError:
        raise AttachmentContentMismatch(filename=filename, media_type=media.name) from None
    if "\x00" in decoded:
        raise AttachmentContentMismatch(filename=filename, media_type=media.name)


def read_verified(root: Path, sm3: str) -> bytes | None:
    """The stored bytes if they still hash to ``sm3``; None if they do not (or are gone)."""
    path = blob_path(root, sm3)
    if not path.is_file():
        return None
    data = path.read_bytes()
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return data if digest.finalize().hex() == sm3 else None
