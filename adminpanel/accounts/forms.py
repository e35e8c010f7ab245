"""allauth's passkey forms, refusing a malformed passkey answer instead of failing with a server error.

The answer is JSON the browser (or an attacker) posts; fido2 raises KeyError and friends on shapes allauth does
not expect (e.g. `{"id": …}` without `rawId`). Any of those is a wrong answer: "Incorrect code.", recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.adapter import get_adapter
from allauth.mfa.webauthn.forms import AddWebAuthnForm, AuthenticateWebAuthnForm, ReauthenticateWebAuthnForm

logger = logging.getLogger(__name__)

MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def _refusing_malformed(clean: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @wraps(clean)
    def wrapper(self: Any) -> Any:
        try:
            return clean(self)
        except MALFORMED as exc:
            logger.info("refused a malformed passkey answer: %s", type(exc).__name__)
            raise get_adapter().validation_error("incorrect_code") from exc

    return wrapper


class StaffAddWebAuthnForm(AddWebAuthnForm):
    clean = _refusing_malformed(AddWebAuthnForm.clean)


class StaffAuthenticateWebAuthnForm(AuthenticateWebAuthnForm):
    clean_credential = _refusing_malformed(AuthenticateWebAuthnForm.clean_credential)


class StaffReauthenticateWebAuthnForm(ReauthenticateWebAuthnForm):
    clean_credential = _refusing_malformed(ReauthenticateWebAuthnForm.clean_credential)
