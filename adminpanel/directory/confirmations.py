"""Signed, short-lived, single-use confirmation tokens for removals, bound to staff, user and authenticator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from adminpanel.directory.models import SpentConfirmation

SALT = "directory.remove-authenticator"
MAX_AGE_SECONDS = 10 * 60


@dataclass(frozen=True)
class TokenProblem:
    """Why a token was refused, in words for the agent and a code for the audit log."""

    code: str
    message: str


def issue(staff_id: int, user_id: str, authenticator_id: str) -> str:
    payload = {"s": staff_id, "u": user_id, "a": authenticator_id, "n": secrets.token_hex(16)}
    return signing.dumps(payload, salt=SALT, compress=True)


def check(token: str, *, staff_id: int, user_id: str, authenticator_id: str) -> TokenProblem | str:
    """The token's nonce when it is genuine, fresh and bound to exactly this removal; otherwise the problem."""
    if not token:
        return TokenProblem("token_missing", "The confirmation is missing. Open the removal dialog again.")
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        return TokenProblem("token_expired", "The confirmation has expired. Open the removal dialog again.")
    except signing.BadSignature:
        return TokenProblem("token_forged", "The confirmation is not valid. Open the removal dialog again.")
    if not isinstance(payload, dict) or (payload.get("s"), payload.get("u"), payload.get("a")) != (
        staff_id,
        user_id,
        authenticator_id,
    ):
        return TokenProblem(
            "token_mismatch",
            "The confirmation was issued for a different removal. Open the removal dialog again.",
        )
    return str(payload.get("n", ""))


def purge_spent() -> int:
    """Forgets spent tokens that have expired anyway (a replay is refused as expired): run by `manage.py cleanup`."""
    cutoff = timezone.now() - timedelta(seconds=MAX_AGE_SECONDS + 60)
    deleted, _ = SpentConfirmation.objects.filter(spent_at__lt=cutoff).delete()
    return deleted


def spend(nonce: str) -> TokenProblem | None:
    """Marks the token used; a second use is refused as a replay."""
    try:
        with transaction.atomic():
            SpentConfirmation.objects.create(nonce=nonce)
    except IntegrityError:
        return TokenProblem("token_replayed", "This confirmation has already been used. Open the dialog again.")
    return None
