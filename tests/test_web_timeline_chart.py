"""The matches-per-month chart above the results: layout rules and the rendered SVG/table."""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass


from service.timeline_chart import MAX_MONTH_BARS, build_chart


@dataclass
class F:
    value: str
    count: int
    selected: bool = False


def test_months_with_gaps_and_year_labels():
    chart = build_chart([F("2024-01", 2), F("2023-11", 1)], [F("2023", 3)])
    assert chart.facet == "meeting_month"
    assert [(b.value, b.count, b.label) for b in chart.bars] == [
        ("2023-11", 1, "11月"), ("2023-12", 0, "12月"), ("2024-01", 2, "1月")]
    assert [b.year_label for b in chart.bars] == ["令和5年", "", "令和6年"]
    tallest = max(chart.bars, key=lambda b: b.count)
    assert tallest.y + tallest.height == chart.baseline and chart.bars[1].height == 0


def test_long_ranges_become_fiscal_years_and_single_periods_no_chart():
    months = [F("2010-04", 1), F(f"{2010 + MAX_MONTH_BARS // 12 + 1}-05", 1)]
    chart = build_chart(months, [F("2010", 1), F("2014", 1)])
    assert chart.facet == "fiscal_year" and [b.value for b in chart.bars] == ["2010", "2011", "2012", "2013", "2014"]
    assert chart.bars[0].label == "平成22年度"
    assert build_chart([F("2023-07", 4)], [F("2023", 4)]) is None
    assert build_chart([], []) is None


def test_chart_bars_add_up_to_the_total_and_link_to_their_month(client):
    html = client.get("/", params={"q": "委託", "mode": "keyword"}).text
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    chart = html[html.index('<figure class="timeline-chart"'):html.index("</figure>")]
    links = re.findall(r'<a class="chart-bar[^"]*" href="([^"]+)"\s+aria-label="([^"]+)"', chart)
    assert len(links) >= 2
    counts = [int(re.search(r"(\d+)件", label).group(1)) for _, label in links]
    assert sum(counts) == total
    for href, _ in links:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(href.replace("&amp;", "&")).query)
        assert query["q"] == ["委託"] and len(query["meeting_month"]) == 1 and "page" not in query
    # the same figures as a table for screen readers
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)件</td></tr>', chart)
    assert sum(int(c) for _, c in rows) == total


def test_clicked_month_is_marked_and_counted(client):
    html = client.get("/", params={"q": "委託", "mode": "keyword", "meeting_month": "2023-12"}).text
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    selected = re.search(r'class="chart-bar selected"[^>]*aria-label="令和5年12月 (\d+)件（選択中）"', html)
    assert selected and int(selected.group(1)) == total
