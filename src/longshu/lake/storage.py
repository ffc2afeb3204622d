"""Where lake data lives, and the only code that builds paths into it.

A local folder by default (``Settings.lake_root``: ``./var/lake``); S3-compatible object
storage when ``LONGSHU_LAKE_URI`` is ``s3://bucket/prefix`` (deltalake reads and writes
through its storage options; file operations go through pyarrow's S3 filesystem).

Layout::

    tables/<name>/                 a Delta table (Parquet files and _delta_log/)
    objects/sm3/<ab>/<cd>/<digest> a content-addressed object (SM4-encrypted if asked)
    objects/tmp/                   objects being received
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import pyarrow.fs as pafs

from longshu.config import get_settings
from longshu.lake.config import lake_settings
from longshu.lake.errors import InvalidTableName

TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DIGEST = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


def check_table_name(name: str) -> str:
    """A table name is a plain SQL identifier (it names a folder and a relation in queries)."""
    if not isinstance(name, str) or not TABLE_NAME.match(name):
        raise InvalidTableName(name=repr(name)[:80])
    return name


@dataclass(frozen=True)
class Storage:
    """The lake's root: ``uri`` for deltalake, ``fs``/``base`` for file operations."""

    uri: str
    fs: pafs.FileSystem
    base: str
    options: dict[str, str]

    @property
    def local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def table_uri(self, name: str) -> str:
        return f"{self.uri}/tables/{check_table_name(name)}"

    def object_path(self, digest: str) -> str:
        if not DIGEST.match(digest):
            raise ValueError("not an SM3 hex digest")
        return f"{self.base}/objects/sm3/{digest[:2]}/{digest[2:4]}/{digest}"

    def tmp_dir(self) -> str:
        path = f"{self.base}/objects/tmp"
        self.make_dirs(path)
        return path

    def make_dirs(self, path: str) -> None:
        """Create a folder (and its parents) locally; object stores have no folders (pyarrow
        would write an empty marker object for each level)."""
        if self.local:
            self.fs.create_dir(path, recursive=True)

    def fs_path(self, uri: str) -> str:
        """A data file URI (as deltalake reports it) as a path for ``fs``, refusing anything
        outside the lake."""
        if self.local:
            path = uri.removeprefix("file://")
            resolved = str(Path(path).resolve())
            if not (resolved == self.base or resolved.startswith(self.base + "/")):
                raise ValueError("path outside the lake")
            return resolved
        parsed = urlparse(uri)
        path = f"{parsed.netloc}{parsed.path}"
        if not path.startswith(self.base + "/"):
            raise ValueError("path outside the lake")
        return path

    def open_read(self, uri: str) -> BinaryIO:
        return self.fs.open_input_stream(self.fs_path(uri))  # type: ignore[return-value]

    def read_chunks(self, uri: str) -> Iterator[bytes]:
        with self.open_read(uri) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    def size(self, uri: str) -> int:
        return int(self.fs.get_file_info(self.fs_path(uri)).size or 0)

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def delete(self, uri: str) -> None:
        self.fs.delete_file(self.fs_path(uri))


def storage() -> Storage:
    """The lake named by the current settings (read each time: tests change them)."""
    lake = lake_settings()
    options = lake.options()
    if lake.uri.startswith("s3://"):
        parsed = urlparse(lake.uri)
        base = f"{parsed.netloc}{parsed.path}".rstrip("/")
        return Storage(lake.uri.rstrip("/"), _s3(options), base, options)
    root = Path(lake.uri or get_settings().lake_root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return Storage(str(root), pafs.LocalFileSystem(), str(root), options)


def _s3(options: dict[str, str]) -> pafs.FileSystem:
    """pyarrow's S3 filesystem configured from deltalake-style storage options (the names
    deltalake accepts: ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT``, any case)."""
    endpoint = _option(options, "AWS_ENDPOINT_URL", "AWS_ENDPOINT", "ENDPOINT_URL", "ENDPOINT")
    parsed = urlparse(endpoint) if endpoint else None
    virtual = _option(options, "AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "VIRTUAL_HOSTED_STYLE_REQUEST")
    return pafs.S3FileSystem(
        access_key=_option(options, "AWS_ACCESS_KEY_ID", "ACCESS_KEY_ID"),
        secret_key=_option(options, "AWS_SECRET_ACCESS_KEY", "SECRET_ACCESS_KEY"),
        session_token=_option(options, "AWS_SESSION_TOKEN", "AWS_TOKEN", "SESSION_TOKEN", "TOKEN"),
        region=_option(options, "AWS_REGION", "AWS_DEFAULT_REGION", "REGION") or "us-east-1",
        endpoint_override=(parsed.netloc if parsed else None),
        scheme=(parsed.scheme if parsed else "https"),
        force_virtual_addressing=(virtual or "").lower() in ("1", "true", "yes"),
    )


def _option(options: dict[str, str], *names: str) -> str | None:
    """A storage option by any of its names, case-insensitively."""
    folded = {key.upper(): value for key, value in options.items()}
    for name in names:
        if folded.get(name):
            return str(folded[name])
    return None
