"""Documents, images, audio and video (多模态资源) → a collection table of the lake.

    result = media.load_collection(session, actor, "mogao_archive",
                                   [Path("report.pdf"), Path("cave45.jpg"), Path("guide.wav")])

Each file is checked before anything is stored: its size against its kind's limit, its first
bytes against its extension (a ``.pdf`` must start ``%PDF-``, a ``.docx`` must be a zip with
``word/document.xml`` …), and its metadata is read with the parser of its type — pypdf for
PDF, the core properties of Office Open XML files, Pillow for images (with a pixel limit
against decompression bombs), mutagen for audio, hachoir for video. Then each file is stored
once under its SM3 digest (``lake.objects.put_object``, SM4-encrypted if asked) and one row
per file — digest, media type, size, name and the metadata below — is loaded through
``ingest.load_source`` as a version of the collection table.

By default a load with any refused file stores nothing and raises ``MediaRefused``, whose
``report()`` lists every refused file and why; with ``skip_refused=True`` the good files are
loaded and the refused ones listed in the result. Either way ``ingest.media_refused`` records
what was refused."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.errors import InvalidInput
from longshu.ingest import service
from longshu.ingest.source import Source
from longshu.lake import objects, tables
from longshu.lake.models import LakeObject, LakeTable
from longshu.security import access

MEDIA_REFUSED = events.define("ingest.media_refused", "多媒体文件被拒收", "Media files refused")

MB = 1024 * 1024
BEIJING = ZoneInfo("Asia/Shanghai")  # times without an offset (EXIF, PDF) are Beijing time
MAX_BYTES = {"document": 200 * MB, "image": 50 * MB, "audio": 500 * MB, "video": 2048 * MB}
MAX_PIXELS = 89_478_485  # Pillow's own default (a 0.25 GB 24-bit image)
OFFICE_XML_LIMIT = MB  # docProps/*.xml larger than this are not read


@dataclass(frozen=True)
class MediaType:
    kind: str  # document, image, audio, video
    media_type: str
    extensions: tuple[str, ...]
    family: str = ""  # types that share a container and may stand for each other


TYPES: dict[str, MediaType] = {
    "pdf": MediaType("document", "application/pdf", (".pdf",)),
    "docx": MediaType(
        "document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "xlsx": MediaType(
        "document", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
    ),
    "pptx": MediaType(
        "document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (".pptx",),
    ),
    "jpeg": MediaType("image", "image/jpeg", (".jpg", ".jpeg")),
    "png": MediaType("image", "image/png", (".png",)),
    "gif": MediaType("image", "image/gif", (".gif",)),
    "tiff": MediaType("image", "image/tiff", (".tif", ".tiff")),
    "webp": MediaType("image", "image/webp", (".webp",)),
    "bmp": MediaType("image", "image/bmp", (".bmp",)),
    "wav": MediaType("audio", "audio/wav", (".wav",)),
    "mp3": MediaType("audio", "audio/mpeg", (".mp3",)),
    "flac": MediaType("audio", "audio/flac", (".flac",)),
    "ogg": MediaType("audio", "audio/ogg", (".ogg", ".oga")),
    "m4a": MediaType("audio", "audio/mp4", (".m4a",), family="isobmff"),
    "mp4": MediaType("video", "video/mp4", (".mp4", ".m4v"), family="isobmff"),
    "mov": MediaType("video", "video/quicktime", (".mov",), family="isobmff"),
    "avi": MediaType("video", "video/x-msvideo", (".avi",)),
    "mkv": MediaType("video", "video/x-matroska", (".mkv",), family="ebml"),
    "webm": MediaType("video", "video/webm", (".webm",), family="ebml"),
}
BY_EXTENSION = {ext: key for key, t in TYPES.items() for ext in t.extensions}
PILLOW_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "tiff": "TIFF",
    "webp": "WEBP",
    "bmp": "BMP",
}

# The collection table's columns after object_sm3, media_type and size (fixed, so that
# collections of different kinds of files append to one another).
COLUMNS: dict[str, pa.DataType] = {
    "name": pa.string(),
    "kind": pa.string(),
    "title": pa.string(),
    "author": pa.string(),
    "pages": pa.int64(),
    "created_at": pa.timestamp("us", tz="UTC"),
    "modified_at": pa.timestamp("us", tz="UTC"),
    "width": pa.int64(),
    "height": pa.int64(),
    "taken_at": pa.timestamp("us", tz="UTC"),
    "gps_latitude": pa.float64(),
    "gps_longitude": pa.float64(),
    "duration_seconds": pa.float64(),
    "bitrate": pa.int64(),
    "sample_rate": pa.int64(),
    "channels": pa.int64(),
    "frame_rate": pa.float64(),
}
COLLECTION_SCHEMA = pa.schema(
    [
        pa.field(objects.DIGEST_COLUMN, pa.string()),
        pa.field("media_type", pa.string()),
        pa.field("size", pa.int64()),
        *(pa.field(name, kind) for name, kind in COLUMNS.items()),
    ]
)


# --- errors -------------------------------------------------------------------------------


class MediaError(InvalidInput):
    key = "ingest.media.invalid"
    message = "The file {name} cannot be stored: {detail}"


class MediaTooLarge(MediaError):
    key = "ingest.media.too_large"
    status = 413
    message = "The file {name} is {size} bytes, over the limit of {limit} bytes for {kind} files."


class UnknownMediaType(MediaError):
    key = "ingest.media.unknown_type"
    message = (
        "The type of {name} is not one we store: documents (pdf, docx, xlsx, pptx), images "
        "(jpg, png, gif, tif, webp, bmp), audio (wav, mp3, flac, ogg, m4a) and video "
        "(mp4, mov, avi, mkv, webm)."
    )


class MediaTypeMismatch(MediaError):
    key = "ingest.media.type_mismatch"
    message = "The file {name} is named {extension} but its content is {detected}."


class ImageTooLarge(MediaError):
    key = "ingest.media.image_too_large"
    message = (
        "The image {name} has {pixels} pixels, over the limit of {limit}: refused as a "
        "possible decompression bomb."
    )


class MediaUnreadable(MediaError):
    key = "ingest.media.unreadable"
    message = "The file {name} is damaged or not a readable {type} file: {detail}"


class NotACollection(InvalidInput):
    key = "ingest.media.not_a_collection"
    message = "The lake table {table} is not a collection; media files load into collection tables."


class MediaRefused(InvalidInput):
    key = "ingest.media.refused"
    message = "{count} of {total} files were refused, so nothing was stored. First: {first}"

    def __init__(self, refused: list[dict[str, Any]], total: int) -> None:
        self.refused = refused
        super().__init__(count=len(refused), total=total, first=refused[0]["message"])

    def report(self) -> list[dict[str, Any]]:
        return list(self.refused)


# --- looking at a file --------------------------------------------------------------------


@dataclass
class MediaFile:
    """A checked file: its type and the metadata its parser found."""

    path: Path
    name: str
    type: str  # a key of TYPES
    kind: str
    media_type: str
    size: int
    metadata: dict[str, Any] = field(default_factory=dict)


def inspect(
    path: Path | str,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> MediaFile:
    """Check one file and read its metadata; raises a ``MediaError`` if it is refused.
    ``name`` is the file's name for people and for the extension check (an upload's
    original name, when ``path`` is a temporary file)."""
    path = Path(path)
    name = name or path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise OSError("not a file")
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise MediaUnreadable(name=name, type="media", detail=exc.strerror or str(exc)) from None
    extension = Path(name).suffix.lower()
    claimed = BY_EXTENSION.get(extension)
    if claimed is None:
        raise UnknownMediaType(name=name)
    limit = max_bytes if max_bytes is not None else MAX_BYTES[TYPES[claimed].kind]
    if size > limit:
        raise MediaTooLarge(name=name, size=size, limit=limit, kind=TYPES[claimed].kind)
    detected = sniff(path, head)
    if detected is None:
        raise MediaTypeMismatch(name=name, extension=extension, detected="not a known type")
    if detected != claimed:
        family = TYPES[claimed].family
        if not family or family != TYPES[detected].family:
            raise MediaTypeMismatch(name=name, extension=extension, detected=detected)
    kind = TYPES[claimed]
    reader = READERS[kind.kind]
    metadata = reader(path, name, claimed, max_pixels)
    return MediaFile(path, name, claimed, kind.kind, kind.media_type, size, metadata)


def sniff(path: Path, head: bytes) -> str | None:
    """The type the file's first bytes say it is (magic numbers), or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"RIFF"):
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12])
    if head.startswith(b"BM") and len(head) >= 14:
        return "bmp"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "m4a" if brand in (b"M4A ", b"M4B ") else "mov" if brand == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    return None


