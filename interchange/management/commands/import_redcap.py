"""`python manage.py import_redcap`: import a REDCap project's records (interchange.redcap).

    import_redcap --dictionary DD.csv --records RECORDS.csv --mapping MAP.yaml
                  [--site CODE] [--dry-run] [--report REPORT.csv]
    import_redcap mapping-suggest --dictionary DD.csv [--records RECORDS.csv]

Exit 0 when the records were processed (the per-record report says which were created,
updated, unchanged or in error, with the REDCap record, event and field); exit 2 when an input
cannot be used at all (a malformed CSV, a bad mapping), with the reason.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interchange.redcap.dictionary import UnusableInput, read_dictionary
from interchange.redcap.importing import import_redcap
from interchange.redcap.records import read_records
from interchange.redcap.suggest import suggest_mapping
from scoring.management.progress import Progress

SUGGEST = "mapping-suggest"


def _text(path: str | None, what: str) -> str:
    if not path:
        raise CommandError(f"Give the {what} (--{what}).", returncode=2)
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read the {what} {path}: {exc}", returncode=2) from None


class Command(BaseCommand):
    help = "Import a REDCap project's records, or draft a mapping (mapping-suggest)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", choices=[SUGGEST], help="draft a mapping")
        parser.add_argument("--dictionary", help="the project's data dictionary (CSV)")
        parser.add_argument("--records", help="the record export, flat or EAV (CSV)")
        parser.add_argument("--mapping", help="the mapping file (YAML)")
        parser.add_argument("--site", default="", help="site code for records without a DAG")
        parser.add_argument("--dry-run", action="store_true", help="store nothing, report all")
        parser.add_argument("--report", help="also write the per-record report to this CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == SUGGEST:
                self._suggest(options)
            else:
                self._import(options)
        except UnusableInput as exc:
            raise CommandError(str(exc), returncode=2) from None

    def _suggest(self, options: dict[str, Any]) -> None:
        dictionary = read_dictionary(_text(options["dictionary"], "dictionary"))
        records = None
        if options["records"]:
            records = read_records(_text(options["records"], "records"), dictionary)
        self.stdout.write(suggest_mapping(dictionary, records), ending="")

    def _import(self, options: dict[str, Any]) -> None:
        texts = {what: _text(options[what], what) for what in ("dictionary", "records", "mapping")}
        bar: Progress | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = Progress(self.stderr, total, "records", "Importing")
            bar.advance(done - bar.done)

        report = import_redcap(
            **texts, site=options["site"], dry_run=options["dry_run"], progress=progress
        )
        if bar is not None:
            bar.finish()
        for line in report.csv().splitlines():
            self.stdout.write(line)
        for note in report.notes():
            self.stderr.write(note)
        if options["report"]:
            Path(options["report"]).write_text(report.csv(), encoding="utf-8")
