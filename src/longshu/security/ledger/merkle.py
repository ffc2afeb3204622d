"""The Merkle tree of RFC 6962 / RFC 9162 §2.1, over any hash (SM3 or SHA-256).

leaf hash = H(0x00 ‖ data); node hash = H(0x01 ‖ left ‖ right); a tree of n > 1 leaves splits
at k, the largest power of two smaller than n. With SHA-256 the roots and proofs are byte for
byte those of Certificate Transparency.

Storage works with *complete subtrees*: node (level, index) covers leaves
[index·2^level, (index+1)·2^level). Any range the RFC's recursion touches decomposes into a few
such nodes, so proofs need only stored complete nodes (``ranges`` → ``nodes_for_range``).
Verification (``verify_inclusion``, ``verify_consistency``) follows RFC 9162 §2.1.3.2 and
§2.1.4.2 and shares no code with proof generation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat

from longshu.security.crypto.hashing import HashAlgorithm, equal, hash_algorithm

Node = tuple[int, int]  # (level, index)
_PARENTS_CHUNK = 8192  # hash states alive at once in ``parents``
Range = tuple[int, int]  # [start, end)


class MerkleHasher:
    """Leaf and node hashing for one algorithm id."""

    def __init__(self, algorithm_id: str) -> None:
        self.algorithm: HashAlgorithm = hash_algorithm(algorithm_id)
        self.id = algorithm_id
        self.size = self.algorithm.size
        self._leaf = self.algorithm.new(b"\x00")
        self._node = self.algorithm.new(b"\x01")

    def leaf(self, data: bytes) -> bytes:
        state = self._leaf.copy()
        state.update(data)
        return state.digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        state = self._node.copy()
        state.update(left)
        state.update(right)
        return state.digest()

    def leaf_hashes(self, datas: Iterable[bytes]) -> bytes:
        """The leaf hashes of ``datas``, packed into one byte string (32 bytes each)."""
        start = self._leaf.copy
        out: list[bytes] = []
        keep = out.append
        for data in datas:
            state = start()
            state.update(data)
            keep(state.digest())
        return b"".join(out)

    def parents(self, level: bytes | bytearray | memoryview) -> bytes:
        """The level above a packed level: H(0x01 ‖ left ‖ right) for each adjacent pair (a
        lone last hash has no parent), packed. The loop runs in C (``map`` over the hash
        type's own methods), not in Python bytecode: at 65 bytes a node, the per-call cost is
        most of a hash."""
        pair = 2 * self.size
        view = memoryview(level)
        end = len(view) // pair * pair
        kind = type(self._node)
        out: list[bytes] = []
        for first in range(0, end, _PARENTS_CHUNK * pair):
            last = min(end, first + _PARENTS_CHUNK * pair)
            states = list(map(kind.copy, repeat(self._node, (last - first) // pair)))
            pairs = map(slice, range(first, last, pair), range(first + pair, last + 1, pair))
            deque(map(kind.update, states, map(view.__getitem__, pairs)), maxlen=0)
            out.append(b"".join(map(kind.digest, states)))
        return b"".join(out)

    def empty_root(self) -> bytes:
        return self.algorithm.digest(b"")

    def fold(self, hashes: Sequence[bytes]) -> bytes:
        """Root of consecutive complete subtrees of decreasing size (the right-edge rule)."""
        if not hashes:
            return self.empty_root()
        root = hashes[-1]
        for left in reversed(hashes[:-1]):
            root = self.node(left, root)
        return root


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def nodes_for_range(start: int, end: int) -> list[Node]:
    """The complete subtrees covering [start, end), largest first. ``start`` must be aligned to
    the largest power of two ≥ the range size, as every range of the RFC recursion is."""
    nodes, size = [], end - start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def frontier(size: int) -> list[Node]:
    """The complete subtrees whose fold is the root of a tree of ``size`` leaves."""
    return nodes_for_range(0, size)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form the audit path of leaf ``index`` (RFC 6962 §2.1.1),
    from the leaf upwards."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtrees forming the consistency proof between sizes ``old`` ≤ ``new``
    (RFC 6962 §2.1.2, SUBPROOF)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old == 0 or old == new:
        return []
    out: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        out.append((start, end))
    return out[::-1]


NodeLookup = Callable[[Iterable[Node]], dict[Node, bytes]]


def range_hashes(hasher: MerkleHasher, ranges: Sequence[Range], lookup: NodeLookup) -> list[bytes]:
    """Hashes of ``ranges`` from complete-subtree hashes fetched in one ``lookup`` call."""
    wanted = [nodes_for_range(a, b) for a, b in ranges]
    found = lookup({n for nodes in wanted for n in nodes})
    return [hasher.fold([found[n] for n in nodes]) for nodes in wanted]


class MemoryTree:
    """A whole tree in memory: the reference the stored tree is tested against."""

    def __init__(self, algorithm_id: str, leaves: Iterable[bytes] = ()) -> None:
        self.hasher = MerkleHasher(algorithm_id)
        self.levels: list[list[bytes]] = [[]]
        for data in leaves:
            self.append(data)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> None:
        self.append_hash(self.hasher.leaf(data))

    def append_hash(self, leaf_hash: bytes) -> None:
        self.levels[0].append(leaf_hash)
        level, index = 0, len(self.levels[0]) - 1
        while index % 2 == 1:
            if len(self.levels) == level + 1:
                self.levels.append([])
            left, right = self.levels[level][index - 1], self.levels[level][index]
            self.levels[level + 1].append(self.hasher.node(left, right))
            level, index = level + 1, index // 2

    def lookup(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        return {(lv, i): self.levels[lv][i] for lv, i in nodes}

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError("size beyond the tree")
        return self.hasher.fold([self.levels[lv][i] for lv, i in frontier(size)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        return range_hashes(self.hasher, inclusion_ranges(index, size), self.lookup)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return range_hashes(self.hasher, consistency_ranges(old, new), self.lookup)


def reference_root(hasher: MerkleHasher, leaves: Sequence[bytes]) -> bytes:
    """MTH straight from RFC 6962's recursive definition (for tests; O(n log n))."""
    if not leaves:
        return hasher.empty_root()
    if len(leaves) == 1:
        return hasher.leaf(leaves[0])
    k = split(len(leaves))
    return hasher.node(reference_root(hasher, leaves[:k]), reference_root(hasher, leaves[k:]))


# --- verification (RFC 9162) ---------------------------------------------------------------


def root_from_inclusion(
    hasher: MerkleHasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root an inclusion proof leads to, or None if the proof is malformed for (index, size)."""
    if not 0 <= index < size or len(leaf_hash) != hasher.size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if len(p) != hasher.size or sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    hasher: MerkleHasher,
    index: int,
    size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """True when ``proof`` shows leaf ``index`` with ``leaf_hash`` is in the tree (size, root)."""
    got = root_from_inclusion(hasher, index, size, leaf_hash, proof)
    return got is not None and equal(got, root)


def verify_consistency(
    hasher: MerkleHasher,
    old: int,
    new: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """True when ``proof`` shows the tree (old, old_root) is a prefix of (new, new_root)."""
    if not 0 <= old <= new or any(len(p) != hasher.size for p in proof):
        return False
    if len(old_root) != hasher.size or len(new_root) != hasher.size:
        return False
    if old == new:
        return not proof and equal(old_root, new_root)
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and equal(fr, old_root) and equal(sr, new_root)
