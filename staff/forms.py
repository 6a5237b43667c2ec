"""The transactions filter: what the query string may say, checked before any query runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError

from c2b.models import Shortcode
from core.eat import EAT

MEMBER_CHOICES = [("", "Any"), ("matched", "Matched to a member"), ("unmatched", "Unmatched")]


@dataclass(frozen=True)
class PaymentFilter:
    """A validated filter. Dates are EAT calendar days; ``until`` is inclusive."""

    q: str = ""
    since: date | None = None
    until: date | None = None
    shortcode: str = ""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    member: str = ""
    attention: bool = False

    @property
    def since_moment(self) -> datetime | None:
        return datetime.combine(self.since, time.min, tzinfo=EAT) if self.since else None

    @property
    def until_moment(self) -> datetime | None:
        """Start of the day after ``until`` (EAT), for a half-open range."""
        if self.until is None:
            return None
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=EAT)

    def params(self) -> dict[str, str]:
        """The filter as query parameters (blank ones left out), for links and cache keys."""
        values = {
            "q": self.q,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "shortcode": self.shortcode,
            "min_amount": f"{self.min_amount}" if self.min_amount is not None else "",
            "max_amount": f"{self.max_amount}" if self.max_amount is not None else "",
            "member": self.member,
            "attention": "1" if self.attention else "",
        }
        return {key: value for key, value in values.items() if value}

    def querystring(self) -> str:
        return urlencode(self.params())

    @property
    def is_narrowed(self) -> bool:
        return bool(self.params())


class PaymentFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        help_text="Receipt, account, member number or name, payer name or MSISDN",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Receipt, account, name, phone…"}
        ),
    )
    since = forms.DateField(
        required=False, label="From (EAT)", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To (EAT)", widget=forms.DateInput(attrs={"type": "date"})
    )
    shortcode = forms.ChoiceField(required=False, label="Shortcode")
    min_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label="Min KES",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    max_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label="Max KES",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    member = forms.ChoiceField(required=False, choices=MEMBER_CHOICES, label="Member")
    attention = forms.BooleanField(required=False, label="Needs attention only")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        numbers = Shortcode.objects.order_by("number").values_list("number", "name")
        self.fields["shortcode"].choices = [("", "All")] + [
            (number, f"{number} · {name}" if name else number) for number, name in numbers
        ]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError("The 'From' date is after the 'To' date.", code="date_order")
        low, high = cleaned.get("min_amount"), cleaned.get("max_amount")
        if low is not None and high is not None and low > high:
            raise ValidationError("The minimum amount is above the maximum.", code="amount_order")
        return cleaned

    def payment_filter(self) -> PaymentFilter:
        """The validated filter; call only after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return PaymentFilter(
            q=(data.get("q") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            shortcode=data.get("shortcode") or "",
            min_amount=data.get("min_amount"),
            max_amount=data.get("max_amount"),
            member=data.get("member") or "",
            attention=bool(data.get("attention")),
        )
