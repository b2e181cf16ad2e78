"""Report filters from query parameters: every bad parameter named, nothing guessed."""

from datetime import date

import pytest
from django.http import QueryDict

from registry.errors import InputError
from reports.filters import ReportFilters, parse_filters


def test_defaults():
    assert parse_filters(QueryDict("")) == ReportFilters()
    assert ReportFilters().group_by == "drug"


def test_repeated_and_comma_separated_values():
    filters = parse_filters(QueryDict("site=AAA&site=BBB,CCC&drug=ivig&drug=ivig"))
    assert filters.sites == ("AAA", "BBB", "CCC")
    assert filters.drugs == ("ivig",)


def test_every_bad_parameter_is_named():
    with pytest.raises(InputError) as caught:
        parse_filters(QueryDict(
            "diagnosis=dermatomyositis,flu&serology=xyz&drug=aspirin&drug_class=magic"
            "&population=elderly&start_from=2020-02-30&group_by=site&stratify=drug"
        ))  # fmt: skip
    assert [field for field, _ in caught.value.errors] == [
        "diagnosis", "serology", "drug", "drug_class", "population", "start_from", "group_by",
        "stratify",
    ]  # fmt: skip
    assert "flu" in caught.value.errors[0][1]


def test_period_must_not_end_before_it_starts():
    with pytest.raises(InputError) as caught:
        parse_filters(QueryDict("start_from=2021-01-01&start_to=2020-12-31"))
    assert caught.value.errors == [
        ("start_to", "The end of the period cannot be before its start.")
    ]


def test_round_trips_through_the_stored_dict_and_the_query_string():
    filters = ReportFilters(
        sites=("AAA",), diagnoses=("polymyositis",), serology=("mi2", "mda5"),
        drugs=("ivig",), drug_classes=("biologic",), population="juvenile",
        start_from=date(2020, 1, 1), start_to=date(2021, 6, 30), group_by="drug_class",
        stratify="site",
    )  # fmt: skip
    assert parse_filters(filters.as_dict()) == filters
    assert parse_filters(QueryDict(filters.query_string())) == filters


def test_query_string_overrides():
    filters = ReportFilters(drugs=("ivig",), stratify="site")
    assert filters.query_string(stratify=None, site="AAA") == ("drug=ivig&group_by=drug&site=AAA")


@pytest.mark.parametrize("name", ["start_from", "start_to", "population", "group_by", "stratify"])
def test_a_single_valued_parameter_sent_empty_is_named(name):
    with pytest.raises(InputError) as caught:
        parse_filters(QueryDict(f"{name}="))
    assert [field for field, _ in caught.value.errors] == [name]


@pytest.mark.parametrize(
    "value",
    ["20200110", "2020-W02-5", "2020-1-10", "２０２０-01-10", " 2020-01-10x", "2020-01-1０"],
)
def test_dates_are_exactly_year_month_day(value):
    with pytest.raises(InputError) as caught:
        parse_filters({"start_to": value})
    assert [field for field, _ in caught.value.errors] == ["start_to"]


def test_a_forms_empty_fields_mean_no_filter():
    params = QueryDict("start_from=&start_to=&population=&drug=ivig&stratify=")
    assert parse_filters(params, form=True) == ReportFilters(drugs=("ivig",))
