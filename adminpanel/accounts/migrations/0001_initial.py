from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="StaffCapability",
            fields=[
                (
                    "id",
                    models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                )
            ],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_directory", "Search and view users and their authenticators (PII masked)"),
                    ("reveal_pii", "Reveal a user's full email or phone number (audited)"),
                    ("enroll_authenticator", "Enroll a verified authenticator for a user"),
                    ("remove_authenticator", "Remove an authenticator (lockout-guarded)"),
                    ("override_lockout", "Override the lockout guard with a reason and ticket"),
                    ("run_bulk_jobs", "Run bulk revocation jobs"),
                    ("view_audit", "Read, filter, export the audit log and verify its chain"),
                ],
            },
        ),
    ]
