"""ODM 1.3.2 exports: who may take which, the audit event of each, and the streamed file.

Data managers export every site; investigators their own sites (they sign the data and answer
for it to sponsors). Another site's `site` is answered as if it did not exist (404), a role that
may read a site but not export it with 403. Each export is one audit event (action "export",
object type "interchange.odm", the site if one was asked for), written before the first byte.

The file is written patient chunk by patient chunk: patient ids are read with `.iterator()`, each
chunk's data in a fixed number of queries, rendered to text and dropped, so the memory held does
not grow with the registry.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata as package_metadata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crf.models import Signature, Visit
from interchange.odm import clinical, transactional
from interchange.odm import metadata as md
from interchange.odm.define import Person, admin_data, study, user_oid
from interchange.odm.xml import DS_NS, ODM_NS, attrs
from registry.access import Action, Grants, NotVisible, grants_of
from registry.errors import InputError
from registry.models import AuditEvent, Membership, Patient, Role, Site

TYPES = ("snapshot", "transactional")
FILE_TYPES = {"snapshot": "Snapshot", "transactional": "Transactional"}
EXPORT_ROLES = frozenset({Role.DATA_MANAGER, Role.INVESTIGATOR})
OBJECT_TYPE = "interchange.odm"
CHUNK = 200
SOURCE_SYSTEM = "myositis-registry"


def source_version() -> str:
    try:
        return package_metadata.version("myositis-registry")
    except package_metadata.PackageNotFoundError:
        return "development"  # run from a checkout that was not installed


def exportable_site_ids(grants: Grants) -> set[int] | None:
    """The sites memberships allow exporting (None: every site)."""
    ids: set[int] = set()
    for site_id, role in grants.memberships:
        if role in EXPORT_ROLES:
            if site_id is None:
                return None
            ids.add(site_id)
    return ids


def export_site_ids(user: Any) -> set[int] | None:
    """The sites the user may export (None: every site)."""
    return exportable_site_ids(grants_of(user))


def may_export(grants: Grants) -> bool:
    ids = exportable_site_ids(grants)
    return ids is None or bool(ids)


def _export_type(kind: str) -> str:
    if kind not in TYPES:
        raise InputError([("type", f"Must be one of: {', '.join(TYPES)}.")])
    return kind


def _scope(user: Any, code: str | None, trusted: bool) -> tuple[Site | None, list[Site]]:
    """The site asked for (None: all the user may export) and the sites exported."""
    allowed = None if trusted else export_site_ids(user)
    if code:
        if "\x00" in code:  # PostgreSQL cannot even compare text with a NUL in it
            raise InputError([("site", "Must be the code of a site.")])
        site = Site.objects.filter(code=code).first()
        if site is None or not (trusted or grants_of(user).can(Action.READ, site.pk)):
            raise NotVisible("No such site.")
        if allowed is not None and site.pk not in allowed:
            raise PermissionDenied("Only data managers and the site's investigators may export.")
        return site, [site]
    if allowed is not None and not allowed:
        raise PermissionDenied("Only data managers and investigators may export ODM files.")
    sites = Site.objects.all() if allowed is None else Site.objects.filter(pk__in=allowed)
    return None, list(sites.order_by("code"))


@dataclass
class OdmExport:
    """One export, checked and audited; `stream()` writes it."""

    kind: str
    site: Site | None
    sites: list[Site]
    file_oid: str
    as_of: datetime
    patients: int
    _people: list[Person] = field(default_factory=list)

    @property
    def filename(self) -> str:
        where = self.site.code if self.site else "all"
        return f"odm-{self.kind}-{where}-{self.as_of:%Y%m%d-%H%M%S}.xml"

    def patient_ids(self) -> QuerySet:
        return (
            Patient.objects.filter(site__in=[site.pk for site in self.sites])
            .order_by("site__code", "patient_id")
            .values_list("id", flat=True)
        )

    def stream(self, progress: Callable[[int], None] | None = None) -> Iterator[str]:
        """The file as text chunks: the header and definitions, then one chunk per patients'
        chunk, then the end."""
        created = max(timezone.now(), self.as_of)
        root = attrs(
            {
                "xmlns": ODM_NS,
                "xmlns:ds": DS_NS,
                "FileType": FILE_TYPES[self.kind],
                "FileOID": self.file_oid,
                "Granularity": "SingleSite" if self.site else "All",
                "CreationDateTime": created.isoformat(),
                "AsOfDateTime": self.as_of.isoformat(),
                "ODMVersion": "1.3.2",
                "Originator": md.STUDY_NAME,
                "SourceSystem": SOURCE_SYSTEM,
                "SourceSystemVersion": source_version(),
            }
        )
        yield f'<?xml version="1.0" encoding="UTF-8"?>\n<ODM{root}>'
        yield study(f"{FILE_TYPES[self.kind]} export of the myositis registry")
        yield admin_data(self._people, self.sites, self.as_of.date())
        yield f'<ClinicalData StudyOID="{md.STUDY_OID}" MetaDataVersionOID="{md.METADATA_OID}">'
        roles = _roles(self._people)
        chunk: list[int] = []
        for patient_id in self.patient_ids().iterator(chunk_size=CHUNK * 5):
            chunk.append(patient_id)
            if len(chunk) == CHUNK:
                yield from self._chunk(chunk, roles)
                if progress:
                    progress(len(chunk))
                chunk = []
        if chunk:
            yield from self._chunk(chunk, roles)
            if progress:
                progress(len(chunk))
        yield "</ClinicalData></ODM>\n"

    def _chunk(self, ids: list[int], roles: dict[int, set[str]]) -> Iterator[str]:
        """One chunk's patients, read in a fixed number of queries, one string per patient."""
        if self.kind == "snapshot":
            return clinical.subjects(clinical.load_patients(ids))
        patients = Patient.objects.filter(pk__in=ids).select_related("site")
        return transactional.subjects(list(patients.order_by("site__code", "patient_id")), roles)


