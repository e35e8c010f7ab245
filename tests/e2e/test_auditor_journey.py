"""The auditor in a real browser: filter the log, open an event, verify the chain, export the filter."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from adminpanel.audit.services import FAILED, SUCCEEDED, record
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_filter_read_verify_and_export(page, auditor_user, support_user, settings, audit_log_flushable):
    settings.TASKS = IMMEDIATE  # the live server runs "Verify now" at once instead of waiting for a worker
    record("user.view", SUCCEEDED, actor=support_user, user_id="alice@example.com")
    record("authenticator.remove", FAILED, actor=support_user, user_id="bob", reason='=HYPERLINK("x") lost phone')
    record("authenticator.remove", SUCCEEDED, actor=support_user, user_id="carol", reason="compromised", ticket="SEC-9")

    sign_in(page, auditor_user.username)
    expect(page).to_have_url(re.compile(r"/audit/$"))
    page.get_by_label("Action").fill("authenticator.remove")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#audit-results")).not_to_contain_text("user.view")
    # a few events: once the size check has answered, only the streamed downloads are offered
    expect(page.get_by_role("button", name="Prepare export (CSV)")).to_have_count(0)
    shot(page, "10-audit-filtered")

    rows.filter(has_text="carol").get_by_role("link").first.click()
    expect(page.locator("body")).to_contain_text("SEC-9")
    expect(page.locator("body")).to_contain_text("Hash recomputes")
    shot(page, "11-audit-event")

    page.go_back()
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator("body")).to_contain_text("Chain intact")
    shot(page, "12-audit-verified")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(content)))
    assert {row["user_id"] for row in exported} == {"bob", "carol"}
    assert next(r for r in exported if r["user_id"] == "bob")["reason"].startswith("'=HYPERLINK")
    # The downloaded file checks out offline, as an auditor would run `audit verify --file` on it.
    from adminpanel.audit.offline import verify_file

    offline = verify_file(Path(download.value.path()))
    assert offline.ok and offline.hashes_checked == len(exported), offline.summary()
    assert not page.console_errors
