"""Detection throughput and accuracy beside Presidio, in one run on the same data.

Data: ``rows`` (default 1,000,000) synthetic rows of 10 columns named as a department would
name them — 身份证号, 手机号, 办公电话, 统一社会信用代码, 银行卡号, 电子邮箱, 车牌号, IP地址,
证件号码 (passports and permits), 订单号 (18-digit order numbers and phone-like serials: hard
negatives). About 2 % of cells are null and 3 % are corrupted (a wrong check character, a
10x/12x "phone"), labelled as no kind.

Ours: ``detect_column`` on every column, on the first ``sample`` rows and on all rows.
Presidio 2.2 (bench-only extra): ``AnalyzerEngine`` on its ``NoOpNlpEngine`` with custom
Chinese ``PatternRecognizer``s for the same kinds (``(?<!\\d)``/``(?!\\d)`` around digits, not
``\b``), given the same check-character validators through ``validate_result`` so precision
is comparable, analysing each cell of the first ``sample`` rows. Precision and recall of both
per kind, cell by cell, on that sample (ours via ``classify_values`` under the column name).
Writes bench/results/governance-detect-presidio.json.

Run: .venv/bin/pip install -e '.[bench-governance]'
     .venv/bin/python bench/governance/detect_vs_presidio.py [rows=1000000] [sample=20000] [seed=7]
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from faker import Faker
from presidio_analyzer import (
    AnalyzerEngine,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
)
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from longshu import ids
from longshu.demo.synthetic import credit_codes, gansu_places
from longshu.governance.detect import classify_values, detect_column
from longshu.governance.detect.corpus import generate
from longshu.governance.detect.documents import PROVINCES
from longshu.governance.detect.identifiers import gansu_prefectures
from longshu.governance.detect.registry import STRUCTURED_CODES

RESULTS = Path(__file__).resolve().parents[1] / "results" / "governance-detect-presidio.json"

# --- the peer -------------------------------------------------------------------------------

LANGUAGE = "zh"
# Chinese characters are word characters to Python's re, so \b finds no edge between 号 and
# a digit: digit runs are bounded by lookarounds instead (letters too: 17 digits + X is an ID).
NOT_DIGIT_BEFORE, NOT_DIGIT_AFTER = r"(?<![0-9])", r"(?![0-9])"
NOT_ALNUM_BEFORE, NOT_ALNUM_AFTER = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_PROVINCE_CODES = ids.PROVINCE_PREFIXES | ids.RESIDENCE_PERMIT_PREFIXES


def luhn(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def id_shaped(number: str) -> bool:
    """The same rule as identifiers.id_shaped_rows, for one value."""
    return (
        number[:2] in _PROVINCE_CODES
        and number[6:8] in ("19", "20")
        and number[10] in "01"
        and number[12] in "0123"
    )


def resident_id_valid(text: str) -> bool:
    number = text.upper()
    if not ids.check_resident_id(number).valid:
        return False
    return not number.startswith("62") or number[:4] in gansu_prefectures()


def credit_code_valid(text: str) -> bool:
    code = text.upper()
    if not ids.check_credit_code(code).valid:
        return False
    return not (code[:17].isdigit() and (code.startswith("62") or id_shaped(code)))


_CARD = re.compile(r"(?:4\d{15,18}|(?:62|5[1-5]|2[2-7]|35|6[045]|95)\d{14,17})")


def bank_card_valid(text: str) -> bool:
    number = re.sub(r"[\s\-]", "", text)  # 6222 0202 0000 1234 567
    if not _CARD.fullmatch(number) or not luhn(number):
        return False
    if number[0] == "2" and not 2221 <= int(number[:4]) <= 2720:
        return False
    return not (len(number) == 18 and id_shaped(number) and not resident_id_valid(number))


def coordinate_valid(text: str) -> bool:
    a, b = (float(x) for x in re.findall(r"-?\d{1,3}\.\d+", text))
    lng, lat = (73.4 <= a <= 135.1, 3.8 <= a <= 53.6), (73.4 <= b <= 135.1, 3.8 <= b <= 53.6)
    return (lng[0] and lat[1]) or (lat[0] and lng[1])


class Validated(PatternRecognizer):
    """A PatternRecognizer whose matches must also pass ``check``."""

    def __init__(self, entity: str, pattern: str, check, score: float = 0.6) -> None:
        super().__init__(
            supported_entity=entity,
            patterns=[Pattern(entity, pattern, score)],
            supported_language=LANGUAGE,
        )
        self._check = check

    def validate_result(self, pattern_text: str) -> bool | None:
        return bool(self._check(pattern_text))


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _recognizers() -> list[PatternRecognizer]:
    d_, _d = NOT_DIGIT_BEFORE, NOT_DIGIT_AFTER
    a_, _a = NOT_ALNUM_BEFORE, NOT_ALNUM_AFTER
    letter = "[A-HJ-NP-Z]"
    octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    plate_body = (f"(?:{letter}|\\d){{5}}|[DF](?:{letter}|\\d)\\d{{4}}|\\d{{5}}[DF]"
                  f"|(?:{letter}|\\d){{4}}[警学挂领港澳试超]")  # fmt: skip
    simple = {
        "mobile": a_
        + r"(?:\+?86[\- ]?|0086[\- ]?)?1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9\d)"
        r"[\- ]?\d{4}[\- ]?\d{4}" + _a,
        "landline": a_ + r"(?:\(0(?:10|2\d|[3-9]\d{2})\)|0(?:10|2\d|[3-9]\d{2}))[\- ]?[2-9]\d{6,7}"
        r"(?:(?:-|转|#)\d{1,6})?" + _a,
        "email": r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9])",
        "passport": a_ + f"(?:[EG]\\d{{8}}|E{letter}\\d{{7}})" + _a,
        "hk_macao_permit": a_ + f"(?:[HM](?:\\d{{10}}|\\d{{8}})|C\\d{{8}}|C{letter}\\d{{7}})" + _a,
        "taiwan_permit": a_ + r"L\d{8}" + _a,
        "plate": f"[{PROVINCES}][A-HJ-Z][·\\- ]?(?:{plate_body})" + _a,
        "ipv4": d_ + rf"(?<!\.){octet}(?:\.{octet}){{3}}(?!\.)" + _d,
    }
    recognizers = [
        Validated("resident_id", a_ + r"\d{17}[\dXx]" + _a, resident_id_valid),
        Validated(
            "credit_code",
            a_ + r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}" + _a,
            credit_code_valid,
        ),
        Validated(
            "bank_card",
            a_ + r"\d(?:[\- ]?\d){15,18}" + _a,
            bank_card_valid,
        ),
        Validated(
            "coordinate",
            r"(?<![0-9.])-?\d{1,3}\.\d{2,}\s*[,，;\s]\s*-?\d{1,3}\.\d{2,}(?![0-9.])",
            coordinate_valid,
        ),
        Validated(
            "ipv6",
            r"(?<![0-9A-Fa-f:])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
            r"(?![0-9A-Fa-f:])",
            _ipv6,
        ),
    ]
    for entity, pattern in simple.items():
        recognizers.append(
            PatternRecognizer(
                supported_entity=entity,
                patterns=[Pattern(entity, pattern, 0.6)],
                supported_language=LANGUAGE,
            )
        )
    return recognizers


ENTITY_KIND = {"ipv4": "ip", "ipv6": "ip"}
EXCLUSIVE = ("resident_id", "credit_code", "bank_card")


def analyzer() -> AnalyzerEngine:
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    registry = RecognizerRegistry(recognizers=_recognizers(), supported_languages=[LANGUAGE])
    engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[LANGUAGE])


def kinds_in(engine: AnalyzerEngine, text: str, threshold: float = 0.5) -> set[str]:
    """The kinds Presidio finds in one cell, with the same one-of rule for ID / credit code /
    card as ours (a value valid as an ID is an ID)."""
    found = {
        ENTITY_KIND.get(r.entity_type, r.entity_type)
        for r in engine.analyze(text=text, language=LANGUAGE, score_threshold=threshold)
    }
    exclusive = [k for k in EXCLUSIVE if k in found]
    return (found - set(EXCLUSIVE)) | set(exclusive[:1])


# --- the data -------------------------------------------------------------------------------

LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
DIGITS = np.array(list("0123456789"))


def numbers(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """``n`` random zero-padded decimal strings of ``width`` digits."""
    out = np.full(n, "", dtype=f"<U{width}")
    for start in range(0, width, 9):
        step = min(9, width - start)
        out = np.char.add(out, np.char.zfill(rng.integers(0, 10**step, n).astype(str), step))
    return out


def luhn_complete(bodies: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to equal-length digit strings."""
    width = len(bodies[0])
    digits = np.frombuffer(bodies.astype(f"S{width}").tobytes(), dtype=np.uint8).reshape(-1, width)
    digits = digits.astype(np.int64) - 48
    doubled = (np.arange(width)[::-1] % 2) == 0  # rightmost body digit is doubled
    values = digits.copy()
    values[:, doubled] *= 2
    values = np.where(values > 9, values - 9, values)
    return np.char.add(bodies, ((10 - values.sum(axis=1) % 10) % 10).astype(str))


