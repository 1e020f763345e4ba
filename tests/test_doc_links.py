"""The docs name the function that performs each step (`name` in [path](...)): each must exist
there, so moving code between apps cannot leave the sequence diagrams pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# "`a`, `b` and `c` in [path/to/file.py](...)"
NAMED_IN = re.compile(
    r"((?:`[^`]+`(?:,\s*|\s+and\s+(?:the\s+)?))*`[^`]+`)(?: table)? in \[([^\]]+)\]"
)


def defined(name: str, source: str) -> bool:
    leaf = re.escape(name.split(".")[-1])
    return bool(re.search(rf"^\s*(?:def|class)\s+{leaf}\b|^{leaf}\s*[:=]", source, re.MULTILINE))


def dangling(text: str) -> list[tuple[str, str]]:
    found = []
    for match in NAMED_IN.finditer(text):
        path = BASE_DIR / match[2]
        source = path.read_text() if path.is_file() else ""
        found += [
            (match[2], n) for n in re.findall(r"`([^`]+)`", match[1]) if not defined(n, source)
        ]
    return found


def test_every_function_the_flow_docs_name_exists_where_they_say() -> None:
    docs = sorted((BASE_DIR / "docs").rglob("*.md"))

    assert docs
    assert [(doc.name, *ref) for doc in docs for ref in dangling(doc.read_text())] == []


def test_a_name_that_moved_is_reported() -> None:
    text = (
        "`signin` in [accounts/views.py](../../accounts/views.py), `login` in [accounts/views.py]"
    )

    assert dangling(text) == [("accounts/views.py", "signin")]
