"""The data managers' import pages, mounted at /imports/ by config/urls.py."""

from django.urls import path

from web.views import imports as views

app_name = "imports"

urlpatterns = [
    path("redcap/", views.redcap_new, name="redcap-new"),
    path("redcap/<int:pk>/", views.redcap_detail, name="redcap"),
    path("redcap/<int:pk>/report.csv", views.redcap_report, name="redcap-report"),
]
