"""Formatting for finance pages: KES amounts, counts, EAT times, durations."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from django import template
from django.utils.dateformat import format as date_format

from core.eat import EAT

register = template.Library()


@register.filter
def kes(value: Decimal | None) -> str:
    """1234567.5 → '1,234,567.50'; blank for no value."""
    return "" if value is None else f"{value:,.2f}"


@register.filter
def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@register.filter
def eat(value: datetime | None, fmt: str = "Y-m-d H:i:s") -> str:
    """An aware time shown in EAT, whatever the active time zone."""
    return "" if value is None else date_format(value.astimezone(EAT), fmt)


@register.filter
def duration(minutes: int) -> str:
    hours, mins = divmod(int(minutes), 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins} min"


@register.filter
def waited(seconds: int) -> str:
    """A wait given in seconds: ``45 s`` under a minute, else as ``duration`` says it."""
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else duration(seconds // 60)


@register.filter
def pretty_body(receipt: object) -> str:
    """The stored body re-indented for reading when it is plain JSON, else ``""`` (the page then
    shows only the body as received). Re-serialising hides duplicate keys and exact bytes, so
    this is only ever shown beside the body as received."""
    text = receipt.body_text  # type: ignore[attr-defined]
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return ""


@register.filter
def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