def _office_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for part, kind in (
        ("word/document.xml", "docx"),
        ("xl/workbook.xml", "xlsx"),
        ("ppt/presentation.xml", "pptx"),
    ):
        if part in names:
            return kind
    return None


# --- metadata by kind ---------------------------------------------------------------------


def _document(path: Path, name: str, type_: str, _max_pixels: int) -> dict[str, Any]:
    if type_ == "pdf":
        return _pdf(path, name)
    return _office(path, name, type_)


def _pdf(path: Path, name: str) -> dict[str, Any]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            return {}  # stored as it is; its metadata stays sealed
        info = reader.metadata
        return {
            "pages": len(reader.pages),
            "title": _text(info.title) if info else None,
            "author": _text(info.author) if info else None,
            "created_at": _utc(info.creation_date) if info else None,
            "modified_at": _utc(info.modification_date) if info else None,
        }
    except Exception as exc:  # pypdf raises many types on damaged files; all mean "unreadable"
        raise MediaUnreadable(name=name, type="PDF", detail=_reason(exc)) from None


OFFICE_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
}


def _office(path: Path, name: str, type_: str) -> dict[str, Any]:
    """Title, author, dates (docProps/core.xml) and pages (docProps/app.xml, Word only)."""
    found: dict[str, Any] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            core = _zip_xml(archive, "docProps/core.xml")
            app = _zip_xml(archive, "docProps/app.xml")
    except (zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError) as exc:
        raise MediaUnreadable(name=name, type=type_, detail=_reason(exc)) from None
    if core is not None:
        found["title"] = _text(core.findtext("dc:title", None, OFFICE_NS))
        found["author"] = _text(core.findtext("dc:creator", None, OFFICE_NS))
        found["created_at"] = _iso(core.findtext("dcterms:created", None, OFFICE_NS))
        found["modified_at"] = _iso(core.findtext("dcterms:modified", None, OFFICE_NS))
    if app is not None and type_ == "docx":
        pages = app.findtext("ep:Pages", None, OFFICE_NS)
        found["pages"] = int(pages) if pages and pages.strip().isdigit() else None
    return found


