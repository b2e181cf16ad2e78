"""Every citation of a Markdown file names a file the repository has: a clone must be able to
follow each one (docs/README.md). Scans the source, templates, scripts and documentation of the
app packages, tests/, benchmarks/, docs/ and the README, and fails with the list of offenders —
above all a citation of the specs that lived in a folder beside the repository ("shared")."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "config",
    "registry",
    "crf",
    "scoring",
    "reports",
    "interchange",
    "api",
    "web",
    "tests",
    "benchmarks",
    "docs",
)
SUFFIXES = {".py", ".html", ".md", ".js"}
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
# A file name ending in .md, with the path written before it (`docs/scoring.md`, a relative one).
REFERENCE = re.compile(r"(?<![\w./-])((?:\.{1,2}/)*[\w-]+(?:[./][\w-]+)*\.md)\b")
OUTSIDE = re.compile(r"\.\./shared\b")


def scanned_files() -> list[Path]:
    files = [REPO / "README.md"]
    for package in PACKAGES:
        files += sorted(
            path
            for path in (REPO / package).rglob("*")
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
        )
    return files


def resolves(reference: str, source: Path) -> bool:
    """A reference is a path from the citing file, from the repository's root, or a page of
    docs/ (where the citations point)."""
    return any((base / reference).is_file() for base in (source.parent, REPO, REPO / "docs"))


def offenders(path: Path) -> list[str]:
    found = []
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        line = URL.sub("", line)
        where = f"{path.relative_to(REPO)}:{number}"
        found += [f"{where}: {m[0]}" for m in OUTSIDE.finditer(line)]
        found += [f"{where}: {m[1]}" for m in REFERENCE.finditer(line) if not resolves(m[1], path)]
    return found


def test_every_cited_markdown_file_exists():
    wrong = [offence for path in scanned_files() for offence in offenders(path)]
    assert not wrong, "Citations of files the repository does not have:\n" + "\n".join(wrong)


def test_the_check_finds_what_it_must(tmp_path):
    source = REPO / "tests" / "example.py"
    assert resolves("docs/scoring.md", source) and resolves("scoring.md", source)
    spec = "SCORING" + ".md"  # the old spec's name, spelt in pieces: this file cites nothing
    assert not resolves(spec, source) and not resolves(f"spec/{spec}", source)
    outside = ".." + "/shared/spec/X" + ".md"  # spelt in pieces, or this file would offend
    line = f"see {outside} §6, docs/scoring.md §6 and https://example.org/a.md"
    found = [m[1] for m in REFERENCE.finditer(URL.sub("", line))]
    assert found == [outside, "docs/scoring.md"]
    assert OUTSIDE.search(line)
