"""`manage.py audit verify|rotate-key|reconcile|seed|checkpoint|purge-exports`: keeping the audit log honest."""

from __future__ import annotations

import datetime as dt
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adminpanel.audit import services
from adminpanel.audit.models import Action, Outcome


class Command(BaseCommand):
    help = (
        "Audit log tools: verify the chain, reconcile unfinished requests, seed synthetic events, checkpoint, "
        "purge old prepared exports."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{verify,rotate-key,reconcile,seed,checkpoint,purge-exports}"
        )
        verify = sub.add_parser("verify", help="Walk the chain; exit 1 naming the first bad seq if it is broken.")
        verify.add_argument("--checkpoint", type=Path, help="A checkpoint file written by `audit checkpoint`.")
        verify.add_argument(
            "--file",
            type=Path,
            help="Check an export (.csv or .jsonl) instead of the database: needs the keys, not the database.",
        )
        verify.add_argument(
            "--complete",
            action="store_true",
            help="With --file: the export is unfiltered, so a gap in seq is a deleted line.",
        )
        rotate = sub.add_parser(
            "rotate-key", help="Start a new chain segment signed by the newest key in AUDIT_CHAIN_KEYS."
        )
        rotate.add_argument("--reason", default="", help="Why the key is rotated (recorded in the audit log).")
        reconcile = sub.add_parser("reconcile", help="Settle `requested` events left without an outcome.")
        reconcile.add_argument(
            "--older-than",
            type=int,
            default=15,
            metavar="MINUTES",
            help="Only requests older than this (15).",
        )
        reconcile.add_argument("--limit", type=int, default=1000)
        seed = sub.add_parser("seed", help="Append N synthetic events (refused if real events exist).")
        seed.add_argument("--count", type=int, required=True)
        seed.add_argument("--batch-size", type=int, default=10_000)
        checkpoint = sub.add_parser("checkpoint", help="Print the chain head as JSON, to store elsewhere.")
        checkpoint.add_argument("--output", type=Path, help="Write to this file instead of stdout.")
        purge = sub.add_parser("purge-exports", help="Delete prepared export files older than N days.")
        purge.add_argument("--older-than-days", type=int, default=7, metavar="DAYS", help="Age cut-off (7).")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['subcommand'].replace('-', '_')}")(**options)

    def handle_verify(self, *, checkpoint: Path | None = None, file: Path | None = None, **options: Any) -> None:
        saved = None
        if checkpoint is not None:
            try:
                saved = json.loads(checkpoint.read_text())
                int(saved["seq"]), str(saved["hash"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"cannot read checkpoint {checkpoint}: {exc}", returncode=2) from exc
        if file is not None:
            return self.verify_file(file, saved, complete=options.get("complete", False))
        run = services.run_verification(source="command", checkpoint=saved)
        services.record(
            Action.AUDIT_VERIFY,
            Outcome.SUCCEEDED if run.ok else Outcome.FAILED,
            details={"source": "command", "head_seq": run.head_seq, "first_bad_seq": run.first_bad_seq},
        )
        if not run.ok:
            # 1: something was changed; 3: nothing was found changed, but a segment's key is not configured here.
            raise CommandError(run.message, returncode=1 if run.first_bad_seq is not None else 3)
        self.stdout.write(run.message)

    def verify_file(self, path: Path, checkpoint: dict[str, Any] | None, *, complete: bool) -> None:
        """Offline: no database is touched (nor written: there is no audit event for it)."""
        from adminpanel.audit.offline import UnreadableExport, verify_file

        try:
            result = verify_file(path, checkpoint=checkpoint, complete=complete)
        except UnreadableExport as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if result.ok:
            self.stdout.write(result.summary())
            return
        for line in result.problems:
            self.stderr.write(f"  {line}")
        raise CommandError(result.summary(), returncode=1 if result.broken else 3)

    def handle_rotate_key(self, *, reason: str = "", **options: Any) -> None:
        try:
            event = services.rotate_key(reason=reason, source="command")
        except services.KeyRotationRefused as exc:
            raise CommandError(str(exc), returncode=1) from exc
        details = event.details
        self.stdout.write(
            f"new segment under key id {details['key_id']} starts at seq {event.seq} "
            f"(previous key id {details['previous_key_id']}, previous head seq {details['previous_head_seq']})"
        )

    def handle_reconcile(self, *, older_than: int, limit: int, **options: Any) -> None:
        from adminpanel.audit.reconcile import reconcile

        report = reconcile(dt.timedelta(minutes=older_than), limit=limit)
        for seq, outcome in report.settled:
            self.stdout.write(f"#{seq}: appended outcome {outcome}")
        for seq, why in report.deferred:
            self.stdout.write(f"#{seq}: left as is ({why})")
        self.stdout.write(f"reconciled {len(report.settled)}, left {len(report.deferred)} for the next run")

    def handle_seed(self, *, count: int, batch_size: int, **options: Any) -> None:
        from adminpanel.audit.keys import ChainKeyMissing
        from adminpanel.audit.seeding import RealEventsPresent, seed

        if count < 1:
            raise CommandError("--count must be at least 1")

        def progress(done: int) -> None:
            if done % 100_000 == 0 or done == count:
                self.stderr.write(f"  {done}/{count}")

        try:
            head = seed(count, batch_size=batch_size, progress=progress)
        except (RealEventsPresent, ChainKeyMissing) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"seeded {count} synthetic events; head seq {head}")

    def handle_checkpoint(self, *, output: Path | None = None, **options: Any) -> None:
        text = json.dumps(services.chain_checkpoint(), sort_keys=True)
        if output is None:
            self.stdout.write(text)
        else:
            output.write_text(text + "\n")
            sys.stderr.write(f"checkpoint written to {output}\n")

    def handle_purge_exports(self, *, older_than_days: int, **options: Any) -> None:
        from adminpanel.audit.background import purge_exports

        if older_than_days < 0:
            raise CommandError("--older-than-days must not be negative")
        expired, files = purge_exports(dt.timedelta(days=older_than_days))
        self.stdout.write(f"expired {expired} exports older than {older_than_days} days; deleted {files} files")
