"""Finding markup that a page did not mean to contain (the XSS checks of the console tests)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Markup(HTMLParser):
    """Collects every script element and event-handler attribute that is not the console's own."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        own_script = tag == "script" and (
            (named.get("src") or "").startswith("/console/static/") or named.get("type") == "application/json"
        )
        if tag == "script" and not own_script:
            self.found.append(f"<script {named}>")
        self.found += [f"<{tag} {k}=...>" for k in named if k.lower().startswith("on")]
        if tag in ("img", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")


def injected_markup(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.found
