"""The audit table refuses changes: the database (triggers), the model and its manager."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from adminpanel.audit.models import AppendOnlyError, AuditEvent
from adminpanel.audit.services import SUCCEEDED, record
from tests.helpers import raw

pytestmark = pytest.mark.django_db

T = "audit_auditevent"


@pytest.fixture
def event() -> AuditEvent:
    record("user.view", SUCCEEDED, user_id="u1", reason="first")
    return record("user.view", SUCCEEDED, user_id="u2", reason="second")


def test_the_database_refuses_a_raw_update(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"UPDATE {T} SET reason = 'changed' WHERE seq = %s", [event.seq])
    assert AuditEvent.objects.get(seq=event.seq).reason == "second"


def test_the_database_refuses_a_raw_delete(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"DELETE FROM {T}")
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_the_database_refuses_truncate(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {T}")
    assert AuditEvent.objects.count() == 2


def test_saving_an_existing_event_is_refused(event):
    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    fetched = AuditEvent.objects.get(pk=event.pk)
    fetched.reason = "changed"
    with pytest.raises(AppendOnlyError):
        fetched.save()


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])


def test_events_can_only_be_written_through_record():
    with pytest.raises(AppendOnlyError, match="record"):
        AuditEvent.objects.create(action="user.view", outcome=SUCCEEDED)


def test_deleting_a_staff_account_leaves_its_events_alone(support_user):
    event = record("user.view", SUCCEEDED, actor=support_user)
    support_user.delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor_username == "sam.support" and kept.actor_id == event.actor_id
