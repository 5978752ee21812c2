from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from apps.locations.hours import (
    SEOUL,
    DayHours,
    DayStatus,
    TimeRange,
    WeeklyHours,
    is_public_holiday,
    parse_day_hours,
    week_of_month,
)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("09:00 ~ 18:00", [("09:00", "18:00")]),
        ("09:00~18:00", [("09:00", "18:00")]),
        ("9:00 ~ 11:00", [("09:00", "11:00")]),
        ("08시~22시", [("08:00", "22:00")]),
        ("10시~22시         ", [("10:00", "22:00")]),
        ("00:00~24:00", [("00:00", "24:00")]),
        ("09:00 ~ 12:00,\n14:00 ~ 17:00", [("09:00", "12:00"), ("14:00", "17:00")]),
        ("14:00 ~ 17:00\n9:00 ~ 11:00", [("09:00", "11:00"), ("14:00", "17:00")]),
    ],
)
def test_parses_range_forms(text, ranges):
    day = parse_day_hours(text)
    assert day.status is DayStatus.OPEN
    assert day.ranges == tuple(TimeRange(hm(start), hm(end)) for start, end in ranges)
    assert day.raw == text.strip()


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("휴무", DayStatus.CLOSED),
        ("전체휴무", DayStatus.CLOSED),
        (" 휴 무 ", DayStatus.CLOSED),
        ("상시", DayStatus.ALWAYS),
        ("계약종료", DayStatus.DISCONTINUED),
        ("", DayStatus.UNKNOWN),
        ("   ", DayStatus.UNKNOWN),
        ("문의 바람", DayStatus.UNKNOWN),  # free text is kept, not guessed
        ("09:00 ~ 18:00 (점심시간 제외)", DayStatus.UNKNOWN),  # leftovers are not dropped
        ("25:00 ~ 26:00", DayStatus.UNKNOWN),
        ("09:61 ~ 10:00", DayStatus.UNKNOWN),
        ("24:30 ~ 24:40", DayStatus.UNKNOWN),
        ("18:00 ~ 09:00", DayStatus.UNKNOWN),  # overnight ranges are not in the data; refuse, don't invent
        ("12:00 ~ 12:00", DayStatus.UNKNOWN),
        ("10:00~12:00\n(0주)", DayStatus.UNKNOWN),
        ("(하절기(7~9월) 10시~23시)", DayStatus.UNKNOWN),  # an override without regular hours
        ("10시~22시 (하절기(9~7월) 10시~23시)", DayStatus.UNKNOWN),
    ],
)
def test_status_words_and_rejected_text(text, status):
    day = parse_day_hours(text)
    assert day.status is status
    assert day.ranges == ()


def test_summer_override_applies_only_in_its_months():
    day = parse_day_hours("10시~22시         (하절기(7~9월)     10시~23시)")
    assert day.status is DayStatus.OPEN
    assert day.ranges == (TimeRange(hm("10:00"), hm("22:00")),)
    assert day.seasonal is not None
    assert day.seasonal.months == frozenset({7, 8, 9})
    assert day.is_open(date(2026, 8, 4), hm("22:30")) is True
    assert day.is_open(date(2026, 6, 30), hm("22:30")) is False
    assert day.is_open(date(2026, 10, 1), hm("22:30")) is False
    assert day.is_open(date(2026, 10, 1), hm("21:59")) is True


def test_weeks_of_month_restrict_the_day():
    # Monday cell of a point served on the 1st, 3rd and 5th Monday of the month.
    day = parse_day_hours("10:00~12:00\n14:00~16:00\n(1,3,5주)")
    assert day.weeks_of_month == frozenset({1, 3, 5})
    assert day.ranges == (TimeRange(hm("10:00"), hm("12:00")), TimeRange(hm("14:00"), hm("16:00")))
    # June 2026 Mondays: 1, 8, 15, 22, 29 -> weeks 1..5.
    assert [day.is_open(date(2026, 6, d), hm("10:30")) for d in (1, 8, 15, 22, 29)] == [
        True,
        False,
        True,
        False,
        True,
    ]
    assert day.is_open(date(2026, 6, 1), hm("13:00")) is False  # lunch gap


