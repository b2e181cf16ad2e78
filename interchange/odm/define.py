"""The Study (GlobalVariables, BasicDefinitions, MetaDataVersion) and AdminData of an ODM file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from crf.models import Signature, Visit
from interchange.odm import metadata as md
from interchange.odm.xml import element, empty, text, translated
from registry.models import Role, Site

EVENT_TYPES = {
    Visit.Kind.BASELINE: "Scheduled",
    Visit.Kind.FOLLOW_UP: "Scheduled",
    Visit.Kind.UNSCHEDULED: "Unscheduled",
}
SIGNATURE_DEFS = {meaning: f"SD.{meaning.upper()}" for meaning in Signature.Meaning.values}


def _item_def(item: md.ItemSpec) -> str:
    parts = [translated("Question", item.question)]
    parts += [empty("MeasurementUnitRef", MeasurementUnitOID=unit) for unit in item.units]
    for check in item.ranges:
        parts.append(
            element(
                "RangeCheck",
                [
                    text("CheckValue", check.value),
                    translated(
                        "ErrorMessage", f"{item.name} must be {check.comparator} {check.value}."
                    ),
                ],
                Comparator=check.comparator,
                SoftHard="Hard",
            )
        )
    if item.code_list:
        parts.append(empty("CodeListRef", CodeListOID=item.code_list))
    return element(
        "ItemDef",
        parts,
        OID=item.oid,
        Name=item.name,
        DataType=item.data_type,
        Length=item.length,
        SignificantDigits=item.digits,
        Origin="Derived" if item.derived else None,
    )


def _events() -> Iterator[str]:
    yield element(
        "StudyEventDef",
        (
            empty("FormRef", FormOID=form.oid, OrderNumber=n, Mandatory="Yes" if n == 1 else "No")
            for n, form in enumerate(md.PATIENT_FORMS, 1)
        ),
        OID=md.PATIENT_EVENT,
        Name="Patient",
        Repeating="No",
        Type="Common",
    )
    for kind, oid in md.VISIT_EVENTS.items():
        yield element(
            "StudyEventDef",
            (
                empty(
                    "FormRef", FormOID=form.oid, OrderNumber=n, Mandatory="Yes" if n == 1 else "No"
                )
                for n, form in enumerate(md.VISIT_FORMS, 1)
            ),
            OID=oid,
            Name=f"{Visit.Kind(kind).label} visit",
            Repeating="Yes",
            Type=EVENT_TYPES[kind],
        )


def study(description: str) -> str:
    """The Study element: every definition the clinical data refer to."""
    protocol = element(
        "Protocol",
        [
            translated("Description", description),
            empty("StudyEventRef", StudyEventOID=md.PATIENT_EVENT, OrderNumber=1, Mandatory="Yes"),
            *(
                empty("StudyEventRef", StudyEventOID=oid, OrderNumber=n, Mandatory="No")
                for n, oid in enumerate(md.VISIT_EVENTS.values(), 2)
            ),
        ],
    )
    forms = [
        element(
            "FormDef",
            empty("ItemGroupRef", ItemGroupOID=form.group_oid, Mandatory="Yes"),
            OID=form.oid,
            Name=form.name,
            Repeating="Yes" if form.repeating else "No",
        )
        for form in md.FORMS
    ]
    groups = [
        element(
            "ItemGroupDef",
            (
                empty(
                    "ItemRef",
                    ItemOID=item.oid,
                    OrderNumber=n,
                    Mandatory="No",
                    MethodOID=item.method,
                )
                for n, item in enumerate(md.items_of(form), 1)
            ),
            OID=form.group_oid,
            Name=form.name,
            Repeating="No",
        )
        for form in md.FORMS
    ]
    items = [_item_def(item) for form in md.FORMS for item in md.items_of(form)]
    code_lists = [
        element(
            "CodeList",
            (
                element("CodeListItem", translated("Decode", decode), CodedValue=code)
                for code, decode in code_list.items
            ),
            OID=code_list.oid,
            Name=code_list.name,
            DataType="text",
        )
        for code_list in md.code_lists()
    ]
    methods = [
        element(
            "MethodDef",
            translated("Description", method.description),
            OID=method.oid,
            Name=method.name,
            Type="Computation",
        )
        for method in md.METHODS
    ]
    units = element(
        "BasicDefinitions",
        (
            element("MeasurementUnit", translated("Symbol", symbol), OID=oid, Name=symbol)
            for oid, symbol in md.UNITS.items()
        ),
    )
    version = element(
        "MetaDataVersion",
        [protocol, *_events(), *forms, *groups, *items, *code_lists, *methods],
        OID=md.METADATA_OID,
        Name="Registry data model",
        Description="The registry's forms, items and vocabularies",
    )
    variables = element(
        "GlobalVariables",
        [
            text("StudyName", md.STUDY_NAME),
            text("StudyDescription", description),
            text("ProtocolName", md.STUDY_NAME),
        ],
    )
    return element("Study", [variables, units, version], OID=md.STUDY_OID)


@dataclass(frozen=True)
class Person:
    """A user as the file shows them: pseudonymous login and roles, no names."""

    oid: str
    login: str
    roles: tuple[tuple[str, str | None], ...]  # (role, site code or None for every site)


def user_oid(user_id: int | None) -> str:
    return md.SYSTEM_USER if user_id is None else f"USR.{user_id}"


def location_oid(code: str) -> str:
    return f"LOC.{code}"


def _user(person: Person, site_codes: set[str]) -> str:
    roles = sorted({role for role, _ in person.roles})
    user_type = "Investigator" if Role.INVESTIGATOR in roles else "Other"
    where = ", ".join(
        f"{Role(role).label} ({code or 'all sites'})"
        for role, code in sorted(person.roles, key=str)
    )
    parts = [text("LoginName", person.login), text("DisplayName", where or "no role")]
    parts += [
        empty("LocationRef", LocationOID=location_oid(code))
        for code in sorted({code for _, code in person.roles if code in site_codes})
    ]
    return element("User", parts, OID=person.oid, UserType=user_type)


def admin_data(people: Iterable[Person], sites: Iterable[Site], effective: date) -> str:
    sites = list(sites)
    codes = {site.code for site in sites}
    users = [
        element(
            "User",
            [
                text("LoginName", "registry"),
                text("DisplayName", "The registry (scoring, commands)"),
            ],
            OID=md.SYSTEM_USER,
            UserType="Other",
        ),
        *(_user(person, codes) for person in people),
    ]
    locations = [
        element(
            "Location",
            empty(
                "MetaDataVersionRef",
                StudyOID=md.STUDY_OID,
                MetaDataVersionOID=md.METADATA_OID,
                EffectiveDate=effective.isoformat(),
            ),
            OID=location_oid(site.code),
            Name=f"{site.name} ({site.country})",
            LocationType="Site",
        )
        for site in sites
    ]
    signatures = [
        element(
            "SignatureDef",
            [
                text("Meaning", Signature.Meaning(meaning).label),
                text("LegalReason", "21 CFR Part 11 section 11.50: electronic signature"),
            ],
            OID=oid,
            Methodology="Electronic",
        )
        for meaning, oid in SIGNATURE_DEFS.items()
    ]
    return element("AdminData", [*users, *locations, *signatures], StudyOID=md.STUDY_OID)
