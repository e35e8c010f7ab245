"""Wire details shared by the emulator's routes: JSON answers, error bodies, timestamps, raw path segments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

# Exactly this: one official SDK compares the header string, so no "; charset=utf-8".
JSON_CONTENT_TYPE = "application/json"
UNAUTHORIZED_DESCRIPTION = (
    "The request is unauthorized. Check that your API key and region base URL are correctly configured."
)
MAX_BODY_BYTES = 1024 * 1024


def error_body(code: str, description: str) -> dict[str, str]:
    # SDKs read the code from `error` or from `errorCode`, so both are always sent.
    return {"error": code, "errorCode": code, "errorDescription": description}


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encode(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """The WSGI status line, headers and body bytes."""
        payload = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
        status_line = f"{self.status} {HTTPStatus(self.status).phrase}"
        headers = [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(payload))), *self.headers]
        return status_line, headers, payload


class ApiError(Exception):
    """An error answer: raised anywhere in a handler, turned into the documented error body."""

    def __init__(self, status: int, code: str, description: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers or []

    def response(self) -> Response:
        return Response(self.status, error_body(self.code, self.description), self.headers)


def invalid_request(description: str) -> ApiError:
    return ApiError(400, "invalid_request", description)


def not_found(description: str) -> ApiError:
    return ApiError(404, "not_found", description)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, like `2024-05-13T04:59:02.640Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 date or date-time; naive values are taken as UTC. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def path_segments(environ: dict[str, Any]) -> list[str]:
    """The request path split on `/` BEFORE percent-decoding, then each segment decoded as UTF-8.

    Splitting first is what makes `/users/a%2Fb` the one user `a/b`. WSGI servers decode PATH_INFO, so the
    raw target is taken from RAW_URI (gunicorn, our server, EmulatorTransport) or REQUEST_URI when present.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0].split("#", 1)[0]
        if "://" in path:  # absolute-form request target
            path = urlsplit(path).path
        segments = [_decode_raw_segment(part) for part in path.split("/")[1:]]
        script_name = environ.get("SCRIPT_NAME", "").strip("/")
        if script_name:
            segments = segments[len(script_name.split("/")) :]
        return segments
    # Fallback for hosts that give only the decoded PATH_INFO: ids containing "/" cannot be told apart here.
    return [_redecode_wsgi_string(part) for part in environ.get("PATH_INFO", "").split("/")[1:]]


def _decode_raw_segment(segment: str) -> str:
    try:
        # A WSGI string carries the raw bytes as latin-1; unescaped UTF-8 bytes survive this round trip.
        raw_bytes = segment.encode("latin-1")
    except UnicodeEncodeError:
        raw_bytes = segment.encode()
    try:
        return unquote_to_bytes(raw_bytes).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request("The request path is not valid percent-encoded UTF-8.") from None


def _redecode_wsgi_string(segment: str) -> str:
    # PEP 3333 servers (wsgiref) hand over UTF-8 bytes as latin-1 text; httpx's WSGITransport hands over text.
    try:
        return segment.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return segment


def query_params(environ: dict[str, Any]) -> dict[str, str]:
    """Form-decoded query parameters (`+` is a space, `%2B` a plus); the first value of each wins."""
    try:
        parsed = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise invalid_request("The query string is not valid percent-encoded UTF-8.") from None
    return {key: values[0] for key, values in parsed.items()}


def read_json_body(environ: dict[str, Any]) -> Any:
    """The decoded JSON body, or None when there is none. Malformed JSON is a 400."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise invalid_request("Content-Length is not a number.") from None
    if length > MAX_BODY_BYTES:
        raise ApiError(413, "invalid_request", "The request body is too large.")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid_request("The request body is not valid JSON.") from None
