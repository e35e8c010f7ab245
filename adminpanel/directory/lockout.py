"""The lockout rule: which authenticators keep a user able to sign in once one is removed.

Credentials count, not kinds: one of two passkeys may go. What does not count: recovery codes (they only back
up another method; alone they are not a way to keep signing in), identity-document checks (Veriff, iProov,
IDVerse verify a person, they sign nobody in), and methods this dashboard does not know yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from adminpanel.authsignal.types import Authenticator, VerificationMethod

SIGN_IN_METHODS = frozenset(
    {
        VerificationMethod.SMS,
        VerificationMethod.WHATSAPP,
        VerificationMethod.EMAIL_OTP,
        VerificationMethod.EMAIL_MAGIC_LINK,
        VerificationMethod.AUTHENTICATOR_APP,
        VerificationMethod.PASSKEY,
        VerificationMethod.SECURITY_KEY,
        VerificationMethod.PUSH,
        VerificationMethod.DEVICE,
        VerificationMethod.PALM_BIOMETRICS_RR,
    }
)


def can_sign_in_with(authenticator: Authenticator) -> bool:
    return authenticator.verification_method in SIGN_IN_METHODS


def would_lock_out(remaining: Iterable[Authenticator]) -> bool:
    """True when none of the authenticators left would let the user sign in."""
    return not any(can_sign_in_with(a) for a in remaining)


def not_counted(remaining: Iterable[Authenticator]) -> list[Authenticator]:
    """What remains but does not keep the user able to sign in (shown in the dialog, so the refusal makes sense)."""
    return [a for a in remaining if not can_sign_in_with(a)]
