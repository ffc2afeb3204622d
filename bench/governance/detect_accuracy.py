"""Precision and recall of every detector over the labelled synthetic corpus
(longshu.governance.detect.corpus), value by value (classify_value, each value under its
column name) and column by column (detect_column on columns made of corpus values of one kind
or one negative family, named as the corpus names them or unnamed). Writes
bench/results/governance-detect-accuracy.json and prints a table.

Targets (issue 6): >= 0.99 / 0.99 for checksum-backed kinds, >= 0.95 / 0.90 for person names
and addresses. A missed target is printed as MISSED, and a kind without a detector as absent.

Run: .venv/bin/python bench/governance/detect_accuracy.py [n_per_kind=2000] [seed=20261129]
     [column_size=50]
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa

from longshu.governance.detect import DETECTORS, classify_values, detect_column
from longshu.governance.detect.corpus import POSITIVES, LabelledValue, generate

RESULTS = Path(__file__).resolve().parents[1] / "results" / "governance-detect-accuracy.json"
TARGETS = {
    **{d.code: (0.99, 0.99) for d in DETECTORS.values() if d.checksum_backed},
    "person_name": (0.95, 0.90),
    "address": (0.95, 0.90),
}


def score(tp: int, fp: int, fn: int, target: tuple[float, float] | None) -> dict:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    met = None
    if target is not None and precision is not None and recall is not None:
        met = precision >= target[0] and recall >= target[1]
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall,
            "target": target, "met": met}  # fmt: skip


def value_level(corpus: list[LabelledValue], kinds: list[str]) -> tuple[dict, dict]:
    by_hint: dict[str | None, list[int]] = defaultdict(list)
    for index, value in enumerate(corpus):
        by_hint[value.column_hint].append(index)
    predicted: list[set[str]] = [set() for _ in corpus]
    for hint, indexes in by_hint.items():
        found = classify_values([corpus[i].value for i in indexes], hint)
        for index, kinds_found in zip(indexes, found, strict=True):
            predicted[index] = kinds_found
    scores, confusions = {}, {}
    for kind in kinds:
        pairs = list(zip(corpus, predicted, strict=True))
        tp = sum(v.kind == kind and kind in p for v, p in pairs)
        fp = [v for v, p in pairs if v.kind != kind and kind in p]
        fn = [v for v, p in pairs if v.kind == kind and kind not in p]
        scores[kind] = score(tp, len(fp), len(fn), TARGETS.get(kind))
        confusions[kind] = {
            "false_positives_by_family": dict(Counter(v.kind or v.note for v in fp)),
            "false_positive_examples": [v.value for v in fp[:5]],
            "missed_examples": [[v.value, v.column_hint] for v in fn[:5]],
        }
    return scores, confusions


def columns_of(corpus: list[LabelledValue], size: int) -> list[tuple[str, str | None, list[str]]]:
    """(name, true kind, values): values of one kind (or one negative family) and one column
    name, cut into columns of ``size``; unnamed groups get a neutral name."""
    groups: dict[tuple[str | None, str, str | None], list[str]] = defaultdict(list)
    for v in corpus:
        groups[(v.kind, v.note, v.column_hint)].append(v.value)
    columns = []
    for (kind, _note, hint), values in groups.items():
        for start in range(0, len(values), size):
            name = hint or f"field_{len(columns)}"
            columns.append((name, kind, values[start : start + size]))
    return columns


def column_level(corpus: list[LabelledValue], kinds: list[str], size: int) -> dict:
    columns = columns_of(corpus, size)
    found = [{f.type for f in detect_column(name, pa.array(values))} for name, _, values in columns]
    scores = {}
    for kind in kinds:
        tp = sum(k == kind and kind in f for (_, k, _), f in zip(columns, found, strict=True))
        fp = sum(k != kind and kind in f for (_, k, _), f in zip(columns, found, strict=True))
        fn = sum(k == kind and kind not in f for (_, k, _), f in zip(columns, found, strict=True))
        scores[kind] = score(tp, fp, fn, TARGETS.get(kind))
    return {"columns": len(columns), "scores": scores}


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.4f}"


def main(argv: list[str]) -> None:
    n_per_kind = int(argv[1]) if len(argv) > 1 else 2000
    seed = int(argv[2]) if len(argv) > 2 else 20261129
    size = int(argv[3]) if len(argv) > 3 else 50
    started = time.perf_counter()
    corpus = generate(n_per_kind, seed)
    kinds = sorted(set(POSITIVES) | set(DETECTORS))
    measured = [k for k in kinds if k in DETECTORS]
    absent = [k for k in kinds if k not in DETECTORS]
    values, confusions = value_level(corpus, measured)
    columns = column_level(corpus, measured, size)
    result = {
        "bench": "governance detector accuracy",
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python bench/governance/detect_accuracy.py " + " ".join(argv[1:]),
        "machine": platform.platform(),
        "n_per_kind": n_per_kind,
        "seed": seed,
        "corpus_values": len(corpus),
        "corpus_positive_kinds": sorted(POSITIVES),
        "kinds_without_corpus_positives": [k for k in measured if k not in POSITIVES],
        "kinds_without_detector": absent,
        "value_level": values,
        "value_level_confusions": confusions,
        "column_size": size,
        "column_level": columns,
        "seconds": round(time.perf_counter() - started, 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(corpus)} values, {columns['columns']} columns; seed {seed}")
    print(f"{'kind':<16} {'value P':>8} {'value R':>8} {'column P':>9} {'column R':>9}  target")
    for kind in measured:
        v, c = values[kind], columns["scores"][kind]
        target = v["target"]
        verdict = "" if target is None else ("met" if v["met"] and c["met"] else "MISSED")
        shown = "" if target is None else f"{target[0]}/{target[1]} {verdict}"
        print(f"{kind:<16} {fmt(v['precision']):>8} {fmt(v['recall']):>8} "
              f"{fmt(c['precision']):>9} {fmt(c['recall']):>9}  {shown}")  # fmt: skip
    for kind in absent:
        print(f"{kind:<16} absent: no detector with this code is registered")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
