"""How an authenticator is named to staff: method plus masked contact, e.g. "SMS +1 ••• ••• 0101"."""

from __future__ import annotations

from adminpanel.authsignal.types import Authenticator
from adminpanel.core.display import visible
from adminpanel.core.masking import mask_contact


def authenticator_label(authenticator: Authenticator) -> str:
    credential = authenticator.webauthn_credential
    if credential:
        name = credential.name or credential.provider
        return f"{authenticator.method_label} '{visible(name)}'" if name else authenticator.method_label
    contact = authenticator.email or authenticator.phone_number
    return f"{authenticator.method_label} {mask_contact(contact)}" if contact else authenticator.method_label
