"""Staff actions on reconciliation findings."""

from __future__ import annotations

from django.utils import timezone

from reconciliation.models import ReconciliationItem


class ReviewRefused(ValueError):
    """The finding cannot be marked reviewed; the message says why."""


def item_review(*, item_id: int, note: str, user: str) -> ReconciliationItem:
    """Mark a finding reviewed with what was found (a note is required: it is the record of
    what someone checked)."""
    item = ReconciliationItem.objects.filter(pk=item_id).first()
    if item is None:
        raise ReviewRefused(f"There is no finding #{item_id}.")
    if not note.strip():
        raise ReviewRefused("Say what you found (a note) before marking it reviewed.")
    if item.reviewed_at is not None:
        raise ReviewRefused(f"{item.trans_id} was already reviewed by {item.reviewed_by}.")
    item.reviewed_at, item.reviewed_by = timezone.now(), user[:150]
    item.review_note = note.strip()[:2000]
    item.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    return item
