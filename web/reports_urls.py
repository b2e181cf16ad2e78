"""Investigator pages, mounted at /reports/ by config/urls.py."""

from django.urls import path

from web.views import endpoints, outcome_reports, predictors
from web.views import reports as views

app_name = "reports"

urlpatterns = [
    path("", views.outcomes, name="outcomes"),
    path("outcomes.csv", views.summary_csv, name="summary-csv"),
    path("definitions/", views.definitions, name="definitions"),
    path("episodes/", views.episodes, name="episodes"),
    path("episodes.csv", views.episodes_csv, name="episodes-csv"),
    path("episodes/<int:pk>/", views.episode_detail, name="episode"),
    path("long.csv", views.long_csv, name="long-csv"),
    path("exports/", views.export_new, name="export-new"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("endpoints/", endpoints.endpoints, name="endpoints"),
    path("predictors/", predictors.predictors_page, name="predictors"),
    path("predictors.pdf", predictors.predictors_download, name="predictors-pdf"),
    # Survival and safety (issue 14).
    path("survival/", outcome_reports.survival, name="survival"),
    path("survival.<str:kind>", outcome_reports.survival_download, name="survival-download"),
    path("safety/", outcome_reports.safety, name="safety"),
    path("safety.<str:kind>", outcome_reports.safety_download, name="safety-download"),
]
