"""Logging in and out, lockout, switching site."""

import pytest
from django.urls import reverse

from registry.models import Membership
from tests.factories import PatientFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_with_labels(client):
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_coordinator_logs_in_and_lands_on_the_patient_list(client, coordinator):
    response = client.post(reverse("web:login"), {"username": "coord-man", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("web:patients")


def test_wrong_password_is_refused_with_a_message(client, coordinator):
    response = client.post(reverse("web:login"), {"username": "coord-man", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


def test_locked_out_account_is_told_so_even_with_the_right_password(client, coordinator, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("web:login"), {"username": "coord-man", "password": "bad"})
    response = client.post(reverse("web:login"), {"username": "coord-man", "password": "pw"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()


def test_logout_needs_a_post_and_ends_the_session(as_coordinator):
    assert as_coordinator.get(reverse("web:logout")).status_code == 405
    response = as_coordinator.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert as_coordinator.get(reverse("web:patients")).status_code == 302


def test_switching_site_narrows_the_patient_list(client, coordinator, site, other_site):
    Membership.objects.create(user=coordinator, site=other_site, role="coordinator")
    PatientFactory(site=site, patient_id="MAN-0001")
    PatientFactory(site=other_site, patient_id="LDS-0001")
    client.force_login(coordinator)
    both = client.get(reverse("web:patients")).content.decode()
    assert "MAN-0001" in both and "LDS-0001" in both
    response = client.post(
        reverse("web:site-switch"), {"site": other_site.pk, "next": "/patients/"}
    )
    assert response["Location"] == "/patients/"
    only = client.get(reverse("web:patients")).content.decode()
    assert "LDS-0001" in only and "MAN-0001" not in only
    client.post(reverse("web:site-switch"), {"site": "all"})
    assert "MAN-0001" in client.get(reverse("web:patients")).content.decode()


def test_switching_to_a_site_one_does_not_belong_to_changes_nothing(as_coordinator, site):
    stranger = SiteFactory(code="XXX")
    response = as_coordinator.post(reverse("web:site-switch"), {"site": stranger.pk}, follow=True)
    assert "Choose one of your sites." in response.content.decode()
    assert response.context["web"].current_site == site


def test_site_switch_ignores_an_offsite_next(as_coordinator, site):
    response = as_coordinator.post(
        reverse("web:site-switch"), {"site": site.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("web:patients")
