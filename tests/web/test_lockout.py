"""Password guessing (issue 13): the lockout of logins and signatures is counted in the database,
so it holds whichever web process answers; a signature's password counts like a login's."""

import pytest
from axes.models import AccessAttempt
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from crf.models import Signature, Visit

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def process(address):
    """A client standing for another web process: nothing shared with the others but the database
    (its own session, and a different client address, so that only the account's count can
    stop it)."""
    return Client(REMOTE_ADDR=address)


def failures(username):
    return AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))[
        "n"
    ]


def logged_in(client):
    return "_auth_user_id" in client.session


def test_six_wrong_logins_then_the_right_one_is_refused_in_another_process(coordinator):
    guesser = process("10.0.0.1")
    for _ in range(6):
        guesser.post(LOGIN, {"username": "coord-man", "password": "guess"})
        assert not logged_in(guesser)
    assert failures("coord-man") == 5  # the sixth was refused unchecked, so not counted
    owner = process("10.0.0.2")
    response = owner.post(LOGIN, {"username": "coord-man", "password": "pw"})
    assert not logged_in(owner)
    assert "Too many failed logins" in response.content.decode()
    # Every other process sees the same: a third, from a third address.
    third = process("10.0.0.3")
    third.post(LOGIN, {"username": "coord-man", "password": "pw"})
    assert not logged_in(third)


def test_the_failure_that_locks_out_says_so(coordinator, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = process("10.0.0.1")
    first = client.post(LOGIN, {"username": "coord-man", "password": "guess"})
    assert "Too many failed logins" not in first.content.decode()
    second = client.post(LOGIN, {"username": "coord-man", "password": "guess"})
    assert second.status_code == 200
    assert "Too many failed logins" in second.content.decode()


def test_the_admin_login_that_locks_out_gets_the_lockout_page(settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = process("10.0.0.1")
    client.post("/admin/login/", {"username": "datamanager", "password": "guess"})
    locking = client.post("/admin/login/", {"username": "datamanager", "password": "guess"})
    assert locking.status_code == 429
    assert "Too many failed logins" in locking.content.decode()


def test_a_successful_login_clears_the_accounts_failures(coordinator):
    client = process("10.0.0.1")
    for _ in range(4):
        client.post(LOGIN, {"username": "coord-man", "password": "guess"})
    client.post(LOGIN, {"username": "coord-man", "password": "pw"})
    assert logged_in(client)
    client.post(reverse("web:logout"))
    for _ in range(4):
        client.post(LOGIN, {"username": "coord-man", "password": "guess"})
    client.post(LOGIN, {"username": "coord-man", "password": "pw"})
    assert logged_in(client)


# --- signatures ------------------------------------------------------------------------------


@pytest.fixture
def verified(baseline):
    Visit.objects.filter(pk=baseline.pk).update(status=Visit.Status.VERIFIED)
    return baseline


def sign_url(visit):
    return reverse("web:visit-sign", args=[visit.pk])


def test_wrong_signature_passwords_lock_the_signer_out_of_signing_and_logging_in(
    investigator, verified, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    session = process("10.0.0.1")
    session.force_login(investigator)
    # The investigator's session in another browser, served by another process.
    other = process("10.0.0.2")
    other.force_login(investigator)
    for _ in range(2):
        wrong = session.post(sign_url(verified), {"meaning": "approval", "password": "guess"})
        assert wrong.status_code == 400
        assert "The password is not correct." in wrong.context["form"].errors["password"]
    locking = session.post(sign_url(verified), {"meaning": "approval", "password": "guess"})
    assert locking.status_code == 429
    assert "Too many failed logins or signatures" in locking.content.decode()
    assert not logged_in(session)  # whoever was guessing loses the session
    assert failures("inv-man") == 3

    # That session cannot sign either, with the right password.
    refused = other.post(sign_url(verified), {"meaning": "approval", "password": "pw"})
    assert refused.status_code == 429
    assert "Too many failed logins or signatures" in refused.content.decode()
    assert Visit.objects.get(pk=verified.pk).status == Visit.Status.VERIFIED
    assert not Signature.objects.exists()
    # Nor log in.
    fresh = process("10.0.0.3")
    fresh.post(LOGIN, {"username": "inv-man", "password": "pw"})
    assert not logged_in(fresh)


def test_failed_logins_lock_the_signer_out_of_signing(client, investigator, verified, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client.force_login(investigator)
    guesser = process("10.0.0.1")
    for _ in range(3):
        guesser.post(LOGIN, {"username": "inv-man", "password": "guess"})
    response = client.post(sign_url(verified), {"meaning": "approval", "password": "pw"})
    assert response.status_code == 429
    assert not Signature.objects.exists()


def test_a_right_signature_password_signs_and_a_form_error_counts_no_guess(
    client, investigator, verified
):
    client.force_login(investigator)
    # Nothing typed, or no meaning chosen: refused without the password being tried.
    assert client.post(sign_url(verified), {"meaning": "approval"}).status_code == 400
    assert client.post(sign_url(verified), {"password": "guess"}).status_code == 400
    assert not AccessAttempt.objects.exists()
    response = client.post(sign_url(verified), {"meaning": "approval", "password": "pw"})
    assert response.status_code == 302
    assert Signature.objects.get().meaning == "approval"


# --- the meaning of a signature -----------------------------------------------------------------


def test_the_sign_form_preselects_no_meaning(client, investigator, verified):
    client.force_login(investigator)
    response = client.get(sign_url(verified))
    assert response.context["form"]["meaning"].value() is None
    html = response.content.decode()
    assert 'name="meaning"' in html and "checked" not in html


def test_signing_without_a_meaning_is_refused_naming_the_field(client, investigator, verified):
    client.force_login(investigator)
    response = client.post(sign_url(verified), {"password": "pw"})
    assert response.status_code == 400
    assert response.context["form"].errors["meaning"] == ["Choose what your signature means."]
    assert "Meaning of the signature: Choose what your signature means." in (
        response.content.decode()
    )
    assert Visit.objects.get(pk=verified.pk).status == Visit.Status.VERIFIED
    assert not Signature.objects.exists()
