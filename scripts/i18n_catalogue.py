"""Find every English string the platform shows and check the catalogues translate it.

    python scripts/i18n_catalogue.py check            # list strings without a Chinese translation
    python scripts/i18n_catalogue.py add FILE.po      # append the missing ones to FILE.po (empty msgstr)

Strings come from: ``_()``/``gettext`` in templates, ``N_()``/``_()``/``translate()`` in
Python, the ``message`` of every ``LongshuError`` subclass, and the values of module-level
``*_MESSAGES`` dicts (reason sentences errors carry).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "longshu"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "translate": (1,), "ngettext": (1, 2)}


def error_messages() -> dict[str, str]:
    """English message of every domain error class → where it is defined."""
    from longshu.app import import_all_modules
    from longshu.errors import LongshuError

    import_all_modules()

    found: dict[str, str] = {}
    stack = [LongshuError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "message" in cls.__dict__:
            found.setdefault(cls.message, f"{cls.__module__}.{cls.__qualname__}")
    # reason sentences that errors carry (e.g. ``ids.CREDIT_CODE_MESSAGES``)
    for name, module in list(sys.modules.items()):
        if not name.startswith("longshu."):
            continue
        for attr, value in vars(module).items():
            if attr.endswith("_MESSAGES") and isinstance(value, dict):
                for text in value.values():
                    if isinstance(text, str):
                        found.setdefault(text, f"{name}.{attr}")
    return found


def source_strings() -> dict[str, str]:
    """Marked strings in templates and Python files → where they are."""
    found: dict[str, str] = {}
    methods = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=methods, options_map=options, keywords=KEYWORDS
    ):
        if "/vendor/" in filename or "/static/" in filename:
            continue
        texts = message if isinstance(message, tuple) else (message,)
        for text in texts:
            if text:
                found.setdefault(text, filename)
    return found


def all_strings() -> dict[str, str]:
    return {**source_strings(), **error_messages()}


def translated(locale: str = "zh_CN") -> set[str]:
    folder = PACKAGE / "web" / "i18n" / locale / "LC_MESSAGES"
    done: set[str] = set()
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                done.update(ids)
    return done


def missing(locale: str = "zh_CN") -> dict[str, str]:
    have = translated(locale)
    return {text: where for text, where in all_strings().items() if text not in have}


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv: list[str]) -> int:
    gaps = missing()
    if argv[:1] == ["add"] and len(argv) == 2:
        with open(argv[1], "a", encoding="utf-8") as fh:
            for text, where in sorted(gaps.items(), key=lambda kv: kv[1]):
                fh.write(f'\n#: {where}\nmsgid "{_po_escape(text)}"\nmsgstr ""\n')
        print(f"appended {len(gaps)} strings to {argv[1]}")
        return 0
    for text, where in sorted(gaps.items(), key=lambda kv: kv[1]):
        print(f"{where}: {text}")
    print(f"{len(gaps)} strings without a Chinese translation", file=sys.stderr)
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
