"""Changes to staff accounts and roles are chained audit events, whoever makes them and however."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from adminpanel.accounts.roles import SECURITY, SUPPORT
from adminpanel.audit.chain import verify_chain
from adminpanel.audit.models import AuditEvent
from tests.helpers import sign_in_password, step_up_with_totp

pytestmark = pytest.mark.django_db


def staff_events(*actions: str) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(action__startswith="staff.") | AuditEvent.objects.filter(action="role.permissions")
    qs = qs.exclude(action__in=["staff.login", "staff.logout"])
    if actions:
        qs = qs.filter(action__in=actions)
    return list(qs.order_by("seq"))


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root.admin", password="correct horse battery staple")


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    step_up_with_totp(client, superuser)  # changing staff accounts in the admin asks for a fresh second factor
    return client


def test_a_superuser_putting_a_staff_member_into_security_through_the_admin_is_recorded(admin_client, superuser):
    target = User.objects.create_user("rolf.noroles", password="correct horse battery staple")
    security = Group.objects.get(name=SECURITY)
    url = reverse("admin:auth_user_change", args=[target.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = {
        "username": "rolf.noroles",
        "is_active": "on",
        "groups": [str(security.pk)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-12-01",
        "date_joined_1": "10:00:00",
        "initial-date_joined_0": "2026-12-01",
        "initial-date_joined_1": "10:00:00",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    (event,) = staff_events("staff.roles")
    assert event.outcome == "succeeded"
    assert event.actor_username == "root.admin" and event.actor_id == superuser.pk
    assert event.actor_ip == "127.0.0.1" and event.request_id  # request-bound
    assert event.details["staff"] == {"id": target.pk, "username": "rolf.noroles"}
    assert event.details["before"] == [] and event.details["after"] == [SECURITY]
    assert event.details["added"] == [SECURITY]
    assert verify_chain().ok


def test_deleting_a_staff_account_through_the_admin_is_recorded_with_what_it_held(admin_client):
    target = User.objects.create_user("gone.soon", password="correct horse battery staple", is_staff=True)
    target.groups.add(Group.objects.get(name=SUPPORT))
    response = admin_client.post(reverse("admin:auth_user_delete", args=[target.pk]), {"post": "yes"})
    assert response.status_code == 302
    (event,) = staff_events("staff.deleted")
    assert event.actor_username == "root.admin"
    assert event.details["before"] == {
        "username": "gone.soon",
        "is_active": True,
        "is_staff": True,
        "is_superuser": False,
        "roles": [SUPPORT],
    }


def test_creating_an_account_from_the_shell_is_recorded_as_the_system():
    user = User.objects.create_user("new.hire", password="correct horse battery staple")
    (created,) = staff_events("staff.created")
    assert created.actor_id is None and created.actor_username == "system"
    assert created.details == {
        "staff": {"id": user.pk, "username": "new.hire"},
        "after": {"username": "new.hire", "is_active": True, "is_staff": False, "is_superuser": False},
        "usable_password": True,
    }


def test_a_management_command_creating_a_superuser_is_recorded(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")
    call_command("createsuperuser", "--noinput", "--username", "ops.root", "--email", "ops@example.com")
    (created,) = staff_events("staff.created")
    assert created.actor_username == "system"
    assert created.details["after"]["is_superuser"] is True and created.details["after"]["is_staff"] is True


def test_activation_privileges_rename_and_password_each_have_their_event_without_secrets():
    user = User.objects.create_user("flip.flop", password="correct horse battery staple")
    user.is_active = False
    user.save()
    user.is_active = True
    user.is_superuser = True
    user.save()
    user.username = "flip.flopped"
    user.save()
    user.set_password("another long passphrase here")
    user.save()
    user.set_unusable_password()
    user.save()
    actions = [e.action for e in staff_events()][1:]  # after staff.created
    assert actions == [
        "staff.deactivated",
        "staff.activated",
        "staff.privileges",
        "staff.renamed",
        "staff.password",
        "staff.password",
    ]
    deactivated, activated, privileges, renamed, *passwords = staff_events()[1:]
    assert deactivated.details["after"] == {"is_active": False} and activated.details["after"] == {"is_active": True}
    assert privileges.details["before"] == {"is_superuser": False}
    assert privileges.details["after"] == {"is_superuser": True}
    assert renamed.details["after"] == {"username": "flip.flopped"}
    assert passwords[0].details["after"] == {"usable_password": True}
    assert passwords[1].details["after"] == {"usable_password": False}
    stored = str([e.details for e in staff_events()])
    assert "passphrase" not in stored and "md5$" not in stored and user.password not in stored


def test_a_sign_in_does_not_record_a_change_to_the_account(support_user):
    before = len(staff_events())
    assert sign_in_password(Client(), "sam.support").status_code == 302
    assert AuditEvent.objects.filter(action="staff.login", outcome="succeeded").exists()
    assert len(staff_events()) == before


def test_roles_changed_from_either_side_of_the_relation_are_recorded():
    user = User.objects.create_user("both.sides", password="correct horse battery staple")
    support, security = Group.objects.get(name=SUPPORT), Group.objects.get(name=SECURITY)
    user.groups.add(support)
    security.user_set.add(user)  # the reverse side
    support.user_set.remove(user)
    user.groups.clear()
    roles = staff_events("staff.roles")
    assert [(e.details["before"], e.details["after"]) for e in roles] == [
        ([], [SUPPORT]),
        ([SUPPORT], [SECURITY, SUPPORT]),
        ([SECURITY, SUPPORT], [SECURITY]),
        ([SECURITY], []),
    ]
    assert all(e.details["staff"]["username"] == "both.sides" for e in roles)


def test_direct_permissions_and_a_roles_own_permissions_are_recorded():
    user = User.objects.create_user("direct.perm", password="correct horse battery staple")
    override = Permission.objects.get(content_type__app_label="accounts", codename="override_lockout")
    user.user_permissions.add(override)
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(override)  # every Support member may now override the lockout guard
    (direct,) = staff_events("staff.permissions")
    assert direct.details["added"] == ["accounts.override_lockout"]
    (role,) = staff_events("role.permissions")
    assert role.details["role"]["name"] == SUPPORT
    assert role.details["added"] == ["accounts.override_lockout"]
    assert "accounts.view_directory" in role.details["before"]
