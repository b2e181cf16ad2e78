"""The one writer of patient documents (docs/data-dictionary.md "Submission document").

A patient document — a patient with its autoantibody results, treatment episodes and visits —
is read once (`reading`: typed rows and every error with its JSON path), and then written by
the writer that fits:

- `upsert.patient_read_save` / `patient_document_save`: row by row through the upsert services,
  for a patient that changes (the amendment rules live there);
- `creating.patients_create`: new patients of a submission together, by COPY
  (registry.fastwrite), with one "create" audit event per object (`building`);
- `creating.patients_bulk_create`: the demo cohort, the same way, create-only;
- `sorting.sort_patients`: which patients of a submission are new, unchanged (answered without
  a write) or for the upsert;
- `storing.store_patients`: the three together over a batch of one site, each patient all or
  nothing — what the API's submission and every importer call.

Every importer reads with `read_patient_document` and writes with `store_patients`.
"""

from crf.submission.building import PatientRows, VisitRows
from crf.submission.creating import BulkPatient, patients_bulk_create, patients_create
from crf.submission.reading import PatientRead, VisitRead, read_patient_document
from crf.submission.sorting import is_unchanged, read_patient_rows, read_patients, sort_patients
from crf.submission.storing import Stored, store_patients
from crf.submission.upsert import patient_document_save, patient_read_save

__all__ = [
    "BulkPatient",
    "PatientRead",
    "PatientRows",
    "VisitRead",
    "VisitRows",
    "is_unchanged",
    "patient_document_save",
    "patient_read_save",
    "patients_bulk_create",
    "patients_create",
    "read_patient_document",
    "read_patient_rows",
    "read_patients",
    "sort_patients",
    "Stored",
    "store_patients",
]