def _zip_xml(archive: zipfile.ZipFile, part: str) -> ElementTree.Element | None:
    try:
        info = archive.getinfo(part)
    except KeyError:
        return None
    if info.file_size > OFFICE_XML_LIMIT:
        raise ValueError(f"{part} is larger than {OFFICE_XML_LIMIT} bytes")
    with archive.open(info) as handle:
        data = handle.read(OFFICE_XML_LIMIT + 1)  # the header's size may lie
    if len(data) > OFFICE_XML_LIMIT:
        raise ValueError(f"{part} is larger than {OFFICE_XML_LIMIT} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError(f"{part} declares a DTD or entities")  # entity expansion
    return ElementTree.fromstring(data)


def _image(path: Path, name: str, type_: str, max_pixels: int) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        # past MAX_IMAGE_PIXELS Pillow only warns (it raises at twice that): refuse both
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            formats = [PILLOW_FORMATS[type_]]
            with Image.open(path, formats=formats) as image:
                pixels = image.width * image.height
                if pixels > max_pixels:
                    raise ImageTooLarge(name=name, pixels=pixels, limit=max_pixels)
                found = {"width": image.width, "height": image.height, **_exif(image)}
            with Image.open(path, formats=formats) as image:
                image.verify()  # structure and checksums, without decoding the pixels
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
            raise ImageTooLarge(
                name=name, pixels=numbers[0] if numbers else "too many", limit=max_pixels
            ) from None
        except ImageTooLarge:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MediaUnreadable(name=name, type=type_, detail=_reason(exc)) from None
    return found


def _exif(image: Any) -> dict[str, Any]:
    """When and where the picture was taken (EXIF DateTimeOriginal and GPS), if it says."""
    from PIL.ExifTags import GPS, IFD, Base

    exif = image.getexif()
    if not exif:
        return {}
    detail = exif.get_ifd(IFD.Exif)
    stamp = detail.get(Base.DateTimeOriginal) or exif.get(Base.DateTime)
    offset = detail.get(Base.OffsetTimeOriginal)
    found: dict[str, Any] = {"taken_at": _exif_time(stamp, offset)}
    gps = exif.get_ifd(IFD.GPSInfo)
    latitude = _degrees(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef), "S", 90)
    longitude = _degrees(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef), "W", 180)
    if latitude is not None and longitude is not None:
        found["gps_latitude"], found["gps_longitude"] = latitude, longitude
    return found


