"""Background tasks of the audit app (django.tasks; run by `manage.py db_worker`). Bodies live in background.py."""

from __future__ import annotations

from django.tasks import task

from adminpanel.audit import background


@task
def verify_chain(request_id: str) -> None:
    background.run_verification_request(request_id)


@task
def write_export(export_id: str) -> None:
    background.write_export(export_id)
