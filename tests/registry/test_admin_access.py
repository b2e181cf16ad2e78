"""Who may use the admin is registry.access's rule (may_use_admin), asked by the admin's site."""

import pytest
from django.contrib import admin

from registry.access import may_use_admin
from registry.admin_site import RegistryAdminSite
from registry.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_site_asks_the_access_module():
    assert isinstance(admin.site, RegistryAdminSite)


@pytest.mark.parametrize(
    ("staff", "active", "allowed"), [(True, True, True), (True, False, False), (False, True, False)]
)
def test_active_staff_accounts_use_the_admin(client, staff, active, allowed):
    user = UserFactory(is_staff=staff, is_active=active)
    assert may_use_admin(user) is allowed
    client.force_login(user)
    answer = client.get("/admin/")
    assert answer.status_code == (200 if allowed else 302)


def test_a_role_alone_does_not_open_the_admin(client):
    """A data manager without a staff account uses the pages and the API, not the admin."""
    manager = MembershipFactory(role=Role.DATA_MANAGER, site=None).user
    assert not may_use_admin(manager)
    client.force_login(manager)
    assert client.get("/admin/").status_code == 302
