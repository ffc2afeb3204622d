from __future__ import annotations

import io
import json
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from longshu.actor import ANONYMOUS, SYSTEM
from longshu.errors import Forbidden, NotSignedIn
from longshu.events import Event
from longshu.security.crypto import aead, envelope, service
from longshu.security.crypto.errors import DecryptionFailed, InvalidDatasetName, InvalidKey
from longshu.security.crypto.keystore import KeyStore


@pytest.fixture
def store(tmp_path):
    return KeyStore(tmp_path / "keys")


def test_sm4_matches_the_gbt_32907_example():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert enc.update(key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_key_files_are_private_and_made_once(store):
    key = envelope.data_key("population", store)
    assert envelope.data_key("population", store) == key
    for path in [*store.root.rglob("*.key"), *store.root.glob("data/*.json")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signing = store.signing_key()
    assert stat.S_IMODE((store.root / "signing" / f"{signing.key_id}.json").stat().st_mode) == 0o600
    assert store.signing_key().key_id == signing.key_id


def test_data_key_file_holds_only_the_wrapped_key(store):
    key = envelope.data_key("population", store)
    text = (store.root / "data" / "population.json").read_text()
    assert key.key.hex() not in text
    assert json.loads(text)["algorithm"] == "sm4-gcm"


def test_bad_dataset_names_are_refused(store):
    for name in ["", "../etc", "a/b", "x" * 101, "人口"]:
        with pytest.raises(InvalidDatasetName):
            envelope.data_key(name, store)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), segment=st.integers(min_value=1, max_value=700))
def test_streams_round_trip_at_any_length(store, data, segment):
    out = io.BytesIO()
    envelope.encrypt_stream("lake", io.BytesIO(data), out, segment_size=segment, store=store)
    back = io.BytesIO()
    envelope.decrypt_stream(io.BytesIO(out.getvalue()), back, dataset="lake", store=store)
    assert back.getvalue() == data


def _encrypted(store, data=b"x" * 1000, segment=100):
    out = io.BytesIO()
    envelope.encrypt_stream("lake", io.BytesIO(data), out, segment_size=segment, store=store)
    return out.getvalue()


def _decrypt(store, blob, dataset="lake"):
    envelope.decrypt_stream(io.BytesIO(blob), io.BytesIO(), dataset=dataset, store=store)


def test_tampered_streams_are_refused(store):
    blob = _encrypted(store)
    header_len = len(blob) - 10 * (100 + 16) - 16
    seg = 116
    body = blob[header_len:]
    segments = [body[i : i + seg] for i in range(0, len(body), seg)]
    flipped = bytearray(blob)
    flipped[-5] ^= 1
    cases = {
        "bit flip": bytes(flipped),
        "truncated at a segment boundary": blob[: header_len + 10 * seg],
        "segments swapped": blob[:header_len] + b"".join([segments[1], segments[0], *segments[2:]]),
        "segment dropped": blob[:header_len] + b"".join(segments[:3] + segments[4:]),
        "extended": blob + segments[-1],
        "header changed": blob[:20] + bytes([blob[20] ^ 1]) + blob[21:],
    }
    for name, bad in cases.items():
        with pytest.raises(DecryptionFailed):
            _decrypt(store, bad)
        assert name


def test_stream_of_another_dataset_or_garbage_is_refused(store):
    blob = _encrypted(store)
    with pytest.raises(DecryptionFailed):
        _decrypt(store, blob, dataset="other")
    with pytest.raises(DecryptionFailed):
        _decrypt(store, b"not encrypted at all")


def test_files_decrypt_only_when_whole(store, tmp_path):
    src = tmp_path / "batch.csv"
    src.write_bytes("身份证号,姓名\n".encode() * 10000)
    enc, dec = tmp_path / "batch.csv.lse", tmp_path / "out.csv"
    envelope.encrypt_file("delivery-7", src, enc, store)
    envelope.decrypt_file(enc, dec, dataset="delivery-7", store=store)
    assert dec.read_bytes() == src.read_bytes()
    enc.write_bytes(enc.read_bytes()[:-1])
    dec.unlink()
    with pytest.raises(DecryptionFailed):
        envelope.decrypt_file(enc, dec, store=store)
    assert not dec.exists()
    assert [p.name for p in tmp_path.glob(".*part")] == []


def test_values_round_trip_and_bind_dataset_and_context(store):
    token = envelope.encrypt_value("population", b"620102199001011234", b"row-1", store)
    assert envelope.decrypt_value("population", token, b"row-1", store) == b"620102199001011234"
    with pytest.raises(DecryptionFailed):
        envelope.decrypt_value("population", token, b"row-2", store)
    with pytest.raises(DecryptionFailed):
        envelope.decrypt_value("other", token, b"row-1", store)
    with pytest.raises(DecryptionFailed):
        envelope.decrypt_value("population", b"junk", b"", store)


def test_master_rotation_rewraps_without_touching_data(store):
    token = envelope.encrypt_value("population", b"secret", store=store)
    blob = _encrypted(store)
    old_master, _ = store.master_key()
    old_id, new_id, count = envelope.rotate_master_key(store)
    assert (old_id, count) == (old_master, 2)
    assert store.master_key_ids() == [new_id]
    for path in store.data_key_paths():
        assert json.loads(path.read_text())["master_key_id"] == new_id
    assert envelope.decrypt_value("population", token, store=store) == b"secret"
    _decrypt(store, blob)


def test_pseudonyms_are_stable_per_consumer_and_differ_between_consumers(store):
    a = envelope.pseudonymizer("population", "org-12", store)
    b = envelope.pseudonymizer("population", "org-13", store)
    assert a("620102199001011234") == a("620102199001011234")
    assert a("620102199001011234") != b("620102199001011234")
    before = a("x")
    envelope.rotate_master_key(store)
    assert envelope.pseudonymizer("population", "org-12", store)("x") == before
    with pytest.raises(InvalidKey):
        envelope.pseudonymizer("population", "", store)


def test_short_keys_are_refused():
    with pytest.raises(InvalidKey):
        aead.seal(b"short", b"x")


def test_signing_rotation_keeps_old_public_key_published(store):
    first = store.signing_key()
    signature = first.sign(b"old checkpoint")
    old_id, second = store.rotate_signing_key("ed25519")
    assert old_id == first.key_id
    assert store.signing_key().key_id == second.key_id
    keys = store.public_keys()
    assert [k["status"] for k in keys] == ["current", "retired"]
    assert store.verification_keys()[first.key_id].verify(b"old checkpoint", signature)
    assert not (store.root / "signing" / f"{first.key_id}.json").exists()


def test_key_rotation_service_needs_an_admin_and_emits_events(session, var_dir):
    with pytest.raises(NotSignedIn):
        service.rotate_master(session, ANONYMOUS)
    from longshu.actor import Actor

    with pytest.raises(Forbidden):
        service.rotate_master(session, Actor(kind="user", id=1, roles=frozenset({"auditor"})))
    result = service.rotate_master(session, SYSTEM)
    key = service.rotate_signing(session, SYSTEM)
    session.commit()
    types = session.scalars(select(Event.type).order_by(Event.id)).all()
    assert types == ["keys.master_rotated", "keys.signing_rotated"]
    payloads = session.scalars(select(Event.payload).order_by(Event.id)).all()
    assert payloads[0]["new_key_id"] == result["new_key_id"]
    assert payloads[1]["new_key_id"] == key.key_id
