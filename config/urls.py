from django.contrib import admin
from django.urls import include, path

from api.urls import catch_all as api_not_found
from web import health

admin.site.site_header = "Myositis registry"
admin.site.site_title = "Myositis registry"

urlpatterns = [
    # Load balancers' probes, first: no login, no data (web.health).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Investigator reports: GET /api/v1/reports/outcomes-by-treatment/ and the /reports/ pages.
    path("api/v1/reports/", include("api.reports_urls")),
    path("reports/", include("web.reports_urls")),
    # The data managers' imports: /imports/redcap/ (upload, progress, per-record report).
    path("imports/", include("web.imports_urls")),
    # The coordinators' web pages: "/", /accounts/, /patients/, /visits/, /queries/, /audit/.
    path("", include("web.urls")),
]

# Unknown /api/ URLs answer JSON 404. Keep this last: it would shadow any /api/ route after it.
urlpatterns.append(api_not_found)