def _roles(people: list[Person]) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = defaultdict(set)
    for person in people:
        roles[int(person.oid.removeprefix("USR."))].update(role for role, _ in person.roles)
    return roles


def _people(sites: list[Site], every_site: bool) -> list[Person]:
    """A Person per user who entered, changed, verified or signed data of these sites."""
    site_ids = None if every_site else [site.pk for site in sites]
    ids = set(transactional.actor_ids(site_ids))
    signatures = Signature.objects.all()
    visits = Visit.objects.exclude(verified_by=None)
    if site_ids is not None:
        signatures = signatures.filter(visit__patient__site_id__in=site_ids)
        visits = visits.filter(patient__site_id__in=site_ids)
    ids.update(signatures.values_list("signer_id", flat=True).distinct().order_by())
    ids.update(visits.values_list("verified_by_id", flat=True).distinct().order_by())
    memberships: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for user_id, role, code in Membership.objects.filter(user_id__in=ids).values_list(
        "user_id", "role", "site__code"
    ):
        memberships[user_id].append((role, code))
    users = get_user_model().objects.filter(pk__in=ids).order_by("pk")
    return [
        Person(user_oid(user.pk), user.get_username(), tuple(memberships[user.pk]))
        for user in users
    ]


@transaction.atomic
def odm_export(
    *, user: Any, kind: str, site_code: str | None = None, source: str, trusted: bool = False
) -> OdmExport:
    """Check and audit an export; the caller streams `.stream()` (InputError for a bad `type`,
    NotVisible for a site the user cannot see, PermissionDenied for a role that may not).

    `trusted`: a management command, run by whoever runs the server: every site, no user.
    """
    kind = _export_type(kind)
    site, sites = _scope(user, site_code, trusted)
    as_of = timezone.now()
    export = OdmExport(kind, site, sites, f"ODM.{uuid.uuid4()}", as_of, 0)
    export.patients = Patient.objects.filter(site__in=[s.pk for s in sites]).count()
    every_site = site is None and (trusted or export_site_ids(user) is None)
    export._people = _people(sites, every_site=every_site)
    AuditEvent.objects.create(
        actor_id=getattr(user, "pk", None),
        source=source,
        action=AuditEvent.Action.EXPORT,
        site_id=site.pk if site else None,
        object_type=OBJECT_TYPE,
        object_id=site.pk if site else 0,
        new_value=json.dumps(
            {
                "format": "ODM 1.3.2",
                "type": kind,
                "file_oid": export.file_oid,
                "sites": [s.code for s in sites],
                "patients": export.patients,
            },
            sort_keys=True,
        ),
    )
    return export
