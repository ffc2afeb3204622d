"""docs/events.md is the event catalogue the code declares (regenerate it with
``longshu events catalogue > docs/events.md``)."""

from pathlib import Path

from longshu import events
from longshu.app import import_all_modules

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_docs_list_every_declared_event():
    import_all_modules()
    # events that tests declare for themselves are not part of the platform
    declared = {n: e for n, e in events.CATALOGUE.items() if not n.startswith("test.")}
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in declared if f"`{name}`" not in text]
    assert missing == [], "regenerate docs/events.md: longshu events catalogue > docs/events.md"


def test_docs_list_no_event_that_is_gone():
    import re

    import_all_modules()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    assert documented - set(events.CATALOGUE) == set()
