"""Media files into a collection table: real small files written here (a JPEG with EXIF date
and GPS, a PNG, a WAV from the ``wave`` module, a PDF from pypdf, a DOCX zipped by hand, an
AVI built chunk by chunk that hachoir parses), stored once by SM3 with their metadata rows;
mismatched, unknown, damaged, oversized files and decompression bombs refused clearly."""

from __future__ import annotations

import datetime as dt
import io
import struct
import wave
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from pypdf import PdfWriter
from sqlalchemy import func, select

from longshu import lake
from longshu.events import Event
from longshu.ingest import media
from longshu.lake import objects, tables
from longshu.lake.models import LakeObject, LakeVersion
from longshu.lake.policy import Grant, TableGrant
from longshu.security.crypto import sm3_hex


@pytest.fixture
def archive(lake_env, session, admin):
    """An empty collection table for the Mogao Grottoes archive (organisation 7)."""
    table = tables.create_table(session, admin, "mogao_archive", kind="collection", owner_org_id=7)
    session.commit()
    return table


# --- files made here ----------------------------------------------------------------------


def jpeg_with_exif(path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[Base.Make] = "Longshu"
    exif.get_ifd(IFD.Exif)[Base.DateTimeOriginal] = "2026:11:28 09:30:15"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = "N", (40.0, 2.0, 24.0)
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = "E", (94.0, 48.0, 36.0)
    image.save(path, exif=exif)
    return path


def png(path: Path, size=(20, 10)) -> Path:
    Image.new("L", size, 128).save(path)
    return path


def wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 2 * 12000)  # 1.5 s
    return path


def pdf(path: Path) -> Path:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(595, 842)
    writer.add_metadata(
        {
            "/Title": "敦煌莫高窟游客接待报告",
            "/Author": "甘肃省文化和旅游厅",
            "/CreationDate": "D:20261128093000+08'00'",
        }
    )
    writer.write(path)
    return path


def docx(path: Path, core: str | None = None) -> Path:
    core = core or (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:title>嘉峪关关城保护规划</dc:title><dc:creator>嘉峪关市文物局</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2026-10-01T02:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )
    app = (
        '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns='
        '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Pages>12</Pages></Properties>"
    )
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("word/document.xml", "<w:document/>")
        out.writestr("docProps/core.xml", core)
        out.writestr("docProps/app.xml", app)
    return path


