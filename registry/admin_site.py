"""The admin's site (config.apps.RegistryAdminConfig makes it `admin.site`)."""

from django.contrib import admin
from django.http import HttpRequest

from registry.access import may_use_admin


class RegistryAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)
