"""The Authsignal Server API client: one pooled httpx.Client, typed results, careful retries."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from adminpanel.authsignal.errors import (
    AuthsignalError,
    NotFound,
    RateLimited,
    Unavailable,
    error_for_status,
    seconds_text,
    unexpected_shape,
)
from adminpanel.authsignal.types import (
    Authenticator,
    DeleteResult,
    EnrollResult,
    User,
    UserAction,
    UserPage,
    VerificationMethod,
)

__all__ = ["USER_AGENT", "AuthsignalClient", "encode_segment"]

logger = logging.getLogger(__name__)

USER_AGENT = f"authenticator-admin/0.1 (internal support dashboard) python-httpx/{httpx.__version__}"
READINESS_PROBE_USER_ID = "__readiness_probe__"

_MAX_BODY_BYTES = 5 * 1024 * 1024  # far above any real answer; stops a runaway body filling memory
_FIRST_BACKOFF = 0.25  # seconds before the first retry; doubles each time, capped at retry_max_wait

# These fail before any byte of the request can have reached Authsignal, so nothing was applied.
_FAILED_BEFORE_SENDING = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

# update_user(**fields): our snake_case name -> the API's camelCase name.
_USER_FIELDS = {
    "email": "email",
    "email_verified": "emailVerified",
    "phone_number": "phoneNumber",
    "phone_number_verified": "phoneNumberVerified",
    "username": "username",
    "display_name": "displayName",
    "custom": "custom",
    "locale": "locale",
    "default_verification_method": "defaultVerificationMethod",
}

# What enroll_verified_authenticator needs per method (docs/authsignal-api.md); checked before anything is sent.
_ENROLL_REQUIRES: dict[str, tuple[str, ...]] = {
    VerificationMethod.EMAIL_OTP: ("email",),
    VerificationMethod.EMAIL_MAGIC_LINK: ("email",),
    VerificationMethod.SMS: ("phone_number",),
    VerificationMethod.WHATSAPP: ("phone_number",),
    VerificationMethod.AUTHENTICATOR_APP: ("otp_uri",),
    VerificationMethod.PASSKEY: ("credential_id", "credential_public_key"),
}


def encode_segment(segment: str) -> str:
    """Percent-encode one path segment with nothing left safe, so an id can never become two segments.

    quote() leaves "." unencoded (it is unreserved), and httpx, like any URL resolver, collapses "." and ".."
    segments into their parent, so `..` as a user id would address the wrong resource. Those two are sent
    as %2E / %2E%2E, which httpx keeps and the server decodes back to the literal id.
    """
    if not isinstance(segment, str):
        raise TypeError(f"an Authsignal id must be a string, not {type(segment).__name__}")
    if not segment:
        raise ValueError("an Authsignal id must not be empty")
    encoded = quote(segment, safe="")
    if encoded in {".", ".."}:
        encoded = encoded.replace(".", "%2E")
    return encoded


def _path(*segments: str) -> str:
    return "/" + "/".join(encode_segment(s) for s in segments)


@dataclass(frozen=True, slots=True)
class _Answer:
    """A 2xx answer: its body, on which attempt it came, and whether the request was a write."""

    body: bytes
    attempt: int
    is_write: bool

    def parse[T](self, build: Callable[[Any], T]) -> T:
        """The body as JSON, passed to `build`; unreadable JSON or a wrong shape is `Unavailable`."""
        try:
            try:
                data = json.loads(self.body)
            except (ValueError, RecursionError):
                raise Unavailable("Authsignal answered with something that is not JSON.") from None
            return build(data)
        except Unavailable as exc:
            # A write answered 2xx, so it was most likely applied, but we cannot say what it did.
            raise _sent_but_failed(exc.message, is_write=self.is_write, attempt=self.attempt) from None


class AuthsignalClient:
    """Calls the Authsignal Server API; safe to share between threads (httpx.Client pools connections).

    GET and DELETE are retried on `Unavailable` and `RateLimited`; POST and PATCH are sent exactly once.
    """

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 3,
        read_timeout: float = 10,
        retry_attempts: int = 3,
        retry_max_wait: float = 10,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if retry_attempts < 1:
            raise ValueError("retry_attempts counts the first try too, so it must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        # httpx's read timeout is per socket read, so a server dripping a byte every few seconds would never
        # trip it; this bounds one whole attempt, body included.
        self._attempt_budget = connect_timeout + read_timeout
        self._retry_attempts = retry_attempts
        self._retry_max_wait = retry_max_wait
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"<AuthsignalClient {self.base_url}>"  # never the secret key

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- Operations (one function per documented endpoint) ---

    def get_user(self, user_id: str) -> User:
        """The user's profile; an unknown user is `is_enrolled=False`, not an error.

        https://docs.authsignal.com/api-reference/server-api/get-user
        """
        answer = self._request("GET", _path("users", user_id), what="user")
        return answer.parse(lambda data: User.from_api(data, user_id=user_id))

    def query_users(
        self,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        username: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> UserPage:
        """Users whose email, phone number or username match exactly; pass `next_cursor` back for more.

        https://docs.authsignal.com/api-reference/server-api/query-users
        """
        if not (email or phone_number or username):
            raise ValueError("query_users needs an email, a phone number or a username")
        params = {
            "email": email,
            "phoneNumber": phone_number,
            "username": username,
            "limit": str(limit) if limit is not None else None,
            "lastEvaluatedUserId": cursor,
        }
        return self._request("GET", "/users", params=params, what="user").parse(UserPage.from_api)

    def update_user(self, user_id: str, **fields: Any) -> User:
        """Set the given fields (snake_case kwargs, e.g. phone_number=...); the others stay as they are.

        Creates the user if missing. A field passed as None is sent as JSON null. Never retried: a write.
        https://docs.authsignal.com/api-reference/server-api/update-user
        """
        unknown = sorted(set(fields) - set(_USER_FIELDS))
        if unknown:
            raise TypeError(f"update_user() got unknown fields: {', '.join(unknown)}")
        body = {_USER_FIELDS[name]: value for name, value in fields.items()}
        answer = self._request("PATCH", _path("users", user_id), body=body, what="user")
        return answer.parse(lambda data: User.from_api(data, user_id=user_id))

    def delete_user(self, user_id: str) -> None:
        """Delete the user and all their authenticators; a user that is already gone counts as deleted.

        https://docs.authsignal.com/api-reference/server-api/delete-user
        """
        with contextlib.suppress(NotFound):  # the outcome the caller wanted already holds
            self._request("DELETE", _path("users", user_id), what="user")

    def get_authenticators(self, user_id: str) -> list[Authenticator]:
        """The user's enrolled authenticators (`[]` when none, or for an unknown user).

        https://docs.authsignal.com/api-reference/server-api/get-authenticators
        """
        answer = self._request("GET", _path("users", user_id, "authenticators"), what="user")
        return answer.parse(lambda data: [Authenticator.from_api(item) for item in _as_list(data, "authenticators")])

    def enroll_verified_authenticator(
        self,
        user_id: str,
        *,
        verification_method: str,
        email: str | None = None,
        phone_number: str | None = None,
        otp_uri: str | None = None,
        credential_id: str | None = None,
        credential_public_key: str | None = None,
        name: str | None = None,
        is_default: bool | None = None,
    ) -> EnrollResult:
        """Enroll an authenticator whose contact the caller has already verified; Authsignal sends nothing.

        Sent exactly once: if the answer is lost, `Unavailable.outcome_unknown` is True and the caller
        must look at the user's authenticators before trying again.
        https://docs.authsignal.com/api-reference/server-api/enroll-verified-authenticator
        """
        given = {
            "email": email,
            "phone_number": phone_number,
            "otp_uri": otp_uri,
            "credential_id": credential_id,
            "credential_public_key": credential_public_key,
        }
        missing = [field for field in _ENROLL_REQUIRES.get(verification_method, ()) if not given[field]]
        if missing:
            raise ValueError(f"enrolling {verification_method} needs {', '.join(missing)}")
        body = {
            "verificationMethod": str(verification_method),
            "email": email,
            "phoneNumber": phone_number,
            "otpUri": otp_uri,
            "credentialId": credential_id,
            "credentialPublicKey": credential_public_key,
            "name": name,
            "isDefault": is_default,
        }
        body = {key: value for key, value in body.items() if value is not None}
        answer = self._request("POST", _path("users", user_id, "authenticators"), body=body, what="user")
        return answer.parse(EnrollResult.from_api)

    def delete_authenticator(self, user_id: str, authenticator_id: str) -> DeleteResult:
        """Remove one authenticator. A 404 is not an error: `already_gone=True` (`after_retry` says whether
        an earlier attempt of ours may have been what removed it).

        https://docs.authsignal.com/api-reference/server-api/delete-authenticator
        """
        path = _path("users", user_id, "authenticators", authenticator_id)
        try:
            answer = self._request("DELETE", path, what="authenticator")
        except NotFound as exc:
            return DeleteResult(already_gone=True, after_retry=exc.attempts > 1)
        return DeleteResult(already_gone=False, after_retry=answer.attempt > 1)

    def get_user_actions(
        self,
        user_id: str,
        *,
        codes: Iterable[str] | None = None,
        from_date: datetime | str | None = None,
    ) -> list[UserAction]:
        """The user's recent actions (Authsignal keeps the last 30 days), optionally only some action codes.

        https://docs.authsignal.com/api-reference/server-api/get-user-actions
        """
        if isinstance(from_date, datetime):
            if from_date.tzinfo is None:
                raise ValueError("from_date must be timezone-aware")
            from_date = from_date.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        params = {"codes": ",".join(codes) if codes else None, "fromDate": from_date}
        answer = self._request("GET", _path("users", user_id, "actions"), params=params, what="user")
        return answer.parse(lambda data: [UserAction.from_api(item) for item in _as_list(data, "actions")])

    def ping(self) -> None:
        """Readiness: one cheap authenticated call, not retried. Raises Unauthorized or Unavailable.

        Uses Get User with a fixed id that no integrator uses; any user id answers 200.
        https://docs.authsignal.com/api-reference/server-api/get-user
        """
        self._request("GET", _path("users", READINESS_PROBE_USER_ID), what="user", retry=False)

    # --- Transport: one attempt, then the retry policy around it ---

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | None] | None = None,
        body: Mapping[str, Any] | None = None,
        what: str,
        retry: bool | None = None,
    ) -> _Answer:
        """Send a request; GET and DELETE (idempotent) are retried unless retry=False."""
        request = self._http.build_request(
            method,
            path,
            params={k: v for k, v in (params or {}).items() if v is not None} or None,
            json=body,
        )
        if retry is None:
            retry = method in {"GET", "DELETE"}
        if not retry:
            return self._send_once(request, attempt=1, what=what)

        # A plain loop: the waits honour Retry-After and go through self._sleep (tests inject it), and nothing is
        # slept after the last attempt.
        attempt = 1
        while True:
            try:
                return self._send_once(request, attempt=attempt, what=what)
            except AuthsignalError as exc:
                wait = self._wait_before_retry(exc, attempt) if attempt < self._retry_attempts else None
                if wait is None:
                    raise
            logger.info("Authsignal %s %s: retry %d after waiting %.2f s", method, _endpoint(path), attempt, wait)
            if wait > 0:
                self._sleep(wait)
            attempt += 1

    def _wait_before_retry(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc` on attempt number `attempt`, or None: do not retry."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            if exc.retry_after > self._retry_max_wait:
                return None  # Authsignal asks for longer than we may wait: give up now, say when to come back
            floor = exc.retry_after
        elif isinstance(exc, RateLimited | Unavailable):
            floor = 0.0
        else:
            return None
        # Exponential backoff with jitter, so many workers hitting the same outage do not retry in step.
        backoff = min(self._retry_max_wait, _FIRST_BACKOFF * 2 ** (attempt - 1))
        backoff = min(self._retry_max_wait, backoff * random.uniform(1.0, 1.5))  # noqa: S311 (not crypto)
        return max(floor, backoff)

    def _send_once(self, request: httpx.Request, *, attempt: int, what: str) -> _Answer:
        """One attempt: send, read the whole body within the attempt budget, map failures to our errors."""
        is_write = request.method != "GET"
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True)
            try:
                body = self._read_body(response, started)
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise self._transport_error(exc, is_write=is_write, attempt=attempt) from exc
        except Unavailable as exc:  # the body was too slow or too large: the request itself did arrive
            raise _sent_but_failed(exc.message, is_write=is_write, attempt=attempt) from None
        if 200 <= response.status_code < 300:
            return _Answer(body=body, attempt=attempt, is_write=is_write)
        error = error_for_status(response.status_code, body, response.headers, what=what)
        error.attempts = attempt
        if isinstance(error, Unavailable) and is_write:
            # A 5xx can come after the change was made (a gateway timing out, say); nothing says it was not.
            error = _sent_but_failed(
                error.message,
                is_write=True,
                attempt=attempt,
                status=error.status,
                code=error.code,
                description=error.description,
            )
        raise error

    def _read_body(self, response: httpx.Response, started: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: gzip is counted (and capped) after inflating
            chunks.append(chunk)
            size += len(chunk)
            if size > _MAX_BODY_BYTES:
                raise Unavailable("Authsignal sent an answer far larger than expected.")
            if time.monotonic() - started > self._attempt_budget:
                raise Unavailable(
                    f"Authsignal is answering too slowly (no complete answer after "
                    f"{seconds_text(self._attempt_budget)})."
                )
        return b"".join(chunks)

    def _transport_error(self, exc: httpx.RequestError, *, is_write: bool, attempt: int) -> Unavailable:
        """Our error for an httpx failure; `outcome_unknown` when a write may have reached Authsignal."""
        if isinstance(exc, httpx.ConnectTimeout):
            waited = seconds_text(self._connect_timeout)
            message = f"Could not reach Authsignal (no connection after {waited})."
        elif isinstance(exc, httpx.PoolTimeout):
            message = "Too many calls to Authsignal are in progress; try again in a moment."
        elif isinstance(exc, httpx.ConnectError):
            message = "Could not reach Authsignal (the connection failed)."
        elif isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
            message = f"Authsignal is not answering (timed out after {seconds_text(self._read_timeout)})."
        elif isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError | httpx.CloseError):
            message = "The connection to Authsignal broke before it answered."
        elif isinstance(exc, httpx.DecodingError):
            message = "Authsignal's answer could not be decoded."
        else:
            message = f"Could not talk to Authsignal ({type(exc).__name__})."
        if isinstance(exc, _FAILED_BEFORE_SENDING):
            return Unavailable(message, outcome_unknown=False, attempts=attempt)
        return _sent_but_failed(message, is_write=is_write, attempt=attempt)


def _sent_but_failed(
    message: str,
    *,
    is_write: bool,
    attempt: int,
    status: int | None = None,
    code: str | None = None,
    description: str = "",
) -> Unavailable:
    """Unavailable for a request that reached Authsignal: for a write, what it did is unknown."""
    if is_write:
        message += " The change may or may not have been made: check before trying again."
    return Unavailable(
        message,
        outcome_unknown=is_write,
        attempts=attempt,
        status=status,
        code=code,
        description=description,
    )


def _as_list(data: object, what: str) -> list[Any]:
    """The bare JSON array some endpoints answer with."""
    if not isinstance(data, list):
        raise unexpected_shape(f"expected a list of {what}, got {type(data).__name__}")
    return data


def _endpoint(path: str) -> str:
    """The path with its ids blanked, for logs: user ids are often email addresses."""
    segments = path.strip("/").split("/")
    return "/" + "/".join(name if i % 2 == 0 else "{id}" for i, name in enumerate(segments))
