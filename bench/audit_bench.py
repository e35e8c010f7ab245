"""Audit log benchmark: list (first/deep page, each filter) vs Django admin, exports over HTTP, verify time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adminpanel_bench \
        uv run python bench/audit_bench.py --events 1000000

Drops and recreates the database named in DATABASE_URL (unless --reuse and it already holds the events),
migrates it, seeds N synthetic events with `manage.py audit seed`, then measures the list in this process
through Django's test client (server time, no network) and the exports over HTTP through gunicorn. Budgets:
list p95 <= 50 ms at 1,000,000 events (and no growth at 10,000,000); export >= 150,000 rows/s over HTTP with
peak memory <= 150 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
PAGE = 50  # adminpanel.audit.views.PAGE_SIZE
ADMIN_PAGE = 100  # ModelAdmin.list_per_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=30, help="timed requests per scenario")
    parser.add_argument(
        "--admin-samples", type=int, default=None, help="timed requests per Django admin scenario (0: skip admin)"
    )
    parser.add_argument("--list-only", action="store_true", help="measure the list pages only (no exports, no verify)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already holds the events")
    parser.add_argument(
        "--child",
        choices=["export-csv", "export-jsonl", "prepared-csv", "prepared-jsonl", "verify"],
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database the benchmark may drop and recreate.")

    import django

    fresh = not (args.reuse and existing_events(url) >= args.events)
    if fresh:
        recreate_database(url)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    seed_seconds = None
    if fresh:
        print(f"seeding {args.events:,} events …", flush=True)
        started = time.perf_counter()
        call_command("audit", "seed", "--count", str(args.events), stdout=sys.stderr)
        seed_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")

    client, head = login()
    rows = list(scenarios(head))
    admin_samples = args.samples if args.admin_samples is None else args.admin_samples
    print(f"measuring {len(rows)} scenarios × {args.samples} requests …", flush=True)
    results = []
    for label, ours, admin in rows:
        theirs = measure(client, admin, admin_samples) if admin and admin_samples else None
        results.append((label, measure(client, ours, args.samples), theirs))
    sizes = table_sizes(head.seq)
    http: dict[str, dict[str, float]] = {}
    prepared: dict[str, dict[str, float]] = {}
    verify = None
    if not args.list_only:
        print("exports over HTTP (gunicorn) …", flush=True)
        http = {fmt: export_over_http(client, fmt) for fmt in ("csv", "jsonl")}
        prepared = {fmt: run_child(f"prepared-{fmt}") for fmt in ("csv", "jsonl")}
        verify = run_child("verify")
    report(args.events, seed_seconds, results, http, prepared, verify, sizes)


# --- database ---


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def existing_events(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent").fetchone()[0]
    except psycopg.Error:
        return 0


def login():  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User
    from django.test import Client

    from adminpanel.audit.models import AuditEvent

    user = User.objects.filter(username="bench.superuser").first()
    if user is None:
        user = User.objects.create_superuser("bench.superuser", password="bench-password-not-secret")
    client = Client()
    client.force_login(user)
    return client, AuditEvent.objects.latest("seq")


# --- scenarios ---


def scenarios(head):  # type: ignore[no-untyped-def]
    """(label, our URL, the admin changelist URL for the same question or None)."""
    from adminpanel.audit.models import AuditEvent

    deep_pages = min(10_000, max(1, head.seq // PAGE // 2))
    before = head.seq - deep_pages * PAGE
    admin_deep = max(1, deep_pages * PAGE // ADMIN_PAGE)
    sample = AuditEvent.objects.filter(seq=max(1, head.seq // 2)).get()
    ticket = AuditEvent.objects.exclude(ticket="").filter(seq__lte=head.seq // 2).order_by("-seq").first()
    d = sample.created_at.date()
    day = d.isoformat()
    a = "/admin/audit/auditevent/"
    yield "first page", "/audit/", a
    yield f"deep page (#{deep_pages:,})", f"/audit/?before={before}", f"{a}?p={admin_deep}"
    yield "actor", "/audit/?actor=synthetic.agent07", f"{a}?actor_username=synthetic.agent07"
    yield "actor, deep", f"/audit/?actor=synthetic.agent07&before={before}", None
    user = sample.user_id or "user-1"
    yield "target user", f"/audit/?user={user}", f"{a}?q={user}"
    yield "action", "/audit/?action=pii.reveal", f"{a}?action__exact=pii.reveal"
    yield "action, deep", f"/audit/?action=pii.reveal&before={before}", None
    yield "outcome", "/audit/?outcome=failed", f"{a}?outcome__exact=failed"
    yield "outcome, deep", f"/audit/?outcome=failed&before={before}", None
    yield (
        "date range (1 day)",
        f"/audit/?since={day}&until={day}",
        f"{a}?created_at__year={d.year}&created_at__month={d.month}&created_at__day={d.day}",
    )
    yield (
        "ticket",
        f"/audit/?ticket={ticket.ticket if ticket else 'SUP-1'}",
        f"{a}?ticket={ticket.ticket if ticket else 'SUP-1'}",
    )
    yield "reason contains (common)", "/audit/?q=customer", f"{a}?q=customer"
    yield "reason contains (absent)", "/audit/?q=no-such-text", f"{a}?q=no-such-text"
    yield "action+outcome+actor", "/audit/?action=user.view&outcome=succeeded&actor=synthetic.agent03", None
    yield "htmx results partial", "/audit/?outcome=failed&hx=1", None
    yield "event detail", f"/audit/{sample.id}/", f"{a}{sample.id}/change/"
    # Loaded after the list (its own request): does this filter need a prepared export? Not a list page.
    yield "export options: all", "/audit/exports/options/", None
    yield "export options: action", "/audit/exports/options/?action=user.view", None
    yield "export options: reason", "/audit/exports/options/?q=customer", None


def measure(client, url: str, samples: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from django.db import connection

    headers = {"HX-Request": "true"} if "hx=1" in url else {}
    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    client.get(url, headers=headers)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "queries": len(queries),
    }


# --- subprocess measurements (own memory peak) ---


def run_child(kind: str) -> dict[str, float]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"])
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(kind: str) -> None:
    import django

    django.setup()
    from adminpanel.audit import chain

    baseline = peak_mb()
    started = time.perf_counter()
    if kind == "verify":
        result = chain.verify_chain()
        rows, size = result.events_checked, 0
        assert result.ok, result.message
    elif kind.startswith("prepared-"):
        from adminpanel.audit import background
        from adminpanel.audit.models import AuditEvent, AuditExport

        export = AuditExport.objects.create(
            format=kind.split("-")[1], up_to_seq=AuditEvent.objects.latest("seq").seq, requested_by=None
        )
        background.write_export(str(export.id))
        export.refresh_from_db()
        path = background.exports_dir() / export.file_path
        rows, size = export.rows_written, path.stat().st_size
        path.unlink()
    else:
        client, _ = login()
        baseline = peak_mb()
        started = time.perf_counter()
        response = client.get(f"/audit/export.{kind.split('-')[1]}")
        rows = size = 0
        for piece in response.streaming_content:
            size += len(piece)
            rows += piece.count(b"\n")
        rows -= 1 if kind == "export-csv" else 0  # header (CSV rows with CR/LF in them are rare)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "bytes": size, "peak_mb": peak_mb(), "baseline_mb": baseline}))


def table_sizes(events: int) -> dict[str, float]:
    """Table, index and total size of the audit table, in MB per million events."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size('audit_auditevent'), pg_indexes_size('audit_auditevent'),"
            " pg_total_relation_size('audit_auditevent')"
        )
        table, indexes, total = cursor.fetchone()
    per_million = 1e6 / max(events, 1) / 1e6
    return {"table": table * per_million, "indexes": indexes * per_million, "total": total * per_million}


