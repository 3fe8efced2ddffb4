"""Is a page inert? A strict check of HTML for anything that could run script or load content.

Used by the XSS tests on every page the app renders from hostile stories. "Inert" means:
the only scripts are the app's own ``<script src="/static/...">`` (and empty); no element
has an ``on*`` attribute or a ``style`` attribute; no URL attribute uses the ``javascript:``,
``vbscript:`` or ``data:`` scheme (once whitespace and control characters are removed and
case ignored); no ``<iframe>``, ``<object>``, ``<embed>``, ``<base>``, ``<style>``, ``<svg>``,
``<math>``, ``<meta http-equiv>`` or HTML comment; forms post to this site only, and
``<link>`` is the app's own stylesheet or icon.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

FORBIDDEN_TAGS = frozenset({
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "svg", "math",
    "template", "portal", "xml", "import", "isindex", "marquee", "bgsound", "xss",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster",
    "lowsrc", "dynsrc", "codebase", "cite", "longdesc", "usemap", "srcset", "ping", "manifest", "content",
})
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:")
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
APP_STATIC = "/static/"


def _local_path(value: str | None) -> bool:
    return bool(value) and value.startswith("/") and not value.startswith(("//", "/\\"))


class InertChecker(HTMLParser):
    """Collects every reason a document is not inert (``problems`` empty: inert)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def _flag(self, message: str) -> None:
        self.problems.append(message)

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag == "script":
            self._in_script = True

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self._flag(f"inline script content: {data.strip()[:80]!r}")

    def handle_comment(self, data):
        self._flag(f"HTML comment: <!--{data[:60]}-->")

    def unknown_decl(self, data):
        self._flag(f"declaration: <![{data[:60]}]>")

    def handle_pi(self, data):
        self._flag(f"processing instruction: <?{data[:60]}>")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs}
        if tag in FORBIDDEN_TAGS:
            self._flag(f"<{tag}> element")
        if tag == "script":
            src = values.get("src") or ""
            if not src.startswith(APP_STATIC) or len(attrs) > 2 or set(values) - {"src", "defer"}:
                self._flag(f"script that is not the app's own: {attrs!r}")
        if tag == "form" and not _local_path(values.get("action")):
            self._flag(f"form posting elsewhere: {attrs!r}")
        if tag == "link" and not ((values.get("rel") or "") in ("stylesheet", "icon")
                                  and (values.get("href") or "").startswith(APP_STATIC)):
            self._flag(f"<link> that is not the app's own: {attrs!r}")
        if tag == "meta" and "http-equiv" in values:
            self._flag(f"<meta http-equiv>: {attrs!r}")
        for name, value in attrs:
            if name.startswith("on"):
                self._flag(f"event handler {name}= on <{tag}>")
            elif name == "style":
                self._flag(f"style attribute on <{tag}>")
            elif name == "srcdoc":
                self._flag(f"srcdoc attribute on <{tag}>")
            elif name in URL_ATTRIBUTES and value:
                bare = _IGNORED.sub("", value).lower()
                if bare.startswith(BAD_SCHEMES) or (name == "content" and "url=" in bare and
                                                   any(s in bare for s in BAD_SCHEMES)):
                    self._flag(f"dangerous URL in {name}= on <{tag}>: {value[:80]!r}")
            if tag == "form" and name == "action" and value and not _local_path(value):
                self._flag(f"form action {value[:80]!r}")
            if name == "formaction":
                self._flag(f"formaction on <{tag}>")


def inert_problems(html: str) -> list[str]:
    """Every reason the HTML is not inert (an empty list: inert)."""
    checker = InertChecker()
    try:
        checker.feed(html)
        checker.close()
    except AssertionError as exc:  # html.parser gives up on some malformed declarations
        checker.problems.append(f"unparseable markup: {exc}")
    return checker.problems


def assert_inert(html: str, where: str = "page") -> None:
    problems = inert_problems(html)
    assert not problems, f"{where} is not inert: {problems[:5]}"
