r"""Support desk page budgets: server time without the Authsignal round trips, and SQL queries per page.

    uv run python bench/pages_bench.py [--samples 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adminpanel_pagebench \
        uv run python bench/pages_bench.py

SQLite by default (a throwaway file in a temporary directory); with DATABASE_URL, drops and recreates that
PostgreSQL database (its name must contain "bench"). Production settings (bench/settings.py, DEBUG off), the
Authsignal emulator in-process and in memory. Creates users through the Authsignal client (1 authenticator,
30 SMS, 5 passkeys), appends a few hundred audit events, signs in a Security staff member and times each support
desk page through Django's test client. httpx event hooks on the Authsignal client time every call, so
"own" = server time minus the time spent waiting for Authsignal. Budgets (docs/architecture.md): own p50 <= 15 ms; SQL
queries per page do not grow with the number of authenticators, events or results shown. Exits 1 if one fails.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.audit_bench import recreate_database  # noqa: E402

BUDGET_MS = 15.0
WARMUPS = 2
ONE, THIRTY, PASSKEYS, FRESH = "usr_bench_one", "usr_bench_thirty", "usr_bench_passkeys", "usr_bench_fresh"
SHARED_PHONE = "+12125550100"  # an office line shared by 25 users: a search answering a full page
HTMX = {"HX-Request": "true"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=50, help="timed requests per page (after 2 warm-ups)")
    parser.add_argument("--events", type=int, default=300, help="audit events appended before measuring")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="emulator latency per Authsignal call (checks the subtraction)"
    )
    parser.add_argument("--sql", metavar="TEXT", help="also print the SQL of the pages whose label contains TEXT")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    scratch = None
    if database_url.startswith(("postgres://", "postgresql://")):
        if "bench" not in urlsplit(database_url).path:
            sys.exit("DATABASE_URL is dropped and recreated: name a throwaway database with 'bench' in its name.")
        recreate_database(database_url)
    elif database_url:
        sys.exit("DATABASE_URL must be a PostgreSQL URL; leave it unset for a throwaway SQLite file.")
    else:
        scratch = tempfile.mkdtemp(prefix="pagebench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/pagebench.sqlite3"
    os.environ["EMULATOR_STORAGE"] = ":memory:"  # never the developer's emulator file
    os.environ.pop("AUTHSIGNAL_SECRET_KEY", None)
    try:
        return run(args)
    finally:
        if scratch:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import django

    # WhiteNoise warns that STATIC_ROOT was never collected; these pages link to static files, never serve them.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from adminpanel.authsignal.connection import get_client, get_emulator

    if settings.DEBUG or not settings.AUTHSIGNAL_USE_EMULATOR:
        sys.exit("Run with bench.settings: DEBUG off and the in-process emulator.")
    call_command("migrate", verbosity=0)
    client = get_client()
    emulator = get_emulator()
    assert emulator is not None
    meter = AuthsignalMeter(client._http)  # the client's one pooled httpx.Client

    print("creating users and audit events …", flush=True)
    staff = make_staff()
    make_users(client)
    append_events(args.events)
    if args.latency_ms:
        emulator.set_faults(latency_ms=args.latency_ms)

    cpu_before = cpu_check()
    browser = Client()
    browser.force_login(staff)
    bench = Bench(browser, meter, client, staff)
    pages = list(scenarios(bench))
    print(f"measuring {len(pages)} pages × {args.samples} requests …", flush=True)
    results = dict(zip((p.label for p in pages), bench.measure(pages, args.samples), strict=True))
    comparisons = compare(bench, results)
    cpu = (cpu_before, cpu_check())
    status = report(args, pages, results, comparisons, meter.total_calls, emulator.request_count, cpu)
    if args.sql:
        for label, result in results.items():
            if args.sql in label:
                print(f"\n-- {label}: {result.queries} queries")
                for sql in result.sql:
                    print("  ", sql[:300])
    return status


def cpu_check() -> float:
    """Milliseconds for a fixed pure-Python workload (best of 5): how fast this machine is right now.

    Shared hosts speed up and slow down; compare runs by this before comparing their pages.
    """
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(200_000):
            total += i % 7
        best = min(best, time.perf_counter() - started)
    return best * 1000


# --- Authsignal time ---


class AuthsignalMeter:
    """Counts and times the requests the Authsignal client sends, from its httpx event hooks.

    httpx calls the request hook just before the transport and the response hook as soon as the transport has
    answered (with the emulator's transport the body is already read): the round trip, none of our own work.
    """

    def __init__(self, http: Any) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.total_calls = 0
        self._started: float | None = None
        hooks = http.event_hooks
        http.event_hooks = {
            "request": [*hooks["request"], self._on_request],
            "response": [*hooks["response"], self._on_response],
        }

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0

    def _on_request(self, request: Any) -> None:
        self._started = time.perf_counter()

    def _on_response(self, response: Any) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None
        self.calls += 1
        self.total_calls += 1


# --- data ---


def make_staff():  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group, User

    from adminpanel.accounts.roles import SECURITY, sync_roles

    if not Group.objects.filter(name=SECURITY).exists():
        sync_roles()
    user = User.objects.create_user("bench.security", password="bench-password-not-secret")
    user.groups.add(Group.objects.get(name=SECURITY))
    return user


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def add_sms(client, user_id: str, number: str):  # type: ignore[no-untyped-def]
    return client.enroll_verified_authenticator(user_id, verification_method="SMS", phone_number=number).authenticator


def make_users(client) -> None:  # type: ignore[no-untyped-def]
    """The users the pages show, made the way an integrator would (as tests/directory/conftest.py does)."""
    client.update_user(
        ONE, email="jane.one@example.com", phone_number="+14155550199", username="jane.one", display_name="Jane One"
    )
    client.enroll_verified_authenticator(ONE, verification_method="EMAIL_OTP", email="jane.one@example.com")
    client.update_user(THIRTY, email="tom.thirty@example.com", phone_number="+14155550101", username="tom.thirty")
    for n in range(30):
        add_sms(client, THIRTY, f"+1415555{101 + n:04d}")
    client.update_user(PASSKEYS, email="pat.keys@example.com", username="pat.keys")
    for name in ("MacBook", "iPhone", "YubiKey 5C", "Pixel", "Windows Hello"):
        client.enroll_verified_authenticator(
            PASSKEYS,
            verification_method="PASSKEY",
            credential_id=b64url(os.urandom(16)),
            credential_public_key=b64url(os.urandom(65)),
            name=name,
        )
    client.update_user(FRESH, email="fred.fresh@example.com", username="fred.fresh")
    client.enroll_verified_authenticator(FRESH, verification_method="EMAIL_OTP", email="fred.fresh@example.com")
    for n in range(25):
        client.update_user(f"usr_bench_office_{n:02d}", phone_number=SHARED_PHONE, username=f"office.{n:02d}")


def append_events(count: int) -> None:
    """Staff actions on the bench users by five agents, so each user page shows a full recent-actions table."""
    from django.contrib.auth.models import User

    from adminpanel.audit.services import Action, Outcome, record

    agents = [User.objects.create_user(f"agent{n:02d}") for n in range(1, 6)]
    users = [ONE, THIRTY, PASSKEYS, "usr_bench_office_00", "usr_bench_office_01"]
    kinds = [
        (Action.USER_SEARCH, Outcome.SUCCEEDED, ""),
        (Action.USER_VIEW, Outcome.SUCCEEDED, ""),
        (Action.PII_REVEAL, Outcome.SUCCEEDED, ""),
        (Action.AUTHENTICATOR_ENROLL, Outcome.SUCCEEDED, "Customer got a new phone, verified by call-back"),
        (Action.AUTHENTICATOR_REMOVE, Outcome.SUCCEEDED, "Lost device reported by the customer"),
        (Action.AUTHENTICATOR_REMOVE, Outcome.DENIED, "Lost device reported by the customer"),
    ]
    for n in range(count):
        action, outcome, reason = kinds[n % len(kinds)]
        record(
            action,
            outcome,
            actor=agents[n % len(agents)],
            user_id=users[n % len(users)],
            reason=reason,
            ticket=f"SUP-{4000 + n}" if reason else "",
            details={"bench": True, "n": n},
        )


# --- pages ---


@dataclass
class Page:
    label: str
    url: str
    method: str = "GET"
    htmx: bool = False
    status: int = 200
    body: Callable[[int], dict[str, str]] | None = None  # untimed, before each POST; gets the request number
    cleanup: Callable[[], None] | None = None  # untimed, after each request


@dataclass
class Result:
    total: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    own: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)  # of one warm request

    @property
    def queries(self) -> int:
        return len(self.sql)


def search(q: str) -> str:
    from django.urls import reverse

    return f"{reverse('users:list')}?{urlencode({'q': q})}"


def url(name: str, *args: str) -> str:
    from django.urls import reverse

    return reverse(f"users:{name}", args=args)


def scenarios(bench: Bench) -> Iterator[Page]:
    client = bench.client
    first_of_one = client.get_authenticators(ONE)[0].user_authenticator_id
    last_of_thirty = client.get_authenticators(THIRTY)[-1].user_authenticator_id

    yield Page("search by email", search("jane.one@example.com"))
    yield Page("search by email (htmx)", search("jane.one@example.com"), htmx=True)
    yield Page("search by phone (national)", search("(415) 555-0101"))
    yield Page("search by phone (htmx)", search("(415) 555-0101"), htmx=True)
    yield Page("search by phone, 25 matches", search("(212) 555-0100"))
    yield Page("search by username", search("tom.thirty"))
    yield Page("user detail, 1 authenticator", url("detail", ONE))
    yield Page("user detail, 30 authenticators", url("detail", THIRTY))
    yield Page("user detail, 5 passkeys", url("detail", PASSKEYS))
    yield Page("reveal email (htmx)", url("reveal", ONE), "POST", htmx=True, body=lambda n: {"field": "email"})
    yield Page("enroll form GET", f"{url('enroll', ONE)}?method=SMS")
    yield Page("enroll form GET (htmx)", f"{url('enroll', ONE)}?method=SMS", htmx=True)
    yield bench.enroll("enroll POST (SMS), 1 auth.", ONE, htmx=False, series=0)
    yield bench.enroll("enroll POST (SMS, htmx), 1 auth.", ONE, htmx=True, series=1)
    yield bench.enroll("enroll POST (SMS, htmx), 30 auth.", THIRTY, htmx=True, series=2)
    yield Page("remove dialog GET, 1 auth. (lockout)", url("remove", ONE, first_of_one))
    yield Page("remove dialog GET (htmx), 1 auth.", url("remove", ONE, first_of_one), htmx=True)
    yield Page("remove dialog GET (htmx), 30 auth.", url("remove", THIRTY, last_of_thirty), htmx=True)
    yield bench.remove("remove POST, 1 auth. left", ONE, htmx=False, series=0)
    yield bench.remove("remove POST (htmx), 1 auth. left", ONE, htmx=True, series=1)
    yield bench.remove("remove POST (htmx), 30 auth. left", THIRTY, htmx=True, series=2)


class Bench:
    """Sends the requests: warm-ups, timed samples, captured SQL; builds the pages that change Authsignal."""

    def __init__(self, browser, meter: AuthsignalMeter, client, staff) -> None:  # type: ignore[no-untyped-def]
        self.browser, self.meter, self.client, self.staff = browser, meter, client, staff

    def enroll(self, label: str, user_id: str, *, htmx: bool, series: int) -> Page:
        """Enrolls a new SMS number each time (typed in national format), deleted again afterwards, untimed."""
        numbers: list[str] = []

        def body(n: int) -> dict[str, str]:
            number = 1000 + series * 1000 + n % 1000  # a series of numbers of its own per page
            numbers.append(f"+1212555{number:04d}")
            return {
                "method": "SMS",
                "phone_number": f"(212) 555-{number:04d}",
                "verified": "on",
                "reason": "Customer got a new phone; number verified by call-back",
                "ticket": "SUP-5150",
            }

        def cleanup() -> None:
            for a in self.client.get_authenticators(user_id):
                if a.phone_number == numbers[-1]:
                    self.client.delete_authenticator(user_id, a.user_authenticator_id)

        status = 200 if htmx else 302
        return Page(label, url("enroll", user_id), "POST", htmx, status, body, cleanup)

    def remove(self, label: str, user_id: str, *, htmx: bool, series: int) -> Page:
        """Removes an SMS authenticator added just before (untimed), so the user keeps the ones it had."""
        from adminpanel.directory import confirmations

        page = Page(label, "", "POST", htmx, 200 if htmx else 302)

        def body(n: int) -> dict[str, str]:
            added = add_sms(self.client, user_id, f"+1646555{1000 + series * 1000 + n % 1000:04d}")
            page.url = url("remove", user_id, added.user_authenticator_id)
            # The token the dialog GET would hand out.
            token = confirmations.issue(self.staff.pk, user_id, added.user_authenticator_id)
            return {"token": token, "reason": "Lost device reported by the customer", "ticket": "SUP-5151"}

        page.body = body
        return page

    def measure(self, pages: list[Page], samples: int) -> list[Result]:
        """Two warm-ups per page (the SQL of the second captured), then `samples` rounds of one request per page.

        Round-robin, so a burst of load on the machine spreads over all pages instead of spoiling one.
        """
        results = [Result() for _ in pages]
        for page, result in zip(pages, results, strict=True):
            for n in range(WARMUPS - 1):
                self.request(page, n)
            result.sql = self.capture(page, WARMUPS - 1)
        gc.collect()
        for n in range(WARMUPS, WARMUPS + samples):
            for page, result in zip(pages, results, strict=True):
                self.request(page, n, result)
        return results

    def request(self, page: Page, n: int, result: Result | None = None) -> None:
        """One request, timed and metered into `result` (a warm-up if None)."""
        data = page.body(n) if page.body else None
        self.meter.reset()
        started = time.perf_counter()
        response = self.send(page, data)
        elapsed = (time.perf_counter() - started) * 1000
        if result is not None:
            api = self.meter.seconds * 1000
            result.total.append(elapsed)
            result.api.append(api)
            result.own.append(elapsed - api)
            result.calls.append(self.meter.calls)
        self.done(page, response)

    def capture(self, page: Page, n: int = 0) -> list[str]:
        """The SQL of one request; not timed, since CaptureQueriesContext records every statement."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        data = page.body(n) if page.body else None
        with CaptureQueriesContext(connection) as captured:
            response = self.send(page, data)
        self.done(page, response)
        return [q["sql"] for q in captured.captured_queries]

    def send(self, page: Page, data: dict[str, str] | None):  # type: ignore[no-untyped-def]
        headers = HTMX if page.htmx else {}
        if page.method == "POST":
            return self.browser.post(page.url, data, headers=headers)
        return self.browser.get(page.url, headers=headers)

    def done(self, page: Page, response) -> None:  # type: ignore[no-untyped-def]
        if response.status_code != page.status:
            raise SystemExit(f"{page.label}: {page.url} answered {response.status_code}, expected {page.status}")
        if page.cleanup:
            page.cleanup()


def compare(bench: Bench, results: dict[str, Result]) -> list[tuple[str, Result, Result, int]]:
    """(what, the page showing few, the same page showing many, how many more): queries must not grow."""
    # A user nobody has looked at yet: the page shows one staff action (this very view) instead of ten.
    fresh = Result(sql=bench.capture(Page("user detail, first view", url("detail", FRESH))))
    r = results
    return [
        (
            "detail with 1 vs 30 authenticators",
            r["user detail, 1 authenticator"],
            r["user detail, 30 authenticators"],
            29,
        ),
        (
            "detail with 1 authenticator vs 5 passkeys",
            r["user detail, 1 authenticator"],
            r["user detail, 5 passkeys"],
            4,
        ),
        ("detail with 1 vs 10 staff actions", fresh, r["user detail, 1 authenticator"], 9),
        (
            "enroll POST (htmx), 1 vs 30 auth.",
            r["enroll POST (SMS, htmx), 1 auth."],
            r["enroll POST (SMS, htmx), 30 auth."],
            29,
        ),
        (
            "remove dialog (htmx), 1 vs 30 auth.",
            r["remove dialog GET (htmx), 1 auth."],
            r["remove dialog GET (htmx), 30 auth."],
            29,
        ),
        (
            "remove POST (htmx), 1 vs 30 left",
            r["remove POST (htmx), 1 auth. left"],
            r["remove POST (htmx), 30 auth. left"],
            29,
        ),
        ("search by phone, 1 vs 25 matches", r["search by phone (national)"], r["search by phone, 25 matches"], 24),
    ]


# --- report ---


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def report(args, pages, results, comparisons, calls_metered: int, calls_sent: int, cpu) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection

    if connection.vendor == "postgresql":
        engine = f"PostgreSQL {connection.pg_version // 10000}"
    else:
        engine = f"SQLite {connection.Database.sqlite_version}"
    latency = f", emulator latency {args.latency_ms} ms per call" if args.latency_ms else ""
    load = os.getloadavg()[0]  # the machine's other work shows in every figure
    print(
        f"\nSupport desk pages — {engine}, {dt.date.today()}, {args.samples} samples per page{latency}, "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"CPU check (fixed pure-Python loop, before/after): {cpu[0]:.1f} / {cpu[1]:.1f} ms\n")
    head = (
        f"{'page':<36} {'total p50':>9} {'authsignal p50':>14} {'own p50':>8} {'own p95':>8} "
        f"{'SQL q':>5} {'API calls':>9}  budget ok"
    )
    print(head)
    print("-" * len(head))
    failures = []
    for page in pages:
        r = results[page.label]
        own = statistics.median(r.own)
        ok = own <= BUDGET_MS
        if not ok:
            failures.append(f"{page.label}: own p50 {own:.1f} ms > {BUDGET_MS:.0f} ms")
        print(
            f"{page.label:<36} {statistics.median(r.total):>7.1f}ms {statistics.median(r.api):>12.1f}ms "
            f"{own:>6.1f}ms {pct(r.own, 0.95):>6.1f}ms {r.queries:>5} {spread(r.calls):>9}  {'OK' if ok else 'OVER'}"
        )
    print(f"\nown = server time − time waiting for Authsignal; budget: own p50 ≤ {BUDGET_MS:.0f} ms")

    print("\nSQL queries per request, few vs many things shown (budget: no growth); own p50 for the same pages")
    width = max(len(label) for label, *_ in comparisons) + 1
    for label, few, many, more in comparisons:
        grows = many.queries > few.queries
        if grows:
            failures.append(f"{label}: {few.queries} vs {many.queries} queries")
        line = (
            f"  {label + ':':<{width}} {few.queries:>2} vs {many.queries:>2} queries "
            f"({many.queries / few.queries:.2f}×) {'GROWS' if grows else 'OK   '}"
        )
        if few.own and many.own:
            a, b = statistics.median(few.own), statistics.median(many.own)
            line += f"   own {a:5.1f} vs {b:5.1f} ms ({(b - a) / more:+.2f} ms each)"
        print(line.rstrip())

    print(f"\nAuthsignal calls: {calls_metered} timed by the client's hooks, {calls_sent} received by the emulator")
    if calls_metered != calls_sent:
        failures.append("the hooks missed Authsignal calls: the subtraction cannot be trusted")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nall budgets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
