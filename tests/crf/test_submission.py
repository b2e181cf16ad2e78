"""The patient-document writer (crf.submission): read once, then written by the path that fits."""

import copy
from datetime import date

import pytest

import crf.services
import crf.submission.reading
from crf.models import Visit
from crf.submission import (
    BulkPatient,
    patient_document_save,
    patients_bulk_create,
    read_patient_document,
)
from registry.errors import InputError
from registry.models import Patient
from tests.factories import SiteFactory


def test_a_document_is_read_into_typed_rows_once(example_patient):
    later = dict(copy.deepcopy(example_patient["visits"][0]), visit_date="2020-04-01",
                 kind="follow_up", reason="  from the paper CRF ")  # fmt: skip
    later.pop("mmt8")
    example_patient["visits"].append(later)
    read = read_patient_document(example_patient, "patients[3]")
    assert not read.errors
    assert (read.path, read.values["patient_id"], read.born) == (
        "patients[3]", "MAN-0001", date(1968, 4, 1)
    )  # fmt: skip
    assert [(e.index, e.values["antibody"]) for e in read.antibodies] == [(0, "anti-MDA5")]
    assert [e.values["drug"] for e in read.treatments] == ["ivig"]
    assert [(v.index, v.path, v.values["visit_date"]) for v in read.visits] == [
        (0, "patients[3].visits[0]", date(2020, 1, 8)),
        (1, "patients[3].visits[1]", date(2020, 4, 1)),
    ]
    assert read.visits[0].mmt8 is not None and read.visits[1].mmt8 is None
    assert set(read.visits[0].labs) == {"ck", "aldolase"}
    assert read.visits[1].reason.strip() == "from the paper CRF"


def test_the_reader_names_every_error_and_the_rules_across_visits(example_patient):
    visit = example_patient["visits"][0]
    example_patient["sex"] = "f"
    example_patient["visits"] = [visit, dict(visit, physician_global=11),
                                 dict(visit, visit_date="not a date"),
                                 dict(visit, visit_date="not a date")]  # fmt: skip
    read = read_patient_document(example_patient)
    assert read.errors.items == [
        ("sex", read.errors.items[0][1]),
        ("visits[1].physician_global", read.errors.items[1][1]),
        ("visits[1].visit_date", "Same date as visits[0]; one visit per date."),
        ("visits[2].visit_date", "Must be a date as YYYY-MM-DD."),
        ("visits[3].visit_date", "Must be a date as YYYY-MM-DD."),
        ("visits[3].visit_date", "Same date as visits[2]; one visit per date."),
        ("visits[1].kind", "Only one baseline visit per patient."),
        ("visits[2].kind", "Only one baseline visit per patient."),
        ("visits[3].kind", "Only one baseline visit per patient."),
    ]


def test_repeated_entries_are_named_by_the_reader(example_patient):
    example_patient["autoantibodies"] *= 2
    read = read_patient_document(example_patient, "patients[0]")
    assert read.errors.items == [
        ("patients[0].autoantibodies[1]",
         "Same antibody and sample_date as patients[0].autoantibodies[0]; give each entry once."),
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_upsert_reads_each_visit_document_once(monkeypatch, command_actor, example_patient):
    calls = []

    def counted(reader):
        def read_visit(*args, **kwargs):
            calls.append(args[1])  # the path
            return reader(*args, **kwargs)

        return read_visit

    monkeypatch.setattr(crf.submission.reading, "read_visit",
                        counted(crf.submission.reading.read_visit))  # fmt: skip
    monkeypatch.setattr(crf.services, "read_visit", counted(crf.services.read_visit))
    later = dict(copy.deepcopy(example_patient["visits"][0]), visit_date="2020-04-01",
                 kind="follow_up")  # fmt: skip
    example_patient["visits"].append(later)
    result = patient_document_save(actor=command_actor, site=SiteFactory(), data=example_patient)
    assert [v["status"] for v in result["visits"]] == ["created", "created"]
    assert calls == ["visits[0]", "visits[1]"]


@pytest.mark.django_db
def test_bulk_creation_names_a_visit_status_that_is_none(command_actor, example_patient):
    site = SiteFactory()
    when = example_patient["visits"][0]["visit_date"]
    example_patient["autoantibodies"] *= 2
    with pytest.raises(InputError) as refused:
        patients_bulk_create(
            actor=command_actor,
            patients=[BulkPatient(site, example_patient, {when: "archived"})],
        )
    assert refused.value.errors == [
        ("patients[0].autoantibodies[1]",
         "Same antibody and sample_date as patients[0].autoantibodies[0]; give each entry once."),
        ("patients[0].visits[0].status",
         "Must be one of: draft, locked, submitted, verified."),
    ]  # fmt: skip
    assert not Patient.objects.exists() and not Visit.objects.exists()
