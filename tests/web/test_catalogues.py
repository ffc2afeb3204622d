"""Every string the platform shows has a Chinese translation; English falls back to source."""

from __future__ import annotations

from scripts.i18n_catalogue import missing, source_strings

from longshu.web import i18n


def test_every_shown_string_has_a_chinese_translation():
    gaps = missing("zh_CN")
    assert gaps == {}, "translate these in src/longshu/web/i18n/zh_CN/LC_MESSAGES/*.po"


def test_extraction_finds_template_and_error_strings():
    found = source_strings()
    assert "Sign in" in found and "Back to the home page" in found


def test_domain_catalogues_are_merged():
    assert i18n.translate("Wrong username or password.", "zh_CN") == "用户名或密码错误。"
    assert i18n.translate("Wrong username or password.", "en") == "Wrong username or password."


def test_placeholders_survive_translation():
    text = i18n.translate("The request body is larger than {limit} bytes.", "zh_CN", limit=5)
    assert text == "请求内容超过 5 字节上限。"


def test_plural_forms():
    one = i18n.ntranslate("%(num)d organisation", "%(num)d organisations", 1, "en")
    assert one == "%(num)d organisation"
    assert (
        i18n.ntranslate("%(num)d organisation", "%(num)d organisations", 3, "zh_CN")
        == "共 %(num)d 个机构"
    )
