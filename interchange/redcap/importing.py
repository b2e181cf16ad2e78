"""The REDCap import: a project's data dictionary, record export and mapping in, patients out.

Each record becomes one patient document (interchange.redcap.convert), read by the submission
readers and stored by the one patient-document writer (crf.submission.store_patients), batch by
batch per site: each record all or nothing, a record that would change nothing answered
"unchanged" without a write, every change audited with source `import`. A dry run does the
same in a transaction that is rolled back. The report has one line per record (created,
updated, unchanged) or per error (with the REDCap record, event, field and message).
REDCap calculated fields are never imported: the registry computes every score itself.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from crf.submission import read_patient_document, store_patients
from interchange.redcap.convert import Converted, convert_record
from interchange.redcap.dictionary import UnusableInput, read_dictionary
from interchange.redcap.mapping import load_mapping
from interchange.redcap.records import DAG, Issue, read_records
from registry.access import Action, can_anywhere
from registry.audit import Actor
from registry.models import AuditEvent, Site

BATCH = 200
STATUSES = ("created", "updated", "unchanged", "error")
REPORT_COLUMNS = ("record", "site", "patient_id", "status", "event", "instance", "field", "message")
CALC_NOTE = "REDCap calculated fields are never imported (the registry computes its scores)"


class _DryRunRollback(Exception):
    """Raised to leave the dry run's transaction, rolling everything back."""


@dataclass
class RecordResult:
    record: str
    site: str = ""
    patient_id: str = ""
    status: str = "error"
    issues: list[Issue] = field(default_factory=list)


@dataclass
class ImportReport:
    format: str  # flat or eav
    dry_run: bool
    ignored_calc: list[str]
    results: list[RecordResult]

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def rows(self) -> Iterator[tuple[str, ...]]:
        """The per-record report: a line per stored record, a line per error."""
        for r in self.results:
            if r.status != "error":
                yield (r.record, r.site, r.patient_id, r.status, "", "", "", "")
            for i in r.issues:
                yield (r.record, r.site, r.patient_id, "error", i.event, i.instance, i.field,
                       i.message)  # fmt: skip

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(self.rows())
        return out.getvalue()

    def notes(self) -> list[str]:
        counts = self.summary()
        lines = [
            f"{len(self.results)} records ({self.format} export"
            f"{', dry run: nothing stored' if self.dry_run else ''}): "
            + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
        ]
        if self.ignored_calc:
            lines.append(f"{CALC_NOTE}; ignored: {', '.join(self.ignored_calc)}.")
        return lines


def require_import(user: Any) -> None:
    if not can_anywhere(user, Action.IMPORT):
        raise PermissionDenied("Imports are for data managers.")


def _sites(codes: set[str]) -> dict[str, Site]:
    found = {site.code: site for site in Site.objects.filter(code__in=codes)}
    missing = sorted(codes - set(found))
    if missing:
        raise UnusableInput(f"No site with the code(s) {', '.join(missing)} in the registry.")
    return found


def _site_of(converted: Converted, mapping_sites: dict[str, str], default: str) -> str | Issue:
    if converted.dag:
        code = mapping_sites.get(converted.dag)
        if code is None:
            return Issue(converted.record, "", DAG, f"The data access group {converted.dag!r} is "
                         "not in the mapping's sites.")  # fmt: skip
        return code
    if default:
        return default
    return Issue(converted.record, "", DAG, "No data access group, and no site given (--site).")


def _store_site(actor: Actor, site: Site, batch: list[tuple[Converted, RecordResult]]) -> None:
    reads = [read_patient_document(c.document) for c, _ in batch]
    for outcome, (converted, result) in zip(
        store_patients(actor=actor, site=site, reads=reads), batch, strict=True
    ):
        result.status = outcome.status
        result.issues = [converted.origin.locate(path, message) for path, message in outcome.errors]


def _store(
    actor: Actor,
    pending: dict[str, list[tuple[Converted, RecordResult]]],
    sites: dict[str, Site],
    progress: Callable[[int], None],
) -> None:
    for code, batch in pending.items():
        for first in range(0, len(batch), BATCH):
            chunk = batch[first : first + BATCH]
            _store_site(actor, sites[code], chunk)
            progress(len(chunk))


def import_redcap(
    *,
    dictionary: str,
    records: str,
    mapping: str,
    site: str = "",
    dry_run: bool = False,
    user: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a REDCap project's records (the texts of its three files).

    Raises UnusableInput when a file cannot be used at all (nothing is stored), and
    PermissionDenied when `user` (None: a management command) may not import.
    """
    if user is not None:
        require_import(user)
    project = read_dictionary(dictionary)
    rules = load_mapping(mapping, project)
    export = read_records(records, project)
    sites = _sites(set(rules.sites.values()) | ({site} if site else set()))
    results: list[RecordResult] = []
    pending: dict[str, list[tuple[Converted, RecordResult]]] = {}
    for record, rows in export.rows.items():
        converted = convert_record(record, rows, project, rules, export.longitudinal)
        result = RecordResult(record)
        results.append(result)
        located = _site_of(converted, rules.sites, site)
        if isinstance(located, Issue):
            converted.issues.append(located)
        else:
            result.site = located
            result.patient_id = rules.patient_id.format(
                record=record, site=located, dag=converted.dag
            )
        result.issues = export.issues.get(record, []) + converted.issues
        if result.issues or converted.document is None:
            continue
        converted.document["patient_id"] = result.patient_id
        pending.setdefault(result.site, []).append((converted, result))
    total, done = len(results), len(results) - sum(len(b) for b in pending.values())

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    advance(0)
    actor = Actor(user=user, source=AuditEvent.Source.IMPORT)
    if dry_run:
        try:
            with transaction.atomic():
                _store(actor, pending, sites, advance)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
    else:
        _store(actor, pending, sites, advance)
    return ImportReport(export.kind, dry_run, project.calc_fields, results)
