"""The audit chain's keys by id: reading AUDIT_CHAIN_KEYS / AUDIT_CHAIN_KEY, and looking keys up.

The keys are listed oldest first; the newest one signs new segments (`audit rotate-key`), the older ones only
verify the segments they signed. AUDIT_CHAIN_KEY alone is one key with the fixed id "default", which is also
the key of every event before the first rotation, so chains written before rotation existed keep verifying.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_KEY_ID = "default"
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


def parse_chain_keys(spec: str | None, legacy: str | None = None) -> dict[str, bytes]:
    """'id1:key1,id2:key2' (commas or newlines, oldest first) → {id: key}; AUDIT_CHAIN_KEY comes first as "default"."""
    keys: dict[str, bytes] = {}
    if legacy:
        keys[DEFAULT_KEY_ID] = legacy.encode()
    for item in re.split(r"[,\n]", spec or ""):
        item = item.strip()
        if not item:
            continue
        key_id, colon, key = item.partition(":")
        key_id, key = key_id.strip(), key.strip()
        if not colon or not KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                "AUDIT_CHAIN_KEYS must read id1:key1,id2:key2 (ids of letters, digits, '.', '_' or '-', "
                f"at most 32), not {key_id[:40]!r}…"
            )
        if not key:
            raise ImproperlyConfigured(f"AUDIT_CHAIN_KEYS: the key with id {key_id!r} is empty")
        if key_id in keys:
            why = "it is AUDIT_CHAIN_KEY's id" if key_id == DEFAULT_KEY_ID and legacy else "it appears twice"
            raise ImproperlyConfigured(f"AUDIT_CHAIN_KEYS: key id {key_id!r} cannot be used: {why}")
        keys[key_id] = key.encode()
    return keys


def contact_digest_key(chain_keys: dict[str, bytes], explicit: str | None = None) -> bytes:
    """The key contact digests derive from: AUDIT_CONTACT_DIGEST_KEY, else the oldest chain key.

    Digests answer "was this contact ever enrolled?" over the whole log, so they must not change when the chain
    key rotates; the oldest key is the one every existing digest was made with.
    """
    if explicit:
        return explicit.encode()
    if not chain_keys:
        raise ImproperlyConfigured("no audit chain key is configured (AUDIT_CHAIN_KEYS or AUDIT_CHAIN_KEY)")
    return next(iter(chain_keys.values()))


def chain_keys() -> dict[str, bytes]:
    """Every configured key by id, oldest first."""
    return settings.AUDIT_CHAIN_KEYS


def newest_key_id() -> str:
    keys = chain_keys()
    if not keys:
        raise ImproperlyConfigured("no audit chain key is configured (AUDIT_CHAIN_KEYS or AUDIT_CHAIN_KEY)")
    return next(reversed(keys))


def key_for(key_id: str) -> bytes | None:
    return chain_keys().get(key_id)


def rank(key_id: str) -> int | None:
    """The key's age in the configuration (0 = oldest), or None if it is not configured."""
    for position, configured in enumerate(chain_keys()):
        if configured == key_id:
            return position
    return None


class ChainKeyMissing(ImproperlyConfigured):
    """The key that signs the chain's current segment is not configured: nothing can be appended."""