def _exif_time(stamp: Any, offset: Any) -> dt.datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        moment = dt.datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone: dt.tzinfo = BEIJING
    if isinstance(offset, str) and re.fullmatch(r"[+-]\d\d:\d\d", offset.strip("\x00 ")):
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return moment.replace(tzinfo=zone).astimezone(dt.UTC)


def _degrees(value: Any, ref: Any, negative: str, bound: float) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        degrees = -degrees
    if not math.isfinite(degrees) or abs(degrees) > bound:
        return None
    return round(degrees, 7)


def _audio(path: Path, name: str, type_: str, _max_pixels: int) -> dict[str, Any]:
    import mutagen

    try:
        audio = mutagen.File(path)
    except Exception as exc:  # mutagen's errors differ by format; all mean "unreadable"
        raise MediaUnreadable(name=name, type=type_, detail=_reason(exc)) from None
    if audio is None or getattr(audio, "info", None) is None:
        raise MediaUnreadable(name=name, type=type_, detail="no audio stream found")
    info = audio.info
    tags = audio.tags if hasattr(audio, "tags") and audio.tags else {}
    return {
        "duration_seconds": _number(getattr(info, "length", None)),
        "bitrate": _whole(getattr(info, "bitrate", None)),
        "sample_rate": _whole(getattr(info, "sample_rate", None)),
        "channels": _whole(getattr(info, "channels", None)),
        "title": _tag(tags, ("TIT2", "title", "\xa9nam")),
        "author": _tag(tags, ("TPE1", "artist", "\xa9ART")),
    }


def _tag(tags: Any, names: tuple[str, ...]) -> str | None:
    for tag in names:
        try:
            value = tags.get(tag)
        except (KeyError, ValueError, TypeError):
            continue
        if value:
            text = value.text if hasattr(value, "text") else value
            return _text(text[0] if isinstance(text, list) and text else text)
    return None


def _video(path: Path, name: str, type_: str, _max_pixels: int) -> dict[str, Any]:
    from hachoir.core import config as hachoir_config
    from hachoir.metadata import extractMetadata
    from hachoir.parser import createParser

    hachoir_config.quiet = True  # its warnings go to stderr otherwise
    try:
        parser = createParser(str(path))
        if parser is None:
            raise ValueError("no parser recognises it")
        with parser:
            metadata = extractMetadata(parser)
    except Exception as exc:  # hachoir raises many types on damaged files
        raise MediaUnreadable(name=name, type=type_, detail=_reason(exc)) from None
    if metadata is None:
        raise MediaUnreadable(name=name, type=type_, detail="no metadata could be read")

    def value(key: str) -> Any:
        return metadata.get(key) if metadata.has(key) else None

    duration = value("duration")
    created = value("creation_date")  # container times are UTC; 1904/1970 means "not set"
    if isinstance(created, dt.datetime) and created.year > 1970:
        created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
    else:
        created = None
    return {
        "created_at": _utc(created),
        "duration_seconds": _number(duration.total_seconds()) if duration else None,
        "width": _whole(value("width")),
        "height": _whole(value("height")),
        "frame_rate": _number(value("frame_rate")),
        "title": _text(value("title")),
        "author": _text(value("author")),
    }


READERS: dict[str, Callable[[Path, str, str, int], dict[str, Any]]] = {
    "document": _document,
    "image": _image,
    "audio": _audio,
    "video": _video,
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().replace("\x00", "")
    return text[:500] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 3) if math.isfinite(number) and number >= 0 else None


