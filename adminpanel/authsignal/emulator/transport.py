"""An httpx transport that runs the emulator in-process yet shows the client what a network would."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from .app import READ_TIMEOUT_ENVIRON_KEY
from .faults import InjectedHang, InjectedReset

# With no read timeout a hung server would block forever; in-process, give up after this long.
MAX_HANG_SECONDS = 300.0


class EmulatorTransport(httpx.WSGITransport):
    """`httpx.Client(transport=EmulatorTransport(app), base_url="http://emulator/v1", auth=(key, ""))`.

    Unlike plain WSGITransport it passes the raw request path (RAW_URI), so `%2F` inside an id stays inside
    the id, and it turns the app's injected faults into the exceptions httpx raises over a real network:
    reset before apply -> ConnectError (nothing was applied), reset after apply -> ReadError (it was),
    hang -> sleep until the request's read timeout, then ReadTimeout.
    """

    def __init__(
        self,
        app: Any,
        *,
        script_name: str = "",
        remote_addr: str = "127.0.0.1",
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(app=app, script_name=script_name, remote_addr=remote_addr)
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        environ = self._environ(request, body, read_timeout)
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            seen.update(status=status, headers=headers)
            return lambda _: None

        try:
            result = self.app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except InjectedReset as fault:
            if fault.applied:
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request) from None
            raise httpx.ConnectError("[Errno 104] Connection reset by peer", request=request) from None
        except InjectedHang as fault:
            wait = MAX_HANG_SECONDS if read_timeout is None else max(0.0, read_timeout - fault.waited)
            self._sleep(wait)
            raise httpx.ReadTimeout("timed out", request=request) from None
        return httpx.Response(
            int(seen["status"].split()[0]),
            headers=[(key.encode("latin-1"), value.encode("latin-1")) for key, value in seen["headers"]],
            content=content,
            request=request,
        )

    def _environ(self, request: httpx.Request, body: bytes, read_timeout: float | None) -> dict[str, Any]:
        url = request.url
        port = url.port or {"http": 80, "https": 443}[url.scheme]
        raw_target = url.raw_path.decode("ascii")  # path + query exactly as a server would receive them
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": self.script_name,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query.decode("ascii"),
            "RAW_URI": raw_target,
            "REQUEST_URI": raw_target,
            "SERVER_NAME": url.host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.remote_addr,
            READ_TIMEOUT_ENVIRON_KEY: read_timeout,
        }
        for raw_key, raw_value in request.headers.raw:
            key = raw_key.decode("latin-1").upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = raw_value.decode("latin-1")
        return environ
