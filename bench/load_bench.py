r"""Many agents at once: 20 staff sessions over HTTP against gunicorn + PostgreSQL + the emulator over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adminpanel_loadbench \
        uv run python bench/load_bench.py [--sessions 20] [--seconds 120] [--latency-ms 50]

Drops and recreates that PostgreSQL database (its name must contain "bench"), migrates it, serves the emulator
over HTTP from this process (seeded users, `--latency-ms` per call), starts gunicorn with the project's
gunicorn.conf.py (production settings from bench/settings.py) and runs two rounds of `--seconds` each:

1. steady: every session loops through a support journey — search by email, open the user, reveal the email,
   enroll an SMS, remove it again, read the audit list, export a filtered CSV;
2. faults: the same while the emulator fails 20 % of calls with a 500 and hangs 5 % of them.

Prints requests/s and p50/p95/p99 per page for each round, the errors (an answer that is not one of our pages in
words: a 500, a non-HTML body, a dropped connection), then checks the audit chain (`audit verify`) and that no
user was left with zero authenticators. Goals (docs/architecture.md): p95 ≤ 300 ms with 0 errors in the steady
round, p95 ≤ 1 s with nothing lost in the fault round. Exits 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.audit_bench import recreate_database  # noqa: E402

KEY = "sk_test_loadbench"
USERS = 400
STEADY_P95_MS, FAULT_P95_MS = 300.0, 1000.0
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, status: int, error: str = "") -> None:
        with self.lock:
            self.latencies[page].append(seconds * 1000)
            self.statuses[page][status] += 1
            if error:
                self.errors.append(f"{page}: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=120, help="length of each round")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gthread)")
    parser.add_argument("--no-faults", action="store_true", help="skip the fault round")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or "bench" not in urlsplit(database_url).path:
        sys.exit("Set DATABASE_URL to a throwaway PostgreSQL database with 'bench' in its name (it is recreated).")
    recreate_database(database_url)
    os.environ.pop("AUTHSIGNAL_SECRET_KEY", None)

    import django

    django.setup()
    from django.core.management import call_command

    from adminpanel.authsignal.client import AuthsignalClient
    from adminpanel.authsignal.emulator import EmulatorApp, EmulatorStore
    from adminpanel.authsignal.emulator.server import running_server

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    app = EmulatorApp(EmulatorStore(":memory:"), KEY)
    with running_server(app) as server:
        upstream = AuthsignalClient(base_url=server.base_url, secret_key=KEY)
        seed_users(app)
        staff = make_staff(args.sessions)
        app.set_faults(latency_ms=args.latency_ms)
        env = gunicorn_env(database_url, server.base_url)
        with gunicorn(env, args.workers, args.threads) as base_url:
            sessions = [signed_in(base_url, user) for user in staff]
            print(f"{args.sessions} sessions, {args.seconds} s per round, emulator latency {args.latency_ms} ms, "
                  f"gunicorn {args.workers} workers × {args.threads} threads", flush=True)  # fmt: skip
            rounds = {"steady": run_round(sessions, args.seconds)}
            if not args.no_faults:
                app.set_faults(latency_ms=args.latency_ms, error_rate=0.2, hang_rate=0.05)
                rounds["faults (20 % errors, 5 % hangs)"] = run_round(sessions, args.seconds)
                app.set_faults(latency_ms=0)
            for session in sessions:
                session.close()
        lost = users_without_authenticators(upstream)
        upstream.close()
    status = report(rounds, args.seconds)
    verified = subprocess.run(
        [sys.executable, "manage.py", "audit", "verify"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    print(f"\naudit verify: {(verified.stdout or verified.stderr).strip()}")
    print(f"users left with no authenticator: {len(lost)}" + (f" ({', '.join(lost[:5])})" if lost else ""))
    return 1 if status or verified.returncode or lost else 0


def seed_users(app) -> None:  # type: ignore[no-untyped-def]
    users = []
    for n in range(USERS):
        users.append(
            {
                "userId": f"load-{n:04d}",
                "email": f"load.user{n}@example.com",
                "username": f"load{n}",
                "authenticators": [
                    {"verificationMethod": "EMAIL_OTP", "email": f"load.user{n}@example.com"},
                    {"verificationMethod": "SMS", "phoneNumber": f"+1415555{n % 10000:04d}"},
                ],
            }
        )
    app.seed(users)


def make_staff(count: int) -> list:  # type: ignore[type-arg]
    from django.contrib.auth.models import Group, User

    from adminpanel.accounts.roles import SECURITY, sync_roles

    sync_roles()
    security = Group.objects.get(name=SECURITY)
    staff = []
    for n in range(count):
        user, _ = User.objects.get_or_create(username=f"agent{n:02d}", defaults={"first_name": "Agent"})
        user.groups.add(security)
        staff.append(user)
    return staff


def signed_in(base_url: str, user) -> httpx.Client:  # type: ignore[no-untyped-def]
    """A session made as Django's test client makes one, with the second factor marked done (as after sign-in)."""
    from django.conf import settings
    from django.test import Client

    from adminpanel.accounts import second_factor

    django_client = Client()
    django_client.force_login(user)
    session = django_client.session
    session[second_factor.SESSION_KEY] = {"user": str(user.pk), "via": "totp", "at": time.time()}
    session.save()
    http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    http.cookies.set(settings.SESSION_COOKIE_NAME, session.session_key)
    return http


