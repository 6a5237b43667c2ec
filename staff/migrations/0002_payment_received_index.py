"""The dashboard's pulse: each shortcode's most recently *received* payment (PostgreSQL only).

"Last payment" is when we stored it (``created_at``), not the time the payer's side claims: a
claimed time in the future would otherwise pin the pulse. Built CONCURRENTLY, like 0001.
"""

from django.db import migrations

NAME = "staff_payment_code_created"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} "
                "ON c2b_payment (shortcode_id, created_at DESC)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("staff", "0001_payment_read_indexes"), ("c2b", "0006_longer_texts")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
