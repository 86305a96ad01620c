"""The bar chart of matches per meeting month above the results, laid out on the server (an SVG
drawn by the template; no chart library, no script). Counts are the result set's own facet counts,
so the bars add up to the count shown above them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Protocol

from service.rendering import facet_value_label, wareki_year

# Past this many months the bars would be slivers: one bar per fiscal year instead.
MAX_MONTH_BARS = 36
WIDTH = 720
HEIGHT = 150
TOP = 18          # room for the count above the tallest bar
BOTTOM = 34       # room for the month and year labels
MIN_BAR_WIDTH = 4


class FacetCount(Protocol):
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Bar:
    facet: str        # the filter a click applies: meeting_month or fiscal_year
    value: str        # 2023-07 / 2023
    label: str        # 7月 / 令和5年度 (under the bar)
    long_label: str   # 令和5年7月 (table, link name)
    year_label: str   # shown under the first bar of each year
    count: int
    selected: bool
    x: float
    width: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    facet: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> float:
        return self.height - BOTTOM

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bars)


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _layout(facet: str, periods: list[tuple[str, str, str, str, int, bool]]) -> Chart:
    n = len(periods)
    slot = WIDTH / n
    width = max(MIN_BAR_WIDTH, slot * 0.7)
    top = max(c for *_, c, _ in periods) or 1
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (value, label, long_label, year_label, count, selected) in enumerate(periods):
        h = round(plot * count / top, 1)
        bars.append(Bar(facet, value, label, long_label, year_label, count, selected,
                        x=round(i * slot + (slot - width) / 2, 1), width=round(width, 1),
                        y=round(TOP + plot - h, 1), height=h))
    return Chart(facet, bars)


def build_chart(months: Iterable[FacetCount], years: Iterable[FacetCount]) -> Chart | None:
    """Bars per month from the first to the last month with a match (empty months included, so
    gaps show), or per fiscal year when that spans more than MAX_MONTH_BARS months. None when
    there is nothing to compare (fewer than two periods)."""
    counts = {f.value: f.count for f in months if f.count > 0 and _is_month(f.value)}
    selected_months = {f.value for f in months if f.selected}
    if counts:
        span = _months(min(counts), max(counts))
        if 2 <= len(span) <= MAX_MONTH_BARS:
            periods = []
            previous_year = None
            for value in span:
                y, m = int(value[:4]), int(value[5:])
                era = wareki_year(y, dt.date(y, m, 1))
                year_label = era if era != previous_year else ""
                previous_year = era
                periods.append((value, f"{m}月", facet_value_label("meeting_month", value), year_label,
                                counts.get(value, 0), value in selected_months))
            return _layout("meeting_month", periods)
        if len(span) < 2:
            return None
    year_counts = {f.value: f.count for f in years if f.count > 0 and f.value.isdigit()}
    selected_years = {f.value for f in years if f.selected}
    if len(year_counts) < 1:
        return None
    first, last = int(min(year_counts)), int(max(year_counts))
    if last == first:
        return None
    periods = []
    for y in range(first, last + 1):
        label = facet_value_label("fiscal_year", str(y))
        periods.append((str(y), label, label, "", year_counts.get(str(y), 0), str(y) in selected_years))
    return _layout("fiscal_year", periods)


def _is_month(value: str) -> bool:
    return len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit()
