"""Indexes for the staff pages' reads on c2b_payment (PostgreSQL only).

The capture app owns the table; these serve only the staff list, search and totals, so they
live with the staff app. Built CONCURRENTLY (non-atomic migration) so callbacks keep being
written while an index builds on a big table. SQLite (the demo) gets none: it is small.
"""

from django.db import migrations

INDEXES = [
    # Newest-first keyset pages; date-range totals, also per shortcode, answered from the index
    # alone (index-only scans, thanks to INCLUDE).
    (
        "staff_payment_time_id",
        "ON c2b_payment (trans_time DESC, trans_id DESC) INCLUDE (amount, business_short_code)",
    ),
    (
        "staff_payment_code_time_id",
        "ON c2b_payment (business_short_code, trans_time DESC, trans_id DESC) INCLUDE (amount)",
    ),
    # Account search is a case-insensitive prefix match: UPPER(...) LIKE 'NS 001%'.
    ("staff_payment_billref_upper", "ON c2b_payment (UPPER(bill_ref_number) text_pattern_ops)"),
    ("staff_payment_msisdn", "ON c2b_payment (msisdn)"),
]
TRIGRAM_INDEXES = [
    (f"staff_payment_{column}_trgm", f"ON c2b_payment USING gin (UPPER({column}) gin_trgm_ops)")
    for column in ("first_name", "middle_name", "last_name")
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, definition in INDEXES:
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - name search then scans; everything else still works
            return
        for name, definition in TRIGRAM_INDEXES:
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _ in INDEXES + TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("c2b", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
