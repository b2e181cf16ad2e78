"""Routes of the HTTP API, mounted at /api/ by config/urls.py."""

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import calculators, endpoints, fhir, invitations, odm, views

app_name = "api"

ID = r"(?P<id>[^/]+)"


def not_found(request: HttpRequest, *args: object) -> JsonResponse:
    # Unknown URLs under /api/ answer in the API's error shape rather than Django's HTML page.
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def _routes(suffix: str) -> list:
    """The API's routes; `suffix` "/" for the canonical ones, "" for slash-less aliases (a POST
    to a URL without its slash would otherwise be a server error in DEBUG)."""
    name = (lambda n: n) if suffix else (lambda n: f"{n}-noslash")
    return [
        re_path(rf"^v1/sites{suffix}$", views.SiteListView.as_view(), name=name("sites")),
        re_path(
            rf"^v1/submissions{suffix}$", views.SubmissionView.as_view(), name=name("submissions")
        ),
        re_path(rf"^v1/patients{suffix}$", views.PatientListView.as_view(), name=name("patients")),
        re_path(
            rf"^v1/patients/{ID}{suffix}$", views.PatientDetailView.as_view(), name=name("patient")
        ),
        re_path(rf"^v1/visits{suffix}$", views.VisitListView.as_view(), name=name("visits")),
        re_path(rf"^v1/visits/{ID}{suffix}$", views.VisitDetailView.as_view(), name=name("visit")),
        re_path(
            rf"^v1/calculator{suffix}$",
            calculators.CalculatorView.as_view(),
            name=name("calculator"),
        ),
        re_path(
            rf"^v1/calculator/classification{suffix}$",
            calculators.ClassificationCalculatorView.as_view(),
            name=name("calculator-classification"),
        ),
        re_path(rf"^v1/audit{suffix}$", views.AuditListView.as_view(), name=name("audit")),
        re_path(
            rf"^v1/endpoints{suffix}$",
            endpoints.EndpointListView.as_view(),
            name=name("endpoints"),
        ),
        re_path(
            rf"^v1/pro-invitations{suffix}$",
            invitations.ProInvitationListView.as_view(),
            name=name("pro-invitations"),
        ),
        re_path(
            rf"^v1/pro-invitations/{ID}{suffix}$",
            invitations.ProInvitationDetailView.as_view(),
            name=name("pro-invitation"),
        ),
        re_path(
            rf"^v1/pro-invitations/{ID}/revoke{suffix}$",
            invitations.ProInvitationRevokeView.as_view(),
            name=name("pro-invitation-revoke"),
        ),
        # FHIR R4 export (api/fhir.py).
        re_path(
            rf"^v1/patients/{ID}/fhir{suffix}$",
            fhir.PatientFhirView.as_view(),
            name=name("patient-fhir"),
        ),
        re_path(
            rf"^v1/exports/fhir{suffix}$", fhir.FhirExportView.as_view(), name=name("exports-fhir")
        ),
        re_path(rf"^v1/exports/odm{suffix}$", odm.OdmExportView.as_view(), name=name("export-odm")),
    ]


urlpatterns = [
    *_routes("/"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *_routes(""),
]

# Appended by config/urls.py after any other app's /api/ routes (reports).
catch_all = re_path(r"^api/", not_found)
