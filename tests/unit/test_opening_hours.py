"""The team's opening hours (bot.config.hours): open or not, the next opening, N minutes of
opening time from a moment, across lunch breaks, weekends, closed dates and daylight saving
time changes (Europe/Paris); the school file's ``[horaires]`` and its French errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config.hours import (
    OpeningHours,
    OpeningHoursError,
    add_working_minutes,
    is_open,
    next_opening,
    parse_opening_hours,
    working_time_between,
)
from bot.school import SchoolConfigError, load_school_config

from support import DATA

PARIS = ZoneInfo("Europe/Paris")
SCHOOL_WEEK = {
    "lundi": ["08:00-12:00", "13:30-17:00"],
    "mardi": ["08:00-12:00", "13:30-17:00"],
    "mercredi": ["08:00-12:00"],
    "jeudi": ["08:00-12:00", "13:30-17:00"],
    "vendredi": ["08:00-12:00", "13:30-16:30"],
}


def paris(*args: int) -> datetime:
    """A Paris wall-clock moment."""
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.fixture
def hours() -> OpeningHours:
    return parse_opening_hours({**SCHOOL_WEEK, "fermetures": [date(2026, 12, 25)]})


# 2026-12-07 is a Monday; 2026-12-25 a Friday (closed).


def test_open_in_the_ranges_only(hours: OpeningHours) -> None:
    assert is_open(hours, paris(2026, 12, 7, 8, 0))
    assert is_open(hours, paris(2026, 12, 7, 11, 59))
    assert not is_open(hours, paris(2026, 12, 7, 12, 0))  # the end is outside
    assert not is_open(hours, paris(2026, 12, 7, 12, 45))  # lunch
    assert is_open(hours, paris(2026, 12, 7, 13, 30))
    assert not is_open(hours, paris(2026, 12, 7, 7, 59))
    assert not is_open(hours, paris(2026, 12, 9, 14, 0))  # Wednesday afternoon
    assert not is_open(hours, paris(2026, 12, 12, 10, 0))  # Saturday
    assert not is_open(hours, paris(2026, 12, 25, 10, 0))  # closed date
    # Any time zone of the moment: the same instant.
    assert is_open(hours, paris(2026, 12, 7, 9, 0).astimezone(UTC))


def test_next_opening(hours: OpeningHours) -> None:
    now = paris(2026, 12, 7, 9, 15)
    assert next_opening(hours, now) == now
    assert next_opening(hours, paris(2026, 12, 7, 12, 10)) == paris(2026, 12, 7, 13, 30)
    assert next_opening(hours, paris(2026, 12, 7, 17, 0)) == paris(2026, 12, 8, 8, 0)
    # Friday evening, the weekend: Monday 8:00.
    assert next_opening(hours, paris(2026, 12, 11, 16, 31)) == paris(2026, 12, 14, 8, 0)
    assert next_opening(hours, paris(2026, 12, 13, 23, 59)) == paris(2026, 12, 14, 8, 0)
    # Thursday evening before the closed Friday: Monday.
    assert next_opening(hours, paris(2026, 12, 24, 18, 0)) == paris(2026, 12, 28, 8, 0)


def test_adding_working_minutes_skips_lunch_evenings_and_weekends(hours: OpeningHours) -> None:
    assert add_working_minutes(hours, paris(2026, 12, 7, 9, 0), 120) == paris(2026, 12, 7, 11, 0)
    # 11:00 + 2 h: one hour before lunch, one after it.
    assert add_working_minutes(hours, paris(2026, 12, 7, 11, 0), 120) == paris(2026, 12, 7, 14, 30)
    # Friday 16:00 + 2 h: 30 min on Friday, then Monday 8:00 + 1 h 30.
    assert add_working_minutes(hours, paris(2026, 12, 11, 16, 0), 120) == paris(2026, 12, 14, 9, 30)
    # Written on Saturday: counted from Monday's opening.
    assert add_working_minutes(hours, paris(2026, 12, 12, 10, 0), 120) == paris(2026, 12, 14, 10, 0)
    # Wednesday 11:00 + 2 h: 1 h on Wednesday, then Thursday 8:00 + 1 h.
    assert add_working_minutes(hours, paris(2026, 12, 9, 11, 0), 120) == paris(2026, 12, 10, 9, 0)
    # Exactly to the end of a range stays in it; one minute more goes to the next one.
    assert add_working_minutes(hours, paris(2026, 12, 7, 11, 0), 60) == paris(2026, 12, 7, 12, 0)
    assert add_working_minutes(hours, paris(2026, 12, 7, 11, 0), 61) == paris(2026, 12, 7, 13, 31)
    # A whole week of opening time (3 × 7 h 30, Wednesday's 4 h, Friday's 7 h) ends on Friday
    # at closing time; a minute more is Monday's first.
    week = 3 * 450 + 240 + 420
    assert add_working_minutes(hours, paris(2026, 12, 7, 8, 0), week) == paris(2026, 12, 11, 16, 30)
    assert add_working_minutes(hours, paris(2026, 12, 7, 8, 0), week + 1) == paris(
        2026, 12, 14, 8, 1
    )


def test_a_closed_period_and_a_team_that_never_opens() -> None:
    hours = parse_opening_hours({**SCHOOL_WEEK, "fermetures": ["2026-12-19/2027-01-03"]})
    assert next_opening(hours, paris(2026, 12, 18, 17, 0)) == paris(2027, 1, 4, 8, 0)
    assert working_time_between(hours, paris(2026, 12, 18, 17, 0), paris(2027, 1, 4, 8, 0)) == (
        timedelta(0)
    )
    never = OpeningHours(PARIS, ((),) * 7)
    assert next_opening(never, paris(2026, 12, 7, 9, 0)) is None
    assert add_working_minutes(never, paris(2026, 12, 7, 9, 0), 10) is None


def test_spring_forward_day_counts_real_time() -> None:
    """2026-03-29, Paris: 02:00 becomes 03:00. A night range 00:00-04:00 lasts 3 hours."""
    hours = parse_opening_hours({"dimanche": ["00:00-04:00"], "lundi": ["08:00-12:00"]})
    start = paris(2026, 3, 29, 0, 0)
    assert working_time_between(hours, start, paris(2026, 3, 29, 5, 0)) == timedelta(hours=3)
    assert add_working_minutes(hours, start, 120) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert add_working_minutes(hours, start, 120) == paris(2026, 3, 29, 3, 0)
    # 3 h 30: the 3 hours of Sunday night, then half an hour on Monday.
    assert add_working_minutes(hours, start, 210) == paris(2026, 3, 30, 8, 30)


def test_fall_back_day_counts_the_repeated_hour() -> None:
    """2026-10-25, Paris: 03:00 becomes 02:00 again. 00:00-04:00 lasts 5 hours."""
    hours = parse_opening_hours({"dimanche": ["00:00-04:00"]})
    start = paris(2026, 10, 25, 0, 0)
    assert working_time_between(hours, start, paris(2026, 10, 25, 6, 0)) == timedelta(hours=5)
    assert add_working_minutes(hours, start, 300) == paris(2026, 10, 25, 4, 0)


def test_office_hours_are_wall_clock_on_both_sides_of_a_change() -> None:
    """Friday 16:00 + 2 h across the spring change: Monday 9:30 Paris time, UTC+2 by then."""
    hours = parse_opening_hours(SCHOOL_WEEK)
    found = add_working_minutes(hours, paris(2026, 3, 27, 16, 0), 120)
    assert found == paris(2026, 3, 30, 9, 30)
    assert found == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    # And back in October: Friday 23rd 16:00 + 2 h is Monday 26th 9:30, UTC+1 again.
    found = add_working_minutes(hours, paris(2026, 10, 23, 16, 0), 120)
    assert found == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_a_range_up_to_midnight() -> None:
    hours = parse_opening_hours({"lundi": ["20:00-24:00"], "mardi": ["00:00-01:00"]})
    assert is_open(hours, paris(2026, 12, 7, 23, 59))
    assert add_working_minutes(hours, paris(2026, 12, 7, 22, 0), 150) == paris(2026, 12, 8, 0, 30)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=5000),
)
def test_adding_then_measuring_gives_the_minutes_back(start: datetime, minutes: int) -> None:
    hours = parse_opening_hours({**SCHOOL_WEEK, "fermetures": ["2026-12-19/2027-01-03"]})
    end = add_working_minutes(hours, start, minutes)
    assert end is not None and end >= start
    assert working_time_between(hours, start, end) == timedelta(minutes=minutes)
    if minutes:
        assert is_open(hours, end - timedelta(seconds=1))


# --- the school file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"lundy": ["08:00-12:00"]}, "« lundy » inconnu"),
        ({"lundi": ["8-12"]}, "n'est pas une plage"),
        ({"lundi": ["12:00-08:00"]}, "l'heure de fin doit suivre"),
        ({"lundi": ["08:00-25:00"]}, "entre 00:00 et 24:00"),
        ({"lundi": ["08:00-12:00", "11:00-14:00"]}, "se chevauchent"),
        ({"lundi": 8}, "une liste de plages"),
        ({"lundi": [], "mardi": []}, "aucune plage d'ouverture"),
        ({"lundi": ["08:00-12:00"], "fuseau": "Europe/Lutece"}, "fuseau « Europe/Lutece » inconnu"),
        ({"lundi": ["08:00-12:00"], "fermetures": ["25/12/2026"]}, "n'est ni une date"),
        ({"lundi": ["08:00-12:00"], "fermetures": ["2027-01-03/2026-12-19"]}, "la fin doit"),
        ({"lundi": ["08:00-12:00"], "fermetures": "2026-12-25"}, "une liste de dates"),
    ],
)
def test_wrong_sections_are_refused_in_french(section: dict[str, object], expected: str) -> None:
    with pytest.raises(OpeningHoursError, match=expected):
        parse_opening_hours(section)


def test_a_single_range_as_text_and_the_h_notation() -> None:
    hours = parse_opening_hours({"lundi": "8h00-12h00"})
    assert hours.week[0] == ((480, 720),)


def test_the_school_file_reads_its_hours_and_names_itself_in_errors(tmp_path: Path) -> None:
    school = (DATA / "school.toml").read_text(encoding="utf-8")
    (tmp_path / "cgu.txt").write_text("CGU", encoding="utf-8")
    path = tmp_path / "school.toml"
    path.write_text(
        school + '\n[horaires]\nlundi = ["08:00-12:00"]\nfermetures = [2026-12-28]\n',
        encoding="utf-8",
    )
    loaded = load_school_config(path).horaires
    assert loaded is not None and loaded.zone == PARIS and date(2026, 12, 28) in loaded.closed
    path.write_text(school + '\n[horaires]\nlundi = ["08:00-07:00"]\n', encoding="utf-8")
    with pytest.raises(SchoolConfigError, match=r"school\.toml : \[horaires\] lundi"):
        load_school_config(path)
    assert load_school_config(DATA / "school.toml").horaires is None


def test_the_example_school_has_hours() -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "school.example.toml"
    hours = load_school_config(example).horaires
    assert hours is not None and is_open(hours, paris(2026, 12, 7, 9, 0))
