from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    """Django's admin, with the registry's site: who may use it is registry.access's rule."""

    default_site = "registry.admin_site.RegistryAdminSite"
