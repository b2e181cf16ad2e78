"""Citations of the project's documentation — `docs/scoring.md §6`, `docs/architecture.md "Data
flow"` — and the page and anchor that serve each at /docs/ (web.views.docs), so that the pages
and the API schema can turn a citation into a link.

Here, at the bottom of the layers, because both the API (its schema's descriptions) and the pages
cite the docs; nothing here imports a higher layer. `DOCS_URL` is where web.urls mounts the pages
(tests/web/test_docs.py checks they agree).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

DOCS_DIR = Path(settings.BASE_DIR) / "docs"
DOCS_URL = "/docs/"
CITATION = re.compile(
    r"docs/(?P<page>[a-z0-9][a-z0-9-]*)\.md"
    r"(?:\s*§\s*(?P<section>\d+)|,?\s+\"(?P<heading>[^\"]+)\")?"
)


def slug(text: str) -> str:
    """The anchor GitHub gives a heading ("6. The stateless calculator" →
    "6-the-stateless-calculator"), so that one link works in the repository and at /docs/."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


@lru_cache(maxsize=64)
def _headings(page: str, mtime: float) -> tuple[str, ...]:
    text = (DOCS_DIR / f"{page}.md").read_text(encoding="utf-8")
    return tuple(match[1].strip() for match in re.finditer(r"^#{2,4} +(.+)$", text, re.M))


def _anchor(page: str, section: str | None, heading: str | None) -> str:
    path = DOCS_DIR / f"{page}.md"
    headings = _headings(page, path.stat().st_mtime)
    for text in headings:
        if section and text.startswith(f"{section}. "):
            return "#" + slug(text)
        if heading and text.lower().startswith(heading.lower()):
            return "#" + slug(text)
    return ""


def citation_url(match: re.Match[str]) -> str | None:
    """The URL of a citation found by CITATION, or None when the page does not exist."""
    page = match["page"]
    if not (DOCS_DIR / f"{page}.md").is_file():
        return None
    return f"{DOCS_URL}{page}/" + _anchor(page, match["section"], match["heading"])


def link_markdown(text: str) -> str:
    """Every citation in `text` as a Markdown link (the OpenAPI descriptions)."""

    def link(match: re.Match[str]) -> str:
        url = citation_url(match)
        return f"[{match[0]}]({url})" if url else match[0]

    return CITATION.sub(link, text)


def link_html(text: str) -> SafeString:
    """`text` escaped, with every citation a link (the pages)."""
    parts: list[str] = []
    end = 0
    for match in CITATION.finditer(text):
        url = citation_url(match)
        parts.append(escape(text[end : match.start()]))
        cited = escape(match[0])
        parts.append(f'<a href="{escape(url)}">{cited}</a>' if url else cited)
        end = match.end()
    parts.append(escape(text[end:]))
    return mark_safe("".join(parts))  # every piece of text was escaped above
