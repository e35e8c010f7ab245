"""SQLite storage for the emulator (a file that survives restarts, or ":memory:"), shared between threads."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    profile TEXT NOT NULL,          -- JSON of the stored user fields (camelCase, values as given)
    email_lower TEXT,
    phone_number TEXT,
    username TEXT
);
CREATE INDEX IF NOT EXISTS users_by_email ON users (email_lower);
CREATE INDEX IF NOT EXISTS users_by_phone ON users (phone_number);
CREATE INDEX IF NOT EXISTS users_by_username ON users (username);

CREATE TABLE IF NOT EXISTS authenticators (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- enrolment order
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    verification_method TEXT NOT NULL,
    contact TEXT,                   -- what makes a re-enrolment the same one (email, phone, credential id)
    item TEXT NOT NULL              -- JSON exactly as listed by the API
);
CREATE INDEX IF NOT EXISTS authenticators_by_user ON authenticators (user_id, seq);

CREATE TABLE IF NOT EXISTS actions (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    action_code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS actions_by_user_time ON actions (user_id, created_at);
"""


@dataclass(frozen=True)
class StoredUser:
    user_id: str
    created_at: str
    profile: dict[str, Any]


class EmulatorStore:
    """Users, authenticators and actions. Every public method is atomic; `atomic()` groups several."""

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by all threads, serialised by an RLock; autocommit mode, explicit BEGIN.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            if self.path != ":memory:":
                # The web process and task workers may each run an in-process emulator on the same file.
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)

    # --- transactions ---

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the store for a read-check-write sequence; nested calls join the outer transaction."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- users ---

    def get_user(self, user_id: str) -> StoredUser | None:
        with self.atomic():
            row = self._conn.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def save_user(self, user: StoredUser) -> None:
        profile = user.profile
        email = profile.get("email")
        with self.atomic():
            self._conn.execute(
                "INSERT INTO users (user_id, created_at, profile, email_lower, phone_number, username)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " profile = excluded.profile, email_lower = excluded.email_lower,"
                " phone_number = excluded.phone_number, username = excluded.username",
                (
                    user.user_id,
                    user.created_at,
                    json.dumps(profile),
                    email.lower() if isinstance(email, str) else None,
                    _text_or_none(profile.get("phoneNumber")),
                    _text_or_none(profile.get("username")),
                ),
            )

    def delete_user(self, user_id: str, *, with_actions: bool = False) -> None:
        with self.atomic():
            self._conn.execute("DELETE FROM authenticators WHERE user_id = ?", (user_id,))
            self._conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            if with_actions:
                self._conn.execute("DELETE FROM actions WHERE user_id = ?", (user_id,))

    def find_users(
        self,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        username: str | None = None,
        after: str | None = None,
        limit: int = 10,
    ) -> list[StoredUser]:
        """Exact matches (email case-insensitively), ANDed, in user id order, after the cursor."""
        clauses: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("email_lower = ?", email.lower() if email is not None else None),
            ("phone_number = ?", phone_number),
            ("username = ?", username),
            ("user_id > ?", after),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = " AND ".join(clauses) or "1"
        with self.atomic():
            rows = self._conn.execute(
                f"SELECT * FROM users WHERE {where} ORDER BY user_id LIMIT ?", (*params, limit)
            ).fetchall()
        return [_user(row) for row in rows]

    def user_count(self) -> int:
        with self.atomic():
            return self._conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def is_empty(self) -> bool:
        with self.atomic():
            return self._conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None

    # --- authenticators ---

    def authenticators(self, user_id: str) -> list[dict[str, Any]]:
        with self.atomic():
            rows = self._conn.execute(
                "SELECT item FROM authenticators WHERE user_id = ? ORDER BY seq", (user_id,)
            ).fetchall()
        return [json.loads(row["item"]) for row in rows]

    def enrolled_methods(self, user_ids: Iterable[str]) -> dict[str, list[str]]:
        """Each user's distinct verification methods in enrolment order (one query for a page of users)."""
        ids = list(user_ids)
        result: dict[str, list[str]] = {user_id: [] for user_id in ids}
        if not ids:
            return result
        marks = ",".join("?" * len(ids))
        with self.atomic():
            rows = self._conn.execute(
                f"SELECT user_id, verification_method FROM authenticators WHERE user_id IN ({marks}) ORDER BY seq",
                ids,
            ).fetchall()
        for row in rows:
            methods = result[row["user_id"]]
            if row["verification_method"] not in methods:
                methods.append(row["verification_method"])
        return result

    def find_authenticator(
        self,
        user_id: str,
        *,
        authenticator_id: str | None = None,
        method: str | None = None,
        contact: str | None = None,
    ) -> dict[str, Any] | None:
        params: tuple[str | None, ...]
        if authenticator_id is not None:
            sql, params = "SELECT item FROM authenticators WHERE user_id = ? AND id = ?", (user_id, authenticator_id)
        else:
            sql = "SELECT item FROM authenticators WHERE user_id = ? AND verification_method = ? AND contact = ?"
            params = (user_id, method, contact)
        with self.atomic():
            row = self._conn.execute(sql + " ORDER BY seq LIMIT 1", params).fetchone()
        return json.loads(row["item"]) if row else None

    def save_authenticator(self, item: dict[str, Any], contact: str | None) -> None:
        """Insert, or replace the item with the same id (keeping its place in the enrolment order)."""
        with self.atomic():
            self._conn.execute(
                "INSERT INTO authenticators (id, user_id, verification_method, contact, item)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,"
                " verification_method = excluded.verification_method, contact = excluded.contact,"
                " item = excluded.item",
                (
                    item["userAuthenticatorId"],
                    item["userId"],
                    item["verificationMethod"],
                    contact,
                    json.dumps(item),
                ),
            )

    def delete_authenticator(self, user_id: str, authenticator_id: str) -> bool:
        with self.atomic():
            cursor = self._conn.execute(
                "DELETE FROM authenticators WHERE user_id = ? AND id = ?", (user_id, authenticator_id)
            )
        return cursor.rowcount > 0

    # --- actions ---

    def actions(self, user_id: str, *, since: str, codes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Newest first. `since` is a timestamp in the API's format, which sorts as text."""
        sql = "SELECT item FROM actions WHERE user_id = ? AND created_at >= ?"
        params: list[Any] = [user_id, since]
        if codes is not None:
            code_list = list(codes)
            sql += f" AND action_code IN ({','.join('?' * len(code_list))})"
            params.extend(code_list)
        with self.atomic():
            rows = self._conn.execute(sql + " ORDER BY created_at DESC", params).fetchall()
        return [json.loads(row["item"]) for row in rows]

    def save_action(self, user_id: str, item: dict[str, Any]) -> None:
        with self.atomic():
            self._conn.execute(
                "INSERT OR REPLACE INTO actions (user_id, idempotency_key, action_code, created_at, item)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, item["idempotencyKey"], item["actionCode"], item["createdAt"], json.dumps(item)),
            )

    # --- whole store ---

    def clear(self) -> None:
        with self.atomic():
            for table in ("actions", "authenticators", "users"):
                self._conn.execute(f"DELETE FROM {table}")

    def counts(self) -> dict[str, int]:
        with self.atomic():
            return {
                table: self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("users", "authenticators", "actions")
            }


def _user(row: sqlite3.Row) -> StoredUser:
    return StoredUser(row["user_id"], row["created_at"], json.loads(row["profile"]))


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