def gunicorn_env(database_url: str, authsignal_url: str) -> dict[str, str]:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUTHSIGNAL_", "AUDIT_", "STAFF_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.server_settings",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        AUDIT_CHAIN_KEY=settings.AUDIT_CHAIN_KEY.decode(),
        DATABASE_URL=database_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        AUTHSIGNAL_SECRET_KEY=KEY,
        AUTHSIGNAL_API_URL=authsignal_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


class gunicorn:  # noqa: N801 - used as a context manager, like open()
    def __init__(self, env: dict[str, str], workers: int, threads: int) -> None:
        self.env, self.workers, self.threads = env, workers, threads

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.log = open(ROOT / "bench" / "load_bench.gunicorn.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "adminpanel.wsgi", "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--workers", str(self.workers),
             "--worker-class", "gthread", "--threads", str(self.threads)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start; see bench/load_bench.gunicorn.log")

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def run_round(sessions: list[httpx.Client], seconds: int) -> Tally:
    tally = Tally()
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=journey, args=(session, n, stop, tally), daemon=True)
        for n, session in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.elapsed = seconds  # type: ignore[attr-defined]
    return tally


def journey(http: httpx.Client, n: int, stop: float, tally: Tally) -> None:
    rng = random.Random(n)
    csrf = ""

    def call(page: str, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        nonlocal csrf
        headers = {"X-CSRFToken": csrf, **kwargs.pop("headers", {})} if method == "POST" else kwargs.pop("headers", {})  # type: ignore[dict-item]
        started = time.perf_counter()
        try:
            response = http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            tally.add(page, time.perf_counter() - started, 0, f"no answer: {type(exc).__name__}")
            return None
        elapsed = time.perf_counter() - started
        found = CSRF.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if found:
            csrf = found.group(1)
        error = ""
        if response.status_code >= 500 and response.status_code not in (502, 503, 504):
            error = f"HTTP {response.status_code}"
        elif response.status_code in (502, 503, 504) and "text/html" not in response.headers.get("content-type", ""):
            error = f"HTTP {response.status_code} without a page"
        elif response.status_code in (301, 302) and "/login/" in response.headers.get("location", ""):
            error = "signed out"
        tally.add(page, elapsed, response.status_code, error)
        return response

    call("audit list", "GET", "/audit/")  # a page to read the CSRF token from
    htmx = {"HX-Request": "true"}
    while time.monotonic() < stop:
        user = f"load-{rng.randrange(USERS):04d}"
        number = rng.randrange(USERS)
        call("search by email", "GET", "/users/", params={"q": f"load.user{number}@example.com"}, headers=htmx)
        page = call("user page", "GET", f"/users/{user}/")
        if page is None or page.status_code != 200:
            continue
        call("reveal email", "POST", f"/users/{user}/reveal/", data={"field": "email"}, headers=htmx)
        phone = f"+1212555{rng.randrange(10000):04d}"
        enrolled = call(
            "enroll SMS",
            "POST",
            f"/users/{user}/authenticators/enroll/",
            data={"method": "SMS", "phone_number": phone, "verified": "on", "reason": "load test"},
            headers=htmx,
        )
        if enrolled is not None and enrolled.status_code == 200:
            ids = re.findall(r'<tr id="auth-([^"]+)" class="is-new"', enrolled.text)
            if ids:
                remove_path = f"/users/{user}/authenticators/{ids[0]}/remove/"
                dialog = call("remove dialog", "GET", remove_path, headers=htmx)
                token = TOKEN.search(dialog.text) if dialog is not None else None
                if token:
                    data = {"token": token.group(1), "reason": "load test, undo"}
                    call("remove", "POST", remove_path, data=data, headers=htmx)
        call("audit list", "GET", "/audit/", params={"user": user}, headers=htmx)
        call("export CSV (one user)", "GET", "/audit/export.csv", params={"user": user})


def users_without_authenticators(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"load-{n:04d}" for n in range(USERS) if not client.get_authenticators(f"load-{n:04d}")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(rounds: dict[str, Tally], seconds: int) -> int:
    status = 0
    for name, tally in rounds.items():
        goal = STEADY_P95_MS if name == "steady" else FAULT_P95_MS
        every = [v for values in tally.latencies.values() for v in values]
        print(f"\n{name}: {len(every)} requests, {len(every) / seconds:.1f} requests/s, errors {len(tally.errors)}")
        print(f"{'page':<26}{'requests':>9}{'p50':>9}{'p95':>9}{'p99':>9}  statuses")
        for page, values in sorted(tally.latencies.items()):
            statuses = ", ".join(f"{code}×{count}" for code, count in sorted(tally.statuses[page].items()))
            print(
                f"{page:<26}{len(values):>9}{statistics.median(values):>8.0f}ms{percentile(values, 95):>7.0f}ms"
                f"{percentile(values, 99):>7.0f}ms  {statuses}"
            )
        p95 = percentile(every, 95) if every else float("inf")
        ok = p95 <= goal and (name != "steady" or not tally.errors) and not [e for e in tally.errors if "HTTP 5" in e]
        print(f"all pages: p50 {statistics.median(every):.0f} ms, p95 {p95:.0f} ms (goal ≤ {goal:.0f} ms) → "
              f"{'OK' if ok else 'MISSED'}")  # fmt: skip
        for error in tally.errors[:10]:
            print(f"  error: {error}")
        status |= 0 if ok else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
