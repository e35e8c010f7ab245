"""How staff see a verification method, in one place: its name, its icon, which ones they may enroll, and the
label of one authenticator ("SMS +1 ••• ••• 0101", "Passkey 'iPhone'"). Every page, message and form uses these."""

from __future__ import annotations

from functools import cache

from django.templatetags.static import static

from adminpanel.authsignal.types import Authenticator, VerificationMethod
from adminpanel.core.display import visible
from adminpanel.core.masking import mask_contact

METHOD_LABELS: dict[str, str] = {
    VerificationMethod.SMS: "SMS",
    VerificationMethod.EMAIL_OTP: "Email code",
    VerificationMethod.EMAIL_MAGIC_LINK: "Email magic link",
    VerificationMethod.AUTHENTICATOR_APP: "Authenticator app",
    VerificationMethod.PASSKEY: "Passkey",
    VerificationMethod.SECURITY_KEY: "Security key",
    VerificationMethod.PUSH: "Push",
    VerificationMethod.DEVICE: "Device",
    VerificationMethod.VERIFF: "Veriff",
    VerificationMethod.IPROOV: "iProov",
    VerificationMethod.IDVERSE: "IDVerse",
    VerificationMethod.PALM_BIOMETRICS_RR: "Palm biometrics",
    VerificationMethod.RECOVERY_CODE: "Recovery code",
    VerificationMethod.WHATSAPP: "WhatsApp",
}


def method_label(method: str) -> str:
    """A human name for a verification method; an unknown future one is shown as sent, never dropped."""
    return METHOD_LABELS.get(method, method)


# What the enroll panel offers, in this order (the API enrolls more; the support desk vouches for these four).
ENROLLABLE: dict[str, str] = {
    code: METHOD_LABELS[code]
    for code in (
        VerificationMethod.EMAIL_OTP,
        VerificationMethod.EMAIL_MAGIC_LINK,
        VerificationMethod.SMS,
        VerificationMethod.PASSKEY,
    )
}

_ICONS = {
    VerificationMethod.SMS: "phone",
    VerificationMethod.WHATSAPP: "phone",
    VerificationMethod.EMAIL_OTP: "mail",
    VerificationMethod.EMAIL_MAGIC_LINK: "mail",
    VerificationMethod.PASSKEY: "key",
    VerificationMethod.SECURITY_KEY: "key",
    VerificationMethod.AUTHENTICATOR_APP: "app",
    VerificationMethod.PUSH: "app",
    VerificationMethod.DEVICE: "app",
}


@cache
def method_icon(method: str) -> str:
    """The URL of the method's icon (our own neutral drawings in static/img/methods/)."""
    return static(f"img/methods/{_ICONS.get(method, 'other')}.svg")  # type: ignore[call-overload]


def authenticator_label(authenticator: Authenticator) -> str:
    """Method plus what tells this one apart: the masked contact or the passkey's name."""
    label = method_label(authenticator.verification_method)
    credential = authenticator.webauthn_credential
    if credential:
        name = credential.name or credential.provider
        return f"{label} '{visible(name)}'" if name else label
    contact = authenticator.email or authenticator.phone_number
    return f"{label} {mask_contact(contact)}" if contact else label
