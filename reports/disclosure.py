"""Small cells: which rows of a registry-wide aggregate a user may read (issue 13).

Filters can narrow an aggregate down to a single patient: a drug, a stratum or a factor level
at another site may hold one patient, whose outcome the row then shows. So for anyone but a
data manager, a row computed from fewer than MIN_PATIENTS patients, at least one of them from a
site the user is not a member of, is suppressed: every figure of it is withheld (null in JSON,
SUPPRESSED in pages and files), only its labels stay. A user's own sites' data alone is never
suppressed for that user, and a data manager is a member of every site for this purpose
(registry.access: a registry-wide membership reads every site).

Every aggregate report uses it the same way: one `Tally` per row, fed with the patient and site
behind each unit counted; then `Disclosure.for_user(user).suppresses(tally)` decides, and a
suppressed row carries no figures at all (the report builds it empty), so that no output can
show them by mistake. Charts leave suppressed rows out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from registry.access import Action, sites_for
from registry.models import Site

# The smallest number of patients a row may show when one of them is at a site the user is not
# a member of.
MIN_PATIENTS = 5
# What pages and files show in place of a suppressed figure.
SUPPRESSED = f"< {MIN_PATIENTS}"


@dataclass
class Tally:
    """The patients and sites behind one row of an aggregate. Only "fewer than MIN_PATIENTS or
    not" is ever asked, so at most MIN_PATIENTS patient ids are kept: constant memory per row."""

    patients: set[int] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)

    def add(self, patient_id: int, site: str) -> None:
        if len(self.patients) < MIN_PATIENTS:
            self.patients.add(patient_id)
        self.sites.add(site)

    def update(self, other: Tally) -> None:
        for patient_id in other.patients:
            if len(self.patients) >= MIN_PATIENTS:
                break
            self.patients.add(patient_id)
        self.sites |= other.sites

    @property
    def small(self) -> bool:
        return len(self.patients) < MIN_PATIENTS


@dataclass(frozen=True)
class Disclosure:
    """What one user may read of aggregates: the codes of the sites they are a member of."""

    own_sites: frozenset[str]

    @classmethod
    def for_user(cls, user: Any) -> Disclosure:
        # A data manager's registry-wide membership reads every site: nothing is foreign.
        codes = sites_for(user, Action.READ).values_list("code", flat=True)
        return cls(frozenset(codes))

    @classmethod
    def of_sites(cls, codes: Iterable[str]) -> Disclosure:
        return cls(frozenset(codes))

    @classmethod
    def registry_wide(cls) -> Disclosure:
        """Every site's: a data manager's view (for commands and benchmarks)."""
        return cls(frozenset(Site.objects.values_list("code", flat=True)))

    def suppresses(self, tally: Tally) -> bool:
        """Whether a row with this tally is withheld from this user."""
        return tally.small and not tally.sites <= self.own_sites
