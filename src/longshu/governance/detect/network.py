"""Network addresses and places: IP addresses and coordinates (经纬度).

- IP: IPv4 in dotted decimal with every octet 0-255 (no leading zeros), or IPv6 as the
  ``ipaddress`` module parses it (by an RE2 pattern; only forms with an embedded IPv4 part are
  checked in Python). A version column's 1.2.3.4 is not an address:
  the column level drops IP findings in columns named for versions (see profiles).
- Coordinates: a text pair "lng,lat" (or "lat,lng": the two ranges do not overlap) with at
  least two decimals each, within China's bounds (lng 73.4-135.1, lat 3.8-53.6); and, under a
  name cue (经度/lng/lon…, 纬度/lat…), a column of single numbers in the matching range."""

from __future__ import annotations

import ipaddress
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.arrays import refine, regex_mask, squeeze
from longshu.governance.detect.base import Detector

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_H = "[0-9A-F]{1,4}"
# Every compressed and uncompressed form of RFC 4291 without an embedded IPv4 part; values
# with a dot (::ffff:1.2.3.4) go to the ipaddress module.
_IPV6_HEX = (
    f"^(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}"
    f"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    f"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    f"|{_H}:(?::{_H}){{1,6}}|:(?:(?::{_H}){{1,7}}|:))$"
)

LNG_RANGE = (73.4, 135.1)
LAT_RANGE = (3.8, 53.6)
_NUMBER = r"-?\d{1,3}\.\d{2,}"
_PAIR = rf"^[(\[]?\s*(?P<a>{_NUMBER})\s*[,，;\s]\s*(?P<b>{_NUMBER})\s*[)\]]?$"
LNG_CUES = (r"经度", r"^lng", r"^lon", r"longitude", r"^jd$", r"_jd$", r"^x$")
LAT_CUES = (r"纬度", r"^lat", r"latitude", r"^wd$", r"_wd$", r"^y$")


def _ipv6(candidates: pa.Array) -> np.ndarray:
    out = np.zeros(len(candidates), dtype=bool)
    for i, text in enumerate(candidates.to_pylist()):
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            continue
        out[i] = True
    return out


def match_ip(values: pa.Array) -> np.ndarray:
    text = squeeze(values, separators="")
    dotted_v6 = r"^[0-9A-F:]*:[0-9A-F:]*:[0-9A-F:]*\.[0-9.]*$"
    return regex_mask(text, _IPV4) | regex_mask(text, _IPV6_HEX) | refine(text, dotted_v6, _ipv6)


def _within(numbers: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (numbers >= bounds[0]) & (numbers <= bounds[1])


def _pairs_in_china(candidates: pa.Array) -> np.ndarray:
    parts = pc.extract_regex(candidates, _PAIR)
    a = parts.field("a").cast(pa.float64()).to_numpy(zero_copy_only=False)
    b = parts.field("b").cast(pa.float64()).to_numpy(zero_copy_only=False)
    lng_lat = _within(a, LNG_RANGE) & _within(b, LAT_RANGE)
    lat_lng = _within(a, LAT_RANGE) & _within(b, LNG_RANGE)
    return lng_lat | lat_lng


def match_coordinate(values: pa.Array) -> np.ndarray:
    return refine(squeeze(values, separators=""), _PAIR, _pairs_in_china)


def coordinate_axis(column: str) -> tuple[float, float] | None:
    """The range a column of single numbers must keep to, if its name says 经度 or 纬度."""
    name = column.strip().lower()
    if any(re.search(cue, name) for cue in LNG_CUES):
        return LNG_RANGE
    if any(re.search(cue, name) for cue in LAT_CUES):
        return LAT_RANGE
    return None


def coordinate_numbers(values: pa.Array, column: str) -> np.ndarray:
    """Numbers (as text, with a decimal point) within the range the column's name gives;
    all False when the name names no axis."""
    bounds = coordinate_axis(column)
    if bounds is None:
        return np.zeros(len(values), dtype=bool)

    def in_range(candidates: pa.Array) -> np.ndarray:
        return _within(candidates.cast(pa.float64()).to_numpy(zero_copy_only=False), bounds)

    return refine(squeeze(values, separators=""), r"^-?\d{1,3}\.\d+$", in_range)


IP = Detector(
    code="ip",
    title_zh="IP 地址",
    title_en="IP address",
    category="network",
    default_mask="hash",
    checksum_backed=False,
    match=match_ip,
    name_cues=(r"(?:^|[^a-z])ip", r"ipdz", r"host", r"网络地址"),
)
COORDINATE = Detector(
    code="coordinate",
    title_zh="经纬度坐标",
    title_en="Coordinates",
    category="location",
    default_mask="null",
    checksum_backed=False,
    match=match_coordinate,
    name_cues=(
        r"坐标",
        r"经纬",
        r"位置",
        r"zb$",
        r"coord",
        r"location",
        r"geo",
        *LNG_CUES,
        *LAT_CUES,
    ),
)

NETWORK_DETECTORS = (IP, COORDINATE)
