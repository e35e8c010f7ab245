"""Serve the emulator over HTTP/1.1 (keep-alive, a thread per connection) for SDKs, staging, load tests."""

from __future__ import annotations

import contextlib
import io
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from .app import EmulatorApp
from .faults import InjectedHang, InjectedReset
from .wire import MAX_BODY_BYTES, Response, error_body

# How long a hung request holds its connection if the client never gives up.
MAX_HANG_SECONDS = 300.0


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "authsignal-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    # Buffer the answer so status, headers and body leave in one send (flushed after each request);
    # separate small writes meet Nagle + delayed ACK and cost ~40 ms a request.
    wbufsize = -1
    server: EmulatorHTTPServer
    _was_reset = False

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_expect_100(self) -> bool:
        answered = super().handle_expect_100()
        self.wfile.flush()  # the interim "100 Continue" must leave now, not with the final answer
        return answered

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as error:
            self.close_connection = True
            self._write(Response(400, error_body("invalid_request", str(error))).encode())
            return
        try:
            status, headers, payload = _call(self.server.app, self._environ(body))
        except InjectedReset:
            self._reset()
            return
        except InjectedHang:
            self._hang()
            return
        self._write((status, headers, payload))

    def _write(self, answer: tuple[str, list[tuple[str, str]], bytes]) -> None:
        status, headers, payload = answer
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            self.send_header(key, value)  # Content-Type goes out exactly as the app set it
        if not any(key.lower() == "content-length" for key, _ in headers):
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("Content-Length is not a number.") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError("The request body is too large.")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        # Some SDK HTTP stacks stream JSON bodies chunked; the WSGI app wants a plain body with a length.
        body = bytearray()
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                raise ValueError("Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(body) > MAX_BODY_BYTES:
                raise ValueError("The request body is too large.")

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            # The undecoded target (latin-1 text of the raw bytes): the app splits segments on it.
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox would."""
        self.close_connection = True
        self._was_reset = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Drop the makefile references so close() really closes the socket now, unsent bytes discarded.
        self.rfile.close()
        with contextlib.suppress(OSError):
            self.wfile.close()
        self.connection.close()

    def _hang(self) -> None:
        """Never answer: hold the connection until the client gives up (closes it) or the server stops."""
        self.close_connection = True
        deadline = time.monotonic() + self.server.max_hang
        while not self.server.stopping.is_set() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.05)
            if not ready:
                continue
            try:
                if not self.connection.recv(65536):
                    return  # the client closed its end
            except OSError:
                return

    def finish(self) -> None:
        if self._was_reset:
            return
        with contextlib.suppress(OSError):  # the client went away first
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from http.server
        if self.server.log_requests:
            super().log_message(format, *args)


class EmulatorHTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threading HTTP server for an EmulatorApp; port 0 picks a free port (see `base_url`)."""

    daemon_threads = True
    block_on_close = False  # a hung connection must not block shutdown
    allow_reuse_address = True

    def __init__(
        self,
        app: EmulatorApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
        max_hang: float = MAX_HANG_SECONDS,
    ):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), EmulatorRequestHandler)
        self.app = app
        self.log_requests = log_requests
        self.max_hang = max_hang
        self.stopping = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"

    def shutdown(self) -> None:
        self.stopping.set()  # releases hung handlers
        super().shutdown()


@contextmanager
def running_server(
    app: EmulatorApp, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> Iterator[EmulatorHTTPServer]:
    """Serve `app` in a background thread for the duration of the block (tests, benchmarks)."""
    server = EmulatorHTTPServer(app, host, port, **options)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="authsignal-emulator", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _call(app: EmulatorApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.update(status=status, headers=headers)
        return lambda _: None

    result = app(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], payload
