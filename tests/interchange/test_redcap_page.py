"""The data managers' REDCap import page (/imports/redcap/): upload, the Celery task (eager
here), progress, the per-record report; nobody else may use it."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from interchange.models import ImportJob
from interchange.redcap.jobs import import_job_run
from registry.models import Membership, Patient
from tests.factories import MembershipFactory, SiteFactory, UserFactory
from tests.interchange.test_redcap_import import DICTIONARY, FLAT, MAPPING

pytestmark = pytest.mark.django_db
NEW = reverse("imports:redcap-new")


@pytest.fixture(autouse=True)
def sites():
    return {code: SiteFactory(code=code) for code in ("MAN", "STO")}


def member(site, role, name):
    user = UserFactory(username=name)
    MembershipFactory(user=user, site=site, role=role)
    return user


@pytest.fixture
def manager():
    return member(None, Membership.Role.DATA_MANAGER, "dm")


def upload(client, mapping: str = MAPPING, **extra):
    data = {
        "dictionary": SimpleUploadedFile("dd.csv", DICTIONARY.encode(), "text/csv"),
        "records": SimpleUploadedFile("records.csv", FLAT.encode(), "text/csv"),
        "mapping": SimpleUploadedFile("map.yaml", mapping.encode(), "application/yaml"),
        **extra,
    }
    return client.post(NEW, data)


def test_a_data_manager_uploads_the_task_imports_and_the_report_downloads(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    page = client.get(NEW)
    assert page.status_code == 200
    assert b"Data dictionary (CSV)" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:redcap", args=[job.pk])
    assert (job.status, job.progress, job.summary["created"]) == ("done", 100, 10)
    assert job.filenames == {
        "dictionary": "dd.csv",
        "records": "records.csv",
        "mapping": "map.yaml",
    }
    detail = client.get(response["Location"])
    assert b"10 created, 0 updated" in detail.content
    assert b"calculated fields are never imported" in detail.content
    assert b'http-equiv="refresh"' not in detail.content
    report = client.get(reverse("imports:redcap-report", args=[job.pk]))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert [line["status"] for line in lines] == ["created"] * 10
    assert Patient.objects.count() == 10
    assert b"10 created" in client.get(NEW).content  # the recent imports


def test_a_job_not_run_yet_shows_its_progress_and_has_no_report(client, manager):
    client.force_login(manager)
    upload(client)  # no commit in this test: the task is not queued
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:redcap", args=[job.pk]))
    assert b"Waiting for a worker" in page.content
    assert b'http-equiv="refresh"' in page.content
    assert client.get(reverse("imports:redcap-report", args=[job.pk])).status_code == 404
    assert import_job_run(job_id=job.pk) == "done"
    assert import_job_run(job_id=job.pk) == "done"  # a finished job is left as it is
    assert Patient.objects.count() == 10


def test_unusable_files_fail_the_job_with_the_reason(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, mapping="patient: {sex: {field: gender}}\n")
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert "'gender' is not in the data dictionary" in job.error
    assert b"gender" in client.get(response["Location"]).content
    assert Patient.objects.count() == 0


def test_a_file_that_is_not_text_is_refused_naming_the_field(client, manager):
    client.force_login(manager)
    response = upload(client, records=SimpleUploadedFile("r.xlsx", b"\xff\xfe\x00\x81", "x"))
    assert response.status_code == 400
    assert b"Not a UTF-8 text file" in response.content
    assert not ImportJob.objects.exists()


def test_a_dry_run_from_the_page_stores_nothing(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, dry_run="on")
    job = ImportJob.objects.get()
    assert (job.status, job.dry_run, job.summary["created"]) == ("done", True, 10)
    assert Patient.objects.count() == 0


def test_only_data_managers_may_import(client, sites, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client)
    job = ImportJob.objects.get()
    for role in (Membership.Role.COORDINATOR, Membership.Role.INVESTIGATOR):
        client.force_login(member(sites["MAN"], role, role))
        assert client.get(NEW).status_code == 403
        assert upload(client).status_code == 403
        assert client.get(reverse("imports:redcap", args=[job.pk])).status_code == 403
        assert client.get(reverse("imports:redcap-report", args=[job.pk])).status_code == 403
    # Another data manager's job is none of this one's business.
    client.force_login(member(None, Membership.Role.DATA_MANAGER, "dm2"))
    assert client.get(reverse("imports:redcap", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:redcap-report", args=[job.pk])).status_code == 404
    client.logout()
    assert client.get(NEW).status_code == 302  # to the login page
    assert ImportJob.objects.count() == 1
