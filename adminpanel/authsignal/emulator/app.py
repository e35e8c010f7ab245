"""The emulator as a WSGI app: Basic auth, fault injection, the `/v1` API and `/_emulator/` control routes."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .api import TenantApi
from .demo import demo_users
from .faults import Clock, FaultConfig, FaultDecision, FaultInjector, InjectedHang, InjectedReset
from .seed_format import load_users
from .store import EmulatorStore
from .wire import (
    UNAUTHORIZED_DESCRIPTION,
    ApiError,
    Response,
    error_body,
    invalid_request,
    not_found,
    path_segments,
    read_json_body,
    utc_now,
)

logger = logging.getLogger(__name__)

API_PREFIX = "v1"
CONTROL_PREFIX = "_emulator"
# Set by EmulatorTransport: the client's read timeout, so latency beyond it behaves like a timeout.
READ_TIMEOUT_ENVIRON_KEY = "authsignal_emulator.read_timeout"

StartResponse = Callable[..., Any]


class EmulatorApp:
    """WSGI callable. `store` holds the data; `secret_key` is the Basic-auth username requests must carry.

    Faults are decided once per `/v1` request. Those a response can express (latency, 429, 500) are answered
    here; a reset or hang is raised as InjectedReset / InjectedHang for the host (EmulatorTransport or the
    emulator's HTTP server) to turn into the network behaviour. Control routes are never faulted.
    """

    def __init__(
        self,
        store: EmulatorStore,
        secret_key: str,
        *,
        now: Callable[[], datetime] = utc_now,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        if not secret_key:
            raise ValueError("the emulator needs a secret key")
        self.store = store
        self.secret_key = secret_key
        self.faults = FaultInjector(clock=clock, rng=rng)
        self._now = now
        self._sleep = sleep
        self._api = TenantApi(store, now=now, new_id=lambda: str(uuid.uuid4()))
        self._count_lock = threading.Lock()
        self._request_count = 0

    # --- Python control surface (the same as the /_emulator/ routes) ---

    @property
    def request_count(self) -> int:
        """`/v1` requests received since start or the last reset (faulted and refused ones included)."""
        return self._request_count

    def reset(self) -> None:
        """Back to a fresh emulator: no data, no faults, request count zero."""
        self.store.clear()
        self.faults.clear()
        with self._count_lock:
            self._request_count = 0

    def seed(self, users: list[dict[str, Any]]) -> int:
        """Upsert users in the seed format (see seed_format.load_users); answers how many were given."""
        return load_users(self.store, users, now=self._now())

    def seed_demo(self) -> int:
        """Load the deterministic demo data set (demo.DEMO_USERS lists the stable users)."""
        return self.seed(demo_users(self._now()))

    def set_faults(self, **settings: Any) -> FaultConfig:
        """Replace the fault configuration, e.g. `set_faults(error_rate=1.0)` or `rate_limit=(5, 2)`."""
        config = FaultConfig(**settings)
        self.faults.configure(config)
        return config

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- WSGI ---

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status, headers, body = self.handle(environ).encode()
        start_response(status, headers)
        return [body]

    def handle(self, environ: dict[str, Any]) -> Response:
        """Answer one request. Raises InjectedReset / InjectedHang when a fault says not to answer."""
        try:
            segments = path_segments(environ)
        except ApiError as error:
            return error.response()
        if segments[:1] == [CONTROL_PREFIX]:
            return self._guarded(environ, lambda: self._control(environ, segments[1:]))
        with self._count_lock:
            self._request_count += 1
        decision = self.faults.decide()
        timed_out = self._wait(environ, decision.latency_s)
        response = self._fault_response(decision)
        if response is None:
            method = environ.get("REQUEST_METHOD", "GET").upper()
            if segments[:1] == [API_PREFIX]:
                response = self._guarded(environ, lambda: self._api.dispatch(method, segments[1:], environ))
            else:
                response = self._guarded(environ, _no_route)
        if decision.reset_after_apply:
            raise InjectedReset(applied=True)
        if timed_out is not None:
            raise InjectedHang(waited=timed_out)
        return response

    def _wait(self, environ: dict[str, Any], latency: float) -> float | None:
        """Sleep the injected latency; answers the seconds waited if the client would have timed out."""
        if not latency:
            return None
        read_timeout = environ.get(READ_TIMEOUT_ENVIRON_KEY)
        if read_timeout is not None and latency >= read_timeout:
            # Slower than the client waits: the server still does the work, but the client sees a timeout.
            self._sleep(read_timeout)
            return read_timeout
        self._sleep(latency)
        return None

    def _fault_response(self, decision: FaultDecision) -> Response | None:
        """The decided fault as an answer (429, 500) or a raised signal (reset, hang); None for no fault."""
        if decision.outcome == "reset":
            raise InjectedReset(applied=False)
        if decision.outcome == "hang":
            raise InjectedHang()
        if decision.outcome == "throttle":
            seconds = decision.retry_after or 1
            return ApiError(
                429,
                "too_many_requests",
                f"Too many requests. Retry after {seconds} second{'s' if seconds != 1 else ''}.",
                headers=[("Retry-After", str(seconds))],
            ).response()
        if decision.outcome == "error":
            return Response(500, error_body("internal_error", "Injected fault: the emulator answered 500."))
        return None

    def _guarded(self, environ: dict[str, Any], handler: Callable[[], Response]) -> Response:
        """Basic auth first, then the handler; errors become the documented JSON error bodies."""
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            return Response(401, error_body("unauthorized", UNAUTHORIZED_DESCRIPTION))
        try:
            return handler()
        except ApiError as error:
            return error.response()
        except Exception:
            logger.exception("emulator bug while answering %s", environ.get("PATH_INFO"))
            errors = environ.get("wsgi.errors")
            if errors is not None:
                errors.write(traceback.format_exc())
            return Response(500, error_body("internal_error", "The emulator failed; see its log."))

    def _authorised(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        username, _, _password = decoded.partition(":")  # the password is empty and not checked
        return hmac.compare_digest(username.encode(), self.secret_key.encode())

    # --- /_emulator/ control routes ---

    def _control(self, environ: dict[str, Any], segments: list[str]) -> Response:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        routes: dict[tuple[str, str], Callable[[], Response]] = {
            ("reset", "POST"): self._reset_route,
            ("seed", "POST"): lambda: self._seed_route(environ),
            ("faults", "GET"): self._faults_json,
            ("faults", "PUT"): lambda: self._put_faults(environ),
            ("faults", "DELETE"): self._delete_faults,
            ("stats", "GET"): self._stats,
        }
        name = segments[0] if len(segments) == 1 else ""
        handler = routes.get((name, method))
        if handler is not None:
            return handler()
        allowed = [verb for (route, verb) in routes if route == name]
        if not allowed:
            raise not_found("No such emulator control route.")
        raise ApiError(
            405,
            "method_not_allowed",
            f"{method} is not allowed here; use {', '.join(allowed)}.",
            headers=[("Allow", ", ".join(allowed))],
        )

    def _reset_route(self) -> Response:
        self.reset()
        return Response(200, {"success": True})

    def _seed_route(self, environ: dict[str, Any]) -> Response:
        body = read_json_body(environ)
        if not isinstance(body, dict) or ("preset" in body) == ("users" in body):
            raise invalid_request('Send {"preset": "demo"} or {"users": [...]}.')
        if "preset" in body:
            if body["preset"] != "demo":
                raise invalid_request('The only preset is "demo".')
            count = self.seed_demo()
        else:
            count = self.seed(body["users"])
        return Response(200, {"success": True, "seededUsers": count})

    def _faults_json(self) -> Response:
        return Response(200, self.faults.config.to_json())

    def _put_faults(self, environ: dict[str, Any]) -> Response:
        try:
            config = FaultConfig.from_json(read_json_body(environ))
        except ValueError as error:
            raise invalid_request(str(error)) from None
        self.faults.configure(config)
        return self._faults_json()

    def _delete_faults(self) -> Response:
        self.clear_faults()
        return self._faults_json()

    def _stats(self) -> Response:
        return Response(200, {"requestCount": self.request_count, **self.store.counts()})


def _no_route() -> Response:
    raise not_found("No such route.")
