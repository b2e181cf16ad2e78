"""Template helpers of the web pages: accessible form widgets and number formats."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString

from scoring.models import ResponseRecord
from web.labels import MEASURE_LABELS, TIS_CATEGORY_LABELS

register = template.Library()

OBJECT_LABELS = {
    "registry.patient": "Patient",
    "registry.autoantibodyresult": "Autoantibody",
    "registry.treatmentepisode": "Treatment",
    "crf.visit": "Visit",
    "crf.mmt8": "MMT-8",
    "crf.haq": "HAQ/CHAQ",
    "crf.labresult": "Lab result",
    "crf.dataquery": "Data query",
    "crf.signature": "Signature",
    ResponseRecord._meta.label_lower: "Response record",
}


@register.filter
def widget(field: BoundField) -> SafeString:
    """A form field's widget, described by its hint and error (read out by screen readers)."""
    attrs: dict[str, Any] = {}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value))


@register.filter
def places(value: Any, digits: int = 2) -> str:
    """A number rounded half up for display (the stored value stays exact)."""
    number = _decimal(value)
    if number is None:
        return ""
    quantum = Decimal(1).scaleb(-int(digits))
    return format(number.quantize(quantum, rounding=ROUND_HALF_UP), "f")


@register.filter
def plain(value: Any) -> str:
    """A stored decimal without trailing zeros: 15.200 → 15.2."""
    number = _decimal(value)
    if number is None:
        return ""
    text = format(number.normalize(), "f")
    return text


@register.filter
def signed(value: Any) -> str:
    number = _decimal(value)
    if number is None:
        return "—"
    text = format(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"+{text}" if number > 0 else text.replace("-", "−")


@register.filter
def category_label(code: str) -> str:
    return TIS_CATEGORY_LABELS.get(code, code or "")


@register.filter
def measure_label(code: str) -> str:
    return MEASURE_LABELS.get(code, code)


@register.filter
def measure_labels(codes: Any) -> str:
    return ", ".join(MEASURE_LABELS.get(code, code).lower() for code in codes or ())


@register.filter
def object_label(code: str) -> str:
    return OBJECT_LABELS.get(code, code)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def doi_badge(met: bool | None) -> SafeString:
    if met is True:
        css, text = "badge-good", "DOI met"
    elif met is False:
        css, text = "badge-neutral", "DOI not met"
    else:
        css, text = "badge-muted", "DOI not evaluable"
    return format_html('<span class="badge {}">{}</span>', css, text)
