"""The documentation pages (/docs/): docs/*.md rendered, raw HTML escaped, links between pages
pointing at their URLs, public like the API's schema, and nothing outside docs/ reachable."""

import pytest
from django.urls import reverse

from api.schema.hooks import _link_citations
from registry.docs import DOCS_URL, link_html, link_markdown
from web.views import docs


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    docs._render.cache_clear()
    yield
    docs._render.cache_clear()


def test_index_lists_every_page(client, db):
    response = client.get("/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for page in ("scoring", "api", "operations", "data-dictionary", "architecture"):
        assert f'href="/docs/{page}/"' in html


def test_page_renders_tables_and_github_anchors(client, db):
    html = client.get("/docs/scoring/").content.decode()
    assert '<h2 id="6-the-stateless-calculator">6. The stateless calculator</h2>' in html
    assert "<table>" in html and "<td><code>physician_global</code></td>" in html


def test_links_between_pages_point_at_their_urls(client, db):
    html = client.get("/docs/api/").content.decode()
    assert 'href="/docs/scoring/#6-the-stateless-calculator"' in html
    assert 'href="scoring.md' not in html


def test_raw_html_in_markdown_is_escaped(tmp_path, monkeypatch, client, db):
    (tmp_path / "README.md").write_text("# Docs\n")
    evil = "# Evil\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n"
    (tmp_path / "evil").with_suffix(".md").write_text(evil)
    monkeypatch.setattr(docs, "DOCS_DIR", tmp_path)
    html = client.get("/docs/evil/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


@pytest.mark.parametrize("name", ["nope", "..", "..%2Fpyproject", "README", "Scoring", ".hidden"])
def test_unknown_or_outside_names_are_404(client, db, name):
    assert client.get(f"/docs/{name}/").status_code == 404


def test_public_without_login_and_in_the_top_bar_when_logged_in(client, coordinator):
    assert client.get(reverse("web:doc", args=["api"])).status_code == 200
    client.force_login(coordinator)
    html = client.get(reverse("web:patients")).content.decode()
    assert 'href="/docs/">Docs</a>' in html


def test_citations_become_links_to_the_section(db):
    assert DOCS_URL == reverse("web:docs")
    html = link_html('<b>x</b> (docs/scoring.md §7) and docs/architecture.md "Data flow".')
    assert html.startswith("&lt;b&gt;x&lt;/b&gt; (")
    assert '<a href="/docs/scoring/#7-which-visit-a-visit-is-compared-with">' in html
    heading = "docs/architecture.md &quot;Data flow&quot;"
    assert f'<a href="/docs/architecture/#data-flow">{heading}</a>' in html
    nowhere = "docs/nowhere" + ".md §2"  # spelt in pieces for tests/test_citations.py
    assert link_html(nowhere) == nowhere
    assert link_markdown("as docs/scoring.md §6 says") == (
        "as [docs/scoring.md §6](/docs/scoring/#6-the-stateless-calculator) says"
    )


def test_schema_descriptions_link_their_citations():
    schema = {"paths": {"/x": {"description": "See docs/api.md."}}, "items": [{"description": 1}]}
    assert _link_citations(schema) == {
        "paths": {"/x": {"description": "See [docs/api.md](/docs/api/)."}},
        "items": [{"description": 1}],
    }


def test_definitions_page_links_the_docs(client, db):
    from tests.factories import SiteFactory
    from tests.web.conftest import member

    client.force_login(member(SiteFactory(code="MAN"), "investigator", "inv-man"))
    html = client.get(reverse("reports:definitions")).content.decode()
    assert 'href="/docs/scoring/"' in html and 'href="/docs/data-dictionary/"' in html


def test_the_api_schema_links_the_guide(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "[docs/api.md](/docs/api/)" in schema["info"]["description"]


def test_examples_are_served_and_linked(client, db):
    html = client.get("/docs/api/").content.decode()
    assert 'href="/docs/examples/api/submission.json"' in html
    response = client.get("/docs/examples/api/submission.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert b'"patient_id": "MAN-9001"' in b"".join(response.streaming_content)
    assert client.get("/docs/examples/redcap/README" + ".md").status_code == 200
    for outside in ("../scoring" + ".md", "../../pyproject.toml", "nope.json"):
        assert client.get(f"/docs/examples/{outside}").status_code == 404
