"""Create the database cache table with the schema.

The Daraja OAuth token is shared by every process through the database cache (docs/decisions.md
#5). Creating its table in a migration means `migrate` is the only set-up step anyone needs.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("c2b", "0002_shortcode_require_active_member")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