def corrupt_last(values: np.ndarray, chosen: np.ndarray, alphabet: str) -> np.ndarray:
    """Change the last character of the chosen values to another of ``alphabet``."""
    out = values.astype(object)
    for i in np.flatnonzero(chosen):
        last = out[i][-1]
        out[i] = out[i][:-1] + alphabet[(alphabet.index(last) + 1) % len(alphabet)]
    return out


def table(rows: int, seed: int) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """The bench table and, per column, each cell's true kind ("" for none)."""
    rng = np.random.default_rng(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    places = [p.code for p in gansu_places()]
    columns, truth = {}, {}

    def put(name: str, values: np.ndarray, kinds: np.ndarray) -> None:
        nulls = rng.random(rows) < 0.02
        columns[name] = pa.array(np.asarray(values, dtype=object), mask=nulls, type=pa.string())
        truth[name] = np.where(nulls, "", kinds)

    bad = rng.random(rows) < 0.03
    people = ids.synthetic_resident_ids(rows, rng, [*places, "110101", "440305"],
                                        born_to=dt.date(2024, 12, 31))  # fmt: skip
    put("身份证号", corrupt_last(people, bad, ids.ID_CHECK_CHARS), np.where(bad, "", "resident_id"))
    heads = np.array(["138", "139", "150", "151", "158", "177", "180", "186", "189", "199"])
    mobiles = np.char.add(heads[rng.integers(0, len(heads), rows)], numbers(rng, rows, 8))
    serials = np.char.add("12", numbers(rng, rows, 9))
    put("手机号", np.where(bad, serials, mobiles), np.where(bad, "", "mobile"))
    areas = np.array(["0931-", "0937-", "0938-", "010-", "021-", "(0931)"])
    lines = np.char.add(
        areas[rng.integers(0, len(areas), rows)], rng.integers(2, 10, rows).astype(str)
    )
    put("办公电话", np.char.add(lines, numbers(rng, rows, 7)), np.full(rows, "landline"))
    codes = credit_codes(rng, rng.choice(np.array(places, dtype=np.int64), rows)).to_numpy(
        zero_copy_only=False
    )
    put(
        "统一社会信用代码",
        corrupt_last(codes, bad, ids.CREDIT_CHARSET),
        np.where(bad, "", "credit_code"),
    )
    bins = np.array(["622202", "622848", "621700", "436742", "524091", "356833"])
    long_cards = luhn_complete(np.char.add(bins[rng.integers(0, 6, rows)], numbers(rng, rows, 12)))
    short_cards = luhn_complete(np.char.add(bins[rng.integers(0, 6, rows)], numbers(rng, rows, 9)))
    cards = np.where(rng.random(rows) < 0.7, long_cards, short_cards)
    put("银行卡号", corrupt_last(cards, bad, "0123456789"), np.where(bad, "", "bank_card"))
    users = np.array(sorted({fake.user_name() for _ in range(2000)}))
    domains = np.array(["@163.com", "@qq.com", "@126.com", "@gansu.gov.cn", "@lzu.edu.cn"])
    mails = np.char.add(np.char.add(users[rng.integers(0, len(users), rows)], rng.integers(0, 99, rows).astype(str)),
                        domains[rng.integers(0, len(domains), rows)])  # fmt: skip
    put("电子邮箱", mails, np.full(rows, "email"))
    provinces = np.array(list(PROVINCES))
    plates = np.char.add(np.char.add(provinces[rng.integers(0, len(provinces), rows)], LETTERS[rng.integers(0, 24, rows)]),
                         np.char.add(LETTERS[rng.integers(0, 24, rows)], numbers(rng, rows, 4)))  # fmt: skip
    put("车牌号", plates, np.full(rows, "plate"))
    octets = [rng.integers(1, 255, rows).astype(str) for _ in range(4)]
    ipv4 = np.char.add(np.char.add(np.char.add(octets[0], "."), np.char.add(octets[1], ".")),
                       np.char.add(np.char.add(octets[2], "."), octets[3]))  # fmt: skip
    ipv6 = np.array([fake.ipv6() for _ in range(1000)])[rng.integers(0, 1000, rows)]
    put("IP地址", np.where(rng.random(rows) < 0.9, ipv4, ipv6), np.full(rows, "ip"))
    pick = rng.integers(0, 4, rows)
    documents = np.select(
        [pick == 0, pick == 1, pick == 2],
        [np.char.add("E", numbers(rng, rows, 8)), np.char.add("H", numbers(rng, rows, 10)),
         np.char.add("C", numbers(rng, rows, 8))],
        np.char.add("L", numbers(rng, rows, 8)),
    )  # fmt: skip
    kinds = np.array(["passport", "hk_macao_permit", "hk_macao_permit", "taiwan_permit"])[pick]
    put("证件号码", documents, kinds)
    days = np.datetime64("2020-01-01") + rng.integers(0, 2500, rows).astype("timedelta64[D]")
    orders = np.char.add(np.char.replace(days.astype(str), "-", ""), numbers(rng, rows, 10))
    put("订单号", np.where(rng.random(rows) < 0.8, orders, serials), np.full(rows, ""))
    return pa.table(columns), truth


# --- the run --------------------------------------------------------------------------------


def scores(truth: dict[str, np.ndarray], predicted: dict[str, list[set[str]]]) -> dict:
    kinds = sorted({k for t in truth.values() for k in t if k})
    out = {}
    for kind in kinds:
        tp = fp = fn = 0
        for name, labels in truth.items():
            for label, found in zip(labels, predicted[name], strict=True):
                tp += label == kind and kind in found
                fp += label != kind and kind in found
                fn += label == kind and kind not in found
        out[kind] = {"tp": tp, "fp": fp, "fn": fn,
                     "precision": tp / (tp + fp) if tp + fp else None,
                     "recall": tp / (tp + fn) if tp + fn else None}  # fmt: skip
    return out


def ours(data: pa.Table) -> tuple[float, dict]:
    started = time.perf_counter()
    found = {
        name: [f.as_dict() for f in detect_column(name, data[name])] for name in data.column_names
    }
    return time.perf_counter() - started, found


def corpus_accuracy(engine: AnalyzerEngine, n_per_kind: int, seed: int) -> dict:
    """Both on the labelled corpus (hard negatives included), structured kinds only: ours
    reads each value under its column name, Presidio the value alone (column names would
    reach it only as context words, which need an NLP model)."""
    corpus = [v for v in generate(n_per_kind, seed) if v.kind is None or v.kind in STRUCTURED_CODES]
    truth = {"corpus": np.array([v.kind or "" for v in corpus])}
    mine: list[set[str]] = [set() for _ in corpus]
    for hint in {v.column_hint for v in corpus}:
        indexes = [i for i, v in enumerate(corpus) if v.column_hint == hint]
        for i, kinds in zip(
            indexes, classify_values([corpus[i].value for i in indexes], hint), strict=True
        ):
            mine[i] = kinds
    theirs = [kinds_in(engine, v.value) for v in corpus]
    return {"values": len(corpus), "ours": scores(truth, {"corpus": mine}),
            "presidio": scores(truth, {"corpus": theirs})}  # fmt: skip


def main(argv: list[str]) -> None:
    rows = int(argv[1]) if len(argv) > 1 else 1_000_000
    sample = min(rows, int(argv[2]) if len(argv) > 2 else 20_000)
    seed = int(argv[3]) if len(argv) > 3 else 7
    started = time.perf_counter()
    data, truth = table(rows, seed)
    generated = time.perf_counter() - started
    head = data.slice(0, sample)
    head_truth = {name: labels[:sample] for name, labels in truth.items()}
    cells = sample * data.num_columns

    ours(data.slice(0, 100))  # load lexicons and compile patterns once, as Presidio's set-up
    # ours takes a quarter of a second on the sample: the median of three runs, so a moment of
    # load on the shared machine does not decide the ratio (Presidio's 20 s average it out)
    ours_sample_s = sorted(ours(head)[0] for _ in range(3))[1]
    ours_all_s, findings = ours(data)
    engine = analyzer()
    texts = {name: head[name].to_pylist() for name in head.column_names}
    started = time.perf_counter()
    theirs = {name: [kinds_in(engine, v) if v is not None else set() for v in values]
              for name, values in texts.items()}  # fmt: skip
    presidio_s = time.perf_counter() - started
    mine = {name: classify_values(values, name) for name, values in texts.items()}
    on_corpus = corpus_accuracy(engine, 300, seed)

    ours_rate = cells / ours_sample_s
    presidio_rate = cells / presidio_s
    result = {
        "bench": "governance detection vs Presidio",
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python bench/governance/detect_vs_presidio.py " + " ".join(argv[1:]),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rows": rows,
        "columns": data.num_columns,
        "sample_rows": sample,
        "seed": seed,
        "generate_seconds": round(generated, 2),
        "ours": {
            "sample_seconds": round(ours_sample_s, 3),
            "sample_seconds_is": "median of 3 runs",
            "sample_cells_per_second": round(ours_rate),
            "all_rows_seconds": round(ours_all_s, 3),
            "all_rows_cells_per_second": round(rows * data.num_columns / ours_all_s),
            "findings_all_rows": findings,
            "accuracy_on_sample": scores(head_truth, mine),
        },
        "presidio": {
            "version": "presidio-analyzer 2.2.366, NoOpNlpEngine, custom PatternRecognizers",
            "sample_seconds": round(presidio_s, 3),
            "sample_cells_per_second": round(presidio_rate),
            "accuracy_on_sample": scores(head_truth, theirs),
        },
        "corpus_accuracy": on_corpus,
        "speed_ratio_on_sample": round(ours_rate / presidio_rate, 1),
        "target_ratio": 50,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"{rows:,} rows x {data.num_columns} columns (generated in {generated:.1f} s); sample {sample:,} rows"
    )
    print(f"ours     sample: {ours_sample_s:8.2f} s  {ours_rate:12,.0f} cells/s")
    print(f"presidio sample: {presidio_s:8.2f} s  {presidio_rate:12,.0f} cells/s")
    print(
        f"ours all rows  : {ours_all_s:8.2f} s  {rows * data.num_columns / ours_all_s:12,.0f} cells/s"
    )
    print(f"speed ratio on the sample: {ours_rate / presidio_rate:.1f}x (target >= 50x)")
    print(f"{'kind':<16} {'ours P':>7} {'ours R':>7} {'pres. P':>8} {'pres. R':>8}")
    a, b = result["ours"]["accuracy_on_sample"], result["presidio"]["accuracy_on_sample"]
    for kind in a:
        print(f"{kind:<16} {a[kind]['precision'] or 0:7.4f} {a[kind]['recall'] or 0:7.4f} "
              f"{b[kind]['precision'] or 0:8.4f} {b[kind]['recall'] or 0:8.4f}")  # fmt: skip
    print(
        f"on the labelled corpus ({on_corpus['values']} values with hard negatives, column names):"
    )
    a, b = on_corpus["ours"], on_corpus["presidio"]
    for kind in a:
        print(f"{kind:<16} {a[kind]['precision'] or 0:7.4f} {a[kind]['recall'] or 0:7.4f} "
              f"{b[kind]['precision'] or 0:8.4f} {b[kind]['recall'] or 0:8.4f}")  # fmt: skip
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
