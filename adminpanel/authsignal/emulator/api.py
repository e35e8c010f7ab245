"""The tenant-facing `/v1` routes (users, authenticators, actions) as docs/authsignal-api.md describes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .authenticators import EMAIL_METHODS, PHONE_METHODS, new_item, validate_enrollment
from .store import EmulatorStore, StoredUser
from .wire import (
    ApiError,
    Response,
    format_timestamp,
    invalid_request,
    not_found,
    parse_timestamp,
    query_params,
    read_json_body,
)

# Fields PATCH/POST /users/{id} stores, and GET /users/{id} answers (when set).
PROFILE_FIELDS = (
    "email",
    "emailVerified",
    "phoneNumber",
    "phoneNumberVerified",
    "username",
    "displayName",
    "custom",
    "locale",
    "defaultVerificationMethod",
)
# The subset a GET /users query answers for each user.
QUERY_FIELDS = ("email", "emailVerified", "phoneNumber", "phoneNumberVerified", "username", "displayName")
QUERY_FILTERS = ("email", "phoneNumber", "username", "token")
DEFAULT_LIMIT, MAX_LIMIT = 10, 100
ACTIONS_WINDOW = timedelta(days=30)

Handler = Callable[..., Response]


class TenantApi:
    def __init__(self, store: EmulatorStore, *, now: Callable[[], datetime], new_id: Callable[[], str]):
        self.store = store
        self._now = now
        self._new_id = new_id

    def dispatch(self, method: str, segments: list[str], environ: dict[str, Any]) -> Response:
        """Route `segments` (the path after /v1, already decoded one by one) to a handler."""
        handlers: dict[str, Handler]
        args: tuple[str, ...]
        match segments:
            case ["users"]:
                handlers, args = {"GET": self.query_users}, ()
            case ["users", str(user_id)] if user_id:
                handlers = {
                    "GET": self.get_user,
                    "PATCH": self.update_user,
                    "POST": self.update_user,  # two official SDKs send POST
                    "DELETE": self.delete_user,
                }
                args = (user_id,)
            case ["users", str(user_id), "authenticators"] if user_id:
                handlers, args = {"GET": self.list_authenticators, "POST": self.enroll}, (user_id,)
            case ["users", str(user_id), "authenticators", str(authenticator_id)] if user_id and authenticator_id:
                handlers, args = {"DELETE": self.delete_authenticator}, (user_id, authenticator_id)
            case ["users", str(user_id), "actions"] if user_id:
                handlers, args = {"GET": self.list_actions}, (user_id,)
            case _:
                raise not_found("No such route.")
        handler = handlers.get(method)
        if handler is None:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method} is not allowed here; use {', '.join(handlers)}.",
                headers=[("Allow", ", ".join(handlers))],
            )
        return handler(environ, *args)

    def _timestamp(self) -> str:
        return format_timestamp(self._now())

    # --- users ---

    def get_user(self, environ: dict[str, Any], user_id: str) -> Response:
        user = self.store.get_user(user_id)
        if user is None:
            # Unknown or deleted users are not a 404.
            return Response(200, {"isEnrolled": False})
        methods = self.store.enrolled_methods([user_id])[user_id]
        body: dict[str, Any] = {"isEnrolled": bool(methods), **_present(user.profile, PROFILE_FIELDS)}
        if methods:
            body["enrolledVerificationMethods"] = methods
        return Response(200, body)

    def update_user(self, environ: dict[str, Any], user_id: str) -> Response:
        body = read_json_body(environ)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object.")
        with self.store.atomic():
            user = self.store.get_user(user_id) or StoredUser(user_id, self._timestamp(), {})
            profile = dict(user.profile)
            for key in PROFILE_FIELDS:
                if key not in body:
                    continue  # omitted fields stay
                if body[key] is None:
                    profile.pop(key, None)
                else:
                    profile[key] = body[key]  # stored as given: no format checks on update
            self.store.save_user(StoredUser(user_id, user.created_at, profile))
        return Response(200, {"userId": user_id, **_present(profile, PROFILE_FIELDS)})

    def delete_user(self, environ: dict[str, Any], user_id: str) -> Response:
        with_actions = query_params(environ).get("actions", "").lower() == "true"
        self.store.delete_user(user_id, with_actions=with_actions)
        return Response(200, {"success": True})

    def query_users(self, environ: dict[str, Any]) -> Response:
        params = query_params(environ)
        filters = {key: params.get(key) or None for key in QUERY_FILTERS}
        if not any(filters.values()):
            raise invalid_request("At least one of email, phoneNumber, username or token is required.")
        limit = _limit(params.get("limit"))
        if filters["token"]:
            found: list[StoredUser] = []  # the emulator issues no tokens, so none can match
        else:
            found = self.store.find_users(
                email=filters["email"],
                phone_number=filters["phoneNumber"],
                username=filters["username"],
                after=params.get("lastEvaluatedUserId") or None,
                limit=limit + 1,  # one more than asked tells whether another page exists
            )
        page = found[:limit]
        methods = self.store.enrolled_methods(user.user_id for user in page)
        users = []
        for user in page:
            item: dict[str, Any] = {"userId": user.user_id, **_present(user.profile, QUERY_FIELDS)}
            item["isEnrolled"] = bool(methods[user.user_id])
            if methods[user.user_id]:
                item["enrolledVerificationMethods"] = methods[user.user_id]
            item["createdAt"] = user.created_at
            users.append(item)
        body: dict[str, Any] = {"users": users}
        if len(found) > limit:
            body["lastEvaluatedUserId"] = page[-1].user_id  # absent on the last page
        return Response(200, body)

    # --- authenticators ---

    def list_authenticators(self, environ: dict[str, Any], user_id: str) -> Response:
        return Response(200, self.store.authenticators(user_id))  # a bare array, [] when none

    def enroll(self, environ: dict[str, Any], user_id: str) -> Response:
        enrollment = validate_enrollment(read_json_body(environ))
        with self.store.atomic():
            existing = self.store.find_authenticator(user_id, method=enrollment.method, contact=enrollment.contact)
            if existing is not None:
                return Response(200, {"authenticator": existing})  # idempotent: nothing duplicated
            now = self._timestamp()
            user = self.store.get_user(user_id) or StoredUser(user_id, now, {})
            item = new_item(
                enrollment,
                user_id=user_id,
                authenticator_id=self._new_id(),
                created_at=now,
                device_id=self._new_id(),
            )
            self.store.save_authenticator(item, enrollment.contact)
            profile = dict(user.profile)
            # The caller vouches the contact is verified; a user with no contact of that kind takes it on.
            if enrollment.method in EMAIL_METHODS and not profile.get("email"):
                profile.update(email=item["email"], emailVerified=True)
            if enrollment.method in PHONE_METHODS and not profile.get("phoneNumber"):
                profile.update(phoneNumber=item["phoneNumber"], phoneNumberVerified=True)
            if enrollment.is_default or not profile.get("defaultVerificationMethod"):
                profile["defaultVerificationMethod"] = enrollment.method
            self.store.save_user(StoredUser(user_id, user.created_at, profile))
        return Response(200, {"authenticator": item})

    def delete_authenticator(self, environ: dict[str, Any], user_id: str, authenticator_id: str) -> Response:
        with self.store.atomic():
            item = self.store.find_authenticator(user_id, authenticator_id=authenticator_id)
            if item is None:
                raise not_found("No authenticator with this id for this user.")
            self.store.delete_authenticator(user_id, authenticator_id)
            user = self.store.get_user(user_id)
            method = item["verificationMethod"]
            if (
                user is not None
                and user.profile.get("defaultVerificationMethod") == method
                and method not in self.store.enrolled_methods([user_id])[user_id]
            ):
                profile = {k: v for k, v in user.profile.items() if k != "defaultVerificationMethod"}
                self.store.save_user(StoredUser(user_id, user.created_at, profile))
        return Response(200, {"success": True})

    # --- actions ---

    def list_actions(self, environ: dict[str, Any], user_id: str) -> Response:
        params = query_params(environ)
        since = self._now() - ACTIONS_WINDOW  # at most the last 30 days, whatever fromDate asks
        if params.get("fromDate"):
            try:
                since = max(since, parse_timestamp(params["fromDate"]))
            except ValueError:
                raise invalid_request("fromDate must be an ISO 8601 date or date-time.") from None
        codes = [code.strip() for code in params.get("codes", "").split(",") if code.strip()] or None
        return Response(200, self.store.actions(user_id, since=format_timestamp(since), codes=codes))


def _present(profile: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: profile[key] for key in keys if profile.get(key) is not None}


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise invalid_request("limit must be a whole number.") from None
    if value < 1:
        raise invalid_request("limit must be at least 1.")
    return min(value, MAX_LIMIT)
