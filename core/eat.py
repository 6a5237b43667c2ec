"""East Africa Time: how M-Pesa and the SACCO's staff tell time.

M-Pesa's times (``TransTime``, the statement's columns) are Kenyan wall-clock times; the database
stores UTC and pages show EAT. There is no daylight saving in Kenya, but the zone is still read
from the tz database rather than written as a fixed offset.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

EAT = ZoneInfo("Africa/Nairobi")


def eat_iso(moment: datetime) -> str:
    """``2026-11-27T14:30:15+03:00``: the form exports and reports use."""
    return moment.astimezone(EAT).isoformat()


def eat_midnight(day: date) -> datetime:
    """The first instant of ``day`` in Kenya."""
    return datetime(day.year, day.month, day.day, tzinfo=EAT)
