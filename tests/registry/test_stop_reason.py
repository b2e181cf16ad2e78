"""A treatment's stop_reason as a code (docs/outcomes.md): the one mapping of free text, the reader,
re-sending free text, the database constraints and the data migration."""

import copy
import importlib
from datetime import date

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from crf.submission import patient_document_save
from registry.audit import Actor
from registry.documents import Errors, read_treatment
from registry.models import AuditEvent, TreatmentEpisode
from registry.vocabularies import stop_reason_code
from tests.conftest import EXAMPLE_PATIENT
from tests.factories import PatientFactory, SiteFactory, TreatmentFactory

ACTOR = Actor(user=None, source="command")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("adverse event", ("adverse_event", "")),
        ("Adverse event: raised transaminases", ("adverse_event", "")),
        ("side effects", ("adverse_event", "")),
        ("AE", ("adverse_event", "")),
        ("lack of efficacy", ("inefficacy", "")),
        ("Inefficacy", ("inefficacy", "")),
        ("failure", ("inefficacy", "")),
        ("not effective", ("inefficacy", "")),
        ("inadequate response", ("inefficacy", "")),
        ("completed", ("completed", "")),
        ("course completed", ("completed", "")),
        ("tapered off", ("completed", "")),
        ("patient choice", ("patient_choice", "")),
        ("Patient decision", ("patient_choice", "")),
        ("patient's wish", ("patient_choice", "")),
        ("planning pregnancy", ("patient_choice", "")),
        ("death", ("other", "death")),
        ("moved abroad", ("other", "moved abroad")),
        ("other", ("other", "")),
        ("patient_choice", ("patient_choice", "")),
        ("", ("", "")),
    ],
)
def test_one_mapping_of_free_text(text, expected):
    assert stop_reason_code(text) == expected
    # Idempotent: the code read again is itself, and the kept text maps to the same.
    code, other = expected
    assert stop_reason_code(code) == (code, "")
    if other:
        assert stop_reason_code(other) == expected


def read(**fields):
    errors = Errors()
    values = read_treatment(errors, "t", {"drug": "methotrexate", "start_date": "2020-01-01",
                                          **fields}, None)  # fmt: skip
    return values, errors.items


def test_reader_takes_codes_free_text_and_the_other_text():
    assert read(stop_reason="inefficacy")[0]["stop_reason"] == "inefficacy"
    values, _ = read(stop_reason="side effects")
    assert (values["stop_reason"], values["stop_reason_other"]) == ("adverse_event", "")
    values, _ = read(stop_reason="moved abroad")
    assert (values["stop_reason"], values["stop_reason_other"]) == ("other", "moved abroad")
    values, _ = read(stop_reason="other", stop_reason_other="moved abroad")
    assert (values["stop_reason"], values["stop_reason_other"]) == ("other", "moved abroad")


def test_the_other_text_only_beside_other():
    _, errors = read(stop_reason="completed", stop_reason_other="x")
    assert [path for path, _ in errors] == ["t.stop_reason_other"]
    _, errors = read(stop_reason_other="x")
    assert [path for path, _ in errors] == ["t.stop_reason_other"]


@pytest.mark.django_db
def test_resending_free_text_changes_nothing():
    site = SiteFactory(code="MAN")
    document = copy.deepcopy(EXAMPLE_PATIENT)
    document["visits"] = []
    document["treatments"] = [
        {"drug": "methotrexate", "start_date": "2020-01-01", "stop_date": "2020-06-01",
         "stop_reason": "adverse event: mouth ulcers"},
        {"drug": "azathioprine", "start_date": "2020-06-01", "stop_date": "2020-09-01",
         "stop_reason": "moved abroad"},
    ]  # fmt: skip
    patient_document_save(actor=ACTOR, site=site, data=copy.deepcopy(document))
    stored = set(TreatmentEpisode.objects.values_list("drug", "stop_reason", "stop_reason_other"))
    assert stored == {
        ("methotrexate", "adverse_event", ""),
        ("azathioprine", "other", "moved abroad"),
    }
    events = AuditEvent.objects.count()
    answer = patient_document_save(actor=ACTOR, site=site, data=copy.deepcopy(document))
    assert answer["status"] == "unchanged"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"stop_reason": "remission"},
        {"stop_reason": "completed", "stop_reason_other": "x"},
    ],
)
def test_database_refuses_what_is_not_a_code(values):
    episode = TreatmentFactory(patient=PatientFactory(), stop_date=date(2020, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentEpisode.objects.filter(pk=episode.pk).update(**values)


@pytest.mark.django_db
def test_data_migration_is_safe_to_re_run_on_coded_data():
    migration = importlib.import_module("registry.migrations.0008_code_stop_reasons")
    TreatmentFactory(patient=PatientFactory(), stop_date=date(2020, 3, 1), stop_reason="other",
                     stop_reason_other="moved abroad")  # fmt: skip
    events = AuditEvent.objects.count()
    migration.code_stop_reasons(apps, None)
    migration.code_stop_reasons(apps, None)
    assert AuditEvent.objects.count() == events
    assert TreatmentEpisode.objects.get().stop_reason_other == "moved abroad"