def _whole(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**62 else None


def _utc(moment: Any) -> dt.datetime | None:
    if not isinstance(moment, dt.datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(dt.UTC)


def _iso(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return _utc(dt.datetime.fromisoformat(text.strip()))
    except ValueError:
        return None


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]


# --- storing and loading ------------------------------------------------------------------


@dataclass
class CollectionLoad:
    """What ``load_collection`` did: the version, the files stored, the files refused."""

    table: str
    version: int
    load: service.LoadResult
    stored: list[dict[str, Any]]
    refused: list[dict[str, Any]]


def store(
    session: Session, actor: Actor, checked: MediaFile, *, encrypt: bool = False
) -> tuple[LakeObject, dict[str, Any]]:
    """Store a checked file once by its SM3 digest; returns the object and its row's
    metadata (name, kind and what the parser found)."""
    stored = objects.put_object(
        session, actor, checked.path, media_type=checked.media_type, encrypt=encrypt
    )
    return stored, {"name": checked.name, "kind": checked.kind, **checked.metadata}


def collection_table(items: Iterable[tuple[LakeObject, dict[str, Any]]]) -> pa.Table:
    """The rows of a collection version, with every column of ``COLLECTION_SCHEMA``."""
    rows = [(obj, {name: meta.get(name) for name in COLUMNS}) for obj, meta in items]
    return objects.collection_rows(rows).cast(COLLECTION_SCHEMA)


def load_collection(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    files: Iterable[Path | str | tuple[Path | str, str]],
    *,
    mode: str = "append",
    key_columns: list[str] | None = None,
    encrypt: bool = False,
    skip_refused: bool = False,
    max_bytes: int | None = None,
    max_pixels: int = MAX_PIXELS,
    load_id: str | None = None,
    on_progress: service.ProgressCallback | None = None,
) -> CollectionLoad:
    """Check every file, store the accepted ones content-addressed and load one row per
    file as the collection table's next version (``append`` by default; ``upsert`` with
    ``key_columns=["object_sm3"]`` keeps one row per distinct file). A file is given as a
    path or as ``(path, original name)``. Needs ``lake.load`` on the table."""
    table = tables.get_table(session, table_ref)
    access.require(actor, "lake.load", table)
    if table.kind != "collection":
        raise NotACollection(table=table.name)
    checked: list[MediaFile] = []
    refused: list[dict[str, Any]] = []
    given = [(Path(f[0]), f[1]) if isinstance(f, tuple) else (Path(f), None) for f in files]
    if not given:
        raise InvalidInput(detail="no files to load")
    for path, name in given:
        try:
            checked.append(inspect(path, name=name, max_bytes=max_bytes, max_pixels=max_pixels))
        except MediaError as error:
            refused.append(
                {"name": name or path.name, "key": error.key, "message": str(error)}
                | {"params": {k: str(v) for k, v in error.params.items()}}
            )
    if refused:
        events.emit(
            session,
            MEDIA_REFUSED,
            actor,
            subject=table,
            table=table.name,
            table_id=table.id,
            files=len(given),
            refused=[{"name": r["name"], "error": r["key"]} for r in refused[:100]],
            count=len(refused),
            loaded=skip_refused and bool(checked),
        )
        if not skip_refused or not checked:
            raise MediaRefused(refused, total=len(given))
    items = [store(session, actor, item, encrypt=encrypt) for item in checked]
    data = collection_table(items)
    label = ", ".join(item.name for item in checked)
    label = label if len(label) <= 200 else f"{label[:180]}… ({len(checked)} files)"
    result = service.load_source(
        session,
        actor,
        table,
        lambda: Source(
            data=data,
            rows=data.num_rows,
            format="media",
            details={"files": len(checked), "refused": len(refused), "encrypted": encrypt},
            size=sum(item.size for item in checked),
        ),
        label=label,
        mode=mode,
        key_columns=key_columns,
        load_id=load_id,
        on_progress=on_progress,
    )
    stored = [
        {"name": meta["name"], "digest": obj.digest, "media_type": obj.media_type, "size": obj.size}
        for obj, meta in items
    ]
    return CollectionLoad(table.name, result.version, result, stored, refused)
