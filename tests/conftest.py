import copy

import pytest

from api.schema import SUBMISSION_EXAMPLE
from registry.audit import Actor

# The patient and visit of docs/data-dictionary.md's submission document example, used across the
# tests: the API's own example (its OpenAPI schema shows it), copied so that no test can change
# that.
EXAMPLE_PATIENT = copy.deepcopy(SUBMISSION_EXAMPLE["patients"][0])
EXAMPLE_VISIT = EXAMPLE_PATIENT["visits"][0]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2 is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def example_visit():
    return copy.deepcopy(EXAMPLE_VISIT)


@pytest.fixture
def example_patient():
    return copy.deepcopy(EXAMPLE_PATIENT)


@pytest.fixture
def command_actor():
    return Actor(user=None, source="command")