def test_weeks_with_spaces_and_every_week_note():
    assert parse_day_hours("10:00~12:00\n14:00~16:00\n(2, 4주)").weeks_of_month == frozenset({2, 4})
    every_week = parse_day_hours("10:00~12:00\n14:00~16:00\n(매주 목요일)")
    assert every_week.status is DayStatus.OPEN
    assert every_week.weeks_of_month is None
    assert len(every_week.ranges) == 2


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2026, 6, 1), 1),
        (date(2026, 6, 7), 1),
        (date(2026, 6, 8), 2),
        (date(2026, 6, 29), 5),
        (date(2026, 2, 28), 4),
    ],
)
def test_week_of_month(day, week):
    assert week_of_month(day) == week


def test_range_bounds_are_half_open():
    day = parse_day_hours("09:00 ~ 18:00")
    tuesday = date(2026, 11, 24)
    assert day.is_open(tuesday, hm("08:59")) is False
    assert day.is_open(tuesday, hm("09:00")) is True
    assert day.is_open(tuesday, hm("17:59")) is True
    assert day.is_open(tuesday, hm("18:00")) is False


def test_always_and_midnight_to_midnight_cover_the_whole_day():
    for text in ("상시", "00:00~24:00"):
        day = parse_day_hours(text)
        assert day.is_open(date(2026, 11, 24), 0) is True
        assert day.is_open(date(2026, 11, 24), hm("23:59")) is True


def test_unknown_hours_answer_none():
    assert parse_day_hours("문의 바람").is_open(date(2026, 11, 24), hm("12:00")) is None


def test_time_range_rejects_nonsense():
    with pytest.raises(ValueError, match="invalid time range"):
        TimeRange(600, 600)
    with pytest.raises(ValueError, match="invalid time range"):
        TimeRange(0, 24 * 60 + 1)


def _week(weekday_texts: list[str], holiday: str = "휴무") -> WeeklyHours:
    return WeeklyHours(tuple(parse_day_hours(t) for t in weekday_texts), parse_day_hours(holiday))


TUESDAY_ONLY = _week(["휴무", "11:00 ~ 14:00", "휴무", "휴무", "휴무", "휴무", "휴무"])


def test_open_at_uses_the_weekday_in_seoul():
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 24, 12, 0, tzinfo=SEOUL)) is True
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 24, 14, 0, tzinfo=SEOUL)) is False
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 25, 12, 0, tzinfo=SEOUL)) is False  # Wednesday


def test_open_at_converts_other_time_zones_to_seoul():
    # 02:30 UTC on Tuesday = 11:30 KST Tuesday (open); 20:00 UTC Monday = 05:00 KST Tuesday (closed).
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 24, 2, 30, tzinfo=UTC)) is True
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 23, 20, 0, tzinfo=UTC)) is False
    # 03:00 UTC on Monday is 12:00 KST on Monday: the right hour, the wrong day.
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 23, 3, 0, tzinfo=UTC)) is False


def test_naive_datetimes_are_seoul_time():
    assert TUESDAY_ONLY.open_at(datetime(2026, 11, 24, 12, 0)) is True


def test_public_holidays_use_the_holiday_hours():
    every_day = _week(["09:00 ~ 18:00"] * 7, holiday="전체휴무")
    chuseok = datetime(2026, 9, 25, 12, 0, tzinfo=SEOUL)  # a Friday
    assert is_public_holiday(chuseok.date())
    assert every_day.open_at(chuseok) is False
    assert every_day.open_at(datetime(2026, 9, 18, 12, 0, tzinfo=SEOUL)) is True  # the Friday before
    open_on_holidays = _week(["휴무"] * 7, holiday="08시~22시")
    assert open_on_holidays.open_at(chuseok) is True


def test_labour_day_and_substitute_holidays_are_public_holidays():
    assert is_public_holiday(date(2026, 5, 1))  # 근로자의 날, a public holiday since 2026
    assert is_public_holiday(date(2026, 5, 25))  # substitute holiday for Buddha's Birthday
    assert not is_public_holiday(date(2026, 11, 24))


def test_weekly_hours_need_seven_days():
    with pytest.raises(ValueError, match="7 days"):
        WeeklyHours((DayHours("휴무", DayStatus.CLOSED),) * 6, DayHours("휴무", DayStatus.CLOSED))


def test_discontinued_when_any_day_says_contract_ended():
    ended = _week(["계약종료"] * 5 + ["휴무", "휴무"])
    assert ended.discontinued
    assert not TUESDAY_ONLY.discontinued
