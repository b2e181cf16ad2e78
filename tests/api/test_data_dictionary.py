"""docs/data-dictionary.md is what the code gives (api.data_dictionary): a field or column added
to the code without regenerating the page fails here."""

import re

import pytest
from django.core.management import CommandError, call_command

from api import data_dictionary
from api.schema.documents import DOCUMENT_KEYS
from reports import dictionary


def test_committed_page_is_current():
    committed = data_dictionary.PATH.read_text(encoding="utf-8")
    assert committed == data_dictionary.render(), (
        "docs/data-dictionary.md is out of date: run python manage.py data_dictionary"
    )


def test_every_document_key_and_report_column_is_on_the_page():
    page = data_dictionary.render()
    for component, keys in DOCUMENT_KEYS.items():
        assert f"### {component}" in page
        table = page.split(f"### {component}", 1)[1].split("\n### ", 1)[0]
        for key in keys:
            # A key is a row of the component's table (alone, or among keys of one shape).
            row = re.compile(rf"^\| `(?:<[^`]*\b{key}\b[^`]*>|{key})[`.]", re.M)
            assert row.search(table), (component, key)
    downloads = (dictionary.SUMMARY_COLUMNS, dictionary.EPISODE_COLUMNS, dictionary.LONG_COLUMNS)
    for columns in downloads:
        for column in columns:
            assert f"| `{column.name}` |" in page


def test_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    stale = tmp_path / "data-dictionary.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr("api.management.commands.data_dictionary.PATH", stale)
    with pytest.raises(CommandError, match="not what the code gives"):
        call_command("data_dictionary", "--check")
    call_command("data_dictionary")
    assert stale.read_text(encoding="utf-8") == data_dictionary.render()
    call_command("data_dictionary", "--check")
