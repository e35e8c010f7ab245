"""Creates the database cache table: sign-in rate limits and used TOTP codes are shared by every worker through it.

Runs `createcachetable` for the caches configured at migrate time (nothing to do with REDIS_URL). Switching from
Redis back to the database later needs `manage.py createcachetable` once.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
