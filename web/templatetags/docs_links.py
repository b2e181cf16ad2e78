"""`{{ text|doc_links }}`: text escaped, its citations of docs/ (`docs/scoring.md §7`) as links to
the documentation pages (registry.docs)."""

from django import template
from django.utils.safestring import SafeString

from registry.docs import link_html

register = template.Library()


@register.filter
def doc_links(text: object) -> SafeString:
    return link_html(str(text))
