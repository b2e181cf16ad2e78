"""factory_boy factories for the registry's models."""

from datetime import date

import factory
from django.contrib.auth import get_user_model

from crf.models import Visit
from registry.models import Membership, Patient, Site, TreatmentEpisode


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Myositis clinic {o.code}")
    country = "GB"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Membership.Role.COORDINATOR


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    patient_id = factory.Sequence(lambda n: f"P-{n:05d}")
    sex = "female"
    birth_year = 1970
    birth_month = 4
    diagnosis = "dermatomyositis"
    onset_date = date(2019, 3, 1)
    diagnosis_date = date(2019, 5, 20)


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentEpisode

    patient = factory.SubFactory(PatientFactory)
    drug = "ivig"
    dose = 2
    dose_unit = "g/kg"
    route = "iv"
    start_date = date(2020, 1, 10)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory)
    visit_date = date(2020, 1, 8)
    kind = Visit.Kind.FOLLOW_UP


def actor_with_role(site, role, name=None, source="web"):
    """An Actor for a (new or existing) user holding `role` at `site`; a data manager's
    membership has no site (registry-wide)."""
    from registry.audit import Actor

    user = UserFactory(username=name or f"{role}-{site.code}")
    Membership.objects.get_or_create(
        user=user, role=role, site=None if role == Membership.Role.DATA_MANAGER else site
    )
    return Actor(user=user, source=source)
