"""The report pages without friction (issue 18): the best ACR/EULAR cell, the applied filters as
removable chips, dates typed as YYYY-MM-DD, the compact multi-selects, the episodes list's drug
labels and patient links, and chart axes whose labels are each shown once."""

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from reports.charts import (
    WEEK_STEPS,
    Chart,
    Panel,
    PanelPoint,
    Text,
    nice_top,
    report_charts,
    small_multiples,
    time_to_doi_chart,
    to_svg,
    week_ticks,
)
from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r" ([:.,])", r"\1", text)


def _row(html: str, treatment: str) -> str:
    """The table row whose header cell is `treatment`."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        if f'<th scope="row">{treatment}</th>' in row:
            return row
    raise AssertionError(f"no row {treatment}")


def _best_cell(html: str, treatment: str) -> str:
    cell = re.search(r'<td class="nowrap best-category">(.*?)</td>', _row(html, treatment), re.S)
    assert cell, treatment
    return _text(cell.group(1))


# ---------------------------------------------------------------------------------------------
# The outcomes table


def test_best_category_cell_shows_the_counts_by_category(client, cohort, people):
    client.force_login(people["dm"])
    html = client.get(reverse("reports:outcomes")).content.decode()
    # none · minimal · moderate · major · not computed (tests/reports/conftest.py's cohort).
    assert _best_cell(html, "IVIG") == "1 · 0 · 1 · 0 · 0"
    assert _best_cell(html, "Rituximab") == "0 · 0 · 0 · 1 · 1"
    assert _best_cell(html, "Methotrexate") == "0 · 1 · 0 · 0 · 0"
    assert "None" not in _best_cell(html, "IVIG")
    # Each count is named, with its share of the evaluable episodes, in its tooltip.
    assert 'title="Moderate: 1 (50 %)"' in _row(html, "IVIG")
    assert 'title="Not computed: 1 (50 %)"' in _row(html, "Rituximab")


def test_a_withheld_row_says_so_at_its_start(client, cohort, people):
    client.force_login(people["inv_a"])
    row = _row(client.get(reverse("reports:outcomes")).content.decode(), "IVIG")
    # Not right-aligned at the far end of a table wider than the screen.
    assert re.search(r'<td class="suppressed" colspan="\d+"[^>]*>&lt; 5</td>', row)


def test_every_wide_table_scrolls_in_its_own_box(client, cohort, people):
    """The page itself never scrolls sideways: every data table of a report page is inside a
    .table-wrap, and a .table-wrap is a positioned box (its visually-hidden texts, absolutely
    positioned, would otherwise be placed against the page and widen it)."""
    client.force_login(people["dm"])
    for name in ("reports:outcomes", "reports:safety", "reports:survival", "reports:episodes"):
        html = client.get(reverse(name)).content.decode()
        main = html.split("<main", 1)[1]
        tables = main.count("<table")
        wrapped = len(re.findall(r'<div class="table-wrap">\s*<table', main))
        assert tables and tables == wrapped, name
    text = Path(finders.find("reports/reports.css")).read_text()
    assert re.search(r"\.table-wrap \{[^}]*position: relative", text)


# ---------------------------------------------------------------------------------------------
# Filters


def test_applied_filters_are_chips_that_remove_one_value_each(client, cohort, people):
    client.force_login(people["dm"])
    response = client.get(
        reverse("reports:outcomes"),
        {"site": "AAA,BBB", "drug": ["ivig", "rituximab"], "start_from": "2020-01-01",
         "population": "adult", "stratify": "site", "group_by": "drug"},
    )  # fmt: skip
    html = response.content.decode()
    chips = re.findall(r'<a class="chip" href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
    shown = {_text(label).rstrip(" ×"): unescape(href) for href, label in chips}
    assert list(shown) == [
        "Site: AAA", "Site: BBB", "Drug: IVIG", "Drug: Rituximab", "Adult or juvenile: Adult",
        "Started from: 2020-01-01", "Stratified by: Site",
    ]  # fmt: skip
    applied = response.context["filters"].query_pairs()
    for label, href in shown.items():
        url = urlsplit(href)
        assert url.path == reverse("reports:outcomes")
        pairs = parse_qsl(url.query)
        # Exactly the one value is gone, everything else is kept.
        missing = [pair for pair in applied if pair not in pairs]
        assert len(missing) == 1 and len(pairs) == len(applied) - 1, label
    assert dict(parse_qsl(urlsplit(shown["Drug: IVIG"]).query))["drug"] == "rituximab"
    # Following a chip gives the report without that filter.
    following = client.get(shown["Site: BBB"])
    assert following.context["filters"].sites == ("AAA",)
    assert 'href="/reports/">Remove all</a>' in html


def test_no_chips_without_filters_or_with_errors(client, cohort, people):
    client.force_login(people["dm"])
    assert b'class="chip"' not in client.get(reverse("reports:outcomes")).content
    bad = client.get(reverse("reports:outcomes"), {"drug": "ivig", "start_to": "2020-13-01"})
    assert bad.status_code == 400 and b'class="chip"' not in bad.content


def test_chips_keep_the_pages_own_parameters(client, cohort, people):
    client.force_login(people["dm"])
    html = client.get(
        reverse("reports:survival"), {"drug": "ivig", "outcome": "pfs"}
    ).content.decode()
    (href,) = re.findall(r'<a class="chip" href="([^"]+)"', html)
    pairs = parse_qsl(urlsplit(unescape(href)).query)
    assert ("outcome", "pfs") in pairs and ("drug", "ivig") not in pairs


def test_multi_selects_are_checkboxes_summarising_the_choice(client, cohort, people):
    client.force_login(people["dm"])
    html = client.get(
        reverse("reports:outcomes"), {"drug": ["rituximab", "ivig"], "site": "BBB"}
    ).content.decode()
    assert "<select" not in re.search(r'<details class="multi" id="f-drug".*?</details>', html,
                                      re.S).group(0)  # fmt: skip
    # The summary lists what is chosen, in the list's order; an untouched list says "All".
    assert '<span class="chosen" id="f-drug-chosen">Rituximab, IVIG</span>' in html
    assert '<span class="chosen" id="f-site-chosen">BBB</span>' in html
    assert '<span class="chosen" id="f-diagnosis-chosen">All</span>' in html
    assert 'type="checkbox" name="drug" value="ivig" data-label="IVIG" checked' in html
    assert 'type="checkbox" name="drug" value="methotrexate" data-label="Methotrexate">' in html
    lists = html.split('aria-label="Report filters"')[1].split('<label for="f-population"')[0]
    assert "<select" not in lists and lists.count('<details class="multi"') == 7


@pytest.mark.parametrize(
    "typed", ["2020/01/10", "10-01-2020", "20200110", "2020-W02-5", "2020-02-30", "2020-1-10"]
)
def test_dates_are_yyyy_mm_dd_and_anything_else_is_named(client, cohort, people, typed):
    client.force_login(people["dm"])
    response = client.get(reverse("reports:outcomes"), {"start_from": typed})
    assert response.status_code == 400
    summary = _text(re.search(r'<div class="error-summary".*?</div>', response.content.decode(),
                              re.S).group(0))  # fmt: skip
    assert f"Started from: Not a date (YYYY-MM-DD): '{typed}'." in summary
    # The text comes back as typed, to be corrected, in a text field (not a date picker that
    # shows the browser's locale).
    assert f'type="text" id="f-start_from" name="start_from" value="{typed}"'.encode() in (
        response.content
    )


def test_a_yyyy_mm_dd_date_is_accepted_and_shown_as_typed(client, cohort, people):
    client.force_login(people["dm"])
    response = client.get(reverse("reports:episodes"), {"start_to": "2020-06-30"})
    assert response.status_code == 200
    assert b'name="start_to" value="2020-06-30"' in response.content
    assert b'type="date"' not in response.content
    download = client.get(reverse("reports:summary-csv"), {"start_to": "30/06/2020"})
    assert download.status_code == 400
    assert download.content.decode() == "start_to: Not a date (YYYY-MM-DD): '30/06/2020'."


# ---------------------------------------------------------------------------------------------
# Episodes list


def test_episodes_list_shows_drug_labels_and_links_own_patients(client, cohort, people):
    client.force_login(people["inv_a"])
    html = client.get(reverse("reports:episodes")).content.decode()
    main = html.split("<main", 1)[1]
    for label in ("Rituximab", "Methotrexate", "IVIG"):
        assert f"<td>{label}</td>" in main
    assert "<td>rituximab</td>" not in main and "<td>ivig</td>" not in main
    for name in ("P1", "P2", "P5"):
        href = reverse("web:patient", args=[cohort[name]])
        assert f'<a href="{href}">AAA/{name}</a>' in main
    # BBB's patients are neither linked nor named to AAA's investigator.
    for name in ("P3", "P4"):
        assert reverse("web:patient", args=[cohort[name]]) not in main
        assert f"BBB/{name}" not in main


def test_episodes_link_every_readable_site_for_a_data_manager(client, cohort, people):
    client.force_login(people["dm"])
    main = client.get(reverse("reports:episodes")).content.decode().split("<main", 1)[1]
    assert f'<a href="{reverse("web:patient", args=[cohort["P3"]])}">BBB/P3</a>' in main
    # And the link opens: the patient page's rule is the same (Action.READ at the site).
    assert client.get(reverse("web:patient", args=[cohort["P3"]])).status_code == 200


def test_an_investigator_of_one_site_cannot_open_another_sites_patient(client, cohort, people):
    client.force_login(people["inv_b"])
    main = client.get(reverse("reports:episodes")).content.decode().split("<main", 1)[1]
    assert "AAA/" not in main
    assert f'<a href="{reverse("web:patient", args=[cohort["P4"]])}">BBB/P4</a>' in main
    assert client.get(reverse("web:patient", args=[cohort["P1"]])).status_code == 404


# ---------------------------------------------------------------------------------------------
# Chart axes


@pytest.mark.parametrize("horizon", [0.5, 1, 3, 5, 11.9, 12, 13, 30, 52, 60, 84, 100, 104, 200])
def test_week_ticks_are_unique_and_end_within_the_axis(horizon):
    ticks = week_ticks(horizon)
    assert ticks[0] == 0 and len(ticks) == len(set(ticks)) and ticks == sorted(ticks)
    assert ticks[-1] <= horizon or horizon < 1
    assert len(ticks) <= 10
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) <= 1 and steps <= set(WEEK_STEPS)


@pytest.mark.parametrize("value", [0.4, 1, 7.5, 10, 33, 60, 99, 101, 250])
def test_nice_top_holds_the_value_with_unique_ticks(value):
    top, ticks = nice_top(value)
    assert top >= value and ticks[0] == 0 and ticks[-1] == top
    labels = [f"{t:g}" for t in ticks]
    assert len(labels) == len(set(labels)) and len(ticks) <= 6


def _axis_labels(chart, y: float) -> list[str]:
    return [s.text for s in chart.shapes if isinstance(s, Text) and abs(s.y - y) < 0.5]


def test_time_axis_ends_at_the_data_and_labels_each_week_once(cohort):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    chart = time_to_doi_chart(report)
    last = max(s.time for row in report.rows for s in row.time_to_doi.steps)
    frame = [s for s in chart.shapes if type(s).__name__ == "Line" and s.y1 == s.y2]
    axis = max(frame, key=lambda s: s.y1)
    labels = _axis_labels(chart, axis.y1 + 14)
    assert labels and len(labels) == len(set(labels))
    assert int(labels[-1]) * 7 <= last  # no tick past the last time observed
    # The last point drawn is at the axis's right end: the axis ends with the data.
    paths = [s for s in chart.shapes if type(s).__name__ == "Path"]
    assert max(x for path in paths for x, _ in path.points) == pytest.approx(axis.x2)


def test_tis_chart_is_one_panel_per_treatment_on_weeks_with_data(cohort):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    _, _, tis = report_charts(report)
    bold = [s.text for s in tis.shapes if isinstance(s, Text) and s.bold]
    assert bold == ["Methotrexate (n=1)", "Rituximab (n=2)", "IVIG (n=2)"]
    week_labels = [s.text for s in tis.shapes if isinstance(s, Text) and s.size == 8]
    # Each panel's axis: 0, 12, 24, 52, each once per panel.
    assert week_labels.count("52") == 3 and week_labels.count("12") == 3
    assert "week 52 no visits" in tis.description


@pytest.mark.parametrize(("count", "width", "lines"), [(3, 720, 1), (6, 720, 2), (7, 960, 2),
                                                        (12, 960, 3)])  # fmt: skip
def test_small_multiples_lay_out_three_or_four_to_a_line(count, width, lines):
    panels = [
        Panel(f"Drug {n}", (PanelPoint(12, 40, 30, 50, 5), PanelPoint(24, 50, 40, 60, 4)))
        for n in range(count)
    ]
    chart = small_multiples(Chart("c", "t", 720, 0), panels, x_ticks=[0, 12, 24], y_max=100,
                            y_ticks=(0, 50, 100), empty="none")  # fmt: skip
    titles = [s for s in chart.shapes if isinstance(s, Text) and s.bold]
    assert chart.width == width and len({round(s.y) for s in titles}) == lines
    assert max(s.x for s in titles) < chart.width
    assert (' wide"' in to_svg(chart)) == (width > 720)
