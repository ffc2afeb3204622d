from __future__ import annotations

import pytest
from gmalg.ellipticcurve import ECDLP
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu.security.crypto import sm2
from longshu.security.crypto.errors import InvalidKey, UnknownAlgorithm
from longshu.security.crypto.signing import ED25519, SM2_SM3, PublicKey, SigningKey

MESSAGE = b"message digest"

# GM/T 0003.5-2012 / GB/T 32918.5 example on the recommended curve, ID "1234567812345678".
GM_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
GM_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
GM_PUBLIC = (
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
GM_SIGNATURE = (
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)

# GB/T 32918.2-2016 Annex A example: the Fp-256 test curve, ID "ALICE123@YAHOO.COM".
ANNEX_A_CURVE = ECDLP(
    0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    (
        0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
        0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    ),
    0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
ANNEX_A_D = 0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263
ANNEX_A_K = 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F
ANNEX_A_SIGNATURE = (
    "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
    "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"
)


def test_sm2_reproduces_the_gmt_0003_5_example_with_its_fixed_k():
    public = sm2.encode_point(sm2.public_point(GM_D))
    assert public.hex().upper() == GM_PUBLIC
    signature = sm2.sign(GM_D, MESSAGE, nonce=lambda bits: GM_K)
    assert signature.hex().upper() == GM_SIGNATURE
    assert sm2.verify(public, MESSAGE, signature)


def test_sm2_reproduces_the_gbt_32918_2_annex_a_example():
    signature = sm2.sign(
        ANNEX_A_D, MESSAGE, b"ALICE123@YAHOO.COM", curve=ANNEX_A_CURVE, nonce=lambda b: ANNEX_A_K
    )
    assert signature.hex().upper() == ANNEX_A_SIGNATURE
    public = sm2.encode_point(ANNEX_A_CURVE.kG(ANNEX_A_D), ANNEX_A_CURVE)
    assert sm2.verify(public, MESSAGE, signature, b"ALICE123@YAHOO.COM", curve=ANNEX_A_CURVE)
    assert not sm2.verify(public, MESSAGE, signature, b"BOB", curve=ANNEX_A_CURVE)


def test_published_signature_is_refused_for_another_message_id_or_bit():
    public = bytes.fromhex(GM_PUBLIC)
    signature = bytes.fromhex(GM_SIGNATURE)
    assert not sm2.verify(public, MESSAGE + b".", signature)
    assert not sm2.verify(public, MESSAGE, signature, b"8765432187654321")
    flipped = bytearray(signature)
    flipped[40] ^= 1
    assert not sm2.verify(public, MESSAGE, bytes(flipped))
    assert not sm2.verify(public, MESSAGE, signature[:63])
    assert not sm2.verify(b"\x04" + b"\x00" * 64, MESSAGE, signature)  # not on the curve


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=sm2.N - 1))
def test_fast_scalar_multiplication_agrees_with_gmalg(k):
    plain = ECDLP(sm2.P, sm2.A, sm2.B, (sm2.GX, sm2.GY), sm2.N)
    assert sm2.CURVE.kG(k) == plain.kG(k)
    point = plain.kG(12345)
    assert sm2.CURVE.ec.mul(k, point) == plain.ec.mul(k, point)


def test_scalar_multiplication_by_the_order_is_infinity():
    assert sm2.CURVE.kG(sm2.N) == sm2.CURVE.ec.INF
    assert sm2.CURVE.ec.mul(sm2.N, sm2.CURVE.G) == sm2.CURVE.ec.INF


def test_two_signatures_of_one_message_use_fresh_nonces():
    key = SigningKey.generate(SM2_SM3)
    a, b = key.sign(MESSAGE), key.sign(MESSAGE)
    assert a != b
    assert key.public.verify(MESSAGE, a) and key.public.verify(MESSAGE, b)


@pytest.mark.parametrize("algorithm", [SM2_SM3, ED25519])
def test_signing_keys_round_trip_through_their_published_form(algorithm):
    key = SigningKey.generate(algorithm)
    signature = key.sign(b"checkpoint")
    assert len(signature) == 64
    published = PublicKey.from_json(key.public.as_json())
    assert published.key_id == key.key_id
    assert published.verify(b"checkpoint", signature)
    assert not published.verify(b"checkpoint!", signature)
    again = SigningKey(algorithm, key.private_bytes())
    assert again.key_id == key.key_id


def test_ed25519_matches_rfc_8032_test_1():
    key = SigningKey(
        ED25519, bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert key.public.public_bytes.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb882"
        "1590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_bad_keys_and_algorithms_are_refused():
    with pytest.raises(UnknownAlgorithm):
        SigningKey.generate("rsa")
    with pytest.raises(InvalidKey):
        SigningKey(SM2_SM3, b"\x00" * 32)
    with pytest.raises(InvalidKey):
        PublicKey(SM2_SM3, b"\x04" + b"\x01" * 64)
    with pytest.raises(InvalidKey):
        PublicKey.from_json({"algorithm": "ed25519", "public_key": "zz"})
    key = SigningKey.generate(ED25519).public.as_json()
    key["key_id"] = "0" * 16
    with pytest.raises(InvalidKey):
        PublicKey.from_json(key)


@settings(max_examples=10, deadline=None)
@given(
    st.integers(min_value=1, max_value=sm2.N - 2),
    st.binary(max_size=64),
    st.integers(min_value=0, max_value=511),
)
def test_fast_verification_agrees_with_gmalgs_protocol(d, message, flip):
    """``sm2.verify`` sums s·G + t·P in one accumulator; gmalg's SM2Core on the plain curve
    must reach the same answer for good signatures and for ones with any one bit flipped."""
    plain = ECDLP(sm2.P, sm2.A, sm2.B, (sm2.GX, sm2.GY), sm2.N)
    point = plain.kG(d)
    public = sm2.encode_point(point)
    good = sm2.sign(d, message)
    bad = bytearray(good)
    bad[flip // 8] ^= 1 << (flip % 8)
    for signature in (good, bytes(bad)):
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        expected = sm2.core(plain).verify(message, r, s, sm2.DEFAULT_ID, point)
        for _ in range(4):  # the fourth use goes through the key's fixed-base table
            assert sm2.verify(public, message, signature) == expected
    assert sm2.verify(public, message, good)
