"""Writes about members: matching payments on the capture path, and bulk import.

``payments_member_match`` runs inside the capture worker's transaction, once per batch of
payments: a fixed handful of indexed queries and one insert, never anything outside the database.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from c2b.models import Payment
from core.phones import (
    is_sha256,
    masked_fits,
    masked_parts,
    phone_hash,
    phone_mask,
    phone_normalise,
)
from members.models import (
    MEMBER_NUMBER_MAX,
    Member,
    MemberMatch,
    MemberPhone,
    member_number_normalise,
)

logger = logging.getLogger(__name__)

Rule = MemberMatch.Rule


# --- matching -------------------------------------------------------------------------------


def _payer_phone_hash(msisdn: str) -> str | None:
    """The SHA-256 to look the payer up by: given as such, or computed from a full number."""
    if is_sha256(msisdn):
        return msisdn.lower()
    number = phone_normalise(msisdn)
    return phone_hash(number) if number else None


def payments_member_match(*, payments: list[Payment]) -> list[MemberMatch]:
    """Link each payment to its member (or record that none matched) and say which rule did it.

    The account number decides first: in a SACCO it is the member number, and paying into a
    relative's account is normal, so a phone pointing elsewhere does not override it. Without an
    account match, a payer phone (hashed or full) that belongs to exactly one member matches. A
    masked MSISDN cannot identify anyone; it can only confirm an account match.

    The capture worker calls this once per batch, so the queries do not grow with the batch: the
    members by account number (with their phones), then, only for payments no account matched,
    the owners of the payers' phones; then one insert. Members come back with their phones
    prefetched, for the SMS recipient.
    """
    accounts = [member_number_normalise(p.bill_ref_number) for p in payments]
    with_phones = Member.objects.prefetch_related("phones")
    by_number = with_phones.in_bulk({a for a in accounts if a}, field_name="number")
    payer_hashes = [_payer_phone_hash(p.msisdn) for p in payments]
    wanted = {h for h, a in zip(payer_hashes, accounts, strict=True) if h and a not in by_number}
    owners: dict[str, set[int]] = {}
    if wanted:
        for sha256, member_id in MemberPhone.objects.filter(sha256__in=wanted).values_list(
            "sha256", "member_id"
        ):
            owners.setdefault(sha256, set()).add(member_id)
    sole_owners = {next(iter(ids)) for ids in owners.values() if len(ids) == 1}
    by_id = with_phones.in_bulk(sole_owners)

    matches = [
        _match(payment, account, payer_hash, by_number.get(account), owners, by_id)
        for payment, account, payer_hash in zip(payments, accounts, payer_hashes, strict=True)
    ]
    return MemberMatch.objects.bulk_create(matches)


def _match(
    payment: Payment,
    account: str,
    payer_hash: str | None,
    member: Member | None,
    owners: dict[str, set[int]],
    by_id: dict[int, Member],
) -> MemberMatch:
    rule, note = Rule.NONE, ""
    if member is not None:
        rule = Rule.ACCOUNT
        phones = list(member.phones.all())  # prefetched
        if payer_hash and any(p.sha256 == payer_hash for p in phones):
            rule = Rule.ACCOUNT_AND_PHONE
        elif masked_parts(payment.msisdn) is not None:
            if any(masked_fits(payment.msisdn, p.number) for p in phones):
                rule = Rule.ACCOUNT_AND_MASKED
            elif phones:
                note = "The masked payer number fits none of the member's phones."
    elif payer_hash:
        candidates = owners.get(payer_hash, set())
        if len(candidates) == 1:
            member = by_id[next(iter(candidates))]
            rule = Rule.PHONE
            note = f"Account {payment.bill_ref_number!r} is no member number."
        elif len(candidates) > 1:
            note = "The payer's phone belongs to several members; match by hand."
    if member is None and not note:
        note = f"No member number {account!r}." if account else "No account number given."
    return MemberMatch(
        payment=payment, member=member, rule=rule, account_normalised=account, note=note
    )


# --- import ---------------------------------------------------------------------------------

STATUS_WORDS = {choice.value: choice.value for choice in Member.Status} | {
    "": Member.Status.ACTIVE,
    "inactive": Member.Status.DORMANT,
}
HEADER_ALIASES = {
    "member_number": "number",
    "member number": "number",
    "member_no": "number",
    "number": "number",
    "account": "number",
    "name": "name",
    "full_name": "name",
    "phone": "phones",
    "phones": "phones",
    "phone_numbers": "phones",
    "status": "status",
}
PHONE_SEPARATORS = (";", "|", "/")
BATCH = 2000


@dataclass(frozen=True)
class RejectedRow:
    line: int
    number: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


@dataclass(frozen=True)
class _Row:
    line: int
    number: str
    name: str
    status: str
    phones: tuple[str, ...]


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (missing columns, unreadable)."""


def _split_phones(raw: str) -> list[str]:
    for separator in PHONE_SEPARATORS:
        raw = raw.replace(separator, ",")
    return [p.strip() for p in raw.split(",") if p.strip()]


