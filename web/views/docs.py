"""The project's documentation (`docs/*.md`), rendered as pages so that the other pages can link
to the rule they apply (`/docs/scoring/#3-...`).

Public, like the OpenAPI schema and its browsable docs (`/api/docs/`): the pages hold no patient
data, only what the repository itself publishes, and a site's developer needs the API guide before
having an account. Raw HTML in the Markdown is escaped (markdown-it's CommonMark preset with
`html` off), so a page can never carry script.
"""

import re
from functools import lru_cache
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

from registry.docs import DOCS_DIR, slug

INDEX = "README"
# A page's name is a file name of docs/ without ".md": letters, digits and hyphens only, so a
# request cannot name a path outside the folder.
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A link to another page of docs/ ("scoring.md#3-...", "./api.md"); anything else is left alone.
DOC_LINK = re.compile(r"^(?:\./)?([A-Za-z0-9][A-Za-z0-9-]*)\.md(#[^\s]*)?$")
# docs/examples/: files that the pages link (a submission document, a REDCap project).
EXAMPLES = "examples/"


def _page_url(name: str) -> str:
    if name == INDEX:
        return reverse("web:docs")
    return reverse("web:doc", args=[name])


def _rewrite(tokens: list[Token]) -> str:
    """The page's title (its first heading); headings get GitHub's anchors and links between the
    pages point at their URLs here."""
    title = ""
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            text = tokens[index + 1].content
            title = title or text
            token.attrSet("id", slug(text))
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            match = DOC_LINK.match(href)
            if match and (DOCS_DIR / f"{match[1]}.md").is_file():
                child.attrSet("href", _page_url(match[1]) + (match[2] or ""))
            elif href.startswith(EXAMPLES):
                child.attrSet("href", reverse("web:doc-example", args=[href[len(EXAMPLES) :]]))
    return title


@lru_cache(maxsize=32)
def _render(file: str, mtime: float) -> tuple[str, str]:
    """(title, HTML) of a Markdown file; cached until the file changes."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(Path(file).read_text(encoding="utf-8"))
    title = _rewrite(tokens)
    return title, parser.renderer.render(tokens, parser.options, {})


def _show(request: HttpRequest, file: Path, current: str) -> HttpResponse:
    title, html = _render(str(file), file.stat().st_mtime)
    pages = sorted(p.stem for p in DOCS_DIR.glob("*.md") if p.stem != INDEX)
    return render(
        request,
        "web/docs.html",
        {
            "nav": "docs",
            "title": title,
            "body": mark_safe(html),  # markdown-it escaped every raw HTML of the source
            "pages": [(p, _page_url(p)) for p in pages],
            "current": current,
            "index_url": _page_url(INDEX),
        },
    )


def page(request: HttpRequest, name: str | None = None) -> HttpResponse:
    """`/docs/` is docs/README.md; `/docs/<name>/` is docs/<name>.md."""
    if name is None:
        name = INDEX
    elif not NAME.match(name):  # the index only at /docs/; nothing outside docs/
        raise Http404
    file = DOCS_DIR / f"{name}.md"
    if not file.is_file():
        raise Http404
    return _show(request, file, name)


def example(request: HttpRequest, path: str) -> HttpResponse:
    """A file of docs/examples/: Markdown rendered like a page, anything else as plain text."""
    root = (DOCS_DIR / EXAMPLES).resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise Http404
    if file.suffix != ".md":
        return FileResponse(file.open("rb"), content_type="text/plain; charset=utf-8")
    return _show(request, file, "")
