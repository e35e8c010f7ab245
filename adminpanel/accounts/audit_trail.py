"""Staff-account changes as chained audit events, hooked at the model layer (admin, shell, commands, migrations).

Django's admin keeps its own, editable `LogEntry`; that is not evidence. Here every change to who may do what is
appended to the audit chain with its before and after: an account created or deleted, (de)activated, given or
stripped of `is_staff`/`is_superuser`, renamed, its password set, its roles (groups) or direct permissions
changed, and a role's own permissions changed. The actor is the signed-in staff member of the current request,
or "system" when there is none (a management command, a shell, a migration).

Signals carry the sender's *label*, not its class, so the historical models a data migration uses are recorded
too. `QuerySet.update()` sends no signals and is not seen here; the admin and `User.save()` always are.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from adminpanel.audit.models import Action, AuditEvent, Outcome
from adminpanel.audit.services import record
from adminpanel.core.middleware import current_request

USER = "auth.user"
USER_GROUPS = "auth.user_groups"
USER_PERMISSIONS = "auth.user_user_permissions"
GROUP_PERMISSIONS = "auth.group_permissions"
_FLAGS = ("is_active", "is_staff", "is_superuser")
_BEFORE = "_audit_trail_before"
_M2M_BEFORE = "_audit_trail_m2m_before"


def connect() -> None:
    """Called from AccountsConfig.ready(): no sender filter, so historical (migration) models are seen too."""
    pre_save.connect(_before_save, dispatch_uid="audit_trail_pre_save")
    post_save.connect(_after_save, dispatch_uid="audit_trail_post_save")
    pre_delete.connect(_before_delete, dispatch_uid="audit_trail_pre_delete")
    post_delete.connect(_after_delete, dispatch_uid="audit_trail_post_delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="audit_trail_m2m_changed")


def _label(model: Any) -> str:
    return model._meta.label_lower


def _staff(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username() if hasattr(user, "get_username") else user.username}


def _record(action: str, user: Any, details: dict[str, Any]) -> None:
    _append(action, {"staff": _staff(user), **details})


def _append(action: str, details: dict[str, Any]) -> None:
    if not _audit_log_exists():
        return  # the very first migrate: the chain does not exist yet, so there is nothing to append to
    request = current_request()
    actor = getattr(request, "user", None) if request is not None else None
    record(
        action,
        Outcome.SUCCEEDED,
        request=request,
        actor=actor if actor is not None and actor.is_authenticated else None,
        details=details,
    )


@cache
def _audit_log_exists_cached() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        return AuditEvent._meta.db_table in connection.introspection.table_names(cursor)


def _audit_log_exists() -> bool:
    if _audit_log_exists_cached():
        return True
    _audit_log_exists_cached.cache_clear()  # not yet: ask again next time (a migration may be creating it)
    return False


# --- the account itself -------------------------------------------------------------------------------------


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in ("username", *_FLAGS) if k in values}


def _before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if _label(sender) != USER or instance.pk is None or raw:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # every sign-in touches last_login; that is recorded as staff.login already
    before = sender._default_manager.filter(pk=instance.pk).values("username", "password", *_FLAGS).first()
    setattr(instance, _BEFORE, before)


def _after_save(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if _label(sender) != USER or raw:
        return
    after = {"username": instance.username, **{flag: getattr(instance, flag) for flag in _FLAGS}}
    if created:
        _record(
            Action.STAFF_CREATED,
            instance,
            {"after": after, "usable_password": _usable(instance.password)},
        )
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if not before:
        return
    if before["is_active"] != instance.is_active:
        action = Action.STAFF_ACTIVATED if instance.is_active else Action.STAFF_DEACTIVATED
        _record(
            action, instance, {"before": {"is_active": before["is_active"]}, "after": {"is_active": instance.is_active}}
        )
    privileges = [flag for flag in ("is_staff", "is_superuser") if before[flag] != getattr(instance, flag)]
    if privileges:
        _record(
            Action.STAFF_PRIVILEGES,
            instance,
            {
                "before": {flag: before[flag] for flag in privileges},
                "after": {flag: getattr(instance, flag) for flag in privileges},
            },
        )
    if before["username"] != instance.username:
        _record(
            Action.STAFF_RENAMED,
            instance,
            {"before": {"username": before["username"]}, "after": {"username": instance.username}},
        )
    if before["password"] != instance.password:
        # Never the hash: only whether the account can now sign in with a password at all.
        _record(
            Action.STAFF_PASSWORD,
            instance,
            {
                "before": {"usable_password": _usable(before["password"])},
                "after": {"usable_password": _usable(instance.password)},
            },
        )


def _usable(encoded: str | None) -> bool:
    from django.contrib.auth.hashers import is_password_usable

    return is_password_usable(encoded)


def _before_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _label(sender) == USER:
        # The group rows go with the account (a cascade sends no m2m_changed): remember them for the record.
        setattr(instance, _BEFORE, {"roles": sorted(instance.groups.values_list("name", flat=True))})


def _after_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _label(sender) != USER:
        return
    kept = instance.__dict__.pop(_BEFORE, {})
    before = {"username": instance.username, **{flag: getattr(instance, flag) for flag in _FLAGS}, **kept}
    _record(Action.STAFF_DELETED, instance, {"before": before})


# --- roles and permissions (many-to-many) -------------------------------------------------------------------


def _m2m_changed(sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kw: Any) -> None:
    label = _label(sender)
    if label not in (USER_GROUPS, USER_PERMISSIONS, GROUP_PERMISSIONS):
        return
    phase, _, change = action.partition("_")
    if phase == "pre":
        owners = _owners(label, instance, reverse, model, pk_set, change)
        setattr(instance, _M2M_BEFORE, {owner.pk: (owner, _members(label, owner)) for owner in owners})
        return
    remembered: dict[Any, tuple[Any, list[str]]] = instance.__dict__.pop(_M2M_BEFORE, {})
    if change != "clear":  # the owners named now may include ones not remembered (a reverse add of new users)
        for owner in _owners(label, instance, reverse, model, pk_set, change):
            remembered.setdefault(owner.pk, (owner, []))
    for owner, before in remembered.values():
        after = _members(label, owner)
        if after == before:
            continue
        details: dict[str, Any] = {
            "before": before,
            "after": after,
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
        }
        if label == GROUP_PERMISSIONS:
            _record_role(owner, details)
        else:
            _record(Action.STAFF_ROLES if label == USER_GROUPS else Action.STAFF_PERMISSIONS, owner, details)


def _owners(label: str, instance: Any, reverse: bool, model: Any, pk_set: Any, change: str) -> list[Any]:
    """The users (or, for a role's permissions, the groups) whose membership this change touches."""
    if not reverse:
        return [instance]
    # Reverse side: `group.user_set.add(...)`, `permission.group_set.remove(...)`: the owners are in pk_set.
    if change == "clear":
        related = {USER_GROUPS: "user_set", USER_PERMISSIONS: "user_set", GROUP_PERMISSIONS: "group_set"}[label]
        return list(getattr(instance, related).all())
    return list(model._default_manager.filter(pk__in=pk_set or ()))


def _members(label: str, owner: Any) -> list[str]:
    if label == USER_GROUPS:
        return sorted(owner.groups.values_list("name", flat=True))
    queryset = owner.user_permissions if label == USER_PERMISSIONS else owner.permissions
    return sorted(f"{app}.{codename}" for app, codename in queryset.values_list("content_type__app_label", "codename"))


def _record_role(group: Any, details: dict[str, Any]) -> None:
    _append(Action.ROLE_PERMISSIONS, {"role": {"id": group.pk, "name": group.name}, **details})
