"""Attachments: stored once by SM3, checked for size, type and content, names made safe."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.workflow.workflow_cases import CONSUMER, PROVIDER_ORG, SHARE, events_of

from longshu.actor import ANONYMOUS
from longshu.errors import NotSignedIn
from longshu.workflow import (
    AttachmentContentMismatch,
    AttachmentCorrupted,
    AttachmentTooLarge,
    AttachmentTypeRefused,
    attach,
    history,
    read_attachment,
    sanitize_filename,
    start,
)
from longshu.workflow.attachments import MAX_FILENAME_CHARS, blob_path

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# SM3 of the bytes "abc", the example of GB/T 32905-2016 Annex A.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


@pytest.fixture
def instance(settings, session):
    inst = start(session, CONSUMER, SHARE, ("share_request", 7), PROVIDER_ORG)
    session.commit()
    return inst


def stored_files(settings):
    root = settings.attachments_root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_pdf_is_stored_under_its_sm3_hash_and_announced(settings, session, instance):
    record = attach(session, CONSUMER, instance, "申请函.pdf", PDF, "application/pdf")
    session.commit()
    assert (record.filename, record.media_type, record.size) == (
        "申请函.pdf",
        "application/pdf",
        len(PDF),
    )
    assert blob_path(settings.attachments_root, record.sm3).read_bytes() == PDF
    assert read_attachment(session, record.id) == PDF
    (event,) = events_of(session, "workflow.attached")
    assert event.payload["sm3"] == record.sm3 and event.payload["size"] == len(PDF)
    assert event.payload["attachment"] == record.id
    assert [e.kind for e in history(session, instance)] == ["step", "attachment"]


def test_the_hash_is_sm3_as_the_standard_defines_it(settings, session, instance):
    record = attach(session, CONSUMER, instance, "abc.csv", b"abc", "text/csv")
    assert record.sm3 == SM3_ABC


def test_the_same_file_attached_twice_is_stored_once(settings, session, instance):
    first = attach(session, CONSUMER, instance, "a.pdf", PDF)
    second = attach(session, CONSUMER, instance, "copy of a.pdf", io.BytesIO(PDF))
    assert first.id != second.id and first.sm3 == second.sm3
    assert len(stored_files(settings)) == 1


def test_an_oversized_file_is_refused_and_leaves_nothing_behind(settings, session, instance):
    too_big = io.BytesIO(PDF + b"0" * 5000)  # the policy allows 4096 bytes
    with pytest.raises(AttachmentTooLarge) as caught:
        attach(session, CONSUMER, instance, "big.pdf", too_big, "application/pdf")
    assert caught.value.status == 413 and caught.value.params["limit"] == 4096
    assert stored_files(settings) == []
    assert events_of(session, "workflow.attached") == []


def test_a_type_the_workflow_does_not_accept_is_refused(settings, session, instance):
    with pytest.raises(AttachmentTypeRefused) as caught:
        attach(session, CONSUMER, instance, "说明.txt", "你好".encode(), "text/plain")
    assert caught.value.status == 415
    with pytest.raises(AttachmentTypeRefused):
        attach(session, CONSUMER, instance, "setup.exe", b"MZ\x90\x00")
    with pytest.raises(AttachmentTypeRefused):
        attach(session, CONSUMER, instance, "x.pdf", PDF, "application/x-msdownload")


def test_content_that_is_not_what_it_claims_is_refused(settings, session, instance):
    with pytest.raises(AttachmentContentMismatch):
        attach(session, CONSUMER, instance, "invoice.pdf", b"MZ\x90\x00 not a pdf")
    with pytest.raises(AttachmentContentMismatch):
        attach(session, CONSUMER, instance, "scan.png", PDF, "image/png")
    with pytest.raises(AttachmentContentMismatch):  # name and declared type disagree
        attach(session, CONSUMER, instance, "scan.pdf", PDF, "image/png")
    with pytest.raises(AttachmentContentMismatch):
        attach(session, CONSUMER, instance, "empty.pdf", b"")
    assert stored_files(settings) == []


def test_csv_must_be_utf8_text(settings, session, instance):
    with pytest.raises(AttachmentContentMismatch):
        attach(session, CONSUMER, instance, "名单.csv", "姓名,单位\n张三,省数据局\n".encode("gbk"))
    with pytest.raises(AttachmentContentMismatch):
        attach(session, CONSUMER, instance, "nul.csv", b"a,b\x00\n")
    record = attach(session, CONSUMER, instance, "名单.csv", "字段,说明\n人口,户籍人口\n".encode())
    assert record.media_type == "text/csv"


def test_a_path_in_the_filename_is_dropped(settings, session, instance):
    record = attach(session, CONSUMER, instance, "..\\..\\windows\\审批表.pdf", PDF)
    assert record.filename == "审批表.pdf"
    record = attach(session, CONSUMER, instance, "../../etc/.passwd.pdf", PDF)
    assert record.filename == "passwd.pdf"


def test_a_changed_stored_file_is_detected_on_read(settings, session, instance):
    record = attach(session, CONSUMER, instance, "a.pdf", PDF)
    blob_path(settings.attachments_root, record.sm3).write_bytes(PDF + b"tampered")
    with pytest.raises(AttachmentCorrupted):
        read_attachment(session, record)


def test_anonymous_visitors_cannot_attach(settings, session, instance):
    with pytest.raises(NotSignedIn):
        attach(session, ANONYMOUS, instance, "a.pdf", PDF)


@given(st.text(max_size=400))
def test_sanitized_names_are_safe(name):
    clean = sanitize_filename(name)
    assert clean and len(clean) <= MAX_FILENAME_CHARS
    assert not any(ch in clean for ch in '/\\<>:"|?*')
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in clean)
    assert not clean.startswith((".", " ")) and not clean.endswith((".", " "))
    assert sanitize_filename(clean) == clean


def test_long_names_keep_their_extension():
    name = "甘肃省" * 100 + ".pdf"
    clean = sanitize_filename(name)
    assert clean.endswith(".pdf") and len(clean) == MAX_FILENAME_CHARS
