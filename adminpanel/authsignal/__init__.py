"""Talking to Authsignal: the client, its typed results and its one exception family."""

from __future__ import annotations

from adminpanel.authsignal.client import AuthsignalClient
from adminpanel.authsignal.errors import (
    AuthsignalError,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from adminpanel.authsignal.types import (
    AaguidMapping,
    ActionState,
    Authenticator,
    AuthenticatorAttachment,
    CredentialDeviceType,
    DeleteResult,
    EnrollResult,
    ParsedUserAgent,
    SmsChannel,
    User,
    UserAction,
    UserAgentBrowser,
    UserPage,
    UserSummary,
    VerificationMethod,
    WebauthnCredential,
)

__all__ = [
    "AaguidMapping",
    "ActionState",
    "Authenticator",
    "AuthenticatorAttachment",
    "AuthsignalClient",
    "AuthsignalError",
    "CredentialDeviceType",
    "DeleteResult",
    "EnrollResult",
    "InvalidRequest",
    "NotFound",
    "ParsedUserAgent",
    "RateLimited",
    "SmsChannel",
    "Unauthorized",
    "Unavailable",
    "User",
    "UserAction",
    "UserAgentBrowser",
    "UserPage",
    "UserSummary",
    "VerificationMethod",
    "WebauthnCredential",
]
