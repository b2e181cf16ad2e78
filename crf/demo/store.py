"""Writes generated patients: the documents through the bulk writer, then the signatures.

A locked visit is a signed one (crf.services.visit_sign locks a visit by signing it), so every
locked visit of the cohort gets the Signature row that signing would have made — by the site's
investigator, with the meaning drawn by the generator (crf.demo.workflow), for the version of
the visit that is stored — and its "create" audit event by that investigator, in the same
transaction as the patients. Signing re-enters the signer's password; a seed cannot, and needs
not: the rows and events are the service's, the check is not.
"""

from collections.abc import Mapping, Sequence
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from crf.demo.cohort import SyntheticPatient
from crf.demo.sites import site_login
from crf.models import Signature, Visit
from crf.submission import BulkPatient, patients_bulk_create
from registry.audit import Actor, event_values, snapshot
from registry.fastwrite import insert_events, insert_rows
from registry.models import Site

CHUNK = 500  # patient ids per query, within SQLite's parameter limit


@transaction.atomic
def demo_patients_create(
    *,
    actor: Actor,
    sites: Mapping[str, Site],
    patients: Sequence[SyntheticPatient],
    score: bool = True,
) -> dict[str, int]:
    """Create these generated patients (all or nothing) and sign their locked visits.

    `sites` maps each patient's site code to its Site; the site's investigator login
    (crf.demo.accounts) must exist. Raises InputError as patients_bulk_create does. Returns the
    rows created, by kind, audit events included.
    """
    created = patients_bulk_create(
        actor=actor,
        patients=[
            BulkPatient(site=sites[p.site_code], document=p.document, visit_status=p.visit_status)
            for p in patients
        ],
        score=score,
    )
    events = created.pop("audit_events")
    signatures, signature_events = _sign_locked_visits(actor, sites, patients)
    return {**created, "signatures": signatures, "audit_events": events + signature_events}


def _sign_locked_visits(
    actor: Actor, sites: Mapping[str, Site], patients: Sequence[SyntheticPatient]
) -> tuple[int, int]:
    """Signatures and their audit events for the patients' locked visits: (rows, events)."""
    planned = {
        (sites[p.site_code].pk, p.document["patient_id"], date.fromisoformat(day)): signature
        for p in patients
        for day, signature in p.signatures.items()
    }
    codes = sorted({p.site_code for p in patients})
    User = get_user_model()
    usernames = {site_login("investigator", code): code for code in codes}
    found = {
        usernames[user.username]: user for user in User.objects.filter(username__in=list(usernames))
    }
    missing = sorted(set(codes) - set(found))
    if missing:
        raise LookupError(f"No demo investigator at site(s) {', '.join(missing)}.")
    investigators = {sites[code].pk: user for code, user in found.items()}

    meanings = frozenset(Signature.Meaning.values)  # built anew on every access
    rows: list[Signature] = []
    where: list[tuple[int, int]] = []  # (site, patient) of each signature, for its event
    for site_id, patient_id, visit_id, patient_key, visit_date, version in _locked_visits(
        sites, patients
    ):
        plan = planned.pop((site_id, patient_key, visit_date), None)
        if plan is None:
            raise ValueError(f"Locked visit {patient_key} {visit_date} has no signature planned.")
        if plan.meaning not in meanings:
            raise ValueError(f"Unknown signature meaning {plan.meaning!r}.")
        signer = investigators[site_id]
        rows.append(
            Signature(
                visit_id=visit_id,
                signer=signer,
                signer_name=signer.get_full_name() or signer.get_username(),
                meaning=plan.meaning,
                signed_at=plan.signed_at,
                visit_version=version,
            )
        )
        where.append((site_id, patient_id))
    if planned:  # a signature planned for a visit that is not locked
        raise ValueError(f"Signatures planned for visits not locked: {sorted(planned)[:3]}.")
    insert_rows(Signature, rows)
    events = []
    for signature, (site_id, patient_id) in zip(rows, where, strict=True):
        # The signer signs, as in visit_sign; the seed's reason says how the row came about.
        by = Actor(user=signature.signer, source=actor.source, reason=actor.reason)
        events += event_values(
            by,
            Signature._meta.label_lower,
            signature.pk,
            None,
            snapshot(signature),
            site_id=site_id,
            patient_id=patient_id,
        )
    insert_events(events)
    return len(rows), len(events)


def _locked_visits(
    sites: Mapping[str, Site], patients: Sequence[SyntheticPatient]
) -> list[tuple[int, int, int, str, date, int]]:
    """(site id, patient pk, visit pk, patient id, visit date, version) of every locked visit of
    these patients, in visit order."""
    wanted: dict[int, list[str]] = {}
    for p in patients:
        wanted.setdefault(sites[p.site_code].pk, []).append(p.document["patient_id"])
    found: list[tuple[int, int, int, str, date, int]] = []
    for site_id, patient_ids in wanted.items():
        for first in range(0, len(patient_ids), CHUNK):
            found += [
                (site_id, *row)
                for row in Visit.objects.filter(
                    status=Visit.Status.LOCKED,
                    patient__site_id=site_id,
                    patient__patient_id__in=patient_ids[first : first + CHUNK],
                )
                .order_by("pk")
                .values_list("patient_id", "pk", "patient__patient_id", "visit_date", "version")
            ]
    return found
