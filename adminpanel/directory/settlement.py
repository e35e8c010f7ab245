"""How reconcile settles the support desk's write-ahead actions: by looking at the user's authenticators now."""

from __future__ import annotations

from adminpanel.audit.models import Action, AuditEvent, Outcome
from adminpanel.audit.reconcile import Deferred, Settlement, settles
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError, NotFound
from adminpanel.authsignal.types import Authenticator
from adminpanel.core.masking import contact_digest
from adminpanel.directory.audit_details import describe_all


def _authenticators_now(event: AuditEvent) -> list[Authenticator]:
    try:
        return get_client().get_authenticators(event.user_id)
    except NotFound:
        return []
    except AuthsignalError as exc:
        raise Deferred(f"Authsignal error, left for the next run: {exc}") from exc


@settles(Action.AUTHENTICATOR_REMOVE)
@settles(Action.LOCKOUT_OVERRIDE)
def settle_removal(event: AuditEvent) -> Settlement:
    """A removal (or its override) succeeded exactly when the authenticator is gone."""
    now = _authenticators_now(event)
    still_there = any(a.user_authenticator_id == event.authenticator_id for a in now)
    return Settlement(Outcome.FAILED if still_there else Outcome.SUCCEEDED, details={"after": describe_all(now)})


@settles(Action.AUTHENTICATOR_ENROLL)
def settle_enrollment(event: AuditEvent) -> Settlement:
    """An enroll succeeded when the user now has that method for the contact (by its digest) or credential."""
    now = _authenticators_now(event)
    details = event.details if isinstance(event.details, dict) else {}
    digest = details.get("contact_digest")
    for authenticator in now:
        if authenticator.verification_method != event.verification_method:
            continue
        credential = authenticator.webauthn_credential
        # The requested row keeps a digest of the email, the phone or, for a passkey, the credential id.
        for value in (authenticator.email, authenticator.phone_number, credential and credential.credential_id):
            if value and digest and contact_digest(value) == digest:
                return Settlement(
                    Outcome.SUCCEEDED, authenticator.user_authenticator_id, details={"after": describe_all(now)}
                )
    return Settlement(Outcome.FAILED, details={"after": describe_all(now)})
