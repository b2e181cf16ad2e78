"""The data managers' REDCap import page: upload a project's three files, watch the import run
in a Celery task (interchange.redcap.jobs), download the per-record report.

Imports are for data managers only (registry.access Action.IMPORT): anyone else gets 403,
anonymous users the login page; another user's job is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from interchange.models import ImportJob
from interchange.redcap.importing import require_import
from interchange.redcap.jobs import import_job_create
from registry.models import Site

MAX_UPLOAD_MB = 100
FILES = ("dictionary", "records", "mapping")


def _decoded(upload: UploadedFile | None) -> str:
    if upload is None:
        raise forms.ValidationError("Choose a file.")
    if upload.size and upload.size > MAX_UPLOAD_MB * 1024 * 1024:
        raise forms.ValidationError(f"At most {MAX_UPLOAD_MB} MB.")
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError("Not a UTF-8 text file: export it again as CSV.") from None


class RedcapUploadForm(forms.Form):
    dictionary = forms.FileField(
        label="Data dictionary (CSV)", help_text="REDCap: Project setup › Data dictionary"
    )
    records = forms.FileField(
        label="Records (CSV, flat or EAV)", help_text="REDCap: Data exports › CSV (raw data)"
    )
    mapping = forms.FileField(
        label="Mapping (YAML)",
        help_text="python manage.py import_redcap mapping-suggest drafts one",
    )
    site = forms.ChoiceField(
        label="Site of records without a data access group", required=False, choices=()
    )
    dry_run = forms.BooleanField(
        label="Dry run: check everything and report, store nothing", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = Site.objects.order_by("code").values_list("code", "name")
        self.fields["site"].choices = [("", "— (every record has a DAG)")] + [
            (code, f"{code} — {name}") for code, name in sites
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in FILES:
            if name in data:
                try:
                    data[f"{name}_text"] = _decoded(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


@login_required
def redcap_new(request: HttpRequest) -> HttpResponse:
    require_import(request.user)
    form = RedcapUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = import_job_create(
            user=request.user,
            dictionary=data["dictionary_text"],
            records=data["records_text"],
            mapping=data["mapping_text"],
            filenames={name: data[name].name for name in FILES},
            site=data["site"],
            dry_run=data["dry_run"],
        )
        return redirect("imports:redcap", pk=job.pk)
    jobs = ImportJob.objects.filter(user=request.user).only(
        "pk", "status", "created_at", "summary", "dry_run", "filenames"
    )[:10]
    status = 400 if request.method == "POST" else 200
    return render(
        request, "interchange/redcap_new.html", {"form": form, "jobs": jobs}, status=status
    )


def _own_job(request: HttpRequest, pk: int) -> ImportJob:
    require_import(request.user)
    job = (
        ImportJob.objects.defer("dictionary", "records", "mapping", "report")
        .filter(pk=pk, user=request.user)
        .first()
    )
    if job is None:
        raise Http404("No such import.")
    return job


@login_required
@require_GET
def redcap_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    return render(request, "interchange/redcap_detail.html", {"job": job})


@login_required
@require_GET
def redcap_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    if job.status != ImportJob.Status.DONE:
        raise Http404("This import has no report yet.")
    report = ImportJob.objects.values_list("report", flat=True).get(pk=job.pk)
    response = HttpResponse(report, content_type="text/csv; charset=utf-8")
    stamp = job.finished_at.strftime("%Y%m%d-%H%M") if job.finished_at else job.pk
    response["Content-Disposition"] = f'attachment; filename="redcap-import-{stamp}.csv"'
    return response
