"""The hashed bytes are pinned: a known answer, and equality with json.dumps over generated events.

Every stored chain depends on these bytes; a change that keeps the other tests green would still make every
existing chain fail `audit verify`. No database needed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from adminpanel.audit import chain

KEY = b"known-answer-key"
PREV = "a" * 64
EVENT = {
    "id": uuid.UUID("6f1c2b9e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"),
    "seq": 42,
    "created_at": dt.datetime(2026, 11, 2, 9, 15, 0, 123, tzinfo=dt.UTC),
    "actor_id": 7,
    "actor_username": "sam.support",
    "actor_ip": "203.0.113.9",
    "actor_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "request_id": "req-0001",
    "action": "authenticator.remove",
    "outcome": "succeeded",
    "correlation_id": uuid.UUID("0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"),
    "user_id": "ærøskøbing:42",
    "authenticator_id": "auth-01",
    "verification_method": "SMS",
    "reason": 'Lost phone "old" \u2028 tab\there',
    "ticket": "SUP-1234",
    "details": {"before": [{"id": "a1", "method": "SMS"}], "n": 3, "ratio": 0.5, "none": None, "ok": True},
}


def values(event: dict) -> tuple:
    return tuple(event[name] for name in chain.CHAIN_FIELDS)


def test_a_fixed_event_under_a_fixed_key_has_a_fixed_hash():
    assert chain.canonical_json(values(EVENT)) == (
        b'{"action":"authenticator.remove","actor_id":7,"actor_ip":"203.0.113.9",'
        b'"actor_user_agent":"Mozilla/5.0 (X11; Linux x86_64)","actor_username":"sam.support",'
        b'"authenticator_id":"auth-01","correlation_id":"0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e",'
        b'"created_at":"2026-11-02T09:15:00.000123Z",'
        b'"details":{"before":[{"id":"a1","method":"SMS"}],"n":3,"none":null,"ok":true,"ratio":0.5},'
        b'"id":"6f1c2b9e-3d4a-4c5b-9e8f-0a1b2c3d4e5f","outcome":"succeeded",'
        b'"reason":"Lost phone \\"old\\" \\u2028 tab\\there","request_id":"req-0001","seq":42,"ticket":"SUP-1234",'
        b'"user_id":"\\u00e6r\\u00f8sk\\u00f8bing:42","verification_method":"SMS"}'
    )
    assert chain.compute_hash(PREV, values(EVENT), key=KEY) == (
        "74f978f5b6910e919e44f042d479b22c3cf4b9c3c66d3809109668b82b7f4dab"
    )


def test_a_null_actor_is_hashed_as_json_null():
    event = {**EVENT, "actor_id": None, "actor_username": ""}
    assert b'"actor_id":null,' in chain.canonical_json(values(event))


# Every code point except lone surrogates (stored text never holds them): control characters, quotes,
# backslashes, non-ASCII and astral characters all appear.
text = st.text(st.characters(min_codepoint=0, exclude_categories=["Cs"]), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
events = st.fixed_dictionaries(
    {
        "id": st.uuids(),
        "seq": st.integers(min_value=1, max_value=2**62),
        "created_at": times,
        "actor_id": st.none() | st.integers(min_value=1, max_value=2**31),
        "actor_username": text,
        "actor_ip": text,
        "actor_user_agent": text,
        "request_id": text,
        "action": text,
        "outcome": st.sampled_from(["requested", "succeeded", "failed", "denied"]),
        "correlation_id": st.uuids(),
        "user_id": text,
        "authenticator_id": text,
        "verification_method": text,
        "reason": text,
        "ticket": text,
        "details": st.dictionaries(text, json_values, max_size=5),
    }
)


@settings(max_examples=400, deadline=None)
@given(events)
def test_the_canonical_bytes_are_json_dumps_with_sorted_keys_and_no_spaces(event):
    plain = {
        **event,
        "id": str(event["id"]),
        "correlation_id": str(event["correlation_id"]),
        "created_at": event["created_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    expected = json.dumps(plain, sort_keys=True, separators=(",", ":")).encode("ascii")
    assert chain.canonical_json(values(event)) == expected


def test_only_lone_surrogates_become_the_replacement_character():
    from adminpanel.audit.chain import clean_text

    assert clean_text("100% real?\ud800") == "100% real?\ufffd"
    assert clean_text("nul\x00here") == "nul\ufffdhere"
    assert clean_text("ærøskøbing?") == "ærøskøbing?"