def _parse_row(line: int, row: dict[str, str]) -> _Row | RejectedRow:
    raw_number = (row.get("number") or "").strip()
    number = member_number_normalise(raw_number)
    if not number:
        return RejectedRow(line, raw_number, "member number is empty")
    if len(number) > MEMBER_NUMBER_MAX:
        return RejectedRow(line, raw_number, f"member number longer than {MEMBER_NUMBER_MAX}")
    name = " ".join((row.get("name") or "").split())
    if not name:
        return RejectedRow(line, number, "name is empty")
    if len(name) > 150:
        return RejectedRow(line, number, "name longer than 150 characters")
    status = STATUS_WORDS.get((row.get("status") or "").strip().lower())
    if status is None:
        allowed = ", ".join(Member.Status.values)
        return RejectedRow(line, number, f"status {row.get('status')!r} is not one of {allowed}")
    phones: list[str] = []
    for raw_phone in _split_phones(row.get("phones") or ""):
        phone = phone_normalise(raw_phone)
        if phone is None:
            return RejectedRow(
                line, number, f"phone {phone_mask(raw_phone)!r} is not a Kenyan mobile number"
            )
        if phone not in phones:
            phones.append(phone)
    return _Row(line, number, name, status, tuple(phones))


def _read_rows(stream: TextIO) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    columns = [HEADER_ALIASES.get(h.strip().lower().lstrip("\ufeff")) for h in header]
    missing = {"number", "name"} - set(columns)
    if missing:
        raise ImportFileError(
            "Missing column(s): "
            + ", ".join(sorted("member_number" if m == "number" else m for m in missing))
            + ". Expected a header like: member_number,name,phone,status"
        )
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield (
            reader.line_num,
            {column: value for column, value in zip(columns, values, strict=False) if column},
        )


def members_import(
    *,
    stream: TextIO,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Create or update members from CSV (``member_number,name,phone,status``), by member number.

    Phones in a row replace the member's phones (several separated by ``;``). A bad row is
    rejected with its line number and reason and the rest are imported; a member number repeated
    in the file is rejected after its first line. Runs in one transaction and in batches, so a
    50,000-row file takes seconds. ``progress(phase, rows_done, phase_total)`` is called as it
    goes (``phase_total`` 0 when unknown).
    """
    report = ImportReport()
    rows: dict[str, _Row] = {}
    for line, raw in _read_rows(stream):
        parsed = _parse_row(line, raw)
        if isinstance(parsed, RejectedRow):
            report.rejected.append(parsed)
        elif parsed.number in rows:
            first = rows[parsed.number].line
            report.rejected.append(
                RejectedRow(line, parsed.number, f"member number repeats line {first}")
            )
        else:
            rows[parsed.number] = parsed
        if progress:
            progress("Reading", 1, 0)

    with transaction.atomic():
        numbers = list(rows)
        for start in range(0, len(numbers), BATCH):
            batch = [rows[n] for n in numbers[start : start + BATCH]]
            _import_batch(batch, report)
            if progress:
                progress("Writing", len(batch), len(numbers))
        if dry_run:
            transaction.set_rollback(True)
    report.rejected.sort(key=lambda r: r.line)
    return report


def _import_batch(batch: list[_Row], report: ImportReport) -> None:
    existing = Member.objects.in_bulk([r.number for r in batch], field_name="number")
    phones_now: dict[int, list[str]] = {}
    for member_id, number in (
        MemberPhone.objects.filter(member_id__in=[m.pk for m in existing.values()])
        .order_by("member_id", "position", "id")
        .values_list("member_id", "number")
    ):
        phones_now.setdefault(member_id, []).append(number)

    now = timezone.now()
    to_create = [
        Member(number=r.number, name=r.name, status=r.status)
        for r in batch
        if r.number not in existing
    ]
    to_update: list[Member] = []
    phones_replace: dict[int, tuple[str, ...]] = {}
    for row in batch:
        member = existing.get(row.number)
        if member is None:
            continue
        changed = member.name != row.name or member.status != row.status
        if tuple(phones_now.get(member.pk, [])) != row.phones:
            phones_replace[member.pk] = row.phones
            changed = True
        if member.name != row.name or member.status != row.status:
            member.name, member.status, member.updated_at = row.name, row.status, now
            to_update.append(member)
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1

    created = Member.objects.bulk_create(to_create, batch_size=BATCH)
    report.created += len(created)
    if not all(m.pk for m in created):  # backends that do not return ids on bulk insert
        created = list(Member.objects.filter(number__in=[m.number for m in to_create]))
    if to_update:
        Member.objects.bulk_update(to_update, ["name", "status", "updated_at"], batch_size=BATCH)
    if phones_replace:
        MemberPhone.objects.filter(member_id__in=list(phones_replace)).delete()

    by_number = {r.number: r for r in batch}
    new_phones = [
        MemberPhone(member_id=m.pk, number=p, sha256=phone_hash(p), position=i)
        for m in created
        for i, p in enumerate(by_number[m.number].phones)
    ] + [
        MemberPhone(member_id=member_id, number=p, sha256=phone_hash(p), position=i)
        for member_id, phones in phones_replace.items()
        for i, p in enumerate(phones)
    ]
    MemberPhone.objects.bulk_create(new_phones, batch_size=BATCH)


def members_import_file(
    *, path: Path, dry_run: bool = False, progress: Callable[[str, int, int], None] | None = None
) -> ImportReport:
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            return members_import(stream=stream, dry_run=dry_run, progress=progress)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror}") from None
