"""registry/access.py: the one place that says who may see and do what at which site."""

import pytest
from django.core.exceptions import PermissionDenied

from registry.access import (
    Action,
    NotVisible,
    can,
    patients_visible_to,
    require,
    restrict,
    roles_at,
    sites_for,
    visits_visible_to,
)
from registry.models import Membership, Patient
from tests.api.conftest import patient_document, store
from tests.factories import MembershipFactory, SiteFactory, UserFactory


@pytest.fixture
def sites(db):
    return SiteFactory(code="MAN"), SiteFactory(code="LDS")


def person(role, site=None):
    return MembershipFactory(role=role, site=site).user


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("coordinator", {"read", "write"}),
        ("investigator", {"read", "sign", "report"}),
        ("monitor", {"read", "query"}),
        ("submitter", {"read", "write"}),
    ],
)
def test_site_roles(sites, role, allowed):
    man, lds = sites
    user = person(role, man)
    for action in Action:
        assert can(user, action, man) == (action in allowed)
        assert not can(user, action, lds)
        assert list(sites_for(user, action)) == ([man] if action in allowed else [])


def test_data_managers_read_every_site_but_do_not_write(sites):
    user = person(Membership.Role.DATA_MANAGER)
    assert set(sites_for(user, Action.READ)) == set(sites)
    assert not sites_for(user, Action.WRITE).exists()
    assert roles_at(user, sites[1]) == {"data_manager"}
    with pytest.raises(PermissionDenied):
        require(user, Action.WRITE, sites[1])


def test_several_roles_add_up(sites):
    man, lds = sites
    user = person("monitor", man)
    MembershipFactory(user=user, site=lds, role="coordinator")
    assert can(user, Action.QUERY, man) and not can(user, Action.WRITE, man)
    assert can(user, Action.WRITE, lds) and not can(user, Action.QUERY, lds)


def test_require_hides_other_sites_before_refusing_roles(sites):
    man, lds = sites
    monitor = person("monitor", man)
    with pytest.raises(PermissionDenied):
        require(monitor, Action.WRITE, man)
    with pytest.raises(NotVisible):
        require(monitor, Action.WRITE, lds)
    require(monitor, Action.READ, man)


@pytest.mark.parametrize("who", ["outsider", "inactive", "anonymous"])
def test_nobody_sees_anything_without_an_active_membership(sites, who):
    from django.contrib.auth.models import AnonymousUser

    store(sites[0], patient_document("MAN-1"))
    if who == "anonymous":
        user = AnonymousUser()
    else:
        user = UserFactory()
        if who == "inactive":
            MembershipFactory(user=user, site=sites[0], role="coordinator")
            user.is_active = False
    assert not sites_for(user).exists()
    assert not patients_visible_to(user).exists()
    assert not visits_visible_to(user).exists()
    with pytest.raises(NotVisible):
        require(user, Action.READ, sites[0])


def test_selectors_are_single_queries_narrowed_to_the_sites(sites, django_assert_num_queries):
    man, lds = sites
    store(man, patient_document("MAN-1", visits=2))
    store(lds, patient_document("LDS-1", visits=2))
    user = person("investigator", man)
    with django_assert_num_queries(2):  # the memberships, then the rows
        assert [p.patient_id for p in patients_visible_to(user)] == ["MAN-1"]
    assert {v.patient.site.code for v in visits_visible_to(user)} == {"MAN"}
    assert restrict(Patient.objects.all(), user, Action.WRITE).count() == 0
