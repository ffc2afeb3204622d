"""ledger.po gives Chinese for every string the ledger and crypto modules show to users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from longshu.errors import LongshuError
from longshu.security.crypto import errors as crypto_errors
from longshu.security.ledger import service as ledger_service

WEB = Path(__file__).resolve().parents[3] / "src" / "longshu" / "web"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _catalogue(locale: str) -> dict[str, str]:
    with (WEB / "i18n" / locale / "LC_MESSAGES" / "ledger.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {m.id: m.string for m in catalog if m.id}


def _sources() -> set[str]:
    found = set()
    for module in (crypto_errors, ledger_service):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, LongshuError)
                and value.__module__ == module.__name__
            ):
                found.add(value.message)
    for template in (WEB / "templates" / "ledger").glob("*.html"):
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', template.read_text()))
    return found


def test_every_ledger_and_crypto_string_has_chinese():
    zh = _catalogue("zh_CN")
    sources = _sources()
    assert len(sources) > 20
    missing = sorted(s for s in sources if not zh.get(s))
    assert not missing
    for source in sources:
        assert sorted(PLACEHOLDER.findall(zh[source])) == sorted(PLACEHOLDER.findall(source))
        assert re.search(r"[\u4e00-\u9fff]", zh[source]), source


def test_english_catalogue_lists_the_same_strings_untranslated():
    zh, en = _catalogue("zh_CN"), _catalogue("en")
    assert set(en) == set(zh)
    assert not any(en.values())


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalogue_header_declares_language_and_plural_forms(locale):
    text = (WEB / "i18n" / locale / "LC_MESSAGES" / "ledger.po").read_text(encoding="utf-8")
    assert f'"Language: {locale}\\n"' in text
    assert '"Content-Type: text/plain; charset=utf-8\\n"' in text
    plural = "nplurals=1; plural=0;" if locale == "zh_CN" else "nplurals=2; plural=(n != 1);"
    assert f'"Plural-Forms: {plural}\\n"' in text
