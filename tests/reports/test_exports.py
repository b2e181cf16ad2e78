"""Downloads: the summary CSV, the long export, and the XLSX and PDF export jobs (built by the
Celery task on commit, eagerly here), with their progress and their owner-only access."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.dictionary import EPISODE_COLUMNS, LONG_COLUMNS, SUMMARY_COLUMNS
from reports.models import ExportJob
from reports.services import export_job_build

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def streamed_rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_summary_csv_has_the_dictionary_columns_and_one_row_per_treatment(client, cohort, people):
    response = login(client, people["dm"]).get(reverse("reports:summary-csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="outcomes-by')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [column.name for column in SUMMARY_COLUMNS]
    ivig = next(row for row in rows if row["treatment"] == "ivig")
    assert (ivig["episodes"], ivig["evaluable"], ivig["doi_responders"]) == ("3", "2", "1")
    assert (ivig["doi_responders_pct"], ivig["tis_median"]) == ("50", "25")
    assert ivig["time_to_doi_median_days"] == "90"


def test_summary_csv_refuses_bad_filters_naming_them(client, cohort, people):
    response = login(client, people["inv_a"]).get(
        reverse("reports:summary-csv"), {"population": "elderly", "start_from": "2020-13-01"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "population:" in text and "start_from:" in text


def test_long_export_rows_per_visit_reference_and_measure(client, cohort, people):
    rows = streamed_rows(login(client, people["inv_b"]).get(reverse("reports:long-csv")))
    assert list(rows[0]) == [column.name for column in LONG_COLUMNS]
    # P3: three follow-ups against the baseline, P4: two; six core set measures each.
    assert len(rows) == (3 + 2) * 6
    worse = {
        row["measure"]: row
        for row in rows
        if row["patient_id"] == "P3" and row["visit_date"] == "2020-09-01"
    }
    assert set(worse) == {"physician_global", "patient_global", "extramuscular", "haq", "mmt",
                          "enzyme"}  # fmt: skip
    extramuscular = worse["extramuscular"]
    assert (extramuscular["reference_value"], extramuscular["visit_value"]) == ("4", "6.5")
    assert (extramuscular["doi_status"], extramuscular["doi_percent_change"]) == (
        "worsened", "-62.5",
    )  # fmt: skip
    assert extramuscular["worsened"] == "1" and extramuscular["record_status"] == "done"
    assert extramuscular["days_from_reference"] == "92"
    assert extramuscular["episode_ids"] == str(cohort["E4"])
    assert extramuscular["episode_drugs"] == "ivig"
    assert extramuscular["algorithms"] == ("acr-eular-2016 imacs-doi-2004 proderm-worsening-2022")
    mmt, enzyme = worse["mmt"], worse["enzyme"]
    assert (mmt["instrument"], mmt["reference_value"], mmt["scale_max"]) == ("mmt", "119", "150")
    assert (enzyme["instrument"], enzyme["reference_value"], enzyme["reference_uln"]) == (
        "ck", "2000", "200",
    )  # fmt: skip
    # The visit after IVIG's window is scored against the baseline but no longer IVIG's.
    late = [row for row in rows if row["visit_date"] == "2021-03-01"]
    assert {row["episode_ids"] for row in late} == {""}
    assert {row["tis"] for row in late} == {"50"}


def test_long_export_shows_pending_records_without_scores(client, cohort, people):
    rows = streamed_rows(login(client, people["inv_a"]).get(reverse("reports:long-csv")))
    pending = [row for row in rows if row["patient_id"] == "P5"]
    assert len(pending) == 6
    assert {row["record_status"] for row in pending} == {"pending"}
    assert {row["tis"] for row in pending} == {""}
    assert {row["visit_value"] for row in pending} == {""}


def create_job(client, kind, **filters):
    response = client.post(reverse("reports:export-new"), {"kind": kind, **filters})
    assert response.status_code == 302
    return ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_xlsx_job_is_built_on_commit_with_three_sheets(
    client, cohort, people, django_capture_on_commit_callbacks
):
    login(client, people["inv_a"])
    with django_capture_on_commit_callbacks(execute=True):
        job = create_job(client, "xlsx", drug="ivig")
    job.refresh_from_db()
    assert (job.status, job.progress, job.kind) == ("done", 100, "xlsx")
    assert job.filters["drug"] == ["ivig"]
    page = client.get(reverse("reports:export", args=[job.pk]))
    assert page.status_code == 200 and b"Download" in page.content
    download = client.get(reverse("reports:export-download", args=[job.pk]))
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.content), read_only=True)
    assert book.sheetnames == ["Summary", "Episodes", "Data dictionary"]
    summary = list(book["Summary"].values)
    assert list(summary[0]) == [column.name for column in SUMMARY_COLUMNS]
    assert [row[2] for row in summary[1:]] == ["ivig"]
    # Registry-wide, but IVIG's 3 patients, 2 of them at BBB, are a small cell for AAA's
    # investigator (reports.disclosure): every figure withheld, the labels kept.
    assert summary[1][2:4] == ("ivig", "IVIG")
    assert set(summary[1][4:]) == {"< 5"}
    episodes = list(book["Episodes"].values)
    assert list(episodes[0]) == [column.name for column in EPISODE_COLUMNS]
    # The episodes sheet holds the caller's own site only: E3 of AAA.
    assert [row[0] for row in episodes[1:]] == [cohort["E3"]]
    names = {row[0] for row in book["Data dictionary"].values if row}
    assert {"doi_responders_pct", "best_category", "Overlapping treatments"} <= names


def test_pdf_job_is_a_pdf_with_the_charts(
    client, cohort, people, django_capture_on_commit_callbacks
):
    login(client, people["dm"])
    with django_capture_on_commit_callbacks(execute=True):
        job = create_job(client, "pdf")
    job.refresh_from_db()
    assert job.status == "done", job.error
    content = bytes(ExportJob.objects.values_list("content", flat=True).get(pk=job.pk))
    assert content.startswith(b"%PDF-") and len(content) > 5000
    assert job.filename.endswith(".pdf")


def test_building_a_finished_job_again_changes_nothing(client, cohort, people):
    login(client, people["inv_a"])
    job = create_job(client, "xlsx")  # not built: the on-commit callback was not run
    assert ExportJob.objects.get(pk=job.pk).status == "queued"
    waiting = client.get(reverse("reports:export", args=[job.pk])).content
    assert b'http-equiv="refresh"' in waiting and b"Waiting for a worker" in waiting
    assert export_job_build(job_id=job.pk) == "done"
    first = ExportJob.objects.get(pk=job.pk)
    assert export_job_build(job_id=job.pk) == "done"
    again = ExportJob.objects.get(pk=job.pk)
    assert again.finished_at == first.finished_at and bytes(again.content) == bytes(first.content)


def test_job_of_a_user_who_lost_report_access_fails_with_a_reason(client, cohort, people):
    login(client, people["inv_a"])
    job = create_job(client, "pdf")
    people["inv_a"].memberships.all().delete()
    assert export_job_build(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "no longer" in job.error


def test_someone_elses_job_answers_404(client, cohort, people):
    login(client, people["inv_a"])
    job = create_job(client, "xlsx")
    export_job_build(job_id=job.pk)
    login(client, people["inv_b"])
    assert client.get(reverse("reports:export", args=[job.pk])).status_code == 404
    assert client.get(reverse("reports:export-download", args=[job.pk])).status_code == 404


def test_export_requests_are_validated(client, cohort, people):
    login(client, people["inv_a"])
    assert client.post(reverse("reports:export-new"), {"kind": "docx"}).status_code == 400
    assert (
        client.post(reverse("reports:export-new"), {"kind": "pdf", "drug": "x"}).status_code == 400
    )
    assert not ExportJob.objects.exists()
    login(client, people["coord_a"])
    assert client.post(reverse("reports:export-new"), {"kind": "pdf"}).status_code == 403


def test_a_users_old_exports_are_deleted_when_they_ask_for_a_new_one(client, cohort, people):
    from datetime import timedelta

    from django.utils import timezone

    login(client, people["inv_a"])
    old = create_job(client, "pdf")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    other = create_job(client, "pdf")
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [other.pk]
