"""Fonts of the PDF report: Bitstream Vera, which ships inside ReportLab (nothing to install).

The PDF's standard Helvetica has no "≥", "−" or "–" in its encoding; Vera has those but no Greek,
so the one Greek letter of the vocabularies (anti-TIF1-γ) is spelt out.
"""

from __future__ import annotations

from pathlib import Path

FONT_REGULAR = "RegistryVera"
FONT_BOLD = "RegistryVera-Bold"

_REPLACEMENTS = {"γ": "gamma"}
_registered = False


def register_fonts() -> None:
    """Register the fonts with ReportLab once per process."""
    global _registered
    if _registered:
        return
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT_REGULAR, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    _registered = True


def pdf_text(text: str) -> str:
    """`text` with the characters the font lacks spelt out."""
    for character, replacement in _REPLACEMENTS.items():
        text = text.replace(character, replacement)
    return text
