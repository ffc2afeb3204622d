"""The tree algorithms: RFC 6962 / Certificate Transparency vectors and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu.security.ledger import merkle

# The Certificate Transparency reference leaves and the roots after each (RFC 6962, SHA-256).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path) and (first, second, consistency proof) from CT's tests.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

SHA = merkle.MerkleHasher("sha256")
SM3 = merkle.MerkleHasher("sm3")


def test_sha256_tree_reproduces_the_certificate_transparency_roots():
    tree = merkle.MemoryTree("sha256", CT_LEAVES)
    for size, root in enumerate(CT_ROOTS):
        assert tree.root(size).hex() == root
        assert merkle.reference_root(SHA, CT_LEAVES[:size]).hex() == root


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_sha256_inclusion_proofs_match_ct(index, size, path):
    tree = merkle.MemoryTree("sha256", CT_LEAVES)
    assert [p.hex() for p in tree.inclusion_proof(index, size)] == path
    root = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(
        SHA, index, size, SHA.leaf(CT_LEAVES[index]), [bytes.fromhex(p) for p in path], root
    )


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_sha256_consistency_proofs_match_ct(old, new, path):
    tree = merkle.MemoryTree("sha256", CT_LEAVES)
    assert [p.hex() for p in tree.consistency_proof(old, new)] == path
    assert merkle.verify_consistency(
        SHA,
        old,
        new,
        bytes.fromhex(CT_ROOTS[old]),
        bytes.fromhex(CT_ROOTS[new]),
        [bytes.fromhex(p) for p in path],
    )


def test_sm3_tree_uses_the_same_shape_with_sm3():
    tree = merkle.MemoryTree("sm3", CT_LEAVES)
    assert tree.root(0) == SM3.algorithm.digest(b"")
    assert tree.root(1) == SM3.algorithm.digest(b"\x00")
    assert tree.root(2) == SM3.algorithm.digest(b"\x01" + SM3.leaf(b"") + SM3.leaf(b"\x00"))
    assert tree.root(8) == merkle.reference_root(SM3, CT_LEAVES)


def test_split_is_the_largest_power_of_two_below_n():
    assert [merkle.split(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == [1, 2, 2, 4, 4, 8, 512]


def _leaves(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["sm3", "sha256"]), st.integers(1, 300), st.data())
def test_every_generated_inclusion_proof_verifies_and_matches_the_reference_root(alg, size, data):
    tree = merkle.MemoryTree(alg, _leaves(size + data.draw(st.integers(0, 20))))
    hasher = tree.hasher
    index = data.draw(st.integers(0, size - 1))
    root = tree.root(size)
    assert root == merkle.reference_root(hasher, _leaves(size))
    proof = tree.inclusion_proof(index, size)
    leaf = tree.levels[0][index]
    assert merkle.verify_inclusion(hasher, index, size, leaf, proof, root)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 300), st.data())
def test_mangled_inclusion_proofs_are_refused(size, data):
    tree = merkle.MemoryTree("sm3", _leaves(size))
    index = data.draw(st.integers(0, size - 1))
    proof, root, leaf = tree.inclusion_proof(index, size), tree.root(size), tree.levels[0][index]
    h = tree.hasher
    other_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    assert not merkle.verify_inclusion(h, other_index, size, leaf, proof, root)  # wrong index
    # Wrong size. (A neighbouring size can share the path's shape: that is why receipts take
    # the size from the signed checkpoint, never from the holder.)
    assert not merkle.verify_inclusion(h, index, size * 2, leaf, proof, root)
    assert not merkle.verify_inclusion(h, index, size // 2, leaf, proof, root)
    assert not merkle.verify_inclusion(h, index, size, tree.levels[0][other_index], proof, root)
    assert not merkle.verify_inclusion(h, index, size, leaf, proof, h.empty_root())
    assert not merkle.verify_inclusion(h, index, size, leaf, [*proof, root], root)  # extra node
    assert not merkle.verify_inclusion(h, index, size, leaf, [root, *proof], root)
    assert not merkle.verify_inclusion(h, index, size, leaf, proof[:-1], root)  # missing node
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 8 * h.size - 1))
    flipped = bytearray(proof[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    bad = [*proof]
    bad[position] = bytes(flipped)
    assert not merkle.verify_inclusion(h, index, size, leaf, bad, root)  # flipped bit
    assert not merkle.verify_inclusion(h, index, size, leaf, [p[:-1] for p in proof], root)
    assert not merkle.verify_inclusion(h, size, size, leaf, proof, root)
    assert not merkle.verify_inclusion(h, -1, size, leaf, proof, root)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["sm3", "sha256"]), st.integers(1, 300), st.data())
def test_every_generated_consistency_proof_verifies(alg, new, data):
    tree = merkle.MemoryTree(alg, _leaves(new))
    old = data.draw(st.integers(0, new))
    proof = tree.consistency_proof(old, new)
    assert merkle.verify_consistency(tree.hasher, old, new, tree.root(old), tree.root(new), proof)


@settings(max_examples=150, deadline=None)
@given(st.integers(3, 300), st.data())
def test_mangled_consistency_proofs_are_refused(new, data):
    tree = merkle.MemoryTree("sm3", _leaves(new))
    h = tree.hasher
    old = data.draw(st.integers(1, new - 1))
    proof, r1, r2 = tree.consistency_proof(old, new), tree.root(old), tree.root(new)
    assert not merkle.verify_consistency(h, old, new, r2, r1, proof)  # swapped roots
    assert not merkle.verify_consistency(h, old, new, r1, r1, proof)
    assert not merkle.verify_consistency(h, old, new, r1, r2, [])  # empty
    assert not merkle.verify_consistency(h, old, new, r1, r2, proof[:-1])  # missing node
    assert not merkle.verify_consistency(h, old, new, r1, r2, [*proof, r1])  # extra node
    assert not merkle.verify_consistency(h, old, new, r1, r2, [r2, *proof])
    assert not merkle.verify_consistency(h, new, old, r2, r1, proof)  # time travel
    if old + 1 < new:
        assert not merkle.verify_consistency(h, old + 1, new, tree.root(old + 1), r2, proof)
        assert not merkle.verify_consistency(h, old, new - 1, r1, tree.root(new - 1), proof)
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    flipped = bytearray(proof[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    bad = [*proof]
    bad[position] = bytes(flipped)
    assert not merkle.verify_consistency(h, old, new, r1, r2, bad)  # flipped bit


def test_degenerate_consistency_cases_follow_rfc_9162():
    tree = merkle.MemoryTree("sha256", CT_LEAVES)
    r4, r5 = tree.root(4), tree.root(5)
    assert merkle.verify_consistency(SHA, 4, 4, r4, r4, [])
    assert not merkle.verify_consistency(SHA, 4, 4, r4, r5, [])
    assert not merkle.verify_consistency(SHA, 4, 4, r4, r4, [r4])
    assert merkle.verify_consistency(SHA, 0, 8, SHA.empty_root(), tree.root(8), [])
    assert not merkle.verify_consistency(SHA, 0, 8, SHA.empty_root(), tree.root(8), [r4])


def test_proof_requests_outside_the_tree_are_refused():
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(6, 5)
