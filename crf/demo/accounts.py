"""The demo registry's sites and logins, created where missing (seed_demo, benchmarks)."""

from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from crf.demo.sites import DATA_MANAGER_USERNAME, SiteProfile, demo_people
from registry.models import Membership, Site

# Each demo centre's clock, by its country (the demo's American centres are all on the east
# coast, its Canadian and Brazilian ones in Toronto and São Paulo).
COUNTRY_TIME_ZONES = {
    "AT": "Europe/Vienna",
    "AU": "Australia/Sydney",
    "BE": "Europe/Brussels",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CH": "Europe/Zurich",
    "CN": "Asia/Shanghai",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "ES": "Europe/Madrid",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "HU": "Europe/Budapest",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "MX": "America/Mexico_City",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "US": "America/New_York",
}


@transaction.atomic
def demo_sites_ensure(*, profiles: Sequence[SiteProfile]) -> dict[str, Site]:
    """The sites of these profiles, created where missing (an existing site is left as it is)."""
    existing = {
        site.code: site for site in Site.objects.filter(code__in=[p.code for p in profiles])
    }
    missing = [
        Site(
            code=p.code,
            name=p.name,
            country=p.country,
            time_zone=COUNTRY_TIME_ZONES.get(p.country, "UTC"),
        )
        for p in profiles
        if p.code not in existing
    ]
    for site in missing:
        site.full_clean()
    Site.objects.bulk_create(missing)
    existing.update({site.code: site for site in missing})
    return {p.code: existing[p.code] for p in profiles}


@transaction.atomic
def demo_people_ensure(
    *, sites: Mapping[str, Site], password: str
) -> list[tuple[str, str, str | None]]:
    """The demo logins of docs/operations.md "Management commands": coord-xxx, inv-xxx, monitor-xxx
    and submit-xxx with their role at site XXX, and the registry-wide `datamanager` (staff and
    superuser, so that it can work in the admin). Existing users keep their password. Returns
    (username, role, site).
    """
    User = get_user_model()
    people = demo_people(list(sites))
    usernames = [username for username, _, _ in people]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    # Hashing is deliberately slow (hundreds of milliseconds); every demo login has the same
    # password, so hash it once and share the hash.
    hashed = make_password(password)
    labels = dict(Membership.Role.choices)
    new_users = []
    for username, role, code in people:
        if username in existing:
            continue
        manager = username == DATA_MANAGER_USERNAME
        new_users.append(
            User(
                username=username,
                password=hashed,
                is_staff=manager,
                is_superuser=manager,
                first_name="Demo",
                last_name=f"{labels[role]}" + (f", {code}" if code else ""),
            )
        )
    User.objects.bulk_create(new_users)
    user_ids = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    Membership.objects.bulk_create(
        [
            Membership(user_id=user_ids[username], site=sites[code] if code else None, role=role)
            for username, role, code in people
        ],
        ignore_conflicts=True,  # a login that exists keeps its membership
    )
    return people
