"""The auditor's list, detail and verify views; refusals go through handler403 and are audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from adminpanel.audit.models import AuditEvent, ChainVerification
from adminpanel.audit.services import FAILED, REQUESTED, SUCCEEDED, record
from tests.helpers import tamper

pytestmark = pytest.mark.django_db

LIST = reverse("audit:events-list")


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["page"].events]


@pytest.fixture
def log(support_user) -> list[AuditEvent]:
    """120 events: two staff, three actions, two target users, tickets on every 10th."""
    events = []
    for i in range(120):
        events.append(
            record(
                ("user.view", "authenticator.remove", "pii.reveal")[i % 3],
                (SUCCEEDED, FAILED)[i % 2],
                actor=support_user if i % 4 == 0 else None,
                user_id=("alice@example.com", "123:test")[i % 2],
                reason=f"reason number {i}" + (" lost phone" if i % 5 == 0 else ""),
                ticket=f"SUP-{i}" if i % 10 == 0 else "",
            )
        )
    return events


def test_the_list_shows_the_newest_events_first(auditor_client, log):
    response = auditor_client.get(LIST)
    assert response.status_code == 200
    # force_login of the auditor appended a staff.login event after the log fixture's events
    assert seqs(response) == list(range(AuditEvent.objects.latest("seq").seq, 71, -1))[:50]
    assert response.context["page"].newer_cursor is None
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_keyset_paging_goes_back_and_forth_without_counting(auditor_client, log, django_assert_max_num_queries):
    first = auditor_client.get(LIST, {"outcome": "failed"})
    older_cursor = first.context["page"].older_cursor
    second = auditor_client.get(LIST, {"outcome": "failed", "before": older_cursor})
    assert all(s < older_cursor for s in seqs(second))
    assert second.context["page"].newer_cursor == seqs(second)[0]
    assert len(seqs(first)) + len(seqs(second)) == 60
    assert second.context["page"].older_cursor is None
    back = auditor_client.get(LIST, {"outcome": "failed", "after": second.context["page"].newer_cursor})
    assert seqs(back) == seqs(first)
    assert b"before=" in second.content or b"after=" in second.content
    assert b"outcome=failed" in second.content  # pager links keep the filter
    with django_assert_max_num_queries(12) as captured:
        auditor_client.get(LIST, {"outcome": "failed", "before": older_cursor})
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"actor": "sam.support"}, lambda e: e.actor_username == "sam.support"),
        ({"user": "123:test"}, lambda e: e.user_id == "123:test"),
        ({"action": "pii.reveal"}, lambda e: e.action == "pii.reveal"),
        ({"outcome": "failed"}, lambda e: e.outcome == "failed"),
        ({"ticket": "SUP-30"}, lambda e: e.ticket == "SUP-30"),
        ({"q": "LOST PHONE"}, lambda e: "lost phone" in e.reason),
        (
            {"action": "user.view", "outcome": "succeeded"},
            lambda e: (e.action, e.outcome) == ("user.view", "succeeded"),
        ),
    ],
)
def test_each_filter_narrows_the_list(auditor_client, log, params, check):
    response = auditor_client.get(LIST, params)
    events = response.context["page"].events
    assert events and all(check(e) for e in events)
    expected = [e for e in AuditEvent.objects.order_by("-seq") if check(e)][:50]
    assert [e.seq for e in events] == [e.seq for e in expected]


def test_a_date_range_filters_by_utc_day(auditor_client, log):
    today = dt.datetime.now(dt.UTC).date()
    assert len(seqs(auditor_client.get(LIST, {"since": today, "until": today}))) == 50
    assert seqs(auditor_client.get(LIST, {"until": today - dt.timedelta(days=1)})) == []
    assert seqs(auditor_client.get(LIST, {"since": today + dt.timedelta(days=1)})) == []


def test_an_inverted_date_range_shows_the_form_error(auditor_client, log):
    response = auditor_client.get(LIST, {"since": "2026-02-02", "until": "2026-02-01"})
    assert response.status_code == 422
    assert b"The end date is before the start date." in response.content
    assert seqs(response) == []


def test_the_htmx_answer_to_a_bad_filter_shows_the_errors_and_the_form_again(auditor_client, log):
    """The errors were only in the form, which htmx did not swap: they showed only after a reload."""
    response = auditor_client.get(
        LIST,
        {"since": "2026-02-02", "until": "2026-02-01", "actor": ""},
        headers={"HX-Request": "true", "HX-Trigger": "audit-filters"},
    )
    body = response.content.decode()
    assert response.status_code == 422 and "<html" not in body
    assert "No events shown: the filter needs fixing." in body and "The end date is before the start date." in body
    assert 'id="audit-filters"' in body and 'hx-swap-oob="true"' in body  # field errors beside their fields
    assert 'aria-invalid="true"' in body


def test_filter_urls_drop_empty_parameters(auditor_client, log):
    response = auditor_client.get(LIST, {"actor": "", "user": "", "action": "user.view", "outcome": "", "q": ""})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?action=user.view"
    htmx = auditor_client.get(LIST, {"actor": "", "action": "user.view"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx["HX-Push-Url"] == f"{LIST}?action=user.view"
    assert auditor_client.get(f"{LIST}?action=user.view").status_code == 200


def test_htmx_requests_get_only_the_results_partial(auditor_client, log):
    response = auditor_client.get(LIST, {"outcome": "failed"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="audit-results"' in body and "<html" not in body and "Verify now" not in body
    assert "outcome=failed" in body


def test_the_plain_page_has_a_get_form_that_also_works_with_htmx(auditor_client, log):
    body = auditor_client.get(LIST).content.decode()
    assert 'method="get"' in body and 'hx-get="/audit/"' in body
    assert "<script>" not in body and "style=" not in body


def test_detail_shows_the_event_its_chain_position_and_correlated_events(auditor_client, support_user):
    req = record("authenticator.enroll", REQUESTED, actor=support_user, user_id="alice", reason="new phone")
    done = record("authenticator.enroll", SUCCEEDED, actor=support_user, correlation_id=req.correlation_id)
    response = auditor_client.get(reverse("audit:events-detail", args=[req.id]), {"action": "authenticator.enroll"})
    assert response.status_code == 200
    body = response.content.decode()
    assert req.hash in body and req.prev_hash in body
    assert response.context["position"].hash_ok and response.context["position"].links_ok
    assert response.context["position"].next.seq == done.seq
    assert [e.seq for e in response.context["correlated"]] == [req.seq, done.seq]
    assert "?action=authenticator.enroll" in body  # links keep the filter


def test_detail_says_when_an_event_no_longer_matches_its_hash(auditor_client):
    event = record("user.view", SUCCEEDED, reason="original")
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE seq = %s", [event.seq])
    response = auditor_client.get(reverse("audit:events-detail", args=[event.id]))
    assert not response.context["position"].hash_ok
    assert "content changed" in response.content.decode()


def test_verify_now_stores_the_result_and_shows_it(auditor_client, log, immediate_tasks):
    response = auditor_client.post(reverse("audit:verify"), follow=True)
    assert response.status_code == 200
    run = ChainVerification.objects.get()
    assert run.ok and run.source == "ui" and run.triggered_by == "ada.auditor"
    assert "Chain verified at" in response.content.decode()
    assert AuditEvent.objects.filter(action="audit.verify", outcome=SUCCEEDED).exists()


def test_verify_now_reports_a_broken_chain(auditor_client, log, immediate_tasks):
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 7")
    response = auditor_client.post(reverse("audit:verify"), follow=True)
    assert ChainVerification.objects.get().first_bad_seq == 7
    assert "Chain broken" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "audit:events-list", []),
        ("get", "audit:export-csv", []),
        ("get", "audit:export-jsonl", []),
        ("post", "audit:verify", []),
    ],
)
def test_support_staff_are_refused_and_the_refusal_is_audited(support_client, method, name, args):
    url = reverse(name, args=args)
    response = getattr(support_client, method)(url)
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    denied = AuditEvent.objects.filter(action="access.denied").latest("seq")
    assert denied.outcome == "denied" and denied.actor_username == "sam.support"
    assert denied.details["path"] == url and denied.details["method"] == method.upper()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_a_refused_detail_page_is_audited_too(support_client):
    event = record("user.view", SUCCEEDED)
    assert support_client.get(reverse("audit:events-detail", args=[event.id])).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", details__view="audit:events-detail").exists()


def test_an_htmx_refusal_is_a_small_fragment_with_status_403(support_client):
    response = support_client.get(LIST, headers={"HX-Request": "true"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not allowed" in body and "<html" not in body


def test_security_staff_may_read_the_log(security_user):
    client = Client()
    client.force_login(security_user)
    assert client.get(LIST).status_code == 200


def test_hostile_text_is_stored_verbatim_and_shown_escaped(auditor_client):
    hostile = 'line1\r\nline2 <script>alert(1)</script> <a hx-get="/x">{{7*7}}</a> ' + "x" * 10_000
    event = record("user.view", SUCCEEDED, reason=hostile, ticket=hostile, user_id="<b>u</b>")
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.reason == hostile and stored.ticket == hostile
    for response in (
        auditor_client.get(reverse("audit:events-detail", args=[event.id])),
        auditor_client.get(LIST, {"ticket": hostile}),
    ):
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in body and 'hx-get="/x"' not in body and "<b>u</b>" not in body
        assert "&lt;script&gt;" in body and "{{7*7}}" in body and "49" not in body.split("{{7*7}}")[0][-5:]
    assert seqs(auditor_client.get(LIST, {"ticket": hostile})) == [event.seq]
