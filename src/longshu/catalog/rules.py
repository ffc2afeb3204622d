"""What a catalog entry must satisfy: each attribute's rule in one place, used by the service,
the Excel import and the console forms alike. Functions take raw input and return the clean
value or raise :class:`InvalidResource` naming the attribute."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from longshu.catalog.errors import InvalidResource
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FIELD_TYPES,
    FORMATS,
    KINDS,
    OPEN_TYPES,
    SHARE_TYPES,
    THEME_DATABASES,
    UPDATE_CYCLES,
    Term,
)

# The reason sentences of ``InvalidResource`` (translated in catalog.po).
RULE_MESSAGES = {
    "length": "must have {low} to {high} characters.",
    "at_most": "must have at most {high} characters.",
    "one_of": "{value} is not one of: {allowed}.",
    "at_least_one": "name at least one.",
    "keyword_length": "each keyword has at most 30 characters.",
    "keyword_count": "at most {n} keywords.",
    "field_name": "{value} is not a field name: a letter, then letters, digits or _ (at most 64).",
    "whole_number": "must be a whole number.",
    "length_range": "must be between 1 and 1000000.",
    "element_id": "must be a data element id.",
    "share_conditions": "conditional sharing must state its conditions.",
    "legal_basis": "a resource that is not shared must state the legal basis.",
    "open_conditions": "conditional opening must state its conditions.",
    "open_needs_share": "a resource that is not shared with government cannot be open to the public.",
    "email": "{value} is not an e-mail address.",
    "phone": "{value} is not a telephone number.",
    "field_count": "at most {n} fields.",
    "twice": "{value} appears twice.",
}
M = RULE_MESSAGES

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}$")
PHONE = re.compile(r"^[0-9+()\- ]{5,40}$")
MAX_FIELDS = 500
MAX_KEYWORDS = 20

# The attributes a department edits, in the order forms and the Excel template show them.
ATTRIBUTES = (
    "name",
    "summary",
    "domain",
    "base_databases",
    "theme_databases",
    "share_type",
    "share_conditions",
    "open_type",
    "open_conditions",
    "update_cycle",
    "formats",
    "kind",
    "source_system",
    "contact_name",
    "contact_phone",
    "contact_email",
    "keywords",
    "licence",
)
FIELD_ATTRIBUTES = (
    "name",
    "label",
    "data_type",
    "length",
    "unit",
    "description",
    "element_id",
    "example",
)


@dataclass
class FieldData:
    """One field (信息项) as a department describes it."""

    name: str
    label: str
    data_type: str = "string"
    length: int | None = None
    unit: str | None = None
    description: str | None = None
    element_id: int | None = None
    example: str | None = None


@dataclass
class ResourceData:
    """A catalog entry as a department describes it (everything but code and provider)."""

    name: str
    summary: str
    domain: str
    share_type: str
    open_type: str
    update_cycle: str
    kind: str
    formats: list[str] = field(default_factory=list)
    base_databases: list[str] = field(default_factory=list)
    theme_databases: list[str] = field(default_factory=list)
    share_conditions: str | None = None
    open_conditions: str | None = None
    source_system: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    keywords: list[str] = field(default_factory=list)
    licence: str | None = None
    fields: list[FieldData] = field(default_factory=list)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def required_text(attribute: str, value: Any, low: int, high: int) -> str:
    text = _text(value)
    if not low <= len(text) <= high:
        raise InvalidResource(attribute, M["length"], low=low, high=high)
    return text


def optional_text(attribute: str, value: Any, high: int) -> str | None:
    text = _text(value)
    if len(text) > high:
        raise InvalidResource(attribute, M["at_most"], high=high)
    return text or None


def long_text(attribute: str, value: Any, low: int, high: int) -> str:
    """Free text that keeps its line breaks (summaries, conditions)."""
    text = str(value or "").strip().replace("\r\n", "\n")
    if "\x00" in text or not low <= len(text) <= high:
        raise InvalidResource(attribute, M["length"], low=low, high=high)
    return text


def term(attribute: str, vocabulary: dict[str, Term], value: Any) -> str:
    code = str(value or "").strip()
    if code not in vocabulary:
        raise InvalidResource(
            attribute, M["one_of"], value=code[:40] or "-",
            allowed=", ".join(vocabulary),
        )  # fmt: skip
    return code


def terms(attribute: str, vocabulary: dict[str, Term], values: Any, required: bool) -> list[str]:
    if values is None:
        values = []
    if isinstance(values, str):
        values = [v for v in re.split(r"[,，;；、\s]+", values) if v]
    out: list[str] = []
    for value in values:
        code = term(attribute, vocabulary, value)
        if code not in out:
            out.append(code)
    if required and not out:
        raise InvalidResource(attribute, M["at_least_one"])
    return out


def keyword_list(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = re.split(r"[,，;；、]+", values)
    out: list[str] = []
    for value in values:
        word = _text(value)
        if not word:
            continue
        if len(word) > 30:
            raise InvalidResource("keywords", M["keyword_length"])
        if word not in out:
            out.append(word)
    if len(out) > MAX_KEYWORDS:
        raise InvalidResource("keywords", M["keyword_count"], n=MAX_KEYWORDS)
    return out


def clean_field(data: FieldData, position: int) -> dict[str, Any]:
    where = f"fields[{position + 1}]"
    name = str(data.name or "").strip()
    if not FIELD_NAME.match(name):
        raise InvalidResource(
            f"{where}.name",
            M["field_name"],
            value=name[:70] or "-",
        )
    length = data.length
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise InvalidResource(f"{where}.length", M["whole_number"]) from None
        if not 1 <= length <= 1_000_000:
            raise InvalidResource(f"{where}.length", M["length_range"])
    element_id = data.element_id
    if element_id is not None:
        try:
            element_id = int(element_id)
        except (TypeError, ValueError):
            raise InvalidResource(f"{where}.element_id", M["element_id"]) from None
    return {
        "name": name,
        "label": required_text(f"{where}.label", data.label, 1, 100),
        "data_type": term(f"{where}.data_type", FIELD_TYPES, data.data_type),
        "length": length,
        "unit": optional_text(f"{where}.unit", data.unit, 30),
        "description": optional_text(f"{where}.description", data.description, 1000),
        "element_id": element_id,
        "example": optional_text(f"{where}.example", data.example, 200),
    }


def clean(data: ResourceData) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entry's attributes and fields, cleaned, or ``InvalidResource`` for the first problem."""
    share_type = term("share_type", SHARE_TYPES, data.share_type)
    open_type = term("open_type", OPEN_TYPES, data.open_type)
    share_conditions = optional_long("share_conditions", data.share_conditions)
    if share_type == "conditional" and not share_conditions:
        raise InvalidResource("share_conditions", M["share_conditions"])
    if share_type == "none" and not share_conditions:
        raise InvalidResource("share_conditions", M["legal_basis"])
    open_conditions = optional_long("open_conditions", data.open_conditions)
    if open_type == "conditional" and not open_conditions:
        raise InvalidResource("open_conditions", M["open_conditions"])
    if share_type == "none" and open_type != "none":
        raise InvalidResource(
            "open_type",
            M["open_needs_share"],
        )
    email = optional_text("contact_email", data.contact_email, 200)
    if email and not EMAIL.match(email):
        raise InvalidResource("contact_email", M["email"], value=email[:60])
    phone = optional_text("contact_phone", data.contact_phone, 40)
    if phone and not PHONE.match(phone):
        raise InvalidResource("contact_phone", M["phone"], value=phone[:40])
    attributes = {
        "name": required_text("name", data.name, 2, 200),
        "summary": long_text("summary", data.summary, 1, 4000),
        "domain": term("domain", DOMAINS, data.domain),
        "base_databases": terms("base_databases", BASE_DATABASES, data.base_databases, False),
        "theme_databases": terms("theme_databases", THEME_DATABASES, data.theme_databases, False),
        "share_type": share_type,
        "share_conditions": share_conditions,
        "open_type": open_type,
        "open_conditions": open_conditions,
        "update_cycle": term("update_cycle", UPDATE_CYCLES, data.update_cycle),
        "formats": terms("formats", FORMATS, _upper(data.formats), True),
        "kind": term("kind", KINDS, data.kind),
        "source_system": optional_text("source_system", data.source_system, 200),
        "contact_name": optional_text("contact_name", data.contact_name, 60),
        "contact_phone": phone,
        "contact_email": email,
        "keywords": keyword_list(data.keywords),
        "licence": optional_text("licence", data.licence, 200),
    }
    if len(data.fields) > MAX_FIELDS:
        raise InvalidResource("fields", M["field_count"], n=MAX_FIELDS)
    fields = [clean_field(f, i) for i, f in enumerate(data.fields)]
    seen: set[str] = set()
    for i, f in enumerate(fields):
        folded = f["name"].lower()
        if folded in seen:
            raise InvalidResource(f"fields[{i + 1}].name", M["twice"], value=f["name"])
        seen.add(folded)
    return attributes, fields


def optional_long(attribute: str, value: Any) -> str | None:
    text = str(value or "").strip()
    return long_text(attribute, text, 1, 2000) if text else None


def _upper(values: Any) -> Any:
    if isinstance(values, str):
        return values.upper()
    if isinstance(values, list | tuple):
        return [str(v).strip().upper() for v in values]
    return values
