"""The reports' API route, mounted at /api/v1/reports/ by config/urls.py (before the API's
catch-all 404). The slash-less alias matches the API's other routes."""

from django.urls import path

from api.outcome_reports import SafetyView, SurvivalView
from api.predictors import PredictorsView
from api.reports import OutcomesByTreatmentView

urlpatterns = [
    path(
        "outcomes-by-treatment/",
        OutcomesByTreatmentView.as_view(),
        name="api-reports-outcomes-by-treatment",
    ),
    path(
        "outcomes-by-treatment",
        OutcomesByTreatmentView.as_view(),
        name="api-reports-outcomes-by-treatment-noslash",
    ),
]

# Survival and safety (issue 14), with and without the trailing slash.
urlpatterns += [
    path(f"{name}{slash}", view.as_view(), name=f"api-reports-{name}{'' if slash else '-noslash'}")
    for name, view in (
        ("survival", SurvivalView),
        ("safety", SafetyView),
        ("predictors", PredictorsView),
    )
    for slash in ("/", "")
]