def avi(path: Path, width=32, height=24, frames=10, fps=5) -> Path:
    """An uncompressed AVI: RIFF header list, one video stream, ``frames`` black frames."""

    def chunk(fourcc: bytes, data: bytes) -> bytes:
        return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")

    def listed(kind: bytes, body: bytes) -> bytes:
        return chunk(b"LIST", kind + body)

    frame = bytes(width * height * 3)
    avih = struct.pack(
        "<14I", 1_000_000 // fps, len(frame) * fps, 0, 0x10, frames, 0, 1, len(frame),
        width, height, 0, 0, 0, 0,
    )  # fmt: skip
    strh = b"vids" + b"DIB " + struct.pack(
        "<IHHIIIIIIII4h", 0, 0, 0, 0, 1, fps, 0, frames, len(frame), 0xFFFFFFFF, 0,
        0, 0, width, height,
    )  # fmt: skip
    strf = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(frame), 0, 0, 0, 0)
    header = listed(
        b"hdrl",
        chunk(b"avih", avih) + listed(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf)),
    )
    movie = listed(b"movi", b"".join(chunk(b"00db", frame) for _ in range(frames)))
    index = b"".join(
        b"00db" + struct.pack("<III", 0x10, 4 + i * (8 + len(frame)), len(frame))
        for i in range(frames)
    )
    body = b"AVI " + header + movie + chunk(b"idx1", index)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def mp4(path: Path, width=64, height=48, seconds=3) -> Path:
    """An MP4 with a movie header and one video track header (no samples)."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    created = 3_847_000_000  # seconds since 1904: 2025-11-27 UTC
    mvhd = box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, created, created, 1000, seconds * 1000)
        + struct.pack(">IH10x", 0x10000, 0x100)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = box(
        b"tkhd",
        struct.pack(">B3sIII4xI8xHHH2x", 0, b"\x00\x00\x07", 0, 0, 1, seconds * 1000, 0, 0, 0)
        + matrix
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = box(b"mdhd", struct.pack(">B3xIIIIHH", 0, 0, 0, 1000, seconds * 1000, 0x55C4, 0))
    hdlr = box(b"hdlr", struct.pack(">B3xI4s12x", 0, 0, b"vide") + b"VideoHandler\x00")
    movie = box(b"moov", mvhd + box(b"trak", tkhd + box(b"mdia", mdhd + hdlr)))
    kind = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    path.write_bytes(kind + movie + box(b"mdat", b""))
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width`` × ``height`` pixels in a few dozen bytes (a bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def rows_of(session, actor, table="mogao_archive"):
    grant = Grant(id="t", consumer="t", tables=(TableGrant(table=table),))
    found = lake.access(session, actor, grant, f"SELECT * FROM {table} ORDER BY name").to_pylist()
    session.commit()
    return {row["name"]: row for row in found}


# --- loading ------------------------------------------------------------------------------


def test_a_multimodal_collection_with_its_metadata(archive, session, admin, tmp_path):
    files = [
        pdf(tmp_path / "report.pdf"),
        docx(tmp_path / "plan.docx"),
        jpeg_with_exif(tmp_path / "cave45.jpg"),
        png(tmp_path / "map.png"),
        wav(tmp_path / "guide.wav"),
        avi(tmp_path / "dunes.avi"),
        mp4(tmp_path / "crescent.mp4"),
    ]
    result = media.load_collection(session, admin, "mogao_archive", files)
    session.commit()

    assert result.version == 1 and result.refused == [] and len(result.stored) == 7
    rows = rows_of(session, admin)
    report = rows["report.pdf"]
    assert (report["kind"], report["media_type"], report["pages"]) == (
        "document",
        "application/pdf",
        3,
    )
    assert (report["title"], report["author"]) == ("敦煌莫高窟游客接待报告", "甘肃省文化和旅游厅")
    assert report["created_at"] == dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC)
    assert report["object_sm3"] == sm3_hex((tmp_path / "report.pdf").read_bytes())
    plan = rows["plan.docx"]
    assert (plan["title"], plan["author"], plan["pages"]) == (
        "嘉峪关关城保护规划",
        "嘉峪关市文物局",
        12,
    )
    assert plan["created_at"] == dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC)
    photo = rows["cave45.jpg"]
    assert (photo["kind"], photo["width"], photo["height"]) == ("image", 64, 48)
    assert photo["taken_at"] == dt.datetime(2026, 11, 28, 1, 30, 15, tzinfo=dt.UTC)  # Beijing
    assert (photo["gps_latitude"], photo["gps_longitude"]) == (40.04, 94.81)
    assert rows["map.png"]["width"] == 20 and rows["map.png"]["taken_at"] is None
    audio = rows["guide.wav"]
    assert (audio["kind"], audio["duration_seconds"], audio["sample_rate"], audio["channels"]) == (
        "audio",
        1.5,
        8000,
        2,
    )
    assert audio["bitrate"] == 8000 * 2 * 16
    video = rows["dunes.avi"]
    assert (video["kind"], video["media_type"]) == ("video", "video/x-msvideo")
    assert (video["width"], video["height"], video["duration_seconds"]) == (32, 24, 2.0)
    assert video["frame_rate"] == 5.0
    clip = rows["crescent.mp4"]
    assert (clip["media_type"], clip["width"], clip["height"], clip["duration_seconds"]) == (
        "video/mp4",
        64,
        48,
        3.0,
    )
    assert clip["created_at"] == dt.datetime(1904, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=3_847_000_000
    )
    assert session.scalar(select(func.count()).select_from(LakeObject)) == 7
    finished = session.scalars(select(Event).where(Event.type == "ingest.load_finished")).one()
    assert finished.payload["rows"] == 7 and finished.payload["details"]["files"] == 7


def test_objects_are_stored_once_and_read_back_through_a_grant(archive, session, admin, tmp_path):
    picture = jpeg_with_exif(tmp_path / "cave45.jpg")
    media.load_collection(session, admin, archive, [picture], encrypt=True)
    again = media.load_collection(
        session, admin, archive, [(picture, "cave45-copy.jpg"), wav(tmp_path / "a.wav")]
    )
    session.commit()
    assert again.version == 2
    assert session.scalar(select(func.count()).select_from(LakeObject)) == 2
    digest = again.stored[0]["digest"]
    grant = Grant(id="g", consumer="c", tables=(TableGrant(table="mogao_archive"),))
    out = io.BytesIO()
    stored = objects.read_object(session, admin, grant, "mogao_archive", digest, out)
    assert stored.encrypted and out.getvalue() == picture.read_bytes()
    assert set(rows_of(session, admin)) == {"cave45.jpg", "cave45-copy.jpg", "a.wav"}


# --- refusing -----------------------------------------------------------------------------


def test_a_load_with_a_bad_file_stores_nothing_and_says_why(archive, session, admin, tmp_path):
    good = pdf(tmp_path / "report.pdf")
    disguised = tmp_path / "invoice.pdf"
    disguised.write_bytes(png(tmp_path / "x.png").read_bytes())  # a PNG named .pdf
    script = tmp_path / "setup.exe"
    script.write_bytes(b"MZ\x90\x00")
    text_as_image = tmp_path / "notes.jpg"
    text_as_image.write_text("敦煌", encoding="utf-8")

    with pytest.raises(media.MediaRefused) as refused:
        media.load_collection(session, admin, archive, [good, disguised, script, text_as_image])
    report = refused.value.report()
    assert [(r["name"], r["key"]) for r in report] == [
        ("invoice.pdf", "ingest.media.type_mismatch"),
        ("setup.exe", "ingest.media.unknown_type"),
        ("notes.jpg", "ingest.media.type_mismatch"),
    ]
    assert report[0]["message"] == "The file invoice.pdf is named .pdf but its content is png."
    assert refused.value.params["count"] == 3 and refused.value.params["total"] == 4
    assert session.scalar(select(func.count()).select_from(LakeObject)) == 0
    assert session.scalar(select(func.count()).select_from(LakeVersion)) == 0
    event = session.scalars(select(Event).where(Event.type == "ingest.media_refused")).one()
    assert event.payload["count"] == 3 and event.payload["loaded"] is False


def test_skip_refused_loads_the_good_files_and_lists_the_rest(archive, session, admin, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = media.load_collection(
        session, admin, archive, [wav(tmp_path / "guide.wav"), empty], skip_refused=True
    )
    session.commit()
    assert result.version == 1 and [s["name"] for s in result.stored] == ["guide.wav"]
    assert [(r["name"], r["key"]) for r in result.refused] == [
        ("empty.wav", "ingest.media.type_mismatch")
    ]


def test_decompression_bombs_are_refused(tmp_path):
    # far past Pillow's limit: Pillow raises DecompressionBombError at open
    with pytest.raises(media.ImageTooLarge) as huge:
        media.inspect(png_header_only(tmp_path / "bomb.png", 100_000, 100_000))
    assert huge.value.key == "ingest.media.image_too_large"
    assert "10000000000 pixels" in str(huge.value)
    # just past it: Pillow only warns; we refuse
    with pytest.raises(media.ImageTooLarge):
        media.inspect(png_header_only(tmp_path / "big.png", 10_000, 10_000))
    # past a stricter limit of our own
    with pytest.raises(media.ImageTooLarge, match="200 pixels, over the limit of 100"):
        media.inspect(png(tmp_path / "small.png"), max_pixels=100)


def test_oversized_damaged_and_unsafe_files_are_refused(tmp_path):
    with pytest.raises(media.MediaTooLarge, match="over the limit of 100 bytes for document"):
        media.inspect(pdf(tmp_path / "report.pdf"), max_bytes=100)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF garbage")
    with pytest.raises(media.MediaUnreadable, match=r"broken\.pdf is damaged"):
        media.inspect(broken)
    picture = bytearray(png(tmp_path / "map.png").read_bytes())
    picture[-20] ^= 0xFF  # a flipped bit in the image data: its checksum fails
    (tmp_path / "flipped.png").write_bytes(bytes(picture))
    with pytest.raises(media.MediaUnreadable):
        media.inspect(tmp_path / "flipped.png")
    entities = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
        '<cp:coreProperties xmlns:cp="c">&a;</cp:coreProperties>'
    )
    with pytest.raises(media.MediaUnreadable, match="declares a DTD"):
        media.inspect(docx(tmp_path / "laughs.docx", core=entities))
    zipped = tmp_path / "data.docx"
    with zipfile.ZipFile(zipped, "w") as out:
        out.writestr("readme.txt", "not a Word document")
    with pytest.raises(media.MediaTypeMismatch):
        media.inspect(zipped)
    with pytest.raises(media.MediaUnreadable):
        media.inspect(tmp_path / "missing.pdf")


def test_only_collection_tables_take_media(lake_env, session, admin, tmp_path):
    tables.create_table(session, admin, "plain_table", owner_org_id=7)
    with pytest.raises(media.NotACollection):
        media.load_collection(session, admin, "plain_table", [png(tmp_path / "a.png")])
