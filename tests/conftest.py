"""Shared fixtures: staff accounts per role and their signed-in clients, a fresh in-memory emulator per test."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from adminpanel.accounts.roles import AUDITOR, SECURITY, SUPPORT, sync_roles


def make_staff(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    if role:
        if not Group.objects.filter(name=role).exists():  # a transactional test's flush removed them
            sync_roles()
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def support_user(db) -> User:
    return make_staff("sam.support", SUPPORT)


@pytest.fixture
def security_user(db) -> User:
    return make_staff("sec.security", SECURITY)


@pytest.fixture
def auditor_user(db) -> User:
    return make_staff("ada.auditor", AUDITOR)


@pytest.fixture
def no_role_user(db) -> User:
    return make_staff("nora.norole", None)


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support_client(support_user) -> Client:
    return _signed_in(support_user)


@pytest.fixture
def security_client(security_user) -> Client:
    return _signed_in(security_user)


@pytest.fixture
def auditor_client(auditor_user) -> Client:
    return _signed_in(auditor_user)


@pytest.fixture(autouse=True)
def fresh_emulator():
    """Each test starts with an empty in-memory emulator and a fresh client."""
    from adminpanel.authsignal import connection

    connection.reset_client()
    yield connection.get_emulator()
    connection.reset_client()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Sign-in rate limits and used TOTP codes live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def audit_log_flushable(transactional_db):
    """For transaction=True tests that append audit events: empty the append-only log before the flush."""
    yield
    from tests.helpers import purge_audit_log

    purge_audit_log()
