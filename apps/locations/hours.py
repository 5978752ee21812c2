"""Opening hours of KECO collection points: parsing the per-weekday text and answering "open now?".

The source writes one free-text cell per weekday plus one for public holidays. Forms seen in the data:

- ``휴무`` / ``전체휴무`` (closed), ``계약종료`` (the operator's contract ended: the point is discontinued),
  ``상시`` (always open);
- one or more ranges: ``09:00 ~ 18:00``, ``9:00~11:00``, ``08시~22시``, ``00:00~24:00``, several ranges
  separated by newlines or commas;
- a summer override: ``10시~22시 (하절기(7~9월) 10시~23시)``;
- weeks of the month on which that weekday is served: ``(1,3,5주)`` = the 1st, 3rd and 5th such weekday;
- a restatement of the weekday: ``(매주 목요일)`` (every week; nothing to add).

Anything else is kept verbatim and reported as unknown (``open_at`` answers ``None``), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SEOUL = ZoneInfo("Asia/Seoul")
MINUTES_PER_DAY = 24 * 60

_CLOSED_WORDS = frozenset({"휴무", "전체휴무"})
_DISCONTINUED_WORD = "계약종료"
_ALWAYS_WORD = "상시"

_TIME = r"(\d{1,2})(?::(\d{2})|시)"
_RANGE_RE = re.compile(rf"{_TIME}\s*~\s*{_TIME}")
_SUMMER_RE = re.compile(r"\(\s*하절기\s*\(\s*(\d{1,2})\s*~\s*(\d{1,2})\s*월\s*\)(?P<body>[^()]*)\)")
_WEEKS_RE = re.compile(r"\(\s*(\d(?:\s*,\s*\d)*)\s*주\s*\)")
_EVERY_WEEK_RE = re.compile(r"\(\s*매주\s*[월화수목금토일]요일\s*\)")
_SEPARATORS = frozenset(" \t\r\n,")


class DayStatus(StrEnum):
    OPEN = "open"  # open during `ranges`
    CLOSED = "closed"
    ALWAYS = "always"  # open around the clock
    DISCONTINUED = "discontinued"
    UNKNOWN = "unknown"  # empty or unparseable text


@dataclass(frozen=True)
class TimeRange:
    """Half-open interval [start, end) in minutes after midnight; ``end`` may be 1440 (24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"invalid time range {self.start}..{self.end} minutes")

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True)
class SeasonalHours:
    """Ranges that replace the regular ones during the given months (1-12)."""

    months: frozenset[int]
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True)
class DayHours:
    raw: str
    status: DayStatus
    ranges: tuple[TimeRange, ...] = ()
    seasonal: SeasonalHours | None = None
    # 1-based occurrences of this weekday in the month on which the point is served; None = every week.
    weeks_of_month: frozenset[int] | None = None

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The open ranges on ``day`` (empty when closed that day); only meaningful for OPEN/ALWAYS."""
        if self.status is DayStatus.ALWAYS:
            return (TimeRange(0, MINUTES_PER_DAY),)
        if self.status is not DayStatus.OPEN:
            return ()
        if self.weeks_of_month is not None and week_of_month(day) not in self.weeks_of_month:
            return ()
        if self.seasonal is not None and day.month in self.seasonal.months:
            return self.seasonal.ranges
        return self.ranges

    def is_open(self, day: date, minute: int) -> bool | None:
        if self.status is DayStatus.UNKNOWN:
            return None
        return any(r.contains(minute) for r in self.ranges_on(day))


@dataclass(frozen=True)
class WeeklyHours:
    """Hours for Monday..Sunday (index = ``date.weekday()``) and for Korean public holidays."""

    weekdays: tuple[DayHours, ...]
    holiday: DayHours

    def __post_init__(self) -> None:
        if len(self.weekdays) != 7:
            raise ValueError("weekly hours need exactly 7 days")

    def for_date(self, day: date) -> DayHours:
        """The hours that apply on ``day``: the holiday hours on a Korean public holiday."""
        if is_public_holiday(day):
            return self.holiday
        return self.weekdays[day.weekday()]

    def open_at(self, moment: datetime) -> bool | None:
        """Whether the point is open at ``moment`` (naive = Seoul time); None when the hours are unknown."""
        local = to_seoul(moment)
        return self.for_date(local.date()).is_open(local.date(), local.hour * 60 + local.minute)

    @property
    def discontinued(self) -> bool:
        return any(d.status is DayStatus.DISCONTINUED for d in (*self.weekdays, self.holiday))


def to_seoul(moment: datetime) -> datetime:
    return moment.replace(tzinfo=SEOUL) if moment.tzinfo is None else moment.astimezone(SEOUL)


def week_of_month(day: date) -> int:
    """1 for the first occurrence of this weekday in its month, 2 for the second, ..."""
    return (day.day - 1) // 7 + 1


@lru_cache(maxsize=16)
def _korean_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("KR", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _korean_holidays(day.year)


def parse_day_hours(text: str) -> DayHours:
    """Parse one weekday cell; unrecognised text yields ``DayStatus.UNKNOWN`` with the text kept."""
    raw = text.strip()
    compact = re.sub(r"\s+", "", raw)
    if not compact:
        return DayHours(raw, DayStatus.UNKNOWN)
    if compact in _CLOSED_WORDS:
        return DayHours(raw, DayStatus.CLOSED)
    if compact == _DISCONTINUED_WORD:
        return DayHours(raw, DayStatus.DISCONTINUED)
    if compact == _ALWAYS_WORD:
        return DayHours(raw, DayStatus.ALWAYS)
    try:
        return _parse_ranges_cell(raw)
    except ValueError:
        return DayHours(raw, DayStatus.UNKNOWN)


def _parse_ranges_cell(raw: str) -> DayHours:
    rest = raw
    seasonal = None
    summer = _SUMMER_RE.search(rest)
    if summer:
        first, last = int(summer.group(1)), int(summer.group(2))
        if not 1 <= first <= last <= 12:
            raise ValueError(f"invalid season months {first}~{last}")
        seasonal = SeasonalHours(frozenset(range(first, last + 1)), _ranges_only(summer.group("body")))
        rest = rest[: summer.start()] + rest[summer.end() :]
    weeks = None
    weeks_match = _WEEKS_RE.search(rest)
    if weeks_match:
        weeks = frozenset(int(w) for w in re.split(r"\s*,\s*", weeks_match.group(1)))
        if not weeks <= {1, 2, 3, 4, 5}:
            raise ValueError(f"invalid weeks of month {sorted(weeks)}")
        rest = rest[: weeks_match.start()] + rest[weeks_match.end() :]
    rest = _EVERY_WEEK_RE.sub("", rest)
    ranges = _ranges_only(rest)
    return DayHours(raw, DayStatus.OPEN, ranges, seasonal, weeks)


def _ranges_only(text: str) -> tuple[TimeRange, ...]:
    """Every range in ``text``; raises ValueError if anything but ranges and separators is left."""
    ranges = [_time_range(m) for m in _RANGE_RE.finditer(text)]
    leftover = _RANGE_RE.sub("", text)
    if not ranges or any(ch not in _SEPARATORS for ch in leftover):
        raise ValueError(f"not a list of time ranges: {text!r}")
    return tuple(sorted(ranges, key=lambda r: r.start))


def _time_range(match: re.Match[str]) -> TimeRange:
    start = _minutes(match.group(1), match.group(2))
    end = _minutes(match.group(3), match.group(4))
    return TimeRange(start, end)


def _minutes(hour_text: str, minute_text: str | None) -> int:
    hour, minute = int(hour_text), int(minute_text or 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"invalid time {hour}:{minute:02d}")
    return hour * 60 + minute


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
