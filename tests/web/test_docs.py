"""The documentation pages (/docs/): docs/*.md rendered, raw HTML escaped, links between pages
pointing at their URLs, public like the API's schema, and nothing outside docs/ reachable."""

import pytest
from django.urls import reverse

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
    (tmp_path / "evil.md").write_text(evil)
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