def export_over_http(client, fmt: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """GET /audit/export.<fmt> of the whole log from gunicorn (one sync worker) on loopback, read by httpx."""
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ, DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"]
    )
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "adminpanel.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--timeout", "900", "--log-level", "warning",
        ],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        cookies = {"sessionid": client.cookies["sessionid"].value}
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # wait for the worker to answer
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        worker = _children(server.pid)[0]
        baseline = _vm_hwm_mb(worker)
        rows = size = 0
        started = time.perf_counter()
        with httpx.stream("GET", f"{base}/audit/export.{fmt}", cookies=cookies, timeout=900) as response:
            assert response.status_code == 200, response.status_code
            for piece in response.iter_raw(65536):
                size += len(piece)
                rows += piece.count(b"\n")
        seconds = time.perf_counter() - started
        peak = _vm_hwm_mb(worker)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    rows -= 1 if fmt == "csv" else 0  # the header (synthetic rows hold no line breaks)
    return {"rows": rows, "seconds": seconds, "bytes": size, "peak_mb": peak, "baseline_mb": baseline}


def _children(pid: int) -> list[int]:
    for _ in range(100):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return [int(c) for c in children]
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def _vm_hwm_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- report ---


def report(events, seed_seconds, results, http, prepared, verify, sizes) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    print()
    print(f"Audit benchmark — {events:,} events, PostgreSQL {connection.pg_version // 10000}, {dt.date.today()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 CPUs shared)")
    if seed_seconds:
        print(f"seed: {seed_seconds:.1f} s ({events / seed_seconds:,.0f} events/s)")
    print(
        f"audit_auditevent per 1,000,000 events: table {sizes['table']:,.0f} MB, indexes {sizes['indexes']:,.0f} MB, "
        f"total {sizes['total']:,.0f} MB"
    )
    print()
    head = (
        f"{'scenario':<28} {'ours p50':>9} {'ours p95':>9} {'q':>3} "
        f"{'admin p50':>10} {'admin p95':>10} {'q':>3} {'admin/ours p95':>15}"
    )
    print(head)
    print("-" * len(head))
    for label, ours, admin in results:
        line = f"{label:<28} {ours['p50']:>7.1f}ms {ours['p95']:>7.1f}ms {ours['queries']:>3}"
        if admin:
            ratio = admin["p95"] / ours["p95"] if ours["p95"] else float("inf")
            line += f" {admin['p50']:>8.1f}ms {admin['p95']:>8.1f}ms {admin['queries']:>3} {ratio:>14.1f}×"
        print(line)
    worst = max(ours["p95"] for label, ours, _ in results if not label.startswith("export options"))
    print(f"\nworst p95 of our list/detail: {worst:.1f} ms (budget 50 ms): {'OK' if worst <= 50 else 'OVER'}")
    print()
    for fmt, r in http.items():
        rate = r["rows"] / r["seconds"]
        print(
            f"export.{fmt} over HTTP (gunicorn, 1 sync worker): {r['rows']:,} rows in {r['seconds']:.1f} s = "
            f"{rate:,.0f} rows/s (budget 150,000: {'OK' if rate >= 150_000 else 'UNDER'}), {r['bytes'] / 1e6:,.0f} MB; "
            f"worker peak RSS {r['peak_mb']:.0f} MB (idle {r['baseline_mb']:.0f} MB; budget 150 MB): "
            f"{'OK' if r['peak_mb'] <= 150 else 'OVER'}"
        )
    for fmt, r in prepared.items():
        print(
            f"prepared {fmt} export (worker task, to a file): {r['rows']:,} rows in {r['seconds']:.1f} s = "
            f"{r['rows'] / r['seconds']:,.0f} rows/s, peak RSS {r['peak_mb']:.0f} MB"
        )
    if verify:
        print(
            f"audit verify: {verify['rows']:,} events in {verify['seconds']:.1f} s "
            f"({verify['rows'] / verify['seconds']:,.0f} events/s), peak RSS {verify['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
