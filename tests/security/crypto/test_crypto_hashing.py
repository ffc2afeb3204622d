from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longshu.security.crypto import hashing
from longshu.security.crypto.errors import UnknownAlgorithm

# GB/T 32905-2016 Annex A examples.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@pytest.mark.parametrize("backend", ["hashlib", "cryptography"])
def test_sm3_matches_the_gbt_32905_examples_on_both_backends(backend):
    sm3 = hashing.sm3_backend(backend)
    assert sm3.hexdigest(b"abc") == SM3_ABC
    assert sm3.hexdigest(b"abcd" * 16) == SM3_ABCD16
    state = sm3.new(b"abcd" * 8)
    state.update(b"abcd" * 8)
    assert state.digest().hex() == SM3_ABCD16


@given(st.binary(max_size=300))
def test_sm3_backends_agree(data):
    assert hashing.sm3_backend("cryptography").digest(data) == hashing.sm3(data)


def test_sha256_is_plain_sha256():
    assert hashing.hash_algorithm("sha256").digest(b"abc") == hashlib.sha256(b"abc").digest()


def test_unknown_hash_algorithm_is_refused():
    with pytest.raises(UnknownAlgorithm):
        hashing.hash_algorithm("md5")


def test_hmac_sm3_is_rfc2104_over_sm3():
    key, msg = b"k" * 20, b"message"
    block = 64
    k = key.ljust(block, b"\x00")
    inner = hashing.sm3(bytes(b ^ 0x36 for b in k) + msg)
    expected = hashing.sm3(bytes(b ^ 0x5C for b in k) + inner)
    assert hashing.hmac_sm3(key, msg) == expected
    mac = hashing.HmacKey(key)
    assert mac.verify(msg, expected)
    assert not mac.verify(msg + b"!", expected)
