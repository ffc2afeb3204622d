"""The accuracy corpus: deterministic, labelled as its generators promise, and read back by
the detectors at the precision and recall the issue asks of checksum-backed kinds."""

from __future__ import annotations

from collections import Counter, defaultdict

from longshu import ids
from longshu.governance.detect import DETECTORS, classify_values
from longshu.governance.detect.corpus import NEGATIVES, POSITIVES, generate, luhn_check_digit
from longshu.governance.detect.identifiers import gansu_prefectures


def test_the_same_seed_gives_the_same_corpus():
    assert generate(15, seed=4) == generate(15, seed=4)
    assert generate(15, seed=4) != generate(15, seed=5)


def test_every_kind_and_negative_family_has_its_share():
    corpus = generate(10, seed=1)
    kinds = Counter(v.kind for v in corpus if v.kind)
    notes = Counter(v.note for v in corpus if v.kind is None)
    assert kinds == dict.fromkeys(POSITIVES, 10)
    assert notes == dict.fromkeys(NEGATIVES, 10)
    assert set(POSITIVES) >= {d for d in DETECTORS if d in POSITIVES}


def test_labels_hold_by_the_reference_validators():
    corpus = generate(80, seed=2)
    for v in corpus:
        if v.kind == "resident_id":
            assert ids.check_resident_id(v.value), v
        elif v.kind == "credit_code":
            assert ids.check_credit_code(v.value), v
        elif v.kind == "bank_card":
            digits = v.value.replace(" ", "")
            assert luhn_check_digit(digits[:-1]) == digits[-1], v
        elif v.note in ("id_wrong_check", "id_bad_date"):
            assert not ids.check_resident_id(v.value), v
        elif v.note == "id_bad_region":  # ids knows provinces; Gansu's list knows prefectures
            assert not ids.check_resident_id(v.value) or v.value[:4] not in gansu_prefectures()
        elif v.note == "credit_wrong_check":
            assert not ids.check_credit_code(v.value), v
        elif v.note == "card_luhn_fail":
            assert luhn_check_digit(v.value[:-1]) != v.value[-1], v


def test_checksum_kinds_reach_their_targets_on_the_corpus():
    corpus = generate(300, seed=9)
    by_hint = defaultdict(list)
    for index, v in enumerate(corpus):
        by_hint[v.column_hint].append(index)
    predicted: list[set[str]] = [set()] * len(corpus)
    for hint, indexes in by_hint.items():
        for index, kinds in zip(
            indexes, classify_values([corpus[i].value for i in indexes], hint), strict=True
        ):
            predicted[index] = kinds
    for kind in ("resident_id", "credit_code", "bank_card"):
        tp = sum(v.kind == kind and kind in p for v, p in zip(corpus, predicted, strict=True))
        fp = sum(v.kind != kind and kind in p for v, p in zip(corpus, predicted, strict=True))
        fn = sum(v.kind == kind and kind not in p for v, p in zip(corpus, predicted, strict=True))
        assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.99, (kind, tp, fp, fn)
