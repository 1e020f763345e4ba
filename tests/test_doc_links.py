"""The docs point at code and at each other: each function a flow doc names (`name` in [path](...))
must exist there, and each relative link of README.md and docs/ must reach a file (and a heading,
when it names one), so moving code or text cannot leave the docs pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DOCS = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").rglob("*.md"))]
# [text](target) and <img src="target">; a target with a scheme (https:, mailto:) is not checked.
LINK = re.compile(r"\]\(([^)\s]+)\)|<img\s[^>]*\bsrc=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:")
HEADING = re.compile(r"^#+\s+(.+?)\s*$", re.MULTILINE)
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


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as -."""
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in HEADING.findall(text)}


def broken_links(doc: Path, text: str) -> list[str]:
    found = []
    for match in LINK.finditer(text):
        target = match[1] or match[2]
        if SCHEME.match(target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path) if path else doc
        if not file.exists():
            found.append(target)
            continue
        if anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            found.append(target)
    return found


def test_every_relative_link_of_the_docs_reaches_its_file() -> None:
    assert len(DOCS) > 2
    assert [(doc.name, link) for doc in DOCS for link in broken_links(doc, doc.read_text())] == []


def test_a_link_to_a_moved_file_or_heading_is_reported() -> None:
    readme = BASE_DIR / "README.md"
    text = (
        "[c](docs/contract.md) [gone](docs/gone.md) [h](docs/contract.md#stable-urls) "
        '[x](docs/contract.md#no-such-heading) [w](https://example.com/x.md) <img src="nope.png">'
    )

    assert broken_links(readme, text) == [
        "docs/gone.md",
        "docs/contract.md#no-such-heading",
        "nope.png",
    ]
