"""`export_fhir [--site CODE] [--type T ...] [-o DIR]`: the bulk FHIR R4 export as files, one
NDJSON file per resource type (`DIR/Observation.ndjson`, ...), with a progress bar.

The operator's command: every site, or one. Each file is written under a temporary name and
renamed when complete, so a file with the final name is never a partial export. Audited like the
API's export (one event per site covered, source "command").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interchange.fhir.export import BY_TYPE, RESOURCE_TYPES, ndjson
from interchange.fhir.services import fhir_bulk_audit
from registry.audit import Actor
from registry.models import Patient, Site
from scoring.management.progress import Progress


class Command(BaseCommand):
    help = "Export FHIR R4 resources as NDJSON, one file per resource type."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", metavar="CODE", help="Only this site's patients.")
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            metavar="TYPE",
            choices=RESOURCE_TYPES,
            help=f"A resource type (repeatable; default every one: {', '.join(RESOURCE_TYPES)}).",
        )
        parser.add_argument(
            "-o", "--output", default=".", metavar="DIR", help="Directory of the files (default .)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        types = list(dict.fromkeys(options["types"] or RESOURCE_TYPES))
        patients = Patient.objects.all()
        sites = Site.objects.all()
        if options["site"] is not None:
            sites = sites.filter(code=options["site"])
            if not sites.exists():
                raise CommandError(f"No site with the code {options['site']!r}.")
            patients = patients.filter(site__in=sites)
        directory = Path(options["output"])
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"Cannot create {directory}: {exc.strerror}.") from None
        fhir_bulk_audit(
            actor=Actor(user=None, source="command"),
            site_ids=sites.values_list("pk", flat=True),
            types=types,
        )
        count = patients.count()
        for name in types:
            path = directory / f"{name}.ndjson"
            partial = path.with_name(path.name + ".part")
            progress = Progress(self.stderr, count if name in BY_TYPE else 0, "patients", name)
            lines = 0
            try:
                with partial.open("wb") as out:
                    for line in ndjson(name, patients, progress=progress.advance):
                        out.write(line)
                        lines += 1
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            os.replace(partial, path)
            progress.finish()
            self.stdout.write(f"{path}: {lines} {name} resources")
