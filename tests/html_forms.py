"""The first form of an HTML page, for tests that sign in over plain HTTP (no Django needed)."""

from __future__ import annotations

from html.parser import HTMLParser


class FirstForm(HTMLParser):
    """The first form of a page: its action and its inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""
