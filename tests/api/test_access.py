"""registry/access.py: the one place that says who may see and do what at which site."""

import pytest
from django.core.exceptions import PermissionDenied

from crf.selectors import visits_visible_to
from registry.access import (
    Action,
    NotVisible,
    Role,
    Step,
    can,
    can_anywhere,
    grants_of,
    patients_visible_to,
    require,
    require_step,
    restrict,
    roles_at,
    sites_for,
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


@pytest.mark.parametrize(
    ("step", "allowed"),
    [
        (Step.VERIFY, {"monitor", "data_manager"}),
        (Step.SIGN, {"investigator"}),
        (Step.UNLOCK, {"data_manager"}),
        (Step.RAISE_QUERY, {"monitor", "data_manager"}),
        (Step.ANSWER_QUERY, {"coordinator", "data_manager"}),
        (Step.CLOSE_QUERY, {"monitor", "data_manager"}),
        (Step.ATTEST_REFRACTORY, {"investigator"}),
    ],
)
def test_review_steps_by_role(sites, step, allowed):
    man, lds = sites
    for role in Role:
        user = person(role, None if role == Role.DATA_MANAGER else man)
        assert can(user, step, man) == (role in allowed)
        assert can(user, step, lds) == (role in allowed and role == Role.DATA_MANAGER)
        if role in allowed:
            require_step(user, step, man)
        else:
            with pytest.raises(PermissionDenied, match=f"^Only a .* may {step}.$"):
                require_step(user, step, man)
    with pytest.raises(PermissionDenied):  # a stranger to the site is refused like a role
        require_step(person(Role.MONITOR, lds), step, man)


def test_registry_wide_actions_need_a_role_allowing_them_anywhere(sites):
    man, _ = sites
    manager, investigator = person(Role.DATA_MANAGER), person(Role.INVESTIGATOR, man)
    assert can_anywhere(manager, Action.AUDIT) and can_anywhere(manager, Action.REPORT)
    assert can_anywhere(investigator, Action.REPORT)
    assert not can_anywhere(investigator, Action.AUDIT)
    for role in ("coordinator", "monitor", "submitter"):
        user = person(role, man)
        assert not can_anywhere(user, Action.REPORT) and not can_anywhere(user, Action.AUDIT)


def test_grants_answer_from_one_read_of_the_memberships(sites, django_assert_num_queries):
    man, lds = sites
    user = person("monitor", man)
    MembershipFactory(user=user, site=lds, role="coordinator")
    with django_assert_num_queries(1):
        grants = grants_of(user)
    with django_assert_num_queries(0):
        assert grants.roles_at(man.pk) == {"monitor"}
        assert grants.can(Step.VERIFY, man.pk) and not grants.can(Step.VERIFY, lds.pk)
        assert grants.can(Step.ANSWER_QUERY, lds.pk)
        assert grants.site_ids(Action.READ) == {man.pk, lds.pk}
        assert not grants.sees_every_site
    assert grants_of(person(Role.DATA_MANAGER)).sees_every_site
