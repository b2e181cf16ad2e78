"""python manage.py import_odm FILE [--site CODE] [--dry-run]"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interchange.odm.importing import odm_import
from interchange.odm.xml import MalformedXML, UnsafeXML
from registry.access import NotVisible
from registry.errors import InputError


class Command(BaseCommand):
    help = (
        "Import a CDISC ODM 1.3.2 Snapshot file in the registry's OIDs (as export_odm writes "
        "it) through the submission service: each subject is stored all or nothing, audited "
        "with source 'import'; re-importing changes nothing. Prints a line per subject (created "
        "/ updated / unchanged / error, with the XML path of each error). Exit status: 0 all "
        "stored, 1 some subjects have errors, 2 the file was refused (unsafe or malformed XML, "
        "not an ODM Snapshot, unknown site)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The ODM XML file.")
        parser.add_argument(
            "--site", help="The site of every subject; a subject of another site is an error."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and preview the scores; store nothing.",
        )
        parser.add_argument("--json", action="store_true", help="Print the whole answer as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["file"], "rb") as stream:
                _, answer = odm_import(
                    user=None,
                    stream=stream,
                    dry_run=options["dry_run"],
                    site=options["site"],
                    trusted=True,
                )
        except OSError as exc:
            raise CommandError(
                f"Cannot read {options['file']}: {exc.strerror}.", returncode=2
            ) from None
        except (UnsafeXML, MalformedXML) as exc:
            raise CommandError(str(exc), returncode=2) from None
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except NotVisible as exc:
            raise CommandError(f"{exc} Create the site first.", returncode=2) from None
        if options["json"]:
            self.stdout.write(json.dumps(answer, indent=2))
        else:
            for patient in answer["patients"]:
                self.stdout.write(f"{patient['subject_key']}: {patient['status']}")
                for error in patient["errors"]:
                    self.stdout.write(f"  {error['field']}: {error['message']}")
            patients = answer["summary"]["patients"]
            counts = ", ".join(f"{n} {status}" for status, n in patients.items())
            prefix = "Dry run, nothing stored: " if options["dry_run"] else ""
            self.stdout.write(f"{prefix}{counts}.")
        if answer["summary"]["patients"]["error"]:
            raise CommandError("Some subjects were not imported.", returncode=1)
