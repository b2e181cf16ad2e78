from django.contrib import admin
from django.urls import path

admin.site.site_header = "Myositis registry"
admin.site.site_title = "Myositis registry"

urlpatterns = [
    path("admin/", admin.site.urls),
]
