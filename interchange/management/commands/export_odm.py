"""python manage.py export_odm [--site CODE] [--transactional] [-o FILE] [--validate]"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interchange.odm.export import odm_export
from interchange.odm.xml import SchemaError, validate
from registry.access import NotVisible
from registry.errors import InputError
from scoring.management.progress import Progress


class Command(BaseCommand):
    help = (
        "Write the registry's data as a CDISC ODM 1.3.2 file: a Snapshot of the current data "
        "(default) or, with --transactional, every audit event with its AuditRecord. Streamed "
        "patient chunk by patient chunk; audited as an export. --validate checks the written "
        "file against the ODM 1.3.2 XSD shipped in the odmlib package (offline)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--site", help="Only this site (code); default: every site.")
        parser.add_argument(
            "--transactional",
            action="store_true",
            help="The archival file: every audit event as ItemData with its AuditRecord.",
        )
        parser.add_argument("-o", "--output", help="The file to write (default: standard output).")
        parser.add_argument(
            "--validate",
            action="store_true",
            help="Validate the written file against the ODM 1.3.2 XSD (needs -o).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"]
        if options["validate"] and not output:
            raise CommandError("--validate needs the file: give -o FILE.")
        try:
            export = odm_export(
                user=None,
                kind="transactional" if options["transactional"] else "snapshot",
                site_code=options["site"],
                source="command",
                trusted=True,
            )
        except NotVisible:
            raise CommandError(f"No such site: {options['site']}.") from None
        except InputError as exc:
            raise CommandError(str(exc)) from None
        log = self.stdout if output else self.stderr
        progress = Progress(log, export.patients, "patients", "ODM")
        if output:
            with open(output, "w", encoding="utf-8") as file:
                for chunk in export.stream(progress.advance):
                    file.write(chunk)
        else:
            for chunk in export.stream(progress.advance):
                self.stdout.write(chunk, ending="")
        progress.finish()
        if output:
            log.write(f"Wrote {export.patients} patients to {output} ({export.file_oid}).")
        if options["validate"]:
            try:
                validate(Path(output))
            except SchemaError as exc:
                raise CommandError(f"{output} is not valid ODM 1.3.2: {exc}") from None
            log.write(f"{output} is valid against the ODM 1.3.2 schema.")
